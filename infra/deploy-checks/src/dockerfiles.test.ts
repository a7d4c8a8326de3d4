import { describe, expect, it } from 'vitest';
import { dockerfileProblems, resolveImageCommand } from './checks.ts';
import {
  dockerfileCmd,
  dockerfileFinalEnv,
  dockerfileHealthcheck,
  railwayIncompatibleCacheMounts,
} from './dockerfile.ts';
import { loadRailway } from './load.ts';
import { deployableApps, readRepoFile } from './repo.ts';

// The Dockerfiles belong to the images work; these checks read them to make sure what every
// platform runs (the image's CMD and HEALTHCHECK) exists in the code.
describe.each(deployableApps())('$dockerfile', (app) => {
  it(`builds ${app.packageName} and no other app`, () => {
    expect(dockerfileProblems(app.dockerfile, app, deployableApps())).toEqual([]);
  });

  it('runs with NODE_ENV=production, so production requirements apply wherever it runs', () => {
    expect(dockerfileFinalEnv(readRepoFile(app.dockerfile)).get('NODE_ENV')).toBe('production');
  });

  it("starts the app's own entry point", () => {
    const cmd = dockerfileCmd(app.dockerfile);
    expect(cmd, 'an exec-form CMD').toBeDefined();
    expect(resolveImageCommand(cmd ?? [], app)).toEqual({
      package: app.packageName,
      source: `${app.dir}/src/main.ts`,
    });
  });

  it("checks health with the app's own entry, which reads its port as the app does", () => {
    const check = dockerfileHealthcheck(app.dockerfile) ?? [];
    expect(resolveImageCommand(check, app)).toEqual({
      package: app.packageName,
      source: `${app.dir}/src/healthcheck.ts`,
    });
  });
});

// Railway's builder accepts BuildKit cache mounts only as id=s/<service id>-<target path>, with the
// service id written literally (https://docs.railway.com/builds/dockerfiles#cache-mounts), and
// refuses the whole Dockerfile otherwise; a Dockerfile shared with other builders cannot carry
// one service's id, so the Dockerfiles Railway builds must have no other cache mount.
describe('Railway builds of the Dockerfiles', () => {
  it('recognises a cache mount id Railway refuses, and accepts its own format', () => {
    const dockerfile = [
      'FROM node:24 AS build',
      'RUN --mount=type=cache,id=jobstack-npm,target=/root/.npm \\',
      '    --mount=type=bind,source=x,target=/x \\',
      '    npm ci',
      'RUN --mount=type=cache,target=/root/.cache npm run build',
      'RUN --mount=type=cache,id=s/0f8e-/pnpm/store,target=/pnpm/store pnpm install',
    ].join('\n');
    expect(railwayIncompatibleCacheMounts(dockerfile)).toEqual([
      '--mount=type=cache,id=jobstack-npm,target=/root/.npm',
      '--mount=type=cache,target=/root/.cache',
    ]);
  });

  it('no Dockerfile Railway builds has a cache mount Railway refuses', () => {
    const built = loadRailway().targets.flatMap((t) => (t.build ? [t.build.dockerfile] : []));
    expect(built.length).toBeGreaterThan(0);
    const refused = built.flatMap((file) =>
      railwayIncompatibleCacheMounts(readRepoFile(file)).map((m) => `${file}: ${m}`),
    );
    expect(refused).toEqual([]);
  });
});
