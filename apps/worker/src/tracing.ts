// Node runs this before main.ts (`node --import ./dist/tracing.js dist/main.js`), so that
// OpenTelemetry patches HTTP, PostgreSQL and Redis before the app imports them. It starts nothing
// unless OTEL_EXPORTER_OTLP_ENDPOINT is set (docs/observability.md).
import { startTracing } from '@repo/tracing';

await startTracing({ serviceName: 'worker' });
