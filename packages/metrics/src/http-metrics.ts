import { Histogram, type Registry } from 'prom-client';
import { boundedLabel, statusLabel } from './bounded-label.ts';

const KNOWN_METHODS = new Set(['GET', 'HEAD', 'POST', 'PUT', 'PATCH', 'DELETE', 'OPTIONS']);

export interface HttpRequestMetrics {
  /**
   * A request was answered. `route` is the route template (`/v1/jobs/:id`), never the raw path:
   * the caller decides what the templates are, so their number is the number of routes.
   */
  answered(request: { method: string; route: string; status: number }, seconds: number): void;
}

export function createHttpRequestMetrics(registry: Registry): HttpRequestMetrics {
  const duration = new Histogram({
    name: 'jobstack_http_request_duration_seconds',
    help: 'Time from receiving a request to finishing its response, by method, route template and status',
    labelNames: ['method', 'route', 'status'] as const,
    buckets: [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30],
    registers: [registry],
  });
  return {
    answered(request, seconds) {
      duration.observe(
        {
          method: boundedLabel(request.method, KNOWN_METHODS),
          route: request.route,
          status: statusLabel(request.status),
        },
        seconds,
      );
    },
  };
}
