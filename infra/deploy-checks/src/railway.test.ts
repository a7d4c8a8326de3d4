import type { RailwayGraph, ServiceNode } from 'railway/iac';
import { describe, expect, it } from 'vitest';
import { githubRepositoryOf } from '../../../.railway/railway.ts';
import { CHECKED_REPOSITORY, loadRailway } from './load.ts';
import { checkRailway, railwaySharedVariables, redisStoreProblems } from './railway.ts';
import {
  compileRailwayGraph,
  evaluateRailwayProgram,
  RAILWAY_PROGRAM,
  railwayGraphErrors,
} from './railway-graph.ts';
import { deployableApps } from './repo.ts';
import { assertNoProblems, formatProblem } from './targets.ts';

// Evaluating the program starts a Node process: done once, while the file is collected, so no
// test waits for it under a test timeout.
const railway = loadRailway();
const loaded = () => {
  const { graph } = loadRailway();
  if (!graph)
    throw new Error(
      `${RAILWAY_PROGRAM} did not compile: ${loadRailway().problems.map(formatProblem).join('\n')}`,
    );
  return graph;
};
const copy = () => structuredClone(loaded());
const service = (graph: RailwayGraph, name: string) => {
  const found = graph.resources.find(
    (r): r is ServiceNode => r.type === 'service' && r.name === name,
  );
  if (!found) throw new Error(`no service ${name} in the graph`);
  return found;
};
const messages = (graph: RailwayGraph) => checkRailway(graph).map(formatProblem);

describe(RAILWAY_PROGRAM, () => {
  it('evaluates as the Railway CLI evaluates it, and the SDK validates the compiled graph', () => {
    assertNoProblems(railway.problems);
    const graph = loaded();
    expect(railwayGraphErrors(graph)).toEqual([]);
    // the databases, and one service per app under the app's name
    const apps = deployableApps().map((app) => app.name);
    expect(graph.resources.map((r) => r.address).sort()).toEqual(
      ['database.Postgres', 'database.Redis', ...apps.map((app) => `service.${app}`)].sort(),
    );
    // one edge per reference: every app reaches Redis, the two that use it PostgreSQL
    const edges = graph.edges.map((e) => `${e.from} ${e.key} -> ${e.to}`);
    expect(edges.filter((edge) => edge.endsWith('database.Postgres')).sort()).toEqual([
      'service.api DATABASE_URL -> database.Postgres',
      'service.worker DATABASE_URL -> database.Postgres',
    ]);
    expect(edges.filter((edge) => edge.endsWith('database.Redis')).sort()).toEqual(
      apps.map((app) => `service.${app} REDIS_URL -> database.Redis`).sort(),
    );
  });

  it('deploys every service from the GitHub repository it is evaluated for, after CI passed', () => {
    for (const app of deployableApps()) {
      expect(service(loaded(), app.name).source).toEqual({
        type: 'github',
        repo: CHECKED_REPOSITORY,
        branch: 'main',
        checkSuites: true,
      });
    }
  });

  it('takes the repository from GITHUB_REPOSITORY, else from a GitHub origin, else fails saying what to set', {
    timeout: 30_000,
  }, () => {
    expect(githubRepositoryOf('https://github.com/acme/jobstack.git')).toBe('acme/jobstack');
    expect(githubRepositoryOf('https://github.com/acme/jobstack')).toBe('acme/jobstack');
    expect(githubRepositoryOf('git@github.com:acme/job.stack.git')).toBe('acme/job.stack');
    expect(githubRepositoryOf('ssh://git@github.com/acme/jobstack.git')).toBe('acme/jobstack');
    expect(githubRepositoryOf('/work/main')).toBeUndefined();
    expect(githubRepositoryOf('https://gitlab.com/acme/jobstack.git')).toBeUndefined();
    // GIT_DIR pointing nowhere: no origin to fall back on
    const evaluated = evaluateRailwayProgram({ GIT_DIR: '/nonexistent' });
    expect('error' in evaluated && evaluated.error).toMatch(
      /Set GITHUB_REPOSITORY=<owner>\/<name>/,
    );
  });

  it('references only shared variables that hold secrets, each under its own name', () => {
    expect(railwaySharedVariables(loaded())).toEqual([
      'API_KEYS',
      'METRICS_TOKEN',
      'WEBHOOK_SECRETS_KEY',
      'WEBHOOK_SIGNING_SECRET',
    ]);
  });
});

describe('the SDK validation of the compiled graph', () => {
  it('fails a graph with a reference to a resource the project does not declare', () => {
    const definition = {
      name: 'broken',
      resources: [
        {
          address: 'service.api' as const,
          type: 'service' as const,
          kind: 'empty' as const,
          name: 'api',
          variables: {
            DATABASE_URL: {
              type: 'reference' as const,
              resource: 'database.Postgres' as const,
              output: 'DATABASE_URL',
            },
          },
        },
      ],
    };
    expect(railwayGraphErrors(compileRailwayGraph(definition))).toEqual([
      'Edge references missing target: database.Postgres',
    ]);
  });

  it('fails a graph with two resources of one address', () => {
    const graph = copy();
    graph.resources.push(structuredClone(service(graph, 'worker')));
    expect(railwayGraphErrors(graph)).toEqual(['Duplicate resource address: service.worker']);
  });
});

