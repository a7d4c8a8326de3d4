import { Writable } from 'node:stream';
import { loadConfig, migrateEnv } from '@repo/config';
import { createLogger, type Logger } from '@repo/logger';
import { createTestDatabase, type TestDatabase } from '@repo/testing';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { PendingMigrationsError } from './migrate/migration-errors.ts';
import { prepareSchema } from './prepare-schema.ts';
import { queryRows } from './testing/migrations-fixture.ts';

describe('prepareSchema (real PostgreSQL)', () => {
  const databases: TestDatabase[] = [];
  const lines: Record<string, unknown>[] = [];
  let logger: Logger;

  beforeAll(async () => {
    logger = await createLogger({
      service: 'test',
      version: 'test',
      config: { NODE_ENV: 'test', LOG_LEVEL: 'info', LOG_FORMAT: 'json' },
      destination: new Writable({
        write(chunk, _encoding, done) {
          for (const line of String(chunk).split('\n').filter(Boolean))
            lines.push(JSON.parse(line));
          done();
        },
      }),
    });
  });
  afterAll(async () => {
    await Promise.all(databases.map((database) => database.drop()));
  });

  async function configFor(label: string, migrateOnStart: boolean) {
    const database = await createTestDatabase(label);
    databases.push(database);
    const config = {
      ...loadConfig(migrateEnv, { DATABASE_URL: database.url }),
      MIGRATE_ON_START: migrateOnStart,
    };
    return { database, config };
  }

  it('fails start-up naming the pending migrations when MIGRATE_ON_START is false', async () => {
    const { database, config } = await configFor('prepare_assert', false);
    const error = await prepareSchema(config, logger).then(
      () => expect.unreachable('pending migrations must stop start-up'),
      (e: unknown) => e,
    );
    expect(error).toBeInstanceOf(PendingMigrationsError);
    expect((error as Error).message).toMatch(/20261123090000_init.*Run db-migrate/s);
    expect(await queryRows(database.url, `SELECT to_regclass('jobs') AS t`)).toEqual([{ t: null }]);
  });

  it('migrates when MIGRATE_ON_START is true, and then passes as current', async () => {
    const { database, config } = await configFor('prepare_migrate', true);
    await prepareSchema(config, logger);
    expect(lines).toContainEqual(
      expect.objectContaining({ msg: 'applied migration', migration: '20261123090000_init' }),
    );
    expect(await queryRows(database.url, 'SELECT count(*)::int AS n FROM jobs')).toEqual([
      { n: 0 },
    ]);
    await prepareSchema({ ...config, MIGRATE_ON_START: false }, logger);
    expect(lines.at(-1)).toMatchObject({ msg: 'database schema is current' });
  });
});
