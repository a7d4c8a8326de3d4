import type { Db } from './create-db.ts';

/**
 * The readiness check of a process that uses PostgreSQL, in the shape @repo/health's createHealth
 * takes, under the name the /health report shows.
 */
export function databaseHealthCheck(db: Pick<Db, 'ping'>): { name: string; run(): Promise<void> } {
  return { name: 'database', run: () => db.ping() };
}
