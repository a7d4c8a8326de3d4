import { randomUUID } from 'node:crypto';
import { loadConfig } from '@repo/config';
import { createTestDatabase, type TestDatabase } from '@repo/testing';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createDb, type Db } from './create-db.ts';
import { databaseOptions, migrateEnv } from './env.ts';
import type { Job } from './generated/prisma/client.ts';
import * as generatedEnums from './generated/prisma/enums.ts';
import { jobColumnOf } from './jobs/job-columns.ts';
import type { JobRecord } from './jobs/job-record.ts';
import { createJobRepository } from './jobs/job-repository.ts';
import { migrate } from './migrate/migrate.ts';
import { queryRows, withClient } from './testing/migrations-fixture.ts';
import { openPrismaSchemaEngine } from './testing/prisma-schema-engine.ts';

// Drift between prisma/schema.prisma (what the generated client expects) and
// prisma/migrations (what databases get). A schema change without its migration, or a
// hand-written migration that says something else than the schema, fails here.

/** The generated client's runtime data model: models, their fields, and the names in the database. */
interface RuntimeDataModel {
  models: Record<
    string,
    {
      dbName: string | null;
      fields: { name: string; kind: string; type: string; dbName?: string }[];
    }
  >;
}

function runtimeDataModel(db: Db): RuntimeDataModel {
  const model = (db.prisma as unknown as { _runtimeDataModel?: RuntimeDataModel })
    ._runtimeDataModel;
  if (!model || typeof model.models !== 'object') {
    throw new Error('the Prisma client no longer exposes _runtimeDataModel; update this test');
  }
  return model;
}

type ModelDelegate = {
  create(args: { data: Record<string, unknown> }): Promise<Record<string, unknown>>;
  update(args: { where: Record<string, unknown>; data: Record<string, unknown> }): Promise<unknown>;
  findUniqueOrThrow(args: { where: Record<string, unknown> }): Promise<Record<string, unknown>>;
  delete(args: { where: Record<string, unknown> }): Promise<unknown>;
};

const enumValues = generatedEnums as unknown as Record<string, Record<string, string>>;

/** A value for a field of this Prisma type; `variant` picks a different one for updates. */
function sampleValue(type: string, kind: string, variant: 0 | 1): unknown {
  if (kind === 'enum') {
    const values = Object.values(enumValues[type] ?? {});
    if (values.length === 0) throw new Error(`no generated values for enum ${type}`);
    return values[variant === 0 ? 0 : values.length - 1];
  }
  switch (type) {
    // a UUID is valid for text and uuid columns alike
    case 'String':
      return randomUUID();
    case 'Int':
      return variant === 0 ? 7 : 42;
    case 'BigInt':
      return variant === 0 ? 7n : 42n;
    case 'Float':
      return variant === 0 ? 1.5 : 2.25;
    case 'Boolean':
      return variant === 1;
    case 'DateTime':
      return new Date(variant === 0 ? '2031-01-02T03:04:05.678Z' : '2032-06-07T08:09:10.111Z');
    case 'Json':
      return variant === 0 ? { a: [1, 'two', null] } : { b: { nested: true } };
    default:
      throw new Error(`the drift test has no sample value for Prisma type ${type}; add one`);
  }
}

/** A sample value for a field; a list field (e.g. String[]) gets a list of them. */
function fieldValue(field: { type: string; kind: string }, isList: boolean, variant: 0 | 1) {
  const value = sampleValue(field.type, field.kind, variant);
  return isList ? [value, sampleValue(field.type, field.kind, variant)] : value;
}

/**
 * The array columns (`table.column`). The runtime data model does not say which fields are lists
 * (String[]); their columns are PostgreSQL arrays, and the last test below checks those columns
 * against what Prisma builds from the schema.
 */
async function arrayColumns(url: string): Promise<Set<string>> {
  const found = await queryRows<{ name: string }>(
    url,
    `SELECT table_name || '.' || column_name AS name FROM information_schema.columns
      WHERE table_schema = 'public' AND data_type = 'ARRAY'`,
  );
  return new Set(found.map((column) => column.name));
}

// What information_schema reports for the column of each Prisma scalar type.
const COLUMN_TYPES: Record<string, string[]> = {
  String: ['text', 'character varying', 'character', 'uuid', 'citext'],
  Int: ['integer', 'smallint'],
  BigInt: ['bigint'],
  Float: ['double precision', 'real'],
  Decimal: ['numeric'],
  Boolean: ['boolean'],
  DateTime: [
    'timestamp with time zone',
    'timestamp without time zone',
    'date',
    'time without time zone',
  ],
  Json: ['jsonb', 'json'],
  Bytes: ['bytea'],
};

