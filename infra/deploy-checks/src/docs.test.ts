import { describe, expect, it } from 'vitest';
import { railwayConfigFiles } from './railway.ts';
import { readRenderBlueprint } from './render.ts';
import { existsInRepo, readRepoFile } from './repo.ts';

const DOC = 'docs/deploy.md';
/** Files the guide tells users to create; they are not in the repository. */
const USER_CREATED = new Set(['infra/.env']);

describe(DOC, () => {
  const text = readRepoFile(DOC);

  it('links the generated variable reference instead of repeating it', () => {
    expect(text).toContain('](environment.md)');
    expect(existsInRepo('docs/environment.md')).toBe(true);
  });

  it('names only repository files that exist', () => {
    const paths = [...text.matchAll(/`((?:infra|apps|packages|tooling|docs|\.github)\/[\w./-]+)`/g)]
      .map((m) => m[1] ?? '')
      .filter((p) => !USER_CREATED.has(p));
    expect(paths.length).toBeGreaterThan(0);
    expect(paths.filter((p) => !existsInRepo(p))).toEqual([]);
  });

  it('names every resource of the Render Blueprint and every Railway config file', () => {
    const blueprint = readRenderBlueprint() as {
      services: { name: string }[];
      databases: { name: string }[];
      envVarGroups: { name: string }[];
    };
    const names = [...blueprint.services, ...blueprint.databases, ...blueprint.envVarGroups].map(
      (r) => r.name,
    );
    expect(names.filter((n) => !text.includes(`\`${n}\``))).toEqual([]);
    expect(railwayConfigFiles().filter((f) => !text.includes(f))).toEqual([]);
  });
});
