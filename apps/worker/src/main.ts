import { readPackageVersion, runService } from '@repo/lifecycle';
import { workerEnv } from './env.ts';
import { createWorkerService } from './service.ts';

const version = readPackageVersion(new URL('../package.json', import.meta.url));

await runService({
  service: 'worker',
  version,
  envSchema: workerEnv,
  start: ({ config, logger }) => createWorkerService(config, logger, { version }),
});
