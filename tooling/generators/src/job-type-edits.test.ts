import { cpSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, describe, expect, it } from 'vitest';
import { applyEdits, jobTypeEdits } from '../../../turbo/generators/job-type-edits.ts';

// The job-type generator's places in the registry and the handler map, checked against this
// repository's files as they are now, in seconds (the generator test runs the whole generator in a
// copy, in minutes): a refactor that moves a place fails here, naming the file.
const root = fileURLToPath(new URL('../../../', import.meta.url));
const names = { name: 'report.render', kebab: 'report-render', camel: 'reportRender' };

describe('job-type generator edits', () => {
  const copy = mkdtempSync(join(tmpdir(), 'job-type-edits-'));
  afterAll(() => rmSync(copy, { recursive: true, force: true }));
  const files = [...new Set(jobTypeEdits(names).map((edit) => edit.file))];
  for (const file of files) {
    cpSync(join(root, file), join(copy, file), { recursive: true });
  }
  const read = (file: string) => readFileSync(join(copy, file), 'utf8');

  it('registers the contract and the handler at places that exist in the current files', () => {
    expect(applyEdits(copy, jobTypeEdits(names))).toBe(
      'registered in packages/jobs/src/registry.ts, apps/worker/src/handlers/index.ts',
    );
    const registry = read('packages/jobs/src/registry.ts');
    expect(registry).toContain("import { reportRender } from './types/report-render.ts';\n");
    expect(registry).toMatch(/ {2}\[reportRender\.type\]: reportRender,\n} as const;/);
    const handlers = read('apps/worker/src/handlers/index.ts');
    expect(handlers).toContain("import { reportRender } from './report-render.ts';\n");
    expect(handlers).toMatch(/ {4}'report\.render': reportRender,\n {2}};\n}\n?$/);
  });

  it('stops at the first place that is gone, naming the file', () => {
    writeFileSync(join(copy, 'packages/jobs/src/registry.ts'), 'export const types = {};\n');
    expect(() => applyEdits(copy, jobTypeEdits(names))).toThrow(
      /^packages\/jobs\/src\/registry\.ts: found no .* to insert at; add it by hand$/,
    );
  });
});
