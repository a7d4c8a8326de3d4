import pg from 'pg';
import { describe, expect, it } from 'vitest';
import {
  DatabaseUnavailableError,
  isDatabaseUnavailableError,
  isOutageFromDatabaseCall,
  rethrowUnavailable,
} from './database-unavailable.ts';

function withFields(message: string, fields: Record<string, unknown>): Error {
  return Object.assign(new Error(message), fields);
}

/** Shaped as Prisma's client errors are: named after the class, with the client version. */
function prismaError(name: string, message: string, fields: Record<string, unknown>): Error {
  const error = withFields(message, { ...fields, clientVersion: '7.10.1' });
  error.name = name;
  return error;
}

/** The error pg raises for a PostgreSQL error response. */
function pgError(message: string, code: string): pg.DatabaseError {
  return Object.assign(new pg.DatabaseError(message, message.length, 'error'), { code });
}

describe('isDatabaseUnavailableError: by where the error comes from', () => {
  it("recognises this package's error, Prisma's client errors and PostgreSQL's outage SQLSTATEs", () => {
    const outages = [
      new DatabaseUnavailableError('down'),
      prismaError('PrismaClientKnownRequestError', "Can't reach database server at db:5432", {
        code: 'P1001',
      }),
      prismaError('PrismaClientInitializationError', 'Authentication failed', {}),
      // Prisma over @prisma/adapter-pg: the reason sits in meta.driverAdapterError
      prismaError('PrismaClientKnownRequestError', 'Raw query failed', {
        code: 'P2010',
        meta: {
          driverAdapterError: withFields('ConnectionClosed', {
            cause: { kind: 'ConnectionClosed' },
          }),
        },
      }),
      prismaError('PrismaClientKnownRequestError', 'Raw query failed', {
        code: 'P2010',
        meta: {
          driverAdapterError: withFields('postgres', {
            cause: { kind: 'postgres', code: '57014' },
          }),
        },
      }),
      pgError('the database system is shutting down', '57P03'),
      pgError('canceling statement due to statement timeout', '57014'),
      pgError('sorry, too many clients already', '53300'),
      pgError('password authentication failed', '28P01'),
    ];
    for (const error of outages)
      expect(isDatabaseUnavailableError(error), String(error)).toBe(true);
  });

  it('takes no socket code, inside another error or alone, for a database outage', () => {
    const refused = withFields('connect ECONNREFUSED 127.0.0.1:1', { code: 'ECONNREFUSED' });
    const unresolvable = withFields('getaddrinfo ENOTFOUND no-such-host.invalid', {
      code: 'ENOTFOUND',
    });
    // what a webhook delivery to a dead destination throws: the socket error is its cause
    class WebhookDeliveryError extends Error {
      override readonly name = 'WebhookDeliveryError';
    }
    const others = [
      new WebhookDeliveryError('http://127.0.0.1:1 network error: ECONNREFUSED', {
        cause: refused,
      }),
      new WebhookDeliveryError('http://no-such-host.invalid network error: ENOTFOUND', {
        cause: unresolvable,
      }),
      new Error('wrapped', { cause: withFields('x', { code: 'ECONNRESET' }) }),
      // raw, a socket error could come from anything: rethrowUnavailable classifies it where
      // the database was called
      refused,
      new Error('Connection terminated unexpectedly'),
      withFields('a foreign code that looks like a SQLSTATE', { code: '08006' }),
    ];
    for (const error of others)
      expect(isDatabaseUnavailableError(error), String(error)).toBe(false);
  });

  it('leaves query errors and non-errors alone', () => {
    const others = [
      new Error('boom'),
      pgError('duplicate key value', '23505'),
      pgError('syntax error', '42601'),
      prismaError('PrismaClientKnownRequestError', 'Unique constraint failed', { code: 'P2002' }),
      null,
      undefined,
      'ECONNREFUSED',
    ];
    for (const error of others)
      expect(isDatabaseUnavailableError(error), String(error)).toBe(false);
  });
});

describe('isOutageFromDatabaseCall: an error a database call raised', () => {
  it('also recognises the socket errors and plain messages pg raises', () => {
    const outages = [
      withFields('connect ECONNREFUSED 127.0.0.1:5432', { code: 'ECONNREFUSED' }),
      withFields('getaddrinfo ENOTFOUND db', { code: 'ENOTFOUND' }),
      new Error('timeout exceeded when trying to connect'),
      new Error('Connection terminated unexpectedly'),
      withFields('the database system is shutting down', { code: '57P03', severity: 'FATAL' }),
      new Error('wrapped', { cause: withFields('x', { code: 'ECONNRESET' }) }),
    ];
    for (const error of outages) expect(isOutageFromDatabaseCall(error), String(error)).toBe(true);
  });

  it('leaves query errors alone, and survives a cyclic cause', () => {
    expect(isOutageFromDatabaseCall(withFields('duplicate key value', { code: '23505' }))).toBe(
      false,
    );
    expect(isOutageFromDatabaseCall(new Error('boom'))).toBe(false);
    const cyclic: Error & { cause?: unknown } = new Error('cycle');
    cyclic.cause = cyclic;
    expect(isOutageFromDatabaseCall(cyclic)).toBe(false);
  });

  it('rethrowUnavailable wraps outages with what was being done, and passes the rest through', () => {
    const refused = withFields(
      '\nInvalid `prisma.job.findFirst()` invocation:\n\nCan’t reach database server at db:5432',
      {
        code: 'P1001',
      },
    );
    let wrapped: unknown;
    try {
      rethrowUnavailable(refused, 'read a job');
    } catch (error) {
      wrapped = error;
    }
    expect(wrapped).toBeInstanceOf(DatabaseUnavailableError);
    expect((wrapped as Error).message).toBe(
      'The database is unavailable while trying to read a job: Can’t reach database server at db:5432',
    );
    expect((wrapped as Error).cause).toBe(refused);

    const other = new Error('boom');
    expect(() => rethrowUnavailable(other, 'x')).toThrow(other);
  });
});
