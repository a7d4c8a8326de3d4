export {
  collectPublishedSecretValues,
  renderPublishedSecretValues,
  secretVariableNames,
} from './published-secret-sources.ts';
export {
  describeServiceEnv,
  renderServicesEnvReference,
  requiredInProduction,
  type ServiceName,
  serviceEnvs,
} from './services.ts';
