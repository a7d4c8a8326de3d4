import { once } from 'node:events';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { createJobEnqueuer, type JobPayload, type JobType, resolveJobLimits } from '@repo/jobs';
import {
  freePort,
  READY_DEADLINE_MS,
  type ServiceProcess,
  startServiceProcess,
  TEST_REDIS_URL,
  TEST_TIMEOUT_MS,
} from '@repo/testing';
import { afterEach, describe, expect, it } from 'vitest';
import { createWorkerHarness, type WorkerHarness } from './testing/worker-harness.ts';

const entry = new URL('./main.ts', import.meta.url).pathname;
/**
 * 500 jobs through two slots run one pair after another, each pair waiting for the last to finish
 * and wake it: on a loaded machine that takes a good part of an ordinary test's time.
 */
const SERIAL_TEST_TIMEOUT_MS = 2 * TEST_TIMEOUT_MS;
/** The measured figures, for the test's output. */
const print = (line: string) => process.stdout.write(`${line}\n`);

/**
 * Fair execution end to end: worker processes sharing one PostgreSQL and one Redis, limits from
 * JOB_LIMITS, jobs created as the API creates them. Each test has a database and a queue prefix
 * of its own, so no backlog of one reaches the next.
 */
describe('fair execution across worker processes (real PostgreSQL and Redis)', () => {
  let h: WorkerHarness | undefined;
  const processes: ServiceProcess[] = [];
  const servers: Server[] = [];

  afterEach(async () => {
    await Promise.all(processes.splice(0).map((p) => p.stop('SIGKILL')));
    await Promise.all(servers.splice(0).map((s) => new Promise((done) => s.close(done))));
    await h?.close();
    h = undefined;
  });

  async function harness(label: string): Promise<WorkerHarness> {
    h = await createWorkerHarness(label);
    return h;
  }

  async function startWorker(
    harness: WorkerHarness,
    limits: Record<string, unknown>,
    env: Record<string, string> = {},
  ): Promise<ServiceProcess> {
    const port = await freePort();
    const worker = startServiceProcess(entry, {
      DATABASE_URL: harness.database.url,
      REDIS_URL: TEST_REDIS_URL,
      QUEUE_PREFIX: harness.config.QUEUE_PREFIX,
      WEBHOOK_SIGNING_SECRET: `whsec_${Buffer.from('test-signing-secret-test-signing-secret').toString('base64')}`,
      WEBHOOK_ALLOW_PRIVATE_NETWORKS: 'true',
      HEALTH_PORT: String(port),
      HEALTH_HOST: '127.0.0.1',
      WORKER_CONCURRENCY: '10',
      JOB_LIMITS: JSON.stringify(limits),
      // every worker of a queue must agree on these
      JOB_LOCK_DURATION: '5s',
      JOB_STALLED_INTERVAL: '1s',
      ...env,
    });
    processes.push(worker);
    await worker.waitForHttp(`http://127.0.0.1:${port}/health/ready`);
    return worker;
  }

  /**
   * Creates the rows concurrently (group commit) and enqueues them in bulk, as the API does under
   * load, with park on arrival under the workers' limits (the API's JOB_LIMITS).
   */
  async function submitMany<T extends JobType>(
    harness: WorkerHarness,
    limits: Record<string, unknown>,
    count: number,
    type: T,
    payload: JobPayload<T>,
    concurrencyKey: string,
  ): Promise<string[]> {
    const enqueue = createJobEnqueuer(harness.queue, {
      arrival: {
        limits: resolveJobLimits(limits as Parameters<typeof resolveJobLimits>[0]),
        connection: harness.redis,
      },
    });
    const ids: string[] = [];
    for (let start = 0; start < count; start += 500) {
      const chunk = Array.from({ length: Math.min(500, count - start) }, async () => {
        const { job } = await harness.jobs.create({
          type,
          payload,
          maxAttempts: 3,
          concurrencyKey,
        });
        await enqueue({ id: job.id, type, payload, maxAttempts: 3, concurrencyKey });
        return job.id;
      });
      ids.push(...(await Promise.all(chunk)));
    }
    return ids;
  }

  async function statusCounts(harness: WorkerHarness, ids: string[]) {
    const { rows } = await harness.db.pool.query<{ status: string; count: string }>(
      'SELECT status, count(*) FROM jobs WHERE id = ANY($1::uuid[]) GROUP BY status',
      [ids],
    );
    return Object.fromEntries(rows.map((row) => [row.status, Number(row.count)]));
  }

  async function waitUntil(condition: () => Promise<boolean>, timeoutMs: number, what: string) {
    const deadline = Date.now() + timeoutMs;
    while (!(await condition())) {
      if (Date.now() > deadline) throw new Error(`timed out waiting until ${what}`);
      await new Promise((resolve) => setTimeout(resolve, 50));
    }
  }

  it(
    'never runs more of a key’s jobs at once than maxConcurrentPerKey, across 2 workers × concurrency 10',
    async () => {
      const harness_ = await harness('fair_per_key');
      // The receiver holds each delivery a moment and counts the key's deliveries in flight.
      let inFlight = 0;
      let mostInFlight = 0;
      let delivered = 0;
      const receiver = createServer((req, res) => {
        inFlight += 1;
        mostInFlight = Math.max(mostInFlight, inFlight);
        req.resume();
        setTimeout(() => {
          inFlight -= 1;
          delivered += 1;
          res.writeHead(204).end();
        }, 10);
      });
      servers.push(receiver);
      receiver.listen(0, '127.0.0.1');
      await once(receiver, 'listening');
      const url = `http://127.0.0.1:${(receiver.address() as AddressInfo).port}/hook`;

      const limits = { 'webhook.deliver': { maxConcurrentPerKey: 2 } };
      await Promise.all([startWorker(harness_, limits), startWorker(harness_, limits)]);
      const started = performance.now();
      const ids = await submitMany(
        harness_,
        limits,
        500,
        'webhook.deliver',
        { url, body: {} },
        'A',
      );
      await waitUntil(
        async () => (await statusCounts(harness_, ids)).succeeded === 500,
        SERIAL_TEST_TIMEOUT_MS - 30_000,
        'all 500 jobs succeeded',
      );
      print(
        `fair execution: 500 jobs of one key, maxConcurrentPerKey 2, 2 workers x 10: ${Math.round(performance.now() - started)} ms; at most ${mostInFlight} in flight`,
      );
      expect(mostInFlight).toBeLessThanOrEqual(2);
      // two at once did happen: the limit, not a lack of work, bounded it
      expect(mostInFlight).toBe(2);
      expect(delivered).toBe(500);
      expect(await statusCounts(harness_, ids)).toEqual({ succeeded: 500 });
    },
    SERIAL_TEST_TIMEOUT_MS,
  );

  it(
    'runs a small key’s 10 jobs within seconds while another key’s 5,000 wait for their turn',
    async () => {
      const harness_ = await harness('fair_backlog');
      const limits = { 'system.echo': { maxConcurrentPerKey: 2 } };
      await Promise.all([startWorker(harness_, limits), startWorker(harness_, limits)]);
      const backlog = await submitMany(
        harness_,
        limits,
        5_000,
        'system.echo',
        { delayMs: 200 },
        'A',
      );

      const enqueued = performance.now();
      const small = await submitMany(harness_, limits, 10, 'system.echo', { delayMs: 200 }, 'B');
      await waitUntil(
        async () => (await statusCounts(harness_, small)).succeeded === 10,
        READY_DEADLINE_MS,
        'key B’s 10 jobs succeeded',
      );
      const seconds = (performance.now() - enqueued) / 1_000;
      const backlogNow = await statusCounts(harness_, backlog);
      print(
        `fair execution: key B's 10 jobs (maxConcurrentPerKey 2, 200 ms each) finished ${seconds.toFixed(2)} s after enqueueing, behind key A's 5,000; A then: ${JSON.stringify(backlogNow)}`,
      );
      // Five rounds of two take 1 s. A's backlog arrived parked (its key had parked jobs), so
      // B's jobs are next in wait, not behind 5,000 jobs the workers must park first (24-39 s
      // before park on arrival). The rest of the bound is this machine under load: creating 10
      // rows, a wake per round, and waiting for the row updates; 15 s is "a few seconds" with
      // room for that, and far below the time A's backlog ahead would take (it cannot pass
      // without fairness: 5,000 × 200 ms / 2 = 500 s).
      expect(seconds).toBeLessThan(15);
      // A's backlog is running, at its limit, and far from done
      expect(backlogNow.succeeded ?? 0).toBeGreaterThan(0);
      expect(backlogNow.queued).toBeGreaterThan(4_500);
      expect(await harness_.fair.holders('system.echo', 'A')).toBeLessThanOrEqual(2);
    },
    TEST_TIMEOUT_MS,
  );

  it(
    'keeps each key’s starts within rateLimitPerKey { max: 5, perSeconds: 1 } over 10 s',
    async () => {
      const harness_ = await harness('fair_rate');
      const limits = { 'system.echo': { rateLimitPerKey: { max: 5, perSeconds: 1 } } };
      await Promise.all([startWorker(harness_, limits), startWorker(harness_, limits)]);
      const keys = ['R1', 'R2'];
      const ids = new Map<string, string[]>();
      for (const key of keys)
        ids.set(key, await submitMany(harness_, limits, 80, 'system.echo', {}, key));
      // 50 starts of each key, ten seconds' worth at 5 a second
      await waitUntil(
        async () => {
          const counts = await Promise.all(
            keys.map((k) => statusCounts(harness_, ids.get(k) ?? [])),
          );
          return counts.every((c) => (c.succeeded ?? 0) >= 50);
        },
        TEST_TIMEOUT_MS - 60_000,
        'each key has run 50 jobs',
      );

      for (const key of keys) {
        // When each job was handed to the worker that started it (BullMQ's processedOn: a parked
        // job's last fetch), a moment before its start; the row's startedAt comes later, after a
        // batched UPDATE, and so is a blurred measure of it.
        const jobs = await Promise.all((ids.get(key) ?? []).map((id) => harness_.queue.getJob(id)));
        const starts = jobs
          .filter((job) => job?.finishedOn)
          .map((job) => job?.processedOn as number)
          .sort((a, b) => a - b)
          .slice(0, 50);
        const first = starts[0] as number;
        const spanSeconds = ((starts.at(-1) as number) - first) / 1_000;
        const perSecond = Array.from(
          { length: Math.floor(spanSeconds) + 1 },
          (_, second) =>
            starts.filter((start) => Math.floor((start - first) / 1_000) === second).length,
        );
        print(
          `fair execution: key ${key}, rateLimitPerKey 5/s: 50 starts over ${spanSeconds.toFixed(1)} s; per second: ${perSecond.join(' ')}`,
        );
        // ± 1 for the window edges: the measure is taken a moment before the start
        expect(Math.max(...perSecond)).toBeLessThanOrEqual(6);
        // five a second at most: the 50th start comes 9 s after the first at the earliest
        expect(spanSeconds).toBeGreaterThan(8);
        // and the limit, not a stall, is what spaced them
        expect(spanSeconds).toBeLessThan(20);
      }
    },
    TEST_TIMEOUT_MS,
  );

  it(
    'gives a SIGKILLed worker’s slots back within JOB_LOCK_DURATION, and every job still succeeds once',
    async () => {
      const harness_ = await harness('fair_kill');
      const limits = { 'system.echo': { maxConcurrentPerKey: 4 } };
      const lockDurationMs = 5_000;
      // The first worker alone takes the key's 4 slots, with jobs that outlast the test's wait
      // for the slots; the second starts once it holds them.
      const doomed = await startWorker(harness_, limits);
      const ids = await submitMany(harness_, limits, 8, 'system.echo', { delayMs: 15_000 }, 'K');
      await waitUntil(
        async () => (await harness_.fair.holders('system.echo', 'K')) === 4,
        READY_DEADLINE_MS,
        'the first worker holds the 4 slots',
      );
      await startWorker(harness_, limits);

      doomed.child.kill('SIGKILL');
      await doomed.exited;
      const killed = performance.now();
      // The slots count while the dead worker's locks last; they are free again once the locks
      // have expired, before stalled recovery hands the jobs to the other worker.
      await waitUntil(
        async () => (await harness_.fair.holders('system.echo', 'K')) < 4,
        READY_DEADLINE_MS,
        'a dead worker’s slot is free',
      );
      const freedAfterMs = performance.now() - killed;
      print(
        `fair execution: a SIGKILLed worker's slots were free ${Math.round(freedAfterMs)} ms after the kill (JOB_LOCK_DURATION ${lockDurationMs} ms)`,
      );
      // the poll runs every 50 ms
      expect(freedAfterMs).toBeLessThanOrEqual(lockDurationMs + 250);

      await waitUntil(
        async () => (await statusCounts(harness_, ids)).succeeded === 8,
        TEST_TIMEOUT_MS - 60_000,
        'all 8 jobs succeeded',
      );
      expect(await statusCounts(harness_, ids)).toEqual({ succeeded: 8 });
      // neither waiting for a slot nor being recovered from the dead worker used an attempt
      const { rows } = await harness_.db.pool.query<{ attempts: number }>(
        'SELECT attempts FROM jobs WHERE id = ANY($1::uuid[])',
        [ids],
      );
      expect(rows.map((row) => row.attempts)).toEqual(ids.map(() => 1));
      // no slot leaked: the last job's slot is released when its attempt ends, a moment after its
      // row says succeeded
      await waitUntil(
        async () => (await harness_.fair.holders('system.echo', 'K')) === 0,
        READY_DEADLINE_MS,
        'every slot of key K is free again',
      );
    },
    TEST_TIMEOUT_MS,
  );
});
