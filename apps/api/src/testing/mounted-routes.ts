import type { Express } from 'express';

/** What Express 5's router (the `router` package) keeps per middleware or route. */
interface RouterLayer {
  rawPath?: unknown;
  route?: { path: unknown; methods: Record<string, boolean | undefined> };
  handle: { stack?: RouterLayer[] };
}

/**
 * Every route an app mounts, as `METHOD /path` (`.all()` handlers, such as the 405 answers, are
 * not routes of their own). Mounted routers are walked into; routers under `skip` are not.
 * Express has no public way to list routes, so this reads the router's layers.
 */
export function mountedRoutes(app: Express, skip: readonly string[] = []): string[] {
  const routes: string[] = [];
  const walk = (stack: readonly RouterLayer[], prefix: string) => {
    for (const layer of stack) {
      if (layer.route) {
        const paths = [layer.route.path].flat().map((path) => `${prefix}${String(path)}`);
        for (const path of paths) {
          for (const [method, handled] of Object.entries(layer.route.methods)) {
            if (handled && method !== '_all') routes.push(`${method.toUpperCase()} ${path}`);
          }
        }
        continue;
      }
      const nested = layer.handle.stack;
      if (nested === undefined) continue;
      const mountPath =
        typeof layer.rawPath === 'string' && layer.rawPath !== '/' ? layer.rawPath : '';
      if (skip.includes(`${prefix}${mountPath}`)) continue;
      walk(nested, `${prefix}${mountPath}`);
    }
  };
  walk((app.router as unknown as { stack: RouterLayer[] }).stack, '');
  return routes.sort();
}
