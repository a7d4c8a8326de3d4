export {
  type CheckResult,
  createHealth,
  HEALTH_CHECK_CACHE_MS,
  type Health,
  type HealthCheck,
  HealthCheckTimeoutError,
  type HealthLogger,
  type HealthOptions,
  type HealthReport,
  type Lifecycle,
  statusCodeOf,
} from './health.ts';
export { checkReadiness, type HealthcheckOptions, runHealthcheck } from './healthcheck.ts';
export { type HealthServer, type MetricsSource, startHealthServer } from './server.ts';
