import type {
  JobAttemptLog,
  JobRepository,
  ScheduleRepository,
  WebhookEndpointRepository,
} from '@repo/db';
import type { Health } from '@repo/health';
import { healthRouter } from '@repo/health/express';
import type { JobQueue, JobType, LimitsByType } from '@repo/jobs';
import type { Logger } from '@repo/logger';
import type { SecretBox } from '@repo/webhooks';
import { allowsRawUrls } from '@repo/webhooks/env';
import express, { type Express } from 'express';
import type { Redis } from 'ioredis';
import type { Registry } from 'prom-client';
import type { ApiConfig } from './env.ts';
import { errorBoundary } from './error-boundary.ts';
import type { JobEventHub } from './live/job-event-hub.ts';
import { httpMetrics, registerScrapeTimeGauges } from './metrics.ts';
import { requireBearerToken } from './middleware/authentication.ts';
import { methodNotAllowed } from './middleware/method-not-allowed.ts';
import { requestLogging } from './middleware/request-logging.ts';
import { requestTimeout } from './middleware/request-timeout.ts';
import { apiSecurityHeaders } from './middleware/security-headers.ts';
import { NotFoundError } from './problems.ts';
import { adminQueuesRouter } from './routes/admin-queues.ts';
import { apiReferenceRouter } from './routes/api-reference.ts';
import { jobAttemptsRouter } from './routes/job-attempts.ts';
import { jobEventsRouter } from './routes/job-events.ts';
import { jobsRouter } from './routes/jobs.ts';
import { metricsRouter } from './routes/metrics.ts';
import { openApiRouter } from './routes/openapi.ts';
import { schedulesRouter } from './routes/schedules.ts';
import { webhookEndpointsRouter } from './routes/webhook-endpoints.ts';
import { webhookDeliveryCheck } from './webhook-delivery-check.ts';

export type AppConfig = Pick<
  ApiConfig,
  | 'TRUST_PROXY'
  | 'BODY_LIMIT'
  | 'REQUEST_TIMEOUT'
  | 'API_KEYS'
  | 'METRICS_TOKEN'
  | 'ADMIN_USERNAME'
  | 'ADMIN_PASSWORD'
  | 'HEALTH_CHECK_TIMEOUT'
  | 'NODE_ENV'
  | 'WEBHOOK_ALLOW_RAW_URLS'
  | 'WEBHOOK_ALLOW_PRIVATE_NETWORKS'
  | 'QUEUE_PREFIX'
>;

export interface AppDeps {
  config: AppConfig;
  jobs: JobRepository;
  /** The schedules defined through the API. */
  schedules: ScheduleRepository;
  queue: JobQueue;
  /** The queue's connection. */
  redis: Redis;
  /**
   * The job types' limits, the workers' (JOB_LIMITS): a job at a full limit is added
   * already parked (packages/jobs README: park on arrival), and a queued job no limit applies to
   * is known not to wait for one without asking Redis. Without, every job goes to wait.
   */
  limits?: LimitsByType;
  /** Counts a job added already parked (park on arrival), by type. */
  onParked?: (type: JobType) => void;
  logger: Logger;
  health: Health;
  /** Where the HTTP and queue metrics are registered; /metrics serves all of it. */
  metrics: Registry;
  webhookEndpoints: WebhookEndpointRepository;
  jobAttempts: Pick<JobAttemptLog, 'listForJob'>;
  /** Seals the endpoints' signing secrets; undefined without WEBHOOK_SECRETS_KEY. */
  secretBox: SecretBox | undefined;
  /** Routes the workers' announcements to the job event streams open in this process. */
  jobEvents: JobEventHub;
  /** Counts cancel requests by outcome. */
  onCancel?: (outcome: 'cancelled' | 'cancel_requested') => void;
}

const HEALTH_PATHS = ['/health', '/health/live', '/health/ready'];

/** The HTTP API, built from its dependencies: no globals, so tests build as many as they need. */
export function createApp(deps: AppDeps): Express {
  const { config, logger } = deps;
  // Redis calls share the bound of a health check: past it, a dependency counts as down.
  const redisTimeoutMs = config.HEALTH_CHECK_TIMEOUT;

  const app = express();
  app.set('trust proxy', config.TRUST_PROXY);
  app.disable('x-powered-by');

  // Probes come first and skip the middleware below: orchestrators call them every few seconds,
  // they are neither logged nor counted, a browser never renders them (no security headers
  // needed), and their checks carry their own timeouts. Answering them before that middleware
  // is what keeps /health/live near a bare Express app (BENCHMARKS.md).
  app.use(healthRouter(deps.health));
  for (const path of HEALTH_PATHS) app.route(path).all(methodNotAllowed(['GET', 'HEAD']));

  app.use(requestLogging(logger));
  app.use(httpMetrics(deps.metrics));
  app.use(requestTimeout(config.REQUEST_TIMEOUT));
  app.use(apiSecurityHeaders());

  registerScrapeTimeGauges({
    registry: deps.metrics,
    queue: deps.queue,
    jobs: deps.jobs,
    timeoutMs: redisTimeoutMs,
    logger,
  });
  app.use(metricsRouter({ registry: deps.metrics, token: config.METRICS_TOKEN }));

  // Without credentials the dashboard does not exist: its path answers 404 like any unknown one.
  if (config.ADMIN_USERNAME !== undefined && config.ADMIN_PASSWORD !== undefined) {
    app.use(
      adminQueuesRouter({
        queue: deps.queue,
        username: config.ADMIN_USERNAME,
        password: config.ADMIN_PASSWORD.reveal(),
        logger,
      }),
    );
  }

  // the contract is public, so it is mounted before /v1 asks for a key; so is its reference page
  app.use(openApiRouter());
  app.use(apiReferenceRouter());
  app.use(
    '/v1',
    requireBearerToken({ tokens: config.API_KEYS?.reveal() ?? [], realm: 'jobstack' }),
  );
  app.use(
    jobsRouter({
      jobs: deps.jobs,
      queue: deps.queue,
      redis: deps.redis,
      ...(deps.limits ? { limits: deps.limits } : {}),
      ...(deps.onParked ? { onParked: deps.onParked } : {}),
      health: deps.health,
      config,
      redisTimeoutMs,
      checkPayload: webhookDeliveryCheck({
        endpoints: deps.webhookEndpoints,
        allowRawUrls: allowsRawUrls(config),
      }),
      queuePrefix: config.QUEUE_PREFIX,
      ...(deps.onCancel ? { onCancel: deps.onCancel } : {}),
    }),
  );
  app.use(jobAttemptsRouter({ jobs: deps.jobs, attempts: deps.jobAttempts }));
  app.use(
    webhookEndpointsRouter({
      endpoints: deps.webhookEndpoints,
      secretBox: deps.secretBox,
      allowPrivateNetworks: config.WEBHOOK_ALLOW_PRIVATE_NETWORKS,
      config,
    }),
  );
  app.use(jobEventsRouter({ jobs: deps.jobs, hub: deps.jobEvents }));
  app.use(
    schedulesRouter({
      schedules: deps.schedules,
      jobs: deps.jobs,
      queue: deps.queue,
      redis: deps.redis,
      prefix: config.QUEUE_PREFIX,
      config,
      redisTimeoutMs,
      ...(deps.limits ? { limits: deps.limits } : {}),
      ...(deps.onParked ? { onParked: deps.onParked } : {}),
    }),
  );

  app.use((req) => {
    throw new NotFoundError(req.path.slice(0, 200));
  });
  app.use(errorBoundary());
  return app;
}
