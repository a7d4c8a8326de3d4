import {
  type Attributes,
  type Context,
  context,
  isSpanContextValid,
  ProxyTracerProvider,
  propagation,
  ROOT_CONTEXT,
  SpanKind,
  SpanStatusCode,
  trace,
} from '@opentelemetry/api';

const TRACER_NAME = 'jobstack';
const tracer = trace.getTracer(TRACER_NAME);

/**
 * Whether a tracer provider (the SDK startTracing starts, or a test's) is registered. Until one
 * is, the API hands out its own proxy with no delegate and every span would be a no-op; asked on
 * each call rather than once, since a provider may be registered after this module loads.
 */
function isTracerRegistered(): boolean {
  const provider = trace.getTracerProvider();
  return (
    !(provider instanceof ProxyTracerProvider) ||
    provider.getDelegateTracer(TRACER_NAME) !== undefined
  );
}

// version-traceid-parentid-flags (W3C Trace Context); the version 00 format
const TRACEPARENT = /^[0-9a-f]{2}-([0-9a-f]{32})-[0-9a-f]{16}-[0-9a-f]{2}$/;

/**
 * The active trace context, serialised the way BullMQ carries it with a job
 * (`opts.telemetry.metadata`, which `bullmq-otel` also reads): a JSON object holding the W3C
 * `traceparent` (and `tracestate`). Undefined when tracing is off or no span is active.
 */
export function traceMetadata(): string | undefined {
  const carrier: Record<string, string> = {};
  propagation.inject(context.active(), carrier);
  return carrier.traceparent ? JSON.stringify(carrier) : undefined;
}

function carrierOf(metadata: string | undefined): Record<string, string> {
  if (!metadata) return {};
  try {
    const parsed: unknown = JSON.parse(metadata);
    return typeof parsed === 'object' && parsed !== null ? (parsed as Record<string, string>) : {};
  } catch {
    // metadata some other producer wrote: the job runs in a trace of its own
    return {};
  }
}

/** The trace id of the active span, when tracing is on and a span is active. */
export function activeTraceId(): string | undefined {
  const spanContext = trace.getActiveSpan()?.spanContext();
  return spanContext && isSpanContextValid(spanContext) ? spanContext.traceId : undefined;
}

/** The trace id in a W3C `traceparent` value: a caller's, or the one a job carries. */
export function traceIdOfTraceparent(traceparent: unknown): string | undefined {
  if (typeof traceparent !== 'string') return undefined;
  const traceId = TRACEPARENT.exec(traceparent)?.[1];
  return traceId && traceId !== '0'.repeat(32) ? traceId : undefined;
}

/** The trace id a job carries in its metadata (see `traceMetadata`). */
export function traceIdOfMetadata(metadata: string | undefined): string | undefined {
  return traceIdOfTraceparent(carrierOf(metadata).traceparent);
}

export interface SpanOptions {
  name: string;
  kind: 'producer' | 'consumer';
  attributes: Attributes;
  /** For a consumer: the metadata its job carries, whose span becomes the parent. */
  parentMetadata?: string | undefined;
  /** Errors that end the work without failing it (a job postponed or put back). */
  isExpected?: (error: unknown) => boolean;
}

/**
 * Runs `work` in a span of its own, active for everything `work` calls (Redis, PostgreSQL,
 * HTTP), ended when it settles, and marked as failed when it throws. Without tracing `work` runs
 * as it is: no parent context is extracted, no no-op span made and no wrapper awaited, since the
 * worker runs this for every job.
 */
export function inSpan<T>(options: SpanOptions, work: () => Promise<T>): Promise<T> {
  if (!isTracerRegistered()) {
    try {
      return work();
    } catch (error) {
      // as inside a span: a `work` that throws at once rejects, like one that fails later
      return Promise.reject(error);
    }
  }
  const parent: Context =
    options.parentMetadata === undefined
      ? context.active()
      : propagation.extract(ROOT_CONTEXT, carrierOf(options.parentMetadata));
  return tracer.startActiveSpan(
    options.name,
    {
      kind: options.kind === 'producer' ? SpanKind.PRODUCER : SpanKind.CONSUMER,
      attributes: options.attributes,
    },
    parent,
    async (span) => {
      try {
        return await work();
      } catch (error) {
        if (!options.isExpected?.(error)) {
          span.recordException(error instanceof Error ? error : String(error));
          span.setStatus({
            code: SpanStatusCode.ERROR,
            message: error instanceof Error ? error.message : String(error),
          });
        }
        throw error;
      } finally {
        span.end();
      }
    },
  );
}

/**
 * For the active server span: a function that names it after the route template
 * (`POST /v1/jobs`), as OpenTelemetry's HTTP conventions ask, once the route is known (the HTTP
 * instrumentation knows only the method).
 */
export function serverSpanNamer(): (method: string, route: string) => void {
  const span = trace.getActiveSpan();
  if (!span?.isRecording()) return () => {};
  return (method, route) => {
    span.updateName(`${method} ${route}`);
    span.setAttribute('http.route', route);
  };
}
