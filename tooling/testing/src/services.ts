/** Where the test services are when TEST_DATABASE_URL / TEST_REDIS_URL are not set. */
export const DEFAULT_TEST_DATABASE_URL = 'postgresql://postgres@127.0.0.1:5432/postgres';
export const DEFAULT_TEST_REDIS_URL = 'redis://127.0.0.1:6379';

/**
 * The real services tests run against; CI and a developer machine set these or use the defaults
 * (`pnpm test` sets them to the services it started when none answered at the defaults).
 */
export const TEST_DATABASE_URL = process.env.TEST_DATABASE_URL ?? DEFAULT_TEST_DATABASE_URL;
export const TEST_REDIS_URL = process.env.TEST_REDIS_URL ?? DEFAULT_TEST_REDIS_URL;
