import type { EventEmitter } from 'node:events';
import { cpuTimeMs } from '@repo/testing';
import autocannon from 'autocannon';
import { percentile } from './stats.ts';

export interface LoadOptions {
  url: string;
  connections: number;
  durationSeconds: number;
  headers?: Record<string, string>;
  method?: 'GET' | 'POST';
  body?: string;
  /** The server's pid: its CPU time per request is measured too. */
  serverPid?: number | undefined;
}

export interface LoadResult {
  requests: number;
  durationSeconds: number;
  requestsPerSecond: number;
  latencyP50Ms: number;
  latencyP99Ms: number;
  /** connection errors and timeouts */
  errors: number;
  non2xx: number;
  /** Server CPU time (user + system) per answered request, in µs; null without a pid. */
  serverCpuUsPerRequest: number | null;
}

/** One autocannon run. */
export async function runLoad(options: LoadOptions): Promise<LoadResult> {
  const latencies: number[] = [];
  const cpuBefore = cpuTimeMs(options.serverPid);
  // without a callback autocannon returns its run tracker (an EventEmitter) made thenable; the
  // types describe only the promise side
  const instance = autocannon({
    url: options.url,
    connections: options.connections,
    duration: options.durationSeconds,
    method: options.method ?? 'GET',
    ...(options.headers ? { headers: options.headers } : {}),
    ...(options.body === undefined ? {} : { body: options.body }),
  }) as Promise<autocannon.Result> & EventEmitter;
  // autocannon's own histogram has 1 ms resolution; these are the exact response times
  instance.on('response', (_client: unknown, _status: number, _bytes: number, ms: number) => {
    latencies.push(ms);
  });
  const result = await instance;
  const cpuAfter = cpuTimeMs(options.serverPid);
  const requests = result.requests.total;
  return {
    requests,
    durationSeconds: result.duration,
    requestsPerSecond: requests / result.duration,
    latencyP50Ms: percentile(latencies, 0.5),
    latencyP99Ms: percentile(latencies, 0.99),
    errors: result.errors + result.timeouts,
    non2xx: result.non2xx,
    serverCpuUsPerRequest:
      cpuBefore === null || cpuAfter === null || requests === 0
        ? null
        : ((cpuAfter - cpuBefore) * 1000) / requests,
  };
}
