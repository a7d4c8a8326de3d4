import { createJobAttemptLog, createWebhookEndpointRepository, type JobRepository } from '@repo/db';
import {
  decodeJobEvent,
  type JobEventMessage,
  type JobPayload,
  jobCancelChannel,
  jobEventsChannel,
} from '@repo/jobs';
import { createLogger } from '@repo/logger';
import { TEST_REDIS_URL } from '@repo/testing';
import type { Worker } from 'bullmq';
import { Redis } from 'ioredis';
import { createHandlers, type JobContext, type JobHandlers } from '../handlers/index.ts';
import { createJobProcessor } from '../job-processor.ts';
import { createJobWorker } from '../job-worker.ts';
import { createCancellationListener } from '../live/job-cancellation.ts';
import { createJobEventPublisher } from '../live/job-event-publisher.ts';
import type { WorkerHarness } from './worker-harness.ts';

type EchoPayload = JobPayload<'system.echo'>;

export interface LiveWorker {
  worker: Worker;
  /** Every announcement on the job events channel since the worker started, in order. */
  announced: JobEventMessage[];
  /** The cancellation listener's connection (a test may drop it to see it come back). */
  subscriber: Redis;
  close(): Promise<void>;
}

/**
 * A BullMQ worker running the job processor with what makes a job live, wired as the worker app
 * wires it: a cancellation listener on the cancel channel and the event publisher. `echo` stands
 * in for the system.echo handler (the real one is passed to it).
 */
export async function startLiveWorker(
  h: WorkerHarness,
  options: {
    echo: (
      payload: EchoPayload,
      context: JobContext,
      real: JobHandlers['system.echo'],
    ) => Promise<unknown>;
    /** The repository the processor writes through (default: the harness's). */
    jobs?: JobRepository;
    /** JOB_RUNNING_STATUS_DELAY in ms, read at each attempt (default: the processor's, 0). */
    runningStatusDelayMs?: () => number;
  },
): Promise<LiveWorker> {
  const jobs = options.jobs ?? h.jobs;
  const logger = await createLogger({
    service: 'worker',
    version: 'test',
    config: { NODE_ENV: 'test', LOG_LEVEL: 'silent', LOG_FORMAT: 'json' },
  });
  const subscriber = new Redis(TEST_REDIS_URL, { maxRetriesPerRequest: null });
  const cancellation = createCancellationListener({
    subscriber,
    channel: jobCancelChannel(h.config.QUEUE_PREFIX),
    jobs,
    logger,
  });
  await cancellation.start();
  const announced: JobEventMessage[] = [];
  const listener = new Redis(TEST_REDIS_URL);
  listener.on('message', (_channel: string, text: string) => {
    const message = decodeJobEvent(text);
    if (message) announced.push(message);
  });
  await listener.subscribe(jobEventsChannel(h.config.QUEUE_PREFIX));

  const handlers = createHandlers({
    config: h.config,
    jobs,
    queue: h.queue,
    webhookMetrics: h.metrics.webhooks,
    webhookEndpoints: createWebhookEndpointRepository(h.db),
    secretBox: undefined,
  });
  const { runningStatusDelayMs } = options;
  const worker = createJobWorker({
    connection: h.redis,
    prefix: h.config.QUEUE_PREFIX,
    config: h.config,
    processor: createJobProcessor({
      jobs,
      handlers: {
        ...handlers,
        'system.echo': (payload, context) =>
          options.echo(payload, context, handlers['system.echo']) as ReturnType<
            JobHandlers['system.echo']
          >,
      },
      logger,
      metrics: h.metrics,
      fair: h.fair,
      attempts: createJobAttemptLog(h.db),
      cancellation,
      events: createJobEventPublisher({
        redis: h.redis,
        channel: jobEventsChannel(h.config.QUEUE_PREFIX),
        logger,
      }),
      ...(runningStatusDelayMs
        ? {
            get runningStatusDelayMs() {
              return runningStatusDelayMs();
            },
          }
        : {}),
    }),
  });
  void worker.run();
  await worker.waitUntilReady();
  return {
    worker,
    announced,
    subscriber,
    async close() {
      await worker.close(true);
      await cancellation.close();
      listener.disconnect();
    },
  };
}
