import { fileURLToPath } from 'node:url';

const root = fileURLToPath(new URL('../../../', import.meta.url));

export type App = 'api' | 'worker' | 'beat';
export const APPS: readonly App[] = ['api', 'worker', 'beat'];

export const paths = {
  root,
  results: fileURLToPath(new URL('../../results/', import.meta.url)),
  baselines: fileURLToPath(new URL('../baselines/', import.meta.url)),
  benchmarksMd: `${root}BENCHMARKS.md`,
  /** The production entry of an app, built by `turbo run build`. */
  dist: (app: App) => `${root}apps/${app}/dist/main.js`,
  /** What the images run before main.js (`node --import`): OpenTelemetry, when configured. */
  tracing: (app: App) => `${root}apps/${app}/dist/tracing.js`,
  packageJson: (app: App) => `${root}apps/${app}/package.json`,
};
