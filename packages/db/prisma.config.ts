import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { defineConfig } from 'prisma/config';

// The Prisma CLI's view of this package. `generate` needs no database; `migrate dev/status`
// and `db pull` read DATABASE_URL, which locally comes from the workspace's .env files as it
// does for the apps: the environment wins over .env, .env over .env.development (Node's
// loadEnvFile never overrides a variable that is already set). Never read in production.
if (process.env.NODE_ENV !== 'production') {
  for (const name of ['.env', '.env.development']) {
    const file = fileURLToPath(new URL(`../../${name}`, import.meta.url));
    if (existsSync(file)) process.loadEnvFile(file);
  }
}

export default defineConfig({
  schema: 'prisma/schema.prisma',
  migrations: { path: 'prisma/migrations' },
  datasource: { url: process.env.DATABASE_URL ?? '' },
});
