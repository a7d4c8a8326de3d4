export {
  createProcessMetrics,
  logRedisErrors,
  type RedisErrorLogging,
} from './boot-steps.ts';
export { readPackageVersion } from './package-version.ts';
export {
  type Readiness,
  type RunningService,
  type RunServiceOptions,
  runService,
  type ServiceContext,
} from './run-service.ts';
