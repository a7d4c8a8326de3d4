import { createBatcher } from '@repo/batching';
import { inSpan, traceMetadata } from '@repo/tracing';
import type { JobsOptions } from 'bullmq';
import type { Redis } from 'ioredis';
import { type QueuedRowCount, queuedJobData } from './fair-execution/concurrency-key.ts';
import {
  type ArrivingJob,
  createFairScheduler,
  type FairScheduler,
} from './fair-execution/fair-scheduler.ts';
import type { LimitsByType } from './fair-execution/limits.ts';
import { parseJobPayload } from './payloads.ts';
import { type JobQueue, jobOptions } from './queue.ts';
import { isRedisUnavailableError } from './redis-connection.ts';
import type { JobPayload, JobType } from './registry.ts';

export interface EnqueueJobInput<T extends JobType> {
  /** The Postgres row id; it becomes the BullMQ job id, so enqueueing twice adds one job. */
  id: string;
  type: T;
  payload: JobPayload<T>;
  runAt?: Date | null;
  maxAttempts?: number | null;
  /** Limits of the type apply per key (README: fair execution); carried in the BullMQ job's data. */
  concurrencyKey?: string | null;
  /** 1 (first) … 10 (last); DEFAULT_JOB_PRIORITY when none. */
  priority?: number | null;
  /**
   * What the row has counted (carried in the BullMQ job's data): given, the worker may run the
   * job before it writes `running`. `maxAttempts` must then be the attempts the row has left.
   */
  rowCount?: QueuedRowCount | null;
}

/** The most jobs one `addBulk` of `createJobEnqueuer` carries. */
export const ENQUEUE_BATCH_SIZE = 100;

interface QueuedJob {
  name: string;
  data: unknown;
  opts: JobsOptions;
  /** Set when park on arrival decides where the job goes (a limit that applies to it, due now). */
  arriving?: ArrivingJob;
}

/**
 * Park on arrival (packages/jobs README: fair execution): with the limits the workers run under,
 * a job whose key already has parked jobs, or whose type's slots (maxConcurrent) or key's slots or
 * rate window are full, is added already parked instead of to wait, where the workers would have to fetch and park it before
 * reaching other keys' jobs.
 */
export interface ArrivalOptions {
  /** The limits in force: the workers' (the same JOB_LIMITS). */
  limits: LimitsByType;
  /** The connection the decision's script runs on (the queue's). */
  connection: Redis;
  /** Called once per job added parked, after its add (the `parked` metric's `where="arrival"`). */
  onParked?: (type: JobType) => void;
}

type ArrivalScheduler = Pick<
  FairScheduler,
  'decidesOnArrival' | 'parkOnArrival' | 'confirmArrived'
> & { onParked?: ((type: JobType) => void) | undefined };

function arrivalScheduler(
  queue: JobQueue,
  arrival: ArrivalOptions | undefined,
): ArrivalScheduler | undefined {
  if (!arrival) return undefined;
  const { onParked, ...scheduler } = arrival;
  return Object.assign(createFairScheduler({ queue, ...scheduler }), { onParked });
}

/**
 * Validates the payload against the contract; invalid payloads never reach Redis. Called inside
 * the enqueue span, whose W3C trace context the job carries to the worker (in BullMQ's
 * `opts.telemetry.metadata`, not in the payload, which stays the contract's).
 */
function toQueuedJob<T extends JobType>(
  input: EnqueueJobInput<T>,
  arrival?: ArrivalScheduler,
): QueuedJob {
  const metadata = traceMetadata();
  const key = input.concurrencyKey ?? null;
  // a job due later is admitted when it is due, as before
  const decided =
    arrival?.decidesOnArrival(input.type, key) === true &&
    (!input.runAt || input.runAt.getTime() <= Date.now());
  return {
    ...(decided ? { arriving: { id: input.id, type: input.type, concurrencyKey: key } } : {}),
    name: input.type,
    data: queuedJobData(
      parseJobPayload(input.type, input.payload),
      input.concurrencyKey,
      input.rowCount,
    ),
    opts: {
      ...jobOptions(input.type, {
        jobId: input.id,
        maxAttempts: input.maxAttempts,
        runAt: input.runAt,
        priority: input.priority,
      }),
      ...(metadata === undefined ? {} : { telemetry: { metadata } }),
    },
  };
}

/**
 * One `addBulk`; with park on arrival, one script call decides first which of the jobs go in
 * parked, and one after confirms them. Jobs no limit applies to cost no call.
 */
