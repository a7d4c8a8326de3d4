// Runs in the images' build stage, on the output of `pnpm deploy --prod <dir>`.
//
// @prisma/client ships a Wasm query compiler for every database, in two builds (~65 MB). Keep
// only those the generated client (compiled into @repo/db's dist) imports, and fail the build if
// one it imports is missing.
import { existsSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { join } from 'node:path';

const deployDir = process.argv[2] ?? '/deploy';
const store = join(deployDir, 'node_modules/.pnpm');
const runtimes = readdirSync(store)
  .filter((dir) => dir.startsWith('@prisma+client@'))
  .map((dir) => join(store, dir, 'node_modules/@prisma/client/runtime'));

const used = new Set();
const scan = (dir) => {
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    const file = join(dir, entry.name);
    if (entry.isDirectory()) scan(file);
    else if (entry.isFile() && /\.m?js$/.test(entry.name)) {
      for (const match of readFileSync(file, 'utf8').matchAll(
        /@prisma\/client\/runtime\/(query_compiler_[\w.-]+)/g,
      )) {
        used.add(match[1]);
      }
    }
  }
};
scan(join(deployDir, 'dist'));
for (const dir of readdirSync(store).filter((d) => d.startsWith('@repo+'))) scan(join(store, dir));

// an app without the database imports no compiler: leave its client alone
for (const runtime of used.size > 0 ? runtimes : []) {
  for (const file of readdirSync(runtime)) {
    if (file.startsWith('query_compiler_') && !used.has(file)) rmSync(join(runtime, file));
  }
  for (const file of used) {
    if (!existsSync(join(runtime, file))) {
      throw new Error(`the Prisma client imports ${file}, which @prisma/client lacks`);
    }
  }
}
