// Runs in the images' prune stage, after `turbo prune <app> --docker --out-dir /out`.
//
// The pruned pnpm-workspace.yaml still lists the repository's whole catalog and every workspace
// glob, so adding a dependency or a package for another app would change it and re-run this app's
// install layer. Rewrite it to what the pruned lockfile uses: its catalog entries and importers.
import { readFileSync, writeFileSync } from 'node:fs';

const out = process.argv[2] ?? '/out';
const lockfile = readFileSync(`${out}/json/pnpm-lock.yaml`, 'utf8');

/** The lines under a top-level key of the lockfile. */
const section = (name) =>
  lockfile.match(new RegExp(`^${name}:\\n((?:(?: .*)?\\n)*)`, 'm'))?.[1] ?? '';
/** The keys at one indentation level of a section ("name:" or "'name':", maybe followed by {}). */
const keys = (text, indent) =>
  [...text.matchAll(new RegExp(`^ {${indent}}'?([^'\\s]+?)'?:( \\{\\})?$`, 'gm'))].map((m) => m[1]);

const catalogEntries = new Set(keys(section('catalogs'), 4));
const projects = keys(section('importers'), 2).filter((dir) => dir !== '.');

const lines = [];
let current = '';
for (const line of readFileSync(`${out}/json/pnpm-workspace.yaml`, 'utf8').split('\n')) {
  if (/^[^\s-]/.test(line)) current = line;
  if (current === 'packages:' && line !== current) continue;
  const entry = current === 'catalog:' && line.match(/^ {2}'?([^'\s]+?)'?:/);
  if (entry && !catalogEntries.has(entry[1])) continue;
  lines.push(line);
  if (line === 'packages:') lines.push(...projects.map((dir) => `  - ${dir}`));
}
for (const dir of [out, `${out}/json`, `${out}/full`]) {
  writeFileSync(`${dir}/pnpm-workspace.yaml`, lines.join('\n'));
}
