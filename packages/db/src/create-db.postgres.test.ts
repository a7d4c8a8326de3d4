import { createServer, type Server, type Socket } from 'node:net';
import { type Env, loadConfig } from '@repo/config';
import { createTestDatabase, freePort, type TestDatabase } from '@repo/testing';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createDb, type Db } from './create-db.ts';
import { DatabaseUnavailableError, isDatabaseUnavailableError } from './database-unavailable.ts';
import { databaseOptions, migrateEnv } from './env.ts';
import { createJobRepository } from './jobs/job-repository.ts';
import { migrate } from './migrate/migrate.ts';

function configFor(env: Env) {
  return loadConfig(migrateEnv, { NODE_ENV: 'test', ...env });
}

/** Times `call` from before it starts: a connect timer starts with the call, not when awaited. */
async function rejectionOf(call: () => Promise<unknown>) {
  const started = performance.now();
  const error = await call().then(
    () => expect.unreachable('expected a rejection'),
    (e: unknown) => e,
  );
  return { error, elapsedMs: performance.now() - started };
}

describe('createDb (real PostgreSQL)', () => {
  let database: TestDatabase;
  let db: Db;

  beforeAll(async () => {
    database = await createTestDatabase('create_db');
    await migrate({ databaseUrl: database.url });
    db = createDb({
      ...databaseOptions(
        configFor({
          DATABASE_URL: database.url,
          DATABASE_POOL_SIZE: '2',
          DATABASE_STATEMENT_TIMEOUT: '300ms',
        }),
      ),
      applicationName: 'create-db-test',
    });
  });
  afterAll(async () => {
    await db?.disconnect();
    await database?.drop();
  });

  it('pings with SELECT 1', async () => {
    await expect(db.ping()).resolves.toBeUndefined();
  });

  it("applies the config's statement_timeout and application name to its connections", async () => {
    const [settings] = await db.prisma.$queryRaw<{ timeout: string; app: string }[]>`
      SELECT current_setting('statement_timeout') AS timeout,
             current_setting('application_name') AS app`;
    expect(settings).toEqual({ timeout: '300ms', app: 'create-db-test' });

    const { error } = await rejectionOf(() => db.prisma.$executeRaw`SELECT pg_sleep(2)`);
    expect(String(error)).toContain('statement timeout');
    // a statement the server cancelled for taking too long: the database is not keeping up
    expect(isDatabaseUnavailableError(error)).toBe(true);
  });

  it('opens at most DATABASE_POOL_SIZE connections, and uses them all', async () => {
    // Which backend ran each statement, rather than sampling pg_stat_activity: a sampler misses the
    // overlap when a busy machine makes each connect slower than a statement.
    const backends = await Promise.all(
      Array.from(
        { length: 8 },
        () =>
          db.prisma.$queryRaw<{ pid: number }[]>`SELECT pg_backend_pid() AS pid FROM pg_sleep(0.2)`,
      ),
    );
    expect(new Set(backends.map(([row]) => row?.pid)).size).toBe(2);
  });

  it('does not take ordinary query errors for an outage', async () => {
    const jobs = createJobRepository(db);
    const { job } = await jobs.create({ type: 't', payload: {}, maxAttempts: 1 });
    const { error } = await rejectionOf(
      () =>
        db.prisma.$executeRaw`INSERT INTO jobs (id, type, payload, max_attempts)
                            VALUES (${job.id}::uuid, 't', '{}', 1)`,
    );
    expect(isDatabaseUnavailableError(error)).toBe(false);
    expect(isDatabaseUnavailableError(new Error('boom'))).toBe(false);
    expect(isDatabaseUnavailableError(undefined)).toBe(false);
  });

  it('disconnects once, however often it is asked', async () => {
    const other = createDb(databaseOptions(configFor({ DATABASE_URL: database.url })));
    await other.ping();
    await Promise.all([other.disconnect(), other.disconnect()]);
    await expect(other.disconnect()).resolves.toBeUndefined();
    // a query after shutdown is a clear "unavailable", not a crash
    await expect(other.ping()).rejects.toBeInstanceOf(DatabaseUnavailableError);
  });
});

