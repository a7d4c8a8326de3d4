import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, describe, expect, it } from 'vitest';
import {
  addWorkspaceDependency,
  buildDirectories,
  nextHealthPort,
  validateAppName,
} from '../../../turbo/generators/app-wiring.ts';
import { appendToFlowLists, insertInFile } from '../../../turbo/generators/file-edits.ts';

// What the app generator derives from this repository, and how its edits fail; the generator test
// (generators.postgres-redis.test.ts) runs the whole generator in a copy.
const root = fileURLToPath(new URL('../../../', import.meta.url));

describe('app wiring, read from this repository', () => {
  it('refuses names that are taken, and names that are not lower-case words', () => {
    expect(validateAppName(root, 'mailer')).toBe(true);
    expect(validateAppName(root, 'mail-sender')).toBe(true);
    expect(validateAppName(root, 'beat')).toBe('apps/beat exists already');
    // the worker's queue: a second consumer of it would take the worker's jobs
    expect(validateAppName(root, 'jobs')).toMatch(/is taken/);
    expect(validateAppName(root, 'migrate')).toMatch(/is taken/);
    for (const name of ['Mailer', 'mail_sender', 'mail--sender', '-mailer', '1mailer']) {
      expect(validateAppName(root, name), name).toMatch(/lower case/);
    }
  });

  it('gives the next app the port above the highest one an app exposes', () => {
    expect(nextHealthPort(root)).toBe(8003);
  });

  it("lists what beat's image is built from as the deploy files do", () => {
    expect(buildDirectories(root, 'apps/beat')).toEqual([
      'apps/beat',
      'packages/batching',
      'packages/config',
      'packages/db',
      'packages/health',
      'packages/jobs',
      'packages/lifecycle',
      'packages/logger',
      'packages/outages',
      'packages/tracing',
      'tooling/docker',
      'tooling/testing',
      'tooling/tsconfig',
    ]);
  });
});

describe('app wiring, editing files', () => {
  const dir = mkdtempSync(join(tmpdir(), 'app-wiring-'));
  afterAll(() => rmSync(dir, { recursive: true, force: true }));
  const write = (file: string, text: string) => {
    mkdirSync(join(dir, file, '..'), { recursive: true });
    writeFileSync(join(dir, file), text);
  };
  const read = (file: string) => readFileSync(join(dir, file), 'utf8');

  it('inserts before or after its anchor, and names the file when the anchor is gone', () => {
    write('list.txt', 'a\nc\n');
    insertInFile(dir, 'list.txt', 'b\n', { before: /^c$/m });
    insertInFile(dir, 'list.txt', 'd\n', { after: /^c\n/m });
    expect(read('list.txt')).toBe('a\nb\nc\nd\n');
    expect(() => insertInFile(dir, 'list.txt', 'x', { before: /^z$/m })).toThrow(
      'list.txt: found no /^z$/m to insert at; add it by hand',
    );
  });

  it('appends to every list its pattern matches, and fails when there is none', () => {
    write('ci.yml', 'a:\n  app: [api, worker]\nb:\n  app: [api, worker]\nother: [x]\n');
    appendToFlowLists(dir, 'ci.yml', /(\bapp: \[)([^\]]*)\]/, 'mailer');
    expect(read('ci.yml')).toBe(
      'a:\n  app: [api, worker, mailer]\nb:\n  app: [api, worker, mailer]\nother: [x]\n',
    );
    expect(() => appendToFlowLists(dir, 'ci.yml', /(\bapps: \[)([^\]]*)\]/, 'mailer')).toThrow(
      /ci\.yml: found no/,
    );
  });

  it('adds a workspace dependency in order, keeping the other fields', () => {
    write(
      'package.json',
      JSON.stringify({ name: 'x', dependencies: { zod: '1', '@repo/a': '*' } }),
    );
    addWorkspaceDependency(dir, 'package.json', '@repo/mailer');
    expect(JSON.parse(read('package.json'))).toEqual({
      name: 'x',
      dependencies: { '@repo/a': '*', '@repo/mailer': 'workspace:*', zod: '1' },
    });
    expect(Object.keys(JSON.parse(read('package.json')).dependencies)).toEqual([
      '@repo/a',
      '@repo/mailer',
      'zod',
    ]);
  });
});
