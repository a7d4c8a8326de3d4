// `pnpm --filter @repo/bench profile <file.cpuprofile> [top]`: where a `node --cpu-prof` profile
// spent its time, by package and by function (self time).
import { summarizeProfile } from './lib/cpuprofile.ts';

const print = (line = '') => process.stdout.write(`${line}\n`);
const [file, top] = process.argv.slice(2);
if (!file) {
  console.error('usage: profile <file.cpuprofile> [top]');
  process.exit(2);
}
const summary = summarizeProfile(file, Number(top ?? 25));
print(`total ${summary.totalMs.toFixed(0)} ms sampled`);
print('\nself time by package:');
for (const p of summary.packages.slice(0, 20)) {
  print(`  ${p.share.toFixed(1).padStart(5)}%  ${p.selfMs.toFixed(0).padStart(7)} ms  ${p.name}`);
}
print('\nself time by function:');
for (const f of summary.functions) {
  print(
    `  ${f.share.toFixed(1).padStart(5)}%  ${f.selfMs.toFixed(0).padStart(7)} ms  ${f.name}  ${f.where}`,
  );
}
