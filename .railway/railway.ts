// Railway Infrastructure as Code for jobstack: PostgreSQL, Redis kept as a durable store, and the
// api, worker and beat, each built from the repository root with its own Dockerfile.
//
//   railway link                 # once: the Railway project and environment to manage
//   railway config plan          # what would change (variable values are hidden)
//   railway config apply         # apply it, after a confirmation
//
// The Railway CLI evaluates this file with Node (type stripping) and the `railway` package from the
// repository's node_modules (`pnpm install` first). It describes the whole environment: a service
// or variable that is not declared here is deleted by `apply` (it asks first). docs/deploy.md
// ("Railway") has the steps, the shared variables to create, and the migration from the old
// infra/railway/*.json files; infra/deploy-checks evaluates this program and checks it against the
// code in `pnpm test`.
import { execFileSync } from 'node:child_process';
import { defineRailway, github, postgres, project, redis, service } from 'railway/iac';

/** The branch Railway deploys, once GitHub's checks (.github/workflows/ci.yml) passed on it. */
const BRANCH = 'main';

/** Runs db-migrate from the app's own image: a plain command, no shell. */
const MIGRATE_COMMAND = 'node node_modules/@repo/db/dist/bin/db-migrate.js';

/**
 * In-flight requests and jobs get SHUTDOWN_TIMEOUT after SIGTERM; Railway sends SIGKILL
 * drainingSeconds after SIGTERM (its default is 0: killed at once), so the window is longer.
 */
const SHUTDOWN_TIMEOUT = '25s';
const DRAINING_SECONDS = 40;

/**
 * Redis holds the queue, so it runs as a store, not a cache (Railway's guide "Run Redis as a
 * Cache vs a Persistent Store"): every write goes to the append-only file, synced every second,
 * on the database's volume (RAILWAY_VOLUME_MOUNT_PATH; without a volume the path is empty and
 * Redis refuses to start rather than run without persistence), and a full Redis refuses writes
 * instead of evicting jobs (BullMQ requires noeviction). RDB snapshots keep their default schedule.
 * The password is the one the Redis database generates, which its REDIS_URL carries.
 */
const REDIS_STORE_COMMAND = [
  '/bin/sh -c "exec docker-entrypoint.sh redis-server',
  '--requirepass \\"$REDIS_PASSWORD\\"',
  '--dir \\"$RAILWAY_VOLUME_MOUNT_PATH\\"',
  '--appendonly yes --appendfsync everysec',
  '--maxmemory-policy noeviction"',
].join(' ');

/** Root files every image depends on (turbo prune's inputs, the toolchain, the build context). */
const ROOT_BUILD_FILES = [
  '/package.json',
  '/pnpm-lock.yaml',
  '/pnpm-workspace.yaml',
  '/turbo.json',
  '/.node-version',
  '/.dockerignore',
];

