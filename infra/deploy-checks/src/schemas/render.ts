import { z } from 'zod';

// The Render Blueprint fields this project uses, written from Render's Blueprint reference
// (https://render.com/docs/blueprint-spec). Render publishes a JSON Schema
// (https://render.com/schema/render.yaml.json) but no npm package ships it, and this network reaches
// only the npm registry, so the fields are described here. Objects are strict: a typo, a field
// from another service type, or a deprecated key (`env`, `autoDeploy`, `type: redis`,
// `previewsEnabled`) fails instead of being ignored. Extend this schema when adopting a new field.

const REGIONS = ['oregon', 'ohio', 'virginia', 'frankfurt', 'singapore'] as const;

// https://render.com/docs/blueprint-spec#plan: instance types of web services. Background workers
// have no free instance type; Key Value offers neither pro max nor pro ultra.
const WEB_SERVICE_PLANS = [
  'free',
  'starter',
  'standard',
  'pro',
  'pro plus',
  'pro max',
  'pro ultra',
] as const;
const WORKER_PLANS = ['starter', 'standard', 'pro', 'pro plus', 'pro max', 'pro ultra'] as const;
const KEY_VALUE_PLANS = ['free', 'starter', 'standard', 'pro', 'pro plus'] as const;

// https://render.com/docs/blueprint-spec#plan-1: the current Postgres instance types, by name —
// a pattern such as pro-<n>gb would accept sizes Render does not sell.
const DATABASE_PLANS = [
  'free',
  'basic-256mb',
  'basic-1gb',
  'basic-4gb',
  ...[4, 8, 16, 32, 64, 128, 192, 256, 384, 512].map((gb) => `pro-${gb}gb`),
  ...[16, 32, 64, 128, 256, 384, 512, 768, 1024].map((gb) => `accelerated-${gb}gb`),
] as const;
const DATABASE_PLAN = z
  .string()
  .refine((plan) => (DATABASE_PLANS as readonly string[]).includes(plan), {
    error: (issue) =>
      `"${String(issue.input)}" is not a current Postgres plan: one of ${DATABASE_PLANS.join(', ')}`,
  });

const name = z.string().min(1);

/** https://render.com/docs/blueprint-spec#setting-environment-variables */
const envVarValue = z.strictObject({
  key: name,
  value: z.union([z.string(), z.number(), z.boolean()]),
});
const envVarGenerated = z.strictObject({ key: name, generateValue: z.literal(true) });
const envVarPrompted = z.strictObject({ key: name, sync: z.literal(false) });
const envVarFromDatabase = z.strictObject({
  key: name,
  fromDatabase: z.strictObject({
    name,
    property: z.enum(['connectionString', 'host', 'port', 'user', 'password', 'database']),
  }),
});
// https://render.com/docs/blueprint-spec#referencing-values-from-other-services:
// `type` is required, and exactly one of `property` and `envVarKey`.
const envVarFromService = z.strictObject({
  key: name,
  fromService: z.union([
    z.strictObject({
      name,
      type: z.enum(['web', 'pserv', 'worker', 'cron', 'keyvalue']),
      property: z.enum(['host', 'port', 'hostport', 'connectionString']),
    }),
    z.strictObject({
      name,
      type: z.enum(['web', 'pserv', 'worker', 'cron', 'keyvalue']),
      envVarKey: name,
    }),
  ]),
});
const envVarFromGroup = z.strictObject({ fromGroup: name });

export const renderServiceEnvVar = z.union([
  envVarValue,
  envVarGenerated,
  envVarPrompted,
  envVarFromDatabase,
  envVarFromService,
  envVarFromGroup,
]);
export type RenderServiceEnvVar = z.infer<typeof renderServiceEnvVar>;

/** https://render.com/docs/blueprint-spec#data-access-control */
const ipAllowList = z.array(
  z.strictObject({ source: z.string().min(1), description: z.string().optional() }),
);

/** https://render.com/docs/blueprint-spec#buildfilter — always relative to the repo root. */
const buildFilter = z.strictObject({
  paths: z.array(z.string().min(1)).min(1),
  ignoredPaths: z.array(z.string().min(1)).optional(),
});

