export { HOOK_TIMEOUT_MS, READY_DEADLINE_MS, TEST_TIMEOUT_MS } from './deadlines.ts';
export { freePort } from './free-port.ts';
export { type CapturedJsonLines, captureJsonLines } from './json-lines.ts';
export { createTestDatabase, type TestDatabase } from './postgres.ts';
export { cpuTimeMs, rssBytes } from './process-usage.ts';
export { type ReadinessAnswer, readinessOnceStarted } from './readiness.ts';
export { createTestRedisPrefix, type TestRedisPrefix } from './redis.ts';
export { createOwnRedis, type OwnRedis } from './redis-server.ts';
export {
  type ServiceProcess,
  type ServiceProcessOptions,
  startServiceProcess,
} from './service-process.ts';
export {
  DEFAULT_TEST_DATABASE_URL,
  DEFAULT_TEST_REDIS_URL,
  TEST_DATABASE_URL,
  TEST_REDIS_URL,
} from './services.ts';