export default defineRailway((ctx) => {
  // Railway's "Wait for CI": a commit deploys only once its GitHub checks have passed.
  const source = github(githubRepository(), { branch: BRANCH, checkSuites: true });

  const db = postgres('Postgres');
  const queue = redis('Redis');
  queue.deploy = { startCommand: REDIS_STORE_COMMAND };

  // The same values for every app: they must meet in one database, one Redis and one queue.
  const shared = {
    NODE_ENV: 'production',
    LOG_LEVEL: 'info',
    REDIS_URL: queue.env.REDIS_URL,
    // Railway's private network is IPv6-only in environments created before October 2025, and
    // ioredis looks up IPv4 only unless told otherwise: 0 looks up both.
    REDIS_FAMILY: '0',
    QUEUE_PREFIX: 'jobstack',
    // JOB_LIMITS (the job types' limits), when set, goes here: the api parks jobs on arrival by
    // the limits the workers run under, so both must read the same value
    SHUTDOWN_TIMEOUT,
  };

  const api = service('api', {
    source,
    build: {
      builder: 'DOCKERFILE',
      dockerfilePath: 'apps/api/Dockerfile',
      // What the image is built from: the app, the workspace packages it depends on, the build
      // steps the Dockerfiles run, and the root build files. infra/deploy-checks derives the same
      // list from the workspace and the Dockerfile and fails when one is missing.
      watchPatterns: [
        '/apps/api/**',
        '/packages/batching/**',
        '/packages/config/**',
        '/packages/db/**',
        '/packages/health/**',
        '/packages/jobs/**',
        '/packages/lifecycle/**',
        '/packages/logger/**',
        '/packages/metrics/**',
        '/packages/outages/**',
        '/packages/tracing/**',
        '/packages/webhooks/**',
        '/tooling/docker/**',
        '/tooling/testing/**',
        '/tooling/tsconfig/**',
        ...ROOT_BUILD_FILES,
      ],
    },
    deploy: {
      // Once per deploy, before the new version starts; a failure stops the deploy.
      preDeployCommand: [MIGRATE_COMMAND],
      // Railway asks it only while a deploy starts (not afterwards): the new version takes the
      // traffic once PostgreSQL and Redis answer and it is ready.
      healthcheckPath: '/health/ready',
      healthcheckTimeout: 120,
      restartPolicyType: 'ON_FAILURE',
      restartPolicyMaxRetries: 10,
      overlapSeconds: 10,
      drainingSeconds: DRAINING_SECONDS,
    },
    env: {
      ...shared,
      DATABASE_URL: db.env.DATABASE_URL,
      API_KEYS: ctx.shared.API_KEYS,
      METRICS_TOKEN: ctx.shared.METRICS_TOKEN,
      WEBHOOK_SECRETS_KEY: ctx.shared.WEBHOOK_SECRETS_KEY,
      // Railway's proxy sits in front: trust one hop of X-Forwarded-*.
      TRUST_PROXY: '1',
      MIGRATE_ON_START: 'false',
    },
  });

  const worker = service('worker', {
    source,
    build: {
      builder: 'DOCKERFILE',
      dockerfilePath: 'apps/worker/Dockerfile',
      watchPatterns: [
        '/apps/worker/**',
        '/packages/batching/**',
        '/packages/config/**',
        '/packages/db/**',
        '/packages/health/**',
        '/packages/jobs/**',
        '/packages/lifecycle/**',
        '/packages/logger/**',
        '/packages/metrics/**',
        '/packages/outages/**',
        '/packages/tracing/**',
        '/packages/webhooks/**',
        '/tooling/docker/**',
        '/tooling/testing/**',
        '/tooling/tsconfig/**',
        ...ROOT_BUILD_FILES,
      ],
    },
    deploy: {
      // The worker needs the schema too, and a change to packages/db deploys it alongside the
      // api in no fixed order: it runs the same migration (the advisory lock lets one apply it
      // while the other waits and then finds nothing to do).
      preDeployCommand: [MIGRATE_COMMAND],
      restartPolicyType: 'ON_FAILURE',
      restartPolicyMaxRetries: 10,
      drainingSeconds: DRAINING_SECONDS,
    },
    env: {
      ...shared,
      DATABASE_URL: db.env.DATABASE_URL,
      WEBHOOK_SECRETS_KEY: ctx.shared.WEBHOOK_SECRETS_KEY,
      WEBHOOK_SIGNING_SECRET: ctx.shared.WEBHOOK_SIGNING_SECRET,
      // Jobs at once per replica.
      WORKER_CONCURRENCY: '10',
      MIGRATE_ON_START: 'false',
    },
  });

  // A long-running service, not a Railway cron job: it keeps BullMQ's job schedulers in sync.
  const beat = service('beat', {
    source,
    build: {
      builder: 'DOCKERFILE',
      dockerfilePath: 'apps/beat/Dockerfile',
      watchPatterns: [
        '/apps/beat/**',
        '/packages/batching/**',
        '/packages/config/**',
        '/packages/db/**',
        '/packages/health/**',
        '/packages/jobs/**',
        '/packages/lifecycle/**',
        '/packages/logger/**',
        '/packages/outages/**',
        '/packages/tracing/**',
        '/tooling/docker/**',
        '/tooling/testing/**',
        '/tooling/tsconfig/**',
        ...ROOT_BUILD_FILES,
      ],
    },
    deploy: {
      restartPolicyType: 'ON_FAILURE',
      restartPolicyMaxRetries: 10,
      drainingSeconds: DRAINING_SECONDS,
    },
    // the schedules defined through the API; beat waits, not ready, until their migration ran
    env: { ...shared, DATABASE_URL: db.env.DATABASE_URL, DATABASE_POOL_SIZE: '2' },
  });

  return project('jobstack', { resources: [db, queue, api, worker, beat] });
});

/**
 * The GitHub repository the services deploy from, "owner/name": GITHUB_REPOSITORY when set (GitHub
 * Actions sets it), else the checkout's `origin` remote — so a fork deploys itself without an edit.
 */
function githubRepository(): string {
  const fromEnvironment = process.env.GITHUB_REPOSITORY;
  if (fromEnvironment) return fromEnvironment;
  let remote = '';
  try {
    remote = execFileSync('git', ['remote', 'get-url', 'origin'], {
      encoding: 'utf8',
      stdio: ['ignore', 'pipe', 'ignore'],
    }).trim();
  } catch {
    // no git, or no origin: reported below
  }
  const repository = githubRepositoryOf(remote);
  if (!repository) {
    throw new Error(
      `.railway/railway.ts: cannot tell which GitHub repository to deploy (origin is ${remote ? `"${remote}"` : 'not set'}). Set GITHUB_REPOSITORY=<owner>/<name> and run the command again.`,
    );
  }
  return repository;
}

/** "owner/name" of a GitHub remote URL (https or ssh), or undefined for any other remote. */
export function githubRepositoryOf(remote: string): string | undefined {
  const match =
    /^(?:https:\/\/github\.com\/|git@github\.com:|ssh:\/\/git@github\.com\/)([\w.-]+\/[\w.-]+?)(?:\.git)?\/?$/.exec(
      remote,
    );
  return match?.[1];
}
