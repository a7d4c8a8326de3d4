import { readPackageVersion, runService } from '@repo/lifecycle';
import { apiEnv } from './env.ts';
import { createApiService } from './service.ts';

const version = readPackageVersion(new URL('../package.json', import.meta.url));

await runService({
  service: 'api',
  version,
  envSchema: apiEnv,
  start: ({ config, logger }) => createApiService(config, logger, { version }),
});
