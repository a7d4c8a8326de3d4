import { z } from 'zod';
import { COMMON_PROBLEMS, defineOperation } from '../openapi/operation.ts';

const checkResultSchema = z.strictObject({
  status: z.enum(['ok', 'down']),
  latency_ms: z.number(),
  error: z
    .string()
    .optional()
    .meta({ description: 'A short reason ("timeout", an error code); details are in the log.' }),
});

export const healthReportSchema = z
  .strictObject({
    status: z.enum(['ok', 'down']),
    service: z.string(),
    version: z.string(),
    uptime_seconds: z.number(),
    checks: z.record(z.string(), checkResultSchema).meta({
      description: '`database`, `redis` and `redis_eviction_policy`; none on /health/live.',
    }),
    lifecycle: z
      .enum(['starting', 'ready', 'stopping'])
      .optional()
      .meta({ description: 'On /health/ready only.' }),
  })
  .meta({ id: 'HealthReport' });

const healthResponses = (down: string) => ({
  200: {
    description: 'Healthy.',
    content: { 'application/json': { schema: healthReportSchema } },
  },
  503: {
    description: down,
    content: { 'application/json': { schema: healthReportSchema } },
  },
});

// The probes are answered before the request timeout and the request logging (app.ts), so they
// meet no problem but a bug's.
const PROBE_PROBLEMS = ['internal-error'] as const;

export const getHealth = defineOperation({
  method: 'get',
  path: '/health',
  operationId: 'getHealth',
  summary: 'Every check, with its latency',
  tag: 'Health',
  security: 'none',
  responses: healthResponses('A check is down.'),
  problems: PROBE_PROBLEMS,
});

export const getLiveness = defineOperation({
  method: 'get',
  path: '/health/live',
  operationId: 'getLiveness',
  summary: 'Whether the process runs (consults nothing)',
  tag: 'Health',
  security: 'none',
  responses: {
    200: {
      description: 'The process runs.',
      content: { 'application/json': { schema: healthReportSchema } },
    },
  },
  problems: PROBE_PROBLEMS,
});

export const getReadiness = defineOperation({
  method: 'get',
  path: '/health/ready',
  operationId: 'getReadiness',
  summary: 'Whether the api takes traffic: started, not stopping, every check ok',
  tag: 'Health',
  security: 'none',
  responses: healthResponses('Starting, stopping, or a check is down.'),
  problems: PROBE_PROBLEMS,
});

export const getMetrics = defineOperation({
  method: 'get',
  path: '/metrics',
  operationId: 'getMetrics',
  summary: 'Prometheus metrics (docs/observability.md)',
  description: 'Needs `Authorization: Bearer <METRICS_TOKEN>` once METRICS_TOKEN is set.',
  tag: 'Health',
  security: 'metricsToken',
  responses: {
    200: {
      description: "Prometheus' text exposition format.",
      content: { 'text/plain': { schema: z.string() } },
    },
  },
  problems: ['unauthorized', ...COMMON_PROBLEMS],
});

export const healthOperations = [getHealth, getLiveness, getReadiness, getMetrics];
