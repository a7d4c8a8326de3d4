import pg from 'pg';
import { describe, expect, it } from 'vitest';
import { createTestDatabase } from './postgres.ts';
import { TEST_DATABASE_URL } from './services.ts';

async function query<T extends pg.QueryResultRow>(
  url: string,
  sql: string,
  params: unknown[] = [],
) {
  const client = new pg.Client({ connectionString: url });
  await client.connect();
  try {
    return (await client.query<T>(sql, params)).rows;
  } finally {
    await client.end();
  }
}

describe('createTestDatabase (real PostgreSQL)', () => {
  it('creates an isolated empty database and drops it', async () => {
    const db = await createTestDatabase('isolation');
    expect(await query(db.url, 'SELECT current_database() AS name')).toEqual([{ name: db.name }]);
    expect(
      await query(db.url, "SELECT 1 FROM information_schema.tables WHERE table_schema = 'public'"),
    ).toEqual([]);
    await db.drop();
    const remaining = await query(
      TEST_DATABASE_URL,
      'SELECT 1 FROM pg_database WHERE datname = $1',
      [db.name],
    );
    expect(remaining).toEqual([]);
  });
});
