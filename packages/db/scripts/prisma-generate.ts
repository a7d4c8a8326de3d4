// `pnpm generate`: writes the Prisma client into src/generated/prisma.
//
// The Prisma CLI insists on a schema-engine binary before it does anything, and downloads one
// from binaries.prisma.sh when none is there. `generate` never runs that engine (the client is
// built by the CLI's bundled Wasm), so pointing PRISMA_SCHEMA_ENGINE_BINARY at any existing file
// lets it run offline: on machines without internet access, in Docker builds, and in CI alike.
// This file itself serves as that path; it is not executable, so a future CLI that did try to
// run it would fail loudly instead of doing something else. A value set by the caller wins, and
// `prisma migrate …` is run directly (not through this script) so it uses the real engine.
import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const packageRoot = join(dirname(fileURLToPath(import.meta.url)), '..');
const require = createRequire(import.meta.url);
const cliPackage = require.resolve('prisma/package.json');
const { bin } = JSON.parse(readFileSync(cliPackage, 'utf8')) as { bin: { prisma: string } };

const result = spawnSync(
  process.execPath,
  [join(dirname(cliPackage), bin.prisma), 'generate', ...process.argv.slice(2)],
  {
    cwd: packageRoot,
    stdio: 'inherit',
    env: {
      ...process.env,
      PRISMA_SCHEMA_ENGINE_BINARY:
        process.env.PRISMA_SCHEMA_ENGINE_BINARY || fileURLToPath(import.meta.url),
      // the update check is a network call; it only delays generate where there is no network
      CHECKPOINT_DISABLE: process.env.CHECKPOINT_DISABLE ?? '1',
    },
  },
);
if (result.error) throw result.error;
process.exit(result.status ?? 1);
