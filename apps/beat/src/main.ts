import { readPackageVersion, runService } from '@repo/lifecycle';
import { beatEnv } from './env.ts';
import { createBeatService } from './service.ts';

const version = readPackageVersion(new URL('../package.json', import.meta.url));

await runService({
  service: 'beat',
  version,
  envSchema: beatEnv,
  start: ({ config, logger }) => createBeatService(config, logger, { version }),
});
