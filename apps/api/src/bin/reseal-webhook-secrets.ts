#!/usr/bin/env node
// reseal-webhook-secrets: seals every webhook endpoint's secrets with WEBHOOK_SECRETS_KEY, opening
// them with it or a key of WEBHOOK_SECRETS_PREVIOUS_KEYS, so the previous keys can be removed
// (docs/operations.md, "Changing WEBHOOK_SECRETS_KEY"). Environment: resealWebhookSecretsEnv (the
// api's DATABASE_URL and WEBHOOK_SECRETS_*). Exit code 0 when every endpoint is sealed with the
// current key afterwards, 1 otherwise, with what is left logged.
import { readFileSync } from 'node:fs';
import { ConfigError, loadConfig, runtimeSettingsFor, withEnvFiles } from '@repo/config';
import { createDb, createWebhookEndpointRepository } from '@repo/db';
import { databaseOptions } from '@repo/db/env';
import { createLogger, logFormat, sendConsoleToLogger, writeConfigError } from '@repo/logger';
import { secretBoxFor } from '@repo/webhooks/env';
import { type ResealWebhookSecretsConfig, resealWebhookSecretsEnv } from '../env.ts';
import { resealWebhookSecrets } from '../reseal-webhook-secrets.ts';

const service = 'reseal-webhook-secrets';
// src/bin and dist/bin both sit two levels below the package root
const { version } = JSON.parse(
  readFileSync(new URL('../../package.json', import.meta.url), 'utf8'),
) as { version: string };

const env = withEnvFiles(process.env);
let config: ResealWebhookSecretsConfig;
try {
  config = loadConfig(resealWebhookSecretsEnv, env, { service });
} catch (error) {
  if (!(error instanceof ConfigError)) throw error;
  writeConfigError(error, { service, version, runtime: runtimeSettingsFor(env) });
  process.exit(1);
}

const logger = await createLogger({ service, version, config });
if (logFormat(config) === 'json') sendConsoleToLogger(logger);
const secretBox = secretBoxFor(config);
const db = createDb({ ...databaseOptions(config), poolSize: 1, applicationName: service });
let exitCode = 1;
try {
  if (!secretBox) throw new Error('WEBHOOK_SECRETS_KEY is not set');
  const outcome = await resealWebhookSecrets({
    endpoints: createWebhookEndpointRepository(db),
    secretBox,
  });
  const { unreadable, changedMeanwhile } = outcome;
  for (const { id, reason } of unreadable) {
    logger.error(
      { endpointId: id },
      `endpoint ${id} was not resealed: ${reason}; rotate its secret`,
    );
  }
  const done = unreadable.length === 0 && changedMeanwhile === 0;
  logger[done ? 'info' : 'error'](
    { ...outcome, unreadable: unreadable.length },
    done
      ? 'every endpoint secret is sealed with WEBHOOK_SECRETS_KEY: WEBHOOK_SECRETS_PREVIOUS_KEYS can be removed'
      : 'some endpoint secrets are not sealed with WEBHOOK_SECRETS_KEY yet: keep WEBHOOK_SECRETS_PREVIOUS_KEYS',
  );
  if (done) exitCode = 0;
} catch (error) {
  logger.error({ err: error }, `reseal failed: ${error instanceof Error ? error.message : error}`);
} finally {
  await db.disconnect();
}
process.exit(exitCode);
