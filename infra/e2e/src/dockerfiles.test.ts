import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';

// The images' build recipes, checked without Docker (part of `pnpm test`).
const repoRoot = fileURLToPath(new URL('../../../', import.meta.url));
const read = (path: string) => readFileSync(`${repoRoot}${path}`, 'utf8');
const APPS = ['api', 'worker', 'beat'] as const;
const PORTS = { api: '8000', worker: '8001', beat: '8002' };

const argDefault = (dockerfile: string, name: string) =>
  new RegExp(`^ARG ${name}=(\\S+)$`, 'm').exec(dockerfile)?.[1];

describe.each(APPS)('apps/%s/Dockerfile', (app) => {
  const dockerfile = read(`apps/${app}/Dockerfile`);

  it('installs the pnpm the repository pins and the turbo of the catalog', () => {
    const manifest = JSON.parse(read('package.json')) as { engines: { pnpm: string } };
    const turbo = /^ {2}turbo: (\S+)$/m.exec(read('pnpm-workspace.yaml'))?.[1];
    expect(argDefault(dockerfile, 'PNPM_VERSION')).toBe(manifest.engines.pnpm);
    expect(argDefault(dockerfile, 'TURBO_VERSION')).toBe(turbo);
  });

  it('is the api Dockerfile but for the app name, its port and its description', () => {
    const normalize = (text: string, name: (typeof APPS)[number]) =>
      text
        .replace(/^# apps\/api, apps\/worker and apps\/beat have.*$/m, '')
        .replace(/image\.description=".*"/, 'image.description="…"')
        .replace(/^(# No curl in the image: .* on )\S+ \(\d+\)\.$/m, '$1PORT')
        .replace(new RegExp(`(?<![a-z])${name}(?![a-z])`, 'g'), 'APP')
        .replaceAll(PORTS[name], 'PORT');
    expect(normalize(dockerfile, app)).toBe(normalize(read('apps/api/Dockerfile'), 'api'));
  });

  it('has no BuildKit cache mount (Railway refuses them) and no # syntax= line', () => {
    expect(dockerfile).not.toMatch(/--mount=type=cache/);
    expect(dockerfile).not.toMatch(/^# *syntax=/m);
  });
});
