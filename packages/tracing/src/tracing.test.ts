import { describe, expect, it } from 'vitest';
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
  });
});
