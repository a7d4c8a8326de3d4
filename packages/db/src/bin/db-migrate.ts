#!/usr/bin/env node
// db-migrate: applies pending migrations and exits — the compose `migrate` service and the
// platforms' pre-deploy step — then, with DATABASE_APP_ROLE set, prepares the apps' least-privilege
// role. Environment: migrateEnv (DATABASE_URL, DATABASE_CONNECT_TIMEOUT, DATABASE_APP_ROLE,
// DATABASE_APP_PASSWORD, LOG_LEVEL, LOG_FORMAT, NODE_ENV). Exit code 0 when the schema is up to
// date afterwards, 1 on any problem, with the reason logged (a JSON line like every other in
// production; readable text in development when the environment itself is invalid).
import { readFileSync } from 'node:fs';
import { ConfigError, loadConfig, runtimeSettingsFor, withEnvFiles } from '@repo/config';
import { createLogger, logFormat, sendConsoleToLogger, writeConfigError } from '@repo/logger';
import { type MigrateConfig, migrateEnv } from '../env.ts';
import { grantAppRole } from '../migrate/app-role.ts';
import { migrate } from '../migrate/migrate.ts';

// src/bin and dist/bin both sit two levels below the package root
const { version } = JSON.parse(
  readFileSync(new URL('../../package.json', import.meta.url), 'utf8'),
) as { version: string };

const env = withEnvFiles(process.env);
let config: Readonly<MigrateConfig>;
try {
  config = loadConfig(migrateEnv, env, { service: 'migrate' });
} catch (error) {
  if (!(error instanceof ConfigError)) throw error;
  writeConfigError(error, { service: 'migrate', version, runtime: runtimeSettingsFor(env) });
  process.exit(1);
}

const logger = await createLogger({ service: 'migrate', version, config });
if (logFormat(config) === 'json') sendConsoleToLogger(logger);
try {
  const { applied } = await migrate({
    databaseUrl: config.DATABASE_URL,
    connectTimeoutMs: config.DATABASE_CONNECT_TIMEOUT,
    logger,
  });
  if (config.DATABASE_APP_ROLE !== undefined) {
    const { created } = await grantAppRole({
      databaseUrl: config.DATABASE_URL,
      role: config.DATABASE_APP_ROLE,
      ...(config.DATABASE_APP_PASSWORD === undefined
        ? {}
        : { password: config.DATABASE_APP_PASSWORD }),
      connectTimeoutMs: config.DATABASE_CONNECT_TIMEOUT,
    });
    logger.info(
      { role: config.DATABASE_APP_ROLE, created },
      'app role granted row access to the tables',
    );
  }
  logger.info({ applied: applied.length }, 'migrate finished');
  process.exit(0);
} catch (error) {
  logger.error({ err: error }, `migrate failed: ${error instanceof Error ? error.message : error}`);
  process.exit(1);
}