describe('the Railway rules', () => {
  it('a service built by Railpack instead of its Dockerfile', () => {
    const graph = copy();
    service(graph, 'beat').build = { builder: 'RAILPACK' };
    expect(messages(graph)).toContain(
      '.railway/railway.ts: service "beat": build.builder must be DOCKERFILE with a dockerfilePath (else Railpack builds it)',
    );
  });

  it('a deploy that does not wait for CI, and a root directory', () => {
    const graph = copy();
    const api = service(graph, 'api');
    api.source = { type: 'github', repo: 'a/b', branch: 'main', rootDirectory: 'apps/api' };
    expect(messages(graph)).toEqual([
      '.railway/railway.ts: service "api": deploys a commit before its GitHub checks pass: set checkSuites: true (Railway\'s Wait for CI)',
      '.railway/railway.ts: service "api": sets root directory apps/api; the Dockerfiles need the whole repository',
    ]);
  });

  it('the public URL of a database, and a variable a database does not provide', () => {
    const graph = copy();
    const worker = service(graph, 'worker');
    worker.variables = {
      ...worker.variables,
      DATABASE_URL: {
        type: 'reference',
        resource: 'database.Postgres',
        output: 'DATABASE_PUBLIC_URL',
      },
      REDIS_URL: { type: 'reference', resource: 'database.Redis', output: 'REDIS_CONNECTION' },
    };
    expect(messages(graph).sort()).toEqual([
      '.railway/railway.ts: service "worker": DATABASE_URL uses Postgres\'s public URL; services in the project talk over the private network',
      '.railway/railway.ts: service "worker": REDIS_URL references Redis.REDIS_CONNECTION, which Redis does not provide',
    ]);
  });

  it('a shared variable used for something that is not a secret', () => {
    const graph = copy();
    const beat = service(graph, 'beat');
    beat.variables = {
      ...beat.variables,
      QUEUE_PREFIX: { type: 'sharedReference', name: 'QUEUE_PREFIX' },
    };
    expect(messages(graph)).toEqual([
      '.railway/railway.ts: service "beat": QUEUE_PREFIX comes from the shared variable QUEUE_PREFIX: shared variables carry this project\'s secrets, each under its own name',
    ]);
  });

  it('the queue Redis left as a cache: the template start command, eviction, no volume', () => {
    expect(redisStoreProblems(undefined)).toEqual([expect.stringMatching(/append-only file/)]);
    // Railway's Redis template as it comes
    expect(
      redisStoreProblems(
        '/bin/sh -c "exec docker-entrypoint.sh redis-server --requirepass $REDIS_PASSWORD"',
      ),
    ).toEqual([
      'does not turn on the append-only file (--appendonly yes)',
      expect.stringMatching(/^does not keep its files on the volume/),
    ]);
    expect(
      redisStoreProblems(
        'redis-server --appendonly yes --appendfsync no --dir /data --maxmemory-policy allkeys-lru',
      ),
    ).toEqual([
      '--appendfsync no can lose more than a second of writes',
      expect.stringMatching(/^does not keep its files on the volume/),
      '--maxmemory-policy allkeys-lru evicts keys; BullMQ requires noeviction',
      expect.stringMatching(/^does not require the password/),
    ]);
    const graph = copy();
    const redis = graph.resources.find((r) => r.type === 'database' && r.engine === 'redis');
    if (redis?.type !== 'database') throw new Error('no Redis in the graph');
    delete redis.deploy;
    redis.networking = { tcpProxies: { '6379': {} } };
    expect(messages(graph)).toEqual([
      '.railway/railway.ts: service "Redis": has a TCP proxy, which opens it to the internet; keep it on the private network',
      expect.stringMatching(
        /^\.railway\/railway\.ts: service "Redis": has no start command of its own/,
      ),
    ]);
  });

  it('draining left at its default, and a cron schedule', () => {
    const graph = copy();
    const worker = service(graph, 'worker');
    worker.deploy = { ...worker.deploy, drainingSeconds: null, cronSchedule: '*/5 * * * *' };
    expect(messages(graph)).toEqual([
      expect.stringMatching(/service "worker": cronSchedule makes the service a cron job/),
      '.railway/railway.ts: service "worker": drainingSeconds is not set: Railway then sends SIGKILL right after SIGTERM',
    ]);
  });

  it('an app without a service', () => {
    const graph = copy();
    graph.resources = graph.resources.filter((r) => r.name !== 'beat');
    expect(messages(graph)).toEqual([
      '.railway/railway.ts: service "beat": no service runs this app',
    ]);
  });
});
