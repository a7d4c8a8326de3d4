import { describe, expect, it } from 'vitest';
import {
  DatabaseUnavailableError,
  isDatabaseUnavailableError,
  rethrowUnavailable,
} from './database-unavailable.ts';

function withFields(message: string, fields: Record<string, unknown>): Error {
  return Object.assign(new Error(message), fields);
}

describe('isDatabaseUnavailableError', () => {
  it('recognises outages in the shapes pg, sockets and Prisma report them', () => {
    const outages = [
      new DatabaseUnavailableError('down'),
      withFields('connect ECONNREFUSED 127.0.0.1:5432', { code: 'ECONNREFUSED' }),
      withFields('getaddrinfo ENOTFOUND db', { code: 'ENOTFOUND' }),
      new Error('timeout exceeded when trying to connect'),
      new Error('Connection terminated unexpectedly'),
      withFields('the database system is shutting down', { code: '57P03', severity: 'FATAL' }),
      withFields('canceling statement due to statement timeout', { code: '57014' }),
      withFields('sorry, too many clients already', { code: '53300' }),
      withFields('password authentication failed', { code: '28P01' }),
      withFields("Can't reach database server at db:5432", { code: 'P1001' }),
      // Prisma over @prisma/adapter-pg: the reason sits in meta.driverAdapterError
      withFields('Raw query failed', {
        code: 'P2010',
        meta: {
          driverAdapterError: withFields('ConnectionClosed', {
            cause: { kind: 'ConnectionClosed' },
          }),
        },
      }),
      new Error('wrapped', { cause: withFields('x', { code: 'ECONNRESET' }) }),
    ];
    for (const error of outages)
      expect(isDatabaseUnavailableError(error), String(error)).toBe(true);
  });

  it('leaves query errors and non-errors alone', () => {
    const others = [
      new Error('boom'),
      withFields('duplicate key value', { code: '23505' }),
      withFields('syntax error', { code: '42601' }),
      withFields('Unique constraint failed', { code: 'P2002' }),
      null,
      undefined,
      'ECONNREFUSED',
    ];
    for (const error of others)
      expect(isDatabaseUnavailableError(error), String(error)).toBe(false);
    const cyclic: Error & { cause?: unknown } = new Error('cycle');
    cyclic.cause = cyclic;
    expect(isDatabaseUnavailableError(cyclic)).toBe(false);
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
