import {
  chmodSync,
  existsSync,
  lstatSync,
  mkdirSync,
  mkdtempSync,
  readFileSync,
  readlinkSync,
  rmSync,
  statSync,
  symlinkSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { reachablePackageDir, traversableByOthers } from './postgres-binaries.ts';

const scratch = mkdtempSync(join(tmpdir(), 'postgres-binaries-'));
chmodSync(scratch, 0o755);
afterAll(() => rmSync(scratch, { recursive: true, force: true }));

/** A binaries package as the platform package lays it out, under `parent`. */
function fakePackage(parent: string, version: string) {
  const dir = join(parent, 'linux-x64');
  mkdirSync(join(dir, 'dist'), { recursive: true });
  mkdirSync(join(dir, 'native', 'lib'), { recursive: true });
  mkdirSync(join(dir, 'node_modules', 'tooling'), { recursive: true });
  writeFileSync(join(dir, 'package.json'), JSON.stringify({ version }));
  writeFileSync(join(dir, 'dist', 'index.js'), 'export const initdb = "x";\n');
  writeFileSync(join(dir, 'native', 'lib', 'libpq.so.5.18'), 'library');
  symlinkSync('libpq.so.5.18', join(dir, 'native', 'lib', 'libpq.so.5'));
  return dir;
}

describe('traversableByOthers', () => {
  it('is false when one directory on the way lets only its owner in', () => {
    const open = mkdtempSync(join(scratch, 'open-'));
    chmodSync(open, 0o755);
    const closed = join(open, 'closed');
    mkdirSync(join(closed, 'inner'), { recursive: true, mode: 0o700 });
    chmodSync(join(closed, 'inner'), 0o755);
    expect(traversableByOthers(open)).toBe(true);
    expect(traversableByOthers(join(closed, 'inner'))).toBe(false);
  });
});

describe('reachablePackageDir', () => {
  it('uses the package where it is when others can reach it', () => {
    const parent = mkdtempSync(join(scratch, 'reachable-'));
    chmodSync(parent, 0o755);
    const dir = fakePackage(parent, '18.0.0');
    expect(reachablePackageDir(dir, join(scratch, 'unused'))).toBe(dir);
  });

  it('copies it, links and all but its node_modules, once per version, when only its owner can reach it', () => {
    const parent = mkdtempSync(join(scratch, 'closed-'));
    chmodSync(parent, 0o700);
    const dir = fakePackage(parent, '18.1.0');
    const cache = mkdtempSync(join(scratch, 'cache-'));
    chmodSync(cache, 0o755);

    const copy = reachablePackageDir(dir, cache);
    expect(copy).toBe(join(cache, 'jobstack-linux-x64-18.1.0'));
    expect(traversableByOthers(copy)).toBe(true);
    expect(statSync(copy).mode & 0o777).toBe(0o755);
    expect(readFileSync(join(copy, 'dist', 'index.js'), 'utf8')).toContain('initdb');
    const link = join(copy, 'native', 'lib', 'libpq.so.5');
    expect(lstatSync(link).isSymbolicLink()).toBe(true);
    expect(readlinkSync(link)).toBe('libpq.so.5.18');
    expect(existsSync(join(copy, 'node_modules'))).toBe(false);

    // a second start reuses the copy as it is
    writeFileSync(join(copy, 'dist', 'marker'), '');
    expect(reachablePackageDir(dir, cache)).toBe(copy);
    expect(existsSync(join(copy, 'dist', 'marker'))).toBe(true);
  });

  it('names the directories when the copy cannot be reached either', () => {
    const parent = mkdtempSync(join(scratch, 'closed-'));
    chmodSync(parent, 0o700);
    const dir = fakePackage(parent, '18.2.0');
    const cache = mkdtempSync(join(scratch, 'closed-cache-'));
    chmodSync(cache, 0o700);
    expect(() => reachablePackageDir(dir, cache)).toThrow(
      `PostgreSQL runs as the postgres user, which can enter neither ${dir} nor ${join(cache, 'jobstack-linux-x64-18.2.0')}`,
    );
  });
});
