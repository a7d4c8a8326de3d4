export {
  activeTraceId,
  inSpan,
  nameServerSpan,
  type SpanOptions,
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
