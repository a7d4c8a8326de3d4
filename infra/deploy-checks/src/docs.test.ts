import { describe, expect, it } from 'vitest';
import { loadRailway } from './load.ts';
import { railwaySharedVariables } from './railway.ts';
import { RAILWAY_PROGRAM } from './railway-graph.ts';
import { readRenderBlueprint } from './render.ts';
import { existsInRepo, readRepoFile } from './repo.ts';

const DOC = 'docs/deploy.md';
/** Files the guide tells users to create; they are not in the repository. */
const USER_CREATED = new Set(['infra/.env']);

describe(DOC, () => {
  const text = readRepoFile(DOC);
  const railway = loadRailway();

  it('links the generated variable reference instead of repeating it', () => {
    expect(text).toContain('](environment.md)');
    expect(existsInRepo('docs/environment.md')).toBe(true);
  });

  it('names only repository files that exist', () => {
    const paths = [
      ...text.matchAll(/`((?:infra|apps|packages|tooling|docs|\.github|\.railway)\/[\w./-]+)`/g),
    ]
      .map((m) => m[1] ?? '')
      .filter((p) => !USER_CREATED.has(p));
    expect(paths.length).toBeGreaterThan(0);
    expect(paths.filter((p) => !existsInRepo(p))).toEqual([]);
  });

  it('names every resource of the Render Blueprint, the Railway program and the shared variables it needs', () => {
    const blueprint = readRenderBlueprint() as {
      services: { name: string }[];
      databases: { name: string }[];
      envVarGroups: { name: string }[];
    };
    const names = [...blueprint.services, ...blueprint.databases, ...blueprint.envVarGroups].map(
      (r) => r.name,
    );
    expect(names.filter((n) => !text.includes(`\`${n}\``))).toEqual([]);
    expect(text).toContain(`\`${RAILWAY_PROGRAM}\``);
    const { graph } = railway;
    const shared = graph ? railwaySharedVariables(graph) : [];
    expect(shared.length).toBeGreaterThan(0);
    expect(shared.filter((name) => !text.includes(`\`${name}\``))).toEqual([]);
  });
});
