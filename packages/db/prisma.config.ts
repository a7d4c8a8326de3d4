import { defineConfig } from 'prisma/config';

// The Prisma CLI's view of this package. Only `migrate dev/deploy/status` and `db pull` need a
// database: they read DATABASE_URL, and `generate` runs without it.
export default defineConfig({
  schema: 'prisma/schema.prisma',
  migrations: { path: 'prisma/migrations' },
  datasource: { url: process.env.DATABASE_URL ?? '' },
});
