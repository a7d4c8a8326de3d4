import { DatabaseUnavailableError } from '@repo/db';
import { describe, expect, it } from 'vitest';
import { toProblemError } from './error-boundary.ts';
import { DependencyUnavailableError } from './problems.ts';

const refused = () =>
  Object.assign(new Error('connect ECONNREFUSED 127.0.0.1:1'), { code: 'ECONNREFUSED' });

describe('toProblemError: outages by where they come from', () => {
  it('answers 503 for the typed outages thrown where PostgreSQL and Redis are called', () => {
    expect(
      toProblemError(
        new DatabaseUnavailableError('The database is unavailable', { cause: refused() }),
      ),
    ).toMatchObject({ status: 503, slug: 'database-unavailable' });
    expect(
      toProblemError(new DependencyUnavailableError('redis', 'Redis is unavailable.')),
    ).toMatchObject({ status: 503, slug: 'queue-unavailable' });
  });

  it('does not blame PostgreSQL or Redis for a socket error of unknown origin', () => {
    // Every PostgreSQL and Redis call of the API reports its outages as the typed errors above;
    // a bare socket code could come from any connection, so it is a bug to fix (500, logged).
    const bare = refused();
    const wrapped = new Error('fetching something failed', { cause: refused() });
    for (const error of [bare, wrapped]) {
      expect(toProblemError(error), String(error)).toMatchObject({
        status: 500,
        slug: 'internal-error',
        cause: error,
      });
    }
  });
});
