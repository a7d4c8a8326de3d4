import { z } from 'zod';

// Railway config as code (railway.json), the fields this project uses, written from
// https://docs.railway.com/config-as-code/reference. Railway serves a JSON Schema at
// https://railway.com/railway.schema.json but no npm package ships it, so the fields are described
// here. Objects are strict so a misspelt key fails here instead of being silently ignored.

const deploy = z.strictObject({
  // https://docs.railway.com/config-as-code/reference#start-command (null = the image's CMD)
  startCommand: z.string().min(1).nullable().optional(),
  // https://docs.railway.com/config-as-code/reference#pre-deploy-command
  // (https://docs.railway.com/deployments/pre-deploy-command: runs in a separate container)
  preDeployCommand: z.array(z.string().min(1)).min(1).optional(),
  // https://docs.railway.com/config-as-code/reference#healthcheck-path
  healthcheckPath: z.string().startsWith('/').nullable().optional(),
  // https://docs.railway.com/config-as-code/reference#healthcheck-timeout (seconds; default 300)
  healthcheckTimeout: z.number().int().min(1).nullable().optional(),
  // https://docs.railway.com/config-as-code/reference#restart-policy-type
  restartPolicyType: z.enum(['ON_FAILURE', 'ALWAYS', 'NEVER']).optional(),
  restartPolicyMaxRetries: z.number().int().min(0).nullable().optional(),
  // https://docs.railway.com/config-as-code/reference#cron-schedule
  cronSchedule: z.string().nullable().optional(),
  // https://docs.railway.com/config-as-code/reference#overlap-seconds and #draining-seconds.
  // The reference shows strings, but Railway's parser rejects them ("Expected number, received
  // string", https://github.com/railwayapp/docs/issues/1243): numbers only.
  overlapSeconds: z.number().int().min(0).nullable().optional(),
  drainingSeconds: z.number().int().min(0).nullable().optional(),
});

const build = z.strictObject({
  // https://docs.railway.com/config-as-code/reference#specify-the-builder
  builder: z.enum(['RAILPACK', 'DOCKERFILE', 'NIXPACKS']),
  // https://docs.railway.com/config-as-code/reference#dockerfile-path
  dockerfilePath: z.string().min(1).nullable().optional(),
  // https://docs.railway.com/config-as-code/reference#watch-patterns (gitignore-style,
  // from the repository root even when a root directory is set)
  watchPatterns: z.array(z.string().min(1)).optional(),
  buildCommand: z.string().nullable().optional(),
});

export const railwayConfig = z.strictObject({
  $schema: z.literal('https://railway.com/railway.schema.json').optional(),
  build,
  deploy,
  // https://docs.railway.com/config-as-code/reference#setting-environment-overrides
  environments: z
    .record(
      z.string(),
      z.strictObject({ build: build.partial().optional(), deploy: deploy.optional() }),
    )
    .optional(),
});
export type RailwayConfig = z.infer<typeof railwayConfig>;

/**
 * infra/railway/variables.json: the variables of each Railway service, in the JSON form the
 * service's Variables → Raw Editor accepts (https://docs.railway.com/variables), plus the shared
 * variables the project must define. Config as code covers only build and deploy settings
 * (https://docs.railway.com/config-as-code), so the variables live in this file of ours.
 */
const variableName = z.string().regex(/^[A-Z][A-Z0-9_]*$/, 'an UPPER_SNAKE_CASE variable name');

export const railwayVariables = z.strictObject({
  $comment: z.string().optional(),
  /** Project → Settings → Shared Variables: name → how to obtain a value (never the value). */
  shared: z.record(variableName, z.string().min(1)),
  /** Service name → its variables (literal values or ${{...}} references). */
  services: z.record(z.string().min(1), z.record(variableName, z.string())),
});
export type RailwayVariables = z.infer<typeof railwayVariables>;