/** The array types (udt_name) a list field may have, by their element's data_type. */
const ARRAY_ELEMENT_TYPES: Record<string, string> = {
  _text: 'text',
  _varchar: 'character varying',
  _int4: 'integer',
  _int8: 'bigint',
  _uuid: 'uuid',
};

/** Tables, columns (with types, nullability, defaults), indexes, constraints and enums. */
async function describeSchema(url: string) {
  return withClient(url, async (client) => {
    const skip = `'_prisma_migrations'`;
    const columns = await client.query(
      `SELECT c.relname AS table, a.attname AS column, format_type(a.atttypid, a.atttypmod) AS type,
              a.attnotnull AS not_null, pg_get_expr(d.adbin, d.adrelid) AS default
         FROM pg_attribute a
         JOIN pg_class c ON c.oid = a.attrelid
         LEFT JOIN pg_attrdef d ON d.adrelid = a.attrelid AND d.adnum = a.attnum
        WHERE c.relnamespace = 'public'::regnamespace AND c.relkind = 'r' AND c.relname <> ${skip}
          AND a.attnum > 0 AND NOT a.attisdropped
        ORDER BY 1, 2`,
    );
    const indexes = await client.query(
      `SELECT tablename, indexname, indexdef FROM pg_indexes
        WHERE schemaname = 'public' AND tablename <> ${skip} ORDER BY 1, 2`,
    );
    const constraints = await client.query(
      `SELECT conrelid::regclass::text AS table, conname, pg_get_constraintdef(oid) AS definition
         FROM pg_constraint
        WHERE connamespace = 'public'::regnamespace AND conrelid <> 0
          AND conrelid::regclass::text <> ${skip}
        ORDER BY 1, 2`,
    );
    const enums = await client.query(
      `SELECT t.typname AS name, array_agg(e.enumlabel::text ORDER BY e.enumlabel) AS labels
         FROM pg_type t JOIN pg_enum e ON e.enumtypid = t.oid
        WHERE t.typnamespace = 'public'::regnamespace
        GROUP BY 1 ORDER BY 1`,
    );
    return {
      columns: columns.rows,
      indexes: indexes.rows,
      constraints: constraints.rows,
      enums: enums.rows,
    };
  });
}

