import { encodeJobEvent, jobEventsChannel } from '@repo/jobs';
import { rssBytes, TEST_REDIS_URL } from '@repo/testing';
import { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type ApiUnderTest, auth, startApiUnderTest } from './testing/api-under-test.ts';
import { type EventStreamClient, openEventStream } from './testing/event-stream-client.ts';

/** What one api process must hold at once (issue: at least 1,000 per process). */
const STREAMS = 1_000;
/** Streams opened at a time: the listen backlog of a busy machine drops bursts much larger. */
const OPEN_AT_ONCE = 100;

describe(`job event streams: ${STREAMS} at once on one api process (real PostgreSQL and Redis)`, () => {
  let api: ApiUnderTest;
  let publisher: Redis;
  const clients: EventStreamClient[] = [];

  beforeAll(async () => {
    // no heartbeat during the test: every event below came through Redis pub/sub
    api = await startApiUnderTest('job-events-capacity', { eventHeartbeatMs: 3_600_000 });
    publisher = new Redis(TEST_REDIS_URL);
  });
  afterAll(async () => {
    for (const client of clients) client.close();
    publisher?.disconnect();
    await api?.close();
  });

  it(`holds ${STREAMS} streams of ${STREAMS} jobs and delivers an event on each`, async () => {
    const ids = (
      await Promise.all(
        Array.from({ length: STREAMS }, (_, i) =>
          api.jobs.create({ type: 'system.echo', payload: { i }, maxAttempts: 1 }),
        ),
      )
    ).map(({ job }) => job.id);

    const rssBefore = rssBytes(process.pid);
    const openStarted = performance.now();
    for (let from = 0; from < STREAMS; from += OPEN_AT_ONCE) {
      const opened = await Promise.all(
        ids
          .slice(from, from + OPEN_AT_ONCE)
          .map((id) => openEventStream(`${api.url}/v1/jobs/${id}/events`, auth)),
      );
      clients.push(...opened);
    }
    await Promise.all(clients.map((client) => client.waitForEvent((e) => e.event === 'status')));
    const openMs = performance.now() - openStarted;
    expect(clients.every((client) => client.status === 200)).toBe(true);
    expect(api.jobEvents.size).toBe(STREAMS);
    const rssOpen = rssBytes(process.pid);

    // every job changes, as when workers run them: the rows first, then the announcements
    await api.db.pool.query(
      `UPDATE jobs SET status = 'cancelled', finished_at = now(), updated_at = now()
        WHERE id = ANY($1::uuid[])`,
      [ids],
    );
    const announced = performance.now();
    const pipeline = publisher.pipeline();
    const channel = jobEventsChannel(api.prefix);
    for (const id of ids) pipeline.publish(channel, encodeJobEvent({ kind: 'status', jobId: id }));
    await pipeline.exec();
    await Promise.all(clients.map((client) => client.ended));
    const deliveredMs = performance.now() - announced;

    for (const client of clients) {
      expect(client.events.map((e) => JSON.parse(e.data).status)).toEqual(['queued', 'cancelled']);
    }
    expect(api.jobEvents.size).toBe(0);
    // the figures BENCHMARKS.md quotes; the test process holds the clients too
    process.stdout.write(
      `${JSON.stringify({
        streams: STREAMS,
        openMs: Math.round(openMs),
        deliveredToAllMs: Math.round(deliveredMs),
        rssGrowthMiB: Math.round(((rssOpen ?? 0) - (rssBefore ?? 0)) / 1_048_576),
      })}\n`,
    );
  });
});
