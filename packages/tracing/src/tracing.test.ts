import { type Tracer, trace } from '@opentelemetry/api';
import { afterEach, describe, expect, it } from 'vitest';
import {
  activeTraceId,
  inSpan,
  isTracingEnabled,
  traceIdOfMetadata,
  traceIdOfTraceparent,
  traceMetadata,
} from './index.ts';

const TRACE_ID = '4bf92f3577b34da6a3ce929d0e0e4736';

describe('isTracingEnabled', () => {
  it('is on only with an OTLP endpoint, and off when OTEL_SDK_DISABLED says so', () => {
    expect(isTracingEnabled({})).toBe(false);
    expect(isTracingEnabled({ OTEL_EXPORTER_OTLP_ENDPOINT: 'http://collector:4318' })).toBe(true);
    expect(
      isTracingEnabled({ OTEL_EXPORTER_OTLP_TRACES_ENDPOINT: 'http://c:4318/v1/traces' }),
    ).toBe(true);
    expect(
      isTracingEnabled({ OTEL_EXPORTER_OTLP_ENDPOINT: 'http://c:4318', OTEL_SDK_DISABLED: 'TRUE' }),
    ).toBe(false);
  });
});

describe('trace ids for log lines', () => {
  it('reads the trace id of a W3C traceparent, refusing malformed and all-zero ones', () => {
    expect(traceIdOfTraceparent(`00-${TRACE_ID}-00f067aa0ba902b7-01`)).toBe(TRACE_ID);
    expect(traceIdOfTraceparent(`00-${'0'.repeat(32)}-00f067aa0ba902b7-01`)).toBeUndefined();
    expect(traceIdOfTraceparent(`00-${TRACE_ID}-01`)).toBeUndefined();
    expect(traceIdOfTraceparent(['a'])).toBeUndefined();
  });

  it("reads the trace id a job carries in BullMQ's telemetry metadata", () => {
    const metadata = JSON.stringify({ traceparent: `00-${TRACE_ID}-00f067aa0ba902b7-01` });
    expect(traceIdOfMetadata(metadata)).toBe(TRACE_ID);
    expect(traceIdOfMetadata('not json')).toBeUndefined();
    expect(traceIdOfMetadata(undefined)).toBeUndefined();
  });
});

describe('without a started SDK (tracing off)', () => {
  it('puts no trace context on jobs, and spans pass results and errors through', async () => {
    await inSpan({ name: 'enqueue x', kind: 'producer', attributes: {} }, async () => {
      expect(traceMetadata()).toBeUndefined();
      expect(activeTraceId()).toBeUndefined();
    });
    await expect(
      inSpan({ name: 'x', kind: 'consumer', attributes: {} }, async () => 42),
    ).resolves.toBe(42);
    await expect(
      inSpan({ name: 'x', kind: 'consumer', attributes: {} }, () =>
        Promise.reject(new Error('handler failed')),
      ),
    ).rejects.toThrow('handler failed');
    await expect(
      inSpan({ name: 'x', kind: 'consumer', attributes: {} }, () => {
        throw new Error('thrown at once');
      }),
    ).rejects.toThrow('thrown at once');
  });
});

describe('with a tracer provider registered', () => {
  /** A provider whose spans note their name, ending and recorded errors. */
  function recordingProvider() {
    const spans: { name: string; parentTraceId?: string; ended: boolean; errors: unknown[] }[] = [];
    const tracer = {
      startSpan: () => {
        throw new Error('inSpan starts active spans only');
      },
      startActiveSpan(
        name: string,
        _options: unknown,
        _parent: unknown,
        fn: (span: unknown) => unknown,
      ) {
        const span = { name, ended: false, errors: [] as unknown[] };
        spans.push(span);
        return fn({
          recordException: (error: unknown) => span.errors.push(error),
          setStatus: () => {},
          end: () => {
            span.ended = true;
          },
        });
      },
    } as unknown as Tracer;
    return { spans, provider: { getTracer: () => tracer } };
  }

  afterEach(() => trace.disable());

  it('runs the work in a span of its own, ended when it settles, failed when it throws', async () => {
    const { spans, provider } = recordingProvider();
    expect(trace.setGlobalTracerProvider(provider)).toBe(true);
    const metadata = JSON.stringify({ traceparent: `00-${TRACE_ID}-00f067aa0ba902b7-01` });
    await expect(
      inSpan(
        { name: 'process x', kind: 'consumer', attributes: {}, parentMetadata: metadata },
        async () => 42,
      ),
    ).resolves.toBe(42);
    await expect(
      inSpan({ name: 'process y', kind: 'consumer', attributes: {} }, () =>
        Promise.reject(new Error('handler failed')),
      ),
    ).rejects.toThrow('handler failed');
    expect(spans).toEqual([
      { name: 'process x', ended: true, errors: [] },
      {
        name: 'process y',
        ended: true,
        errors: [expect.objectContaining({ message: 'handler failed' })],
      },
    ]);
  });
});
