import { describe, expect, it } from 'vitest';
import { parseBuildSteps, stepsThatRan } from './buildkit-log.ts';

const log = `#0 building with "default" instance using docker driver

#1 [internal] load build definition from Dockerfile
#1 transferring dockerfile: 5.29kB done
#1 DONE 0.0s

#4 [runtime 1/6] FROM docker.io/library/node:24-trixie-slim
#4 DONE 0.0s

#9 [prune 2/3] COPY . .
#10 [build 3/6] RUN pnpm install --frozen-lockfile --store-dir=/pnpm/store
#9 DONE 0.1s
#10 CACHED

#11 [build 4/6] COPY --from=prune /out/full/ ./
#11 CACHED

#20 exporting to image
#20 DONE 0.1s
`;

describe('parseBuildSteps', () => {
  it('reads each step once, with its stage and whether it came from the cache', () => {
    expect(parseBuildSteps(log)).toEqual([
      {
        id: 0,
        name: 'building with "default" instance using docker driver',
        stage: undefined,
        cached: false,
      },
      {
        id: 1,
        name: '[internal] load build definition from Dockerfile',
        stage: undefined,
        cached: false,
      },
      {
        id: 4,
        name: '[runtime 1/6] FROM docker.io/library/node:24-trixie-slim',
        stage: 'runtime',
        cached: false,
      },
      { id: 9, name: '[prune 2/3] COPY . .', stage: 'prune', cached: false },
      {
        id: 10,
        name: '[build 3/6] RUN pnpm install --frozen-lockfile --store-dir=/pnpm/store',
        stage: 'build',
        cached: true,
      },
      { id: 11, name: '[build 4/6] COPY --from=prune /out/full/ ./', stage: 'build', cached: true },
      { id: 20, name: 'exporting to image', stage: undefined, cached: false },
    ]);
  });

  it('understands lines prefixed by turbo', () => {
    const prefixed = log
      .split('\n')
      .map((l) => `@repo/api:docker:build: ${l}`)
      .join('\n');
    expect(parseBuildSteps(prefixed)).toEqual(parseBuildSteps(log));
  });
});

describe('stepsThatRan', () => {
  it('lists the steps of the given stages that were not cached, leaving out FROM', () => {
    expect(stepsThatRan(log, ['prune']).map((s) => s.id)).toEqual([9]);
    expect(stepsThatRan(log, ['build', 'runtime'])).toEqual([]);
  });
});
