import type {
  JobEventOutbox,
  JobEventRecord,
  JobRecord,
  JobRepository,
  WebhookEndpointRepository,
  WebhookSubscription,
} from '@repo/db';
import { type EnqueueJob, jobTypes, parseJobPayload } from '@repo/jobs';
import type { Logger } from '@repo/logger';

/** Events relayed per round; the outbox is read again at once while it holds more. */
export const JOB_EVENT_BATCH_SIZE = 100;

/** What an endpoint subscribed to job events receives: `data` is the job as the API shows it. */
export interface JobEventBody {
  type: string;
  /** When the job reached the status (ISO 8601). */
  timestamp: string;
  data: Record<string, unknown>;
}

export interface JobEventRelayDeps {
  outbox: JobEventOutbox;
  endpoints: Pick<WebhookEndpointRepository, 'subscriptions'>;
  jobs: Pick<JobRepository, 'findById' | 'create'>;
  enqueue: EnqueueJob;
  logger: Logger;
  /** How long the relay sleeps when the outbox is empty. */
  intervalMs: number;
}

export interface JobEventRelay {
  /** Relays what the outbox holds now; resolves with the number of events relayed. */
  relayOnce(): Promise<number>;
  /** Stops polling and waits for the round in progress. */
  stop(): Promise<void>;
}

/**
 * Turns the job events the database recorded (the `job_events` outbox, which a trigger fills in
 * the transaction that sets a final status) into webhook.deliver jobs, one per subscribed
 * endpoint. Nothing is lost in between: an event leaves the outbox only after its deliveries
 * exist, and their idempotency keys (`job-event:<event>:<endpoint>`) make a round that stopped
 * half-way — or two workers relaying the same event — create each delivery once. A delivery's row
 * that could not reach Redis stays queued and is enqueued by maintenance.reconcile.
 */
export function startJobEventRelay(deps: JobEventRelayDeps): JobEventRelay {
  let stopped = false;
  let timer: NodeJS.Timeout | undefined;
  let round: Promise<unknown> = Promise.resolve();
  // logged once per outage, not once per round
  let failing = false;

  async function relayOnce(): Promise<number> {
    const events = await deps.outbox.next(JOB_EVENT_BATCH_SIZE);
    if (events.length === 0) return 0;
    const subscriptions = await deps.endpoints.subscriptions();
    await Promise.all(events.map((event) => relayEvent(event, subscriptions)));
    await deps.outbox.remove(events.map((event) => event.id));
    return events.length;
  }

  async function relayEvent(event: JobEventRecord, subscriptions: WebhookSubscription[]) {
    const job = await deps.jobs.findById(event.jobId);
    // pruned meanwhile: there is nothing left to tell
    if (!job) return;
    const body = eventBody(event, job);
    const receivers = subscriptions.filter(
      (endpoint) =>
        endpoint.eventTypes.includes(event.type) &&
        (endpoint.jobTypes.length === 0 || endpoint.jobTypes.includes(job.type)),
    );
    await Promise.all(
      receivers.map(async (endpoint) => {
        const payload = parseJobPayload('webhook.deliver', { endpointId: endpoint.id, body });
        const maxAttempts = jobTypes['webhook.deliver'].options.attempts;
        const { job: delivery } = await deps.jobs.create({
          type: 'webhook.deliver',
          payload,
          maxAttempts,
          idempotencyKey: `job-event:${event.id}:${endpoint.id}`,
        });
        if (delivery.status !== 'queued') return;
        await deps.enqueue({ id: delivery.id, type: 'webhook.deliver', payload, maxAttempts });
      }),
    );
  }

  function schedule(delayMs: number) {
    if (stopped) return;
    timer = setTimeout(() => {
      round = relayOnce().then(
        (relayed) => {
          if (failing) deps.logger.info('job events are relayed again');
          failing = false;
          // a full batch: more may be waiting
          schedule(relayed === JOB_EVENT_BATCH_SIZE ? 0 : deps.intervalMs);
        },
        (error: unknown) => {
          if (!failing) {
            deps.logger.error({ err: error }, 'job events could not be relayed; retrying');
          }
          failing = true;
          schedule(deps.intervalMs);
        },
      );
    }, delayMs);
  }
  schedule(0);

  return {
    relayOnce,
    async stop() {
      stopped = true;
      clearTimeout(timer);
      await round.catch(() => {
        // its failure was logged where it was handled, in the round itself
      });
    },
  };
}

/** The Standard Webhooks event shape (Svix's): the type, when, and the job as the API shows it. */
function eventBody(event: JobEventRecord, job: JobRecord): JobEventBody {
  // JSON text of the row: dates become ISO 8601, as GET /v1/jobs/:id shows them; the BullMQ id
  // is an internal detail the API does not show either
  const { queueJobId: _, ...shown } = job;
  const data = JSON.parse(JSON.stringify(shown)) as Record<string, unknown>;
  return { type: event.type, timestamp: event.createdAt.toISOString(), data };
}