/** Fields shared by Docker-built web services and background workers. */
const dockerServiceFields = {
  name,
  runtime: z.literal('docker'),
  region: z.enum(REGIONS).optional(),
  branch: z.string().optional(),
  numInstances: z.number().int().min(1).optional(),
  // https://render.com/docs/blueprint-spec#dockerfilepath and #dockercontext: relative to the repo root
  dockerfilePath: z.string().min(1),
  dockerContext: z.string().min(1),
  dockerCommand: z.string().min(1).optional(),
  // https://render.com/docs/blueprint-spec#predeploycommand (https://render.com/docs/deploys#pre-deploy-command)
  preDeployCommand: z.string().min(1).optional(),
  // https://render.com/docs/blueprint-spec#autodeploytrigger (replaces the deprecated autoDeploy)
  autoDeployTrigger: z.enum(['commit', 'checksPass', 'off']).optional(),
  // https://render.com/docs/blueprint-spec#maxshutdowndelayseconds: integer 1–300, default 30
  maxShutdownDelaySeconds: z.number().int().min(1).max(300).optional(),
  buildFilter: buildFilter.optional(),
  envVars: z.array(renderServiceEnvVar).optional(),
};

const webService = z.strictObject({
  type: z.literal('web'),
  ...dockerServiceFields,
  plan: z.enum(WEB_SERVICE_PLANS).optional(),
  // https://render.com/docs/blueprint-spec#healthcheckpath — web services only
  healthCheckPath: z.string().startsWith('/').optional(),
  domains: z.array(z.string()).optional(),
  scaling: z
    .strictObject({
      minInstances: z.number().int().min(1),
      maxInstances: z.number().int().min(1),
      targetMemoryPercent: z.number().int().min(1).max(90).optional(),
      targetCPUPercent: z.number().int().min(1).max(90).optional(),
    })
    .optional(),
});

const workerService = z.strictObject({
  type: z.literal('worker'),
  ...dockerServiceFields,
  plan: z.enum(WORKER_PLANS).optional(),
});

/** https://render.com/docs/blueprint-spec (Key Value fields); `redis` is a deprecated alias. */
const keyValueService = z.strictObject({
  type: z.literal('keyvalue'),
  name,
  plan: z.enum(KEY_VALUE_PLANS).optional(),
  previewPlan: z.enum(KEY_VALUE_PLANS).optional(),
  region: z.enum(REGIONS).optional(),
  // https://render.com/docs/blueprint-spec#ipallowlist — required for Key Value
  ipAllowList,
  // https://render.com/docs/blueprint-spec#maxmemorypolicy
  maxmemoryPolicy: z
    .enum([
      'allkeys-lru',
      'volatile-lru',
      'allkeys-random',
      'volatile-random',
      'volatile-ttl',
      'noeviction',
    ])
    .optional(),
});

export const renderService = z.discriminatedUnion('type', [
  webService,
  workerService,
  keyValueService,
]);
export type RenderService = z.infer<typeof renderService>;

/** https://render.com/docs/blueprint-spec#database-fields */
const database = z.strictObject({
  name,
  plan: DATABASE_PLAN.optional(),
  region: z.enum(REGIONS).optional(),
  postgresMajorVersion: z.string().regex(/^\d+$/).optional(),
  databaseName: z.string().optional(),
  user: z.string().optional(),
  // https://render.com/docs/blueprint-spec#disksizegb: 1, or a multiple of 5
  diskSizeGB: z
    .number()
    .int()
    .refine((gb) => gb === 1 || (gb > 0 && gb % 5 === 0), 'must be 1 or a multiple of 5')
    .optional(),
  ipAllowList: ipAllowList.optional(),
});

/**
 * https://render.com/docs/blueprint-spec#environment-groups: a group holds plain values or
 * generated ones; it cannot use sync: false or reference services, databases or other groups.
 * It may be empty (filled in the Dashboard later).
 */
const envVarGroup = z.strictObject({
  name,
  envVars: z.array(z.union([envVarValue, envVarGenerated])),
});

export const renderBlueprint = z.strictObject({
  services: z.array(renderService).min(1),
  databases: z.array(database).optional(),
  envVarGroups: z.array(envVarGroup).optional(),
  // https://render.com/docs/blueprint-spec#previewsgeneration
  previews: z
    .strictObject({
      generation: z.enum(['off', 'manual', 'automatic']),
      expireAfterDays: z.number().int().min(1).optional(),
    })
    .optional(),
});
export type RenderBlueprint = z.infer<typeof renderBlueprint>;
