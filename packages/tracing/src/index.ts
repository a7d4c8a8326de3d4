export {
  activeTraceId,
  inSpan,
  type SpanOptions,
  serverSpanNamer,
  traceIdOfMetadata,
  traceIdOfTraceparent,
  traceMetadata,
} from './job-trace.ts';
export {
  isTracingEnabled,
  type RunningTracing,
  type StartTracingOptions,
  startTracing,
} from './start-tracing.ts';
