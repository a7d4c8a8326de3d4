export { withEnvFiles } from './env-files.ts';
export {
  describeServiceEnv,
  type EnvVarReference,
  renderEnvReference,
  requiredInProduction,
} from './env-reference.ts';
export { type EnvVarMeta, formatDuration } from './env-values.ts';
export type { ApiAuthConfig } from './fragments/auth.ts';
export type { BeatConfig } from './fragments/beat.ts';
export type { AppRoleConfig, DatabaseConfig, MigrationConfig } from './fragments/database.ts';
export type { HealthCheckConfig, HealthServerConfig } from './fragments/health.ts';
export type { HttpConfig } from './fragments/http.ts';
export type { RedisConfig } from './fragments/redis.ts';
export { type RuntimeConfig, runsAsProduction, runtimeSettingsFor } from './fragments/runtime.ts';
export type { DrainConfig, ShutdownConfig } from './fragments/shutdown.ts';
export type { MaintenanceConfig, WebhookConfig, WorkerConfig } from './fragments/worker.ts';
export { ConfigError, type ConfigProblem, type Env, loadConfig } from './load-config.ts';
export { redactUrl, Secret } from './secret.ts';
export { SECRET_FILE_SUFFIX } from './secret-files.ts';
export {
  type ApiConfig,
  apiEnv,
  type BeatServiceConfig,
  beatServiceEnv,
  type MigrateConfig,
  migrateEnv,
  type ServiceName,
  serviceEnvs,
  type WorkerServiceConfig,
  workerServiceEnv,
} from './services.ts';