async function addJobs(
  queue: JobQueue,
  jobs: readonly QueuedJob[],
  arrival: ArrivalScheduler | undefined,
): Promise<void> {
  const arriving = jobs.flatMap((job) => (job.arriving ? [job.arriving] : []));
  const bulk = (delays: Map<string, number>) =>
    jobs.map(({ name, data, opts, arriving: decided }) => {
      const delay = decided && delays.get(decided.id);
      return { name, data, opts: delay ? { ...opts, delay } : opts };
    });
  if (!arrival || arriving.length === 0) {
    await queue.addBulk(bulk(new Map()));
    return;
  }
  const parked = await arrival.parkOnArrival(arriving);
  await queue.addBulk(bulk(parked));
  if (parked.size > 0) {
    const added = arriving.filter((job) => parked.has(job.id));
    await arrival.confirmArrived(added);
    for (const job of added) arrival.onParked?.(job.type);
  }
}

/** A producer span per job, even when jobs share one `addBulk`. */
function inEnqueueSpan<T>(input: EnqueueJobInput<JobType>, work: () => Promise<T>): Promise<T> {
  return inSpan(
    {
      name: `enqueue ${input.type}`,
      kind: 'producer',
      attributes: {
        'messaging.system': 'bullmq',
        'messaging.operation.type': 'send',
        'messaging.message.id': input.id,
        'jobstack.job.type': input.type,
      },
    },
    work,
  );
}

/**
 * Adds one job; invalid payloads never reach Redis. With `arrival`, a job whose key is at its
 * limit is added already parked, as `enqueueJobs` does (one `addBulk` of one job).
 */
export async function enqueueJob<T extends JobType>(
  queue: JobQueue,
  input: EnqueueJobInput<T>,
  options: { arrival?: ArrivalOptions } = {},
): Promise<void> {
  const arrival = arrivalScheduler(queue, options.arrival);
  await inEnqueueSpan(input, async () => {
    const job = toQueuedJob(input, arrival);
    if (job.arriving) {
      await addJobs(queue, [job], arrival);
      return;
    }
    await queue.add(job.name, job.data, job.opts);
  });
}

/**
 * Adds many jobs in one `addBulk` (one round trip), e.g. the jobs of one batch request; invalid
 * payloads never reach Redis (the whole call throws before anything is added).
 */
export async function enqueueJobs(
  queue: JobQueue,
  inputs: readonly EnqueueJobInput<JobType>[],
  options: { arrival?: ArrivalOptions } = {},
): Promise<void> {
  if (inputs.length === 0) return;
  const arrival = arrivalScheduler(queue, options.arrival);
  const jobs = await Promise.all(
    inputs.map((input) => inEnqueueSpan(input, async () => toQueuedJob(input, arrival))),
  );
  await addJobs(queue, jobs, arrival);
}

export type EnqueueJob = <T extends JobType>(input: EnqueueJobInput<T>) => Promise<void>;

export interface JobEnqueuerOptions {
  /**
   * The most jobs that may wait for their `addBulk`; past it, enqueueing rejects at once with a
   * BatchQueueFullError (@repo/batching) instead of collecting callers while Redis is slow.
   * Default: no bound.
   */
  maxWaiting?: number;
  /** Park on arrival; without it, every job is added to wait. */
  arrival?: ArrivalOptions;
}

/**
 * `enqueueJob` for a hot path: jobs enqueued while an earlier `addBulk` is in flight go to Redis
 * together in the next one (one round trip for many), and one alone goes at once. Each caller
 * still learns whether its own job was added: when a batch fails for another reason than an
 * unreachable Redis, its jobs are added one by one.
 */
export function createJobEnqueuer(queue: JobQueue, options: JobEnqueuerOptions = {}): EnqueueJob {
  const arrival = arrivalScheduler(queue, options.arrival);
  const batcher = createBatcher<QueuedJob, void>({
    maxBatchSize: ENQUEUE_BATCH_SIZE,
    ...(options.maxWaiting === undefined ? {} : { maxWaiting: options.maxWaiting }),
    splitOnFailure: (error) => !isRedisUnavailableError(error),
    run: async (jobs) => {
      await addJobs(queue, jobs, arrival);
      return jobs.map(() => undefined);
    },
  });
  return async (input) => inEnqueueSpan(input, () => batcher.submit(toQueuedJob(input, arrival)));
}