describe('createDb against unavailable PostgreSQL (real sockets)', () => {
  let silent: Server;
  const held: Socket[] = [];
  let silentPort: number;

  beforeAll(async () => {
    // accepts TCP connections and never says anything: a server that hangs, not one that refuses
    silent = createServer((socket) => held.push(socket));
    await new Promise<void>((resolve) => silent.listen(0, '127.0.0.1', resolve));
    silentPort = (silent.address() as { port: number }).port;
  });
  afterAll(async () => {
    for (const socket of held) socket.destroy();
    await new Promise((resolve) => silent.close(resolve));
  });

  async function unavailable(url: string, connectTimeout: string) {
    const db = createDb(
      databaseOptions(configFor({ DATABASE_URL: url, DATABASE_CONNECT_TIMEOUT: connectTimeout })),
    );
    return {
      db,
      [Symbol.asyncDispose]: () => db.disconnect(),
    };
  }

  it('a closed port: ping, the repository and direct Prisma calls fail as "unavailable"', async () => {
    const port = await freePort();
    await using target = await unavailable(`postgresql://postgres@127.0.0.1:${port}/app`, '1s');
    const ping = await rejectionOf(() => target.db.ping());
    expect(ping.error).toBeInstanceOf(DatabaseUnavailableError);
    expect((ping.error as Error).message).toMatch(/unavailable while trying to ping it/);
    expect(ping.elapsedMs).toBeLessThan(1_000);

    const repository = await rejectionOf(() =>
      createJobRepository(target.db).findById('00000000-0000-4000-8000-000000000000'),
    );
    expect(repository.error).toBeInstanceOf(DatabaseUnavailableError);
    expect((repository.error as Error).message).toContain('read a job');

    const direct = await rejectionOf(() => target.db.prisma.job.findFirst());
    expect(direct.error).not.toBeInstanceOf(DatabaseUnavailableError);
    expect(isDatabaseUnavailableError(direct.error)).toBe(true);
  });

  it('a non-routable address (10.255.255.1) with a 500 ms connect timeout rejects within it', async () => {
    await using target = await unavailable('postgresql://postgres@10.255.255.1:5432/app', '500ms');
    const ping = await rejectionOf(() => target.db.ping());
    expect(ping.error).toBeInstanceOf(DatabaseUnavailableError);
    expect(ping.elapsedMs).toBeLessThan(1_000);
    const list = await rejectionOf(() => createJobRepository(target.db).list({ limit: 10 }));
    expect(list.error).toBeInstanceOf(DatabaseUnavailableError);
    expect(list.elapsedMs).toBeLessThan(1_000);
  });

  it('a server that accepts the connection but never answers: rejected after the connect timeout', async () => {
    await using target = await unavailable(
      `postgresql://postgres@127.0.0.1:${silentPort}/app`,
      '500ms',
    );
    const ping = await rejectionOf(() => target.db.ping());
    expect(ping.error).toBeInstanceOf(DatabaseUnavailableError);
    expect(ping.elapsedMs).toBeGreaterThanOrEqual(450);
    expect(ping.elapsedMs).toBeLessThan(1_000);
    const create = await rejectionOf(() =>
      createJobRepository(target.db).create({ type: 't', payload: {}, maxAttempts: 1 }),
    );
    expect(create.error).toBeInstanceOf(DatabaseUnavailableError);
    expect(create.elapsedMs).toBeLessThan(1_000);
  });

  it('a database that does not exist counts as unavailable', async () => {
    const missing = await createTestDatabase('create_db_missing');
    await missing.drop();
    await using target = await unavailable(missing.url, '1s');
    await expect(target.db.ping()).rejects.toBeInstanceOf(DatabaseUnavailableError);
    await expect(createJobRepository(target.db).findById(crypto.randomUUID())).rejects.toThrow(
      /does not exist/,
    );
  });
});
