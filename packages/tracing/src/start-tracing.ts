import { register } from 'node:module';

/** Incoming requests that are not traffic: probes every few seconds and Prometheus scrapes. */
const UNTRACED_PATHS = new Set(['/health', '/health/live', '/health/ready', '/metrics']);

export interface StartTracingOptions {
  /** `service.name` unless OTEL_SERVICE_NAME says otherwise: api, worker or beat. */
  serviceName: string;
  env?: NodeJS.ProcessEnv;
}

export interface RunningTracing {
  /** Exports the spans still buffered and stops. */
  shutdown(): Promise<void>;
}

/**
 * On when an OTLP endpoint is configured (OTEL_EXPORTER_OTLP_ENDPOINT, or the traces-only
 * OTEL_EXPORTER_OTLP_TRACES_ENDPOINT) and OTEL_SDK_DISABLED is not true.
 */
export function isTracingEnabled(env: NodeJS.ProcessEnv = process.env): boolean {
  const endpoint = env.OTEL_EXPORTER_OTLP_ENDPOINT || env.OTEL_EXPORTER_OTLP_TRACES_ENDPOINT;
  return Boolean(endpoint) && env.OTEL_SDK_DISABLED?.toLowerCase() !== 'true';
}

/**
 * Starts OpenTelemetry's Node SDK, configured by the standard OTEL_* variables alone (exporter,
 * protocol, headers, sampler, resource attributes), with spans for HTTP (server and client),
 * PostgreSQL and Redis. Does nothing, and loads none of the SDK, unless tracing is enabled.
 *
 * Must run before the app's modules load: the instrumentations patch `node:http`, `pg` and
 * `ioredis` as they are imported. Each app's `src/tracing.ts` calls it, and Node runs that file
 * first (`node --import ./dist/tracing.js dist/main.js`).
 */
export async function startTracing(
  options: StartTracingOptions,
): Promise<RunningTracing | undefined> {
  const env = options.env ?? process.env;
  if (!isTracingEnabled(env)) return undefined;
  // ES modules are patched through loader hooks (import-in-the-middle), registered before any
  // module they patch is imported
  register('@opentelemetry/instrumentation/hook.mjs', import.meta.url);
  const [{ NodeSDK }, { HttpInstrumentation }, { PgInstrumentation }, { IORedisInstrumentation }] =
    await Promise.all([
      import('@opentelemetry/sdk-node'),
      import('@opentelemetry/instrumentation-http'),
      import('@opentelemetry/instrumentation-pg'),
      import('@opentelemetry/instrumentation-ioredis'),
    ]);
  const sdk = new NodeSDK({
    // the SDK reads OTEL_SERVICE_NAME itself; this is the default when it is not set
    ...(env.OTEL_SERVICE_NAME ? {} : { serviceName: options.serviceName }),
    instrumentations: [
      new HttpInstrumentation({
        ignoreIncomingRequestHook: (request) =>
          UNTRACED_PATHS.has((request.url ?? '').split('?', 1)[0] ?? ''),
      }),
      // BullMQ polls Redis, and the worker's batched statements run, outside any request or job:
      // only calls made on behalf of one become spans
      new PgInstrumentation({ requireParentSpan: true }),
      new IORedisInstrumentation({ requireParentSpan: true }),
    ],
  });
  sdk.start();
  return { shutdown: () => sdk.shutdown() };
}
