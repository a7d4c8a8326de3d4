import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { arch, cpus, loadavg, platform, release, totalmem } from 'node:os';
import { Redis } from 'ioredis';
import pg from 'pg';
import { paths } from './paths.ts';

export interface MachineInfo {
  os: string;
  cpu: string;
  cores: number;
  memoryGb: number;
  /** 1-minute load average when the bench started: these machines are shared. */
  loadAverage: number;
  node: string;
  pnpm: string | null;
  postgres: string | null;
  redis: string | null;
  docker: string | null;
  gitRevision: string | null;
  /** Uncommitted changes in the working tree when the bench ran. */
  gitDirty: boolean | null;
  packages: Record<string, string>;
}

function quiet(command: string, args: string[]): string | null {
  try {
    return execFileSync(command, args, {
      cwd: paths.root,
      encoding: 'utf8',
      stdio: ['ignore', 'pipe', 'ignore'],
      timeout: 10_000,
    }).trim();
  } catch {
    return null;
  }
}

/** Installed versions of the libraries the figures depend on, as the apps resolve them. */
function packageVersions(): Record<string, string> {
  const fromApi = createRequire(`${paths.root}apps/api/package.json`);
  const fromBench = createRequire(`${paths.root}bench/package.json`);
  const versions: Record<string, string> = {};
  const names: [string, NodeJS.Require][] = [
    ['express', fromApi],
    ['bullmq', fromApi],
    ['ioredis', fromApi],
    ['pino', createRequire(`${paths.root}packages/logger/package.json`)],
    ['@prisma/client', createRequire(`${paths.root}packages/db/package.json`)],
    ['pg', createRequire(`${paths.root}packages/db/package.json`)],
    ['autocannon', fromBench],
  ];
  for (const [name, require] of names) {
    try {
      const main = require.resolve(name);
      const marker = `/node_modules/${name}/`;
      const dir = main.slice(0, main.lastIndexOf(marker) + marker.length);
      versions[name] = (
        JSON.parse(readFileSync(`${dir}package.json`, 'utf8')) as { version: string }
      ).version;
    } catch {
      // not resolvable from here: left out rather than guessed
    }
  }
  return versions;
}

export async function machineInfo(urls: {
  databaseUrl: string;
  redisUrl: string;
}): Promise<MachineInfo> {
  const cpuList = cpus();
  let postgres: string | null = null;
  const client = new pg.Client({ connectionString: urls.databaseUrl });
  try {
    await client.connect();
    postgres =
      (await client.query<{ v: string }>("SELECT current_setting('server_version') AS v")).rows[0]
        ?.v ?? null;
  } catch {
    postgres = null;
  } finally {
    await client.end().catch(() => undefined);
  }
  let redis: string | null = null;
  const connection = new Redis(urls.redisUrl, { maxRetriesPerRequest: 1, lazyConnect: true });
  try {
    await connection.connect();
    redis = /redis_version:(\S+)/.exec(await connection.info('server'))?.[1] ?? null;
  } catch {
    redis = null;
  } finally {
    connection.disconnect();
  }
  const status = quiet('git', ['status', '--porcelain']);
  return {
    os: `${platform()} ${release()} ${arch()}`,
    cpu: cpuList[0]?.model.trim() ?? 'unknown',
    cores: cpuList.length,
    memoryGb: Math.round(totalmem() / 1024 ** 3),
    loadAverage: Math.round((loadavg()[0] ?? 0) * 100) / 100,
    node: process.version,
    pnpm: quiet('pnpm', ['--version']),
    postgres,
    redis,
    docker: quiet('docker', ['version', '--format', '{{.Server.Version}}']),
    gitRevision: quiet('git', ['rev-parse', '--short=12', 'HEAD']),
    gitDirty: status === null ? null : status.length > 0,
    packages: packageVersions(),
  };
}
