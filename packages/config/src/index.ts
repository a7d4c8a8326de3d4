export { withEnvFiles } from './env-files.ts';
export {
  describeEnvVariables,
  type EnvVarReference,
  renderEnvReference,
  requiredInProductionOf,
  type ServiceEnv,
} from './env-reference.ts';
export {
  boolean,
  describeEnv,
  duration,
  type EnvVarMeta,
  formatDuration,
  integer,
  json,
  list,
  secretList,
  secretString,
  secretUrl,
  standardWebhooksSecret,
} from './env-values.ts';
export { ConfigError, type ConfigProblem, type Env, loadConfig } from './load-config.ts';
export {
  PLACEHOLDER_PATTERNS,
  PUBLISHED_SECRET_SOURCES,
  placeholderReason,
  secretParts,
} from './placeholders.ts';
export { publishedSecretValues } from './published-secret-values.ts';
export {
  type RuntimeConfig,
  runsAsProduction,
  runtimeEnv,
  runtimeSettingsFor,
} from './runtime-env.ts';
export { redactUrl, Secret } from './secret.ts';
export { SECRET_FILE_SUFFIX } from './secret-files.ts';