describe('schema.prisma and the migrations describe the same database (real PostgreSQL)', () => {
  let migrated: TestDatabase;
  let db: Db;

  beforeAll(async () => {
    migrated = await createTestDatabase('drift_migrated');
    await migrate({ databaseUrl: migrated.url });
    db = createDb(databaseOptions(loadConfig(migrateEnv, { DATABASE_URL: migrated.url })));
  });
  afterAll(async () => {
    await db?.disconnect();
    await migrated?.drop();
  });

  it('creates, reads and updates every field of every model through the generated client', async () => {
    const { models } = runtimeDataModel(db);
    expect(Object.keys(models).length).toBeGreaterThan(0);
    const arrays = await arrayColumns(migrated.url);
    for (const [name, model] of Object.entries(models)) {
      const delegate = (db.prisma as unknown as Record<string, ModelDelegate>)[
        name.charAt(0).toLowerCase() + name.slice(1)
      ];
      if (!delegate) throw new Error(`the client has no delegate for model ${name}`);
      const fields = model.fields.filter((f) => f.kind === 'scalar' || f.kind === 'enum');
      const isList = (f: { name: string; dbName?: string }) =>
        arrays.has(`${model.dbName ?? name}.${f.dbName ?? f.name}`);

      const initial = Object.fromEntries(fields.map((f) => [f.name, fieldValue(f, isList(f), 0)]));
      const created = await delegate.create({ data: initial });
      expect(created, name).toEqual(initial);

      const idFields = ['id'];
      const where = Object.fromEntries(idFields.map((field) => [field, created[field]]));
      const updates = Object.fromEntries(
        fields
          .filter((f) => !idFields.includes(f.name))
          .map((f) => [f.name, fieldValue(f, isList(f), 1)]),
      );
      await delegate.update({ where, data: updates });
      expect(await delegate.findUniqueOrThrow({ where }), name).toEqual({ ...where, ...updates });
      await delegate.delete({ where });
    }
  });

  it('fills the database defaults the schema declares when a job is created with the required fields only', async () => {
    const job = await db.prisma.job.create({ data: { type: 't', payload: {}, maxAttempts: 1 } });
    expect(job).toMatchObject({
      id: expect.stringMatching(/^[0-9a-f-]{36}$/),
      status: 'queued',
      attempts: 0,
      result: null,
      error: null,
      idempotencyKey: null,
      runAt: null,
      schedulerId: null,
      startedAt: null,
      finishedAt: null,
    });
    expect(job.createdAt).toBeInstanceOf(Date);
    expect(job.updatedAt).toBeInstanceOf(Date);
    // every status the client knows is one the database enum accepts
    for (const status of Object.values(generatedEnums.JobStatus)) {
      await db.prisma.job.update({ where: { id: job.id }, data: { status } });
      expect((await db.prisma.job.findUniqueOrThrow({ where: { id: job.id } })).status).toBe(
        status,
      );
    }
  });

  it('has exactly the tables and columns the client expects, with compatible types', async () => {
    const { models } = runtimeDataModel(db);
    const columns = await queryRows<{
      table_name: string;
      column_name: string;
      data_type: string;
      udt_name: string;
    }>(
      migrated.url,
      `SELECT table_name, column_name, data_type, udt_name FROM information_schema.columns
        WHERE table_schema = 'public' AND table_name <> '_prisma_migrations'`,
    );
    const expected = Object.entries(models).flatMap(([name, model]) =>
      model.fields
        .filter((f) => f.kind === 'scalar' || f.kind === 'enum')
        .map((f) => ({ table: model.dbName ?? name, column: f.dbName ?? f.name, field: f })),
    );
    const key = (table: string, column: string) => `${table}.${column}`;
    expect(columns.map((c) => key(c.table_name, c.column_name)).sort()).toEqual(
      expected.map((e) => key(e.table, e.column)).sort(),
    );
    for (const { table, column, field } of expected) {
      const actual = columns.find((c) => c.table_name === table && c.column_name === column);
      if (field.kind === 'enum') {
        expect(actual?.data_type, key(table, column)).toBe('USER-DEFINED');
        const labels = await queryRows<{ label: string }>(
          migrated.url,
          `SELECT e.enumlabel AS label FROM pg_enum e JOIN pg_type t ON t.oid = e.enumtypid
            WHERE t.typname = $1 ORDER BY e.enumsortorder`,
          [actual?.udt_name],
        );
        expect(labels.map((l) => l.label)).toEqual(Object.values(enumValues[field.type] ?? {}));
      } else if (actual?.data_type === 'ARRAY') {
        // an array's element type: udt_name is the array type, "_" and the element's name
        expect(COLUMN_TYPES[field.type], key(table, column)).toContain(
          ARRAY_ELEMENT_TYPES[actual.udt_name],
        );
      } else {
        expect(COLUMN_TYPES[field.type], key(table, column)).toContain(actual?.data_type);
      }
    }
  });

  it('matches, object for object, the database Prisma itself builds from schema.prisma', async () => {
    const reference = await createTestDatabase('drift_reference');
    try {
      const prisma = await openPrismaSchemaEngine(reference.url);
      let sql: string;
      try {
        // `prisma migrate diff --from-empty --to-schema prisma/schema.prisma --script`
        sql = await prisma.sqlForSchema();
      } finally {
        await prisma.close();
      }
      await withClient(reference.url, (client) => client.query(sql));
      expect(await describeSchema(migrated.url)).toEqual(await describeSchema(reference.url));
    } finally {
      await reference.drop();
    }
  });

  it("returns repository rows in exactly the Prisma model's shape", async () => {
    const jobs = createJobRepository(db);
    const { job } = await jobs.create({
      type: 'shape',
      payload: { n: 1 },
      maxAttempts: 2,
      runAt: new Date('2031-01-01T00:00:00.001Z'),
      idempotencyKey: randomUUID(),
    });
    await jobs.markRunning(job.id, 1);
    await jobs.markSucceeded(job.id, { ok: [1, 2] });
    const viaPrisma: Job = await db.prisma.job.findUniqueOrThrow({ where: { id: job.id } });
    expect(await jobs.findById(job.id)).toEqual(viaPrisma);
  });

  it('stores every field of the model Job under the column the repository selects', () => {
    const model = runtimeDataModel(db).models.Job;
    if (!model) throw new Error('the generated data model has no Job');
    expect(model.fields.map((field) => [field.name, field.dbName ?? field.name])).toEqual(
      model.fields.map((field) => [field.name, jobColumnOf(field.name as keyof JobRecord)]),
    );
  });
});
