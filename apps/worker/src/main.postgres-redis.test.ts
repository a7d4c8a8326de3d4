import { expectUnreadyOnEvictingRedis } from '@repo/jobs/testing';
import { freePort, type ServiceProcess, startServiceProcess, TEST_REDIS_URL } from '@repo/testing';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createWorkerHarness, type WorkerHarness } from './testing/worker-harness.ts';

const entry = new URL('./main.ts', import.meta.url).pathname;

describe('worker process (real PostgreSQL, Redis and signals)', () => {
  let h: WorkerHarness;
  const processes: ServiceProcess[] = [];

  beforeAll(async () => {
    h = await createWorkerHarness('worker_process');
  });
  afterAll(async () => {
    await Promise.all(processes.map((p) => p.stop('SIGKILL')));
    await h.close();
  });

  // Every worker sharing a queue must agree on the stalled-check interval: the first to check
  // blocks the others' checks for its own interval.
  const fastRecovery = { JOB_LOCK_DURATION: '5s', JOB_STALLED_INTERVAL: '1s' };

  /** What a worker process of this file needs: the harness's database and queue, its own port. */
  function workerProcessEnv(port: number, redisUrl = TEST_REDIS_URL) {
    return {
      DATABASE_URL: h.database.url,
      REDIS_URL: redisUrl,
      QUEUE_PREFIX: h.config.QUEUE_PREFIX,
      WEBHOOK_SIGNING_SECRET: `whsec_${Buffer.from('test-signing-secret-test-signing-secret').toString('base64')}`,
      HEALTH_PORT: String(port),
      HEALTH_HOST: '127.0.0.1',
    };
  }

  async function startWorker(env: Record<string, string> = {}) {
    const port = await freePort();
    const worker = startServiceProcess(entry, {
      ...workerProcessEnv(port),
      ...fastRecovery,
      ...env,
    });
    processes.push(worker);
    await worker.waitForHttp(`http://127.0.0.1:${port}/health/ready`);
    return worker;
  }

  it('is not ready while Redis may evict keys, and says why', async () => {
    await expectUnreadyOnEvictingRedis({
      start: (redisUrl, port) => {
        const worker = startServiceProcess(entry, workerProcessEnv(port, redisUrl));
        processes.push(worker);
        // started, yet not ready: the eviction-policy check fails
        return worker;
      },
      okChecks: ['database', 'redis'],
    });
  });

  it('on SIGTERM finishes the job in progress, then exits 0', async () => {
    const worker = await startWorker();
    const job = await h.submit('system.echo', { delayMs: 1_500 });
    await h.waitForRow(job.id, (row) => row.status === 'running');
    expect(await worker.stop('SIGTERM')).toBe(0);
    expect(await h.jobs.findById(job.id)).toMatchObject({ status: 'succeeded', attempts: 1 });
    expect(worker.logs().map((l) => l.msg)).toContain('stopped');
  });

  it('after SIGKILL, a new worker recovers the stalled jobs and each succeeds exactly once', async () => {
    const doomed = await startWorker();
    const jobs = await Promise.all(
      [1, 2, 3].map(() => h.submit('system.echo', { delayMs: 3_000 })),
    );
    for (const job of jobs) await h.waitForRow(job.id, (row) => row.status === 'running');
    doomed.child.kill('SIGKILL');
    expect(await doomed.exited).toBeNull();

    const rescuer = await startWorker();
    for (const job of jobs) {
      expect(await h.waitForRow(job.id, (row) => row.status === 'succeeded')).toMatchObject({
        attempts: 1,
      });
    }
    const stalled = rescuer.logs().filter((line) => String(line.msg).startsWith('job stalled'));
    expect(stalled.map((line) => line.queueJobId).sort()).toEqual(jobs.map((j) => j.id).sort());
    expect(rescuer.logs().filter((line) => line.msg === 'job attempt failed')).toEqual([]);
    const rows = await h.db.prisma.$queryRawUnsafe<{ n: number }[]>(
      `SELECT count(*)::int AS n FROM jobs WHERE id = ANY($1::uuid[]) AND status = 'succeeded'`,
      jobs.map((j) => j.id),
    );
    expect(rows[0]?.n).toBe(3);
    expect(await rescuer.stop()).toBe(0);
  });

  it('fails a job that stalled more often than JOB_MAX_STALLED_COUNT, on its row too', async () => {
    const doomed = await startWorker({ JOB_MAX_STALLED_COUNT: '0' });
    const job = await h.submit('system.echo', { delayMs: 3_000 });
    await h.waitForRow(job.id, (row) => row.status === 'running');
    doomed.child.kill('SIGKILL');
    await doomed.exited;
    const rescuer = await startWorker({ JOB_MAX_STALLED_COUNT: '0' });
    expect(await h.waitForRow(job.id, (row) => row.status === 'failed')).toMatchObject({
      error: 'job stalled more than allowable limit',
    });
    await rescuer.waitForLog((line) => line.msg === 'job failed without running');
    expect(await rescuer.stop()).toBe(0);
  });

  it('returns a job that outlasts SHUTDOWN_TIMEOUT to the queue without using an attempt', async () => {
    const worker = await startWorker({ SHUTDOWN_TIMEOUT: '1s' });
    const job = await h.submit('system.echo', { delayMs: 20_000 });
    await h.waitForRow(job.id, (row) => row.status === 'running');
    const started = Date.now();
    expect(await worker.stop('SIGTERM')).toBe(1);
    expect(Date.now() - started).toBeLessThan(5_000);
    expect(await h.jobs.findById(job.id)).toMatchObject({
      status: 'queued',
      error: 'interrupted by worker shutdown',
    });
    const queued = await h.queue.getJob(job.id);
    expect(await queued?.getState()).toBe('prioritized');
    expect(queued?.attemptsMade).toBe(0);
    await h.queue.remove(job.id);
  });
});
