import { execFileSync } from 'node:child_process';
import { cpSync, mkdirSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

// Each generator runs in a copy of this checkout (its tracked and new files, as they are now),
// and the copy must then pass what CI asks of the code it touched. Slow by nature: an install,
// a typecheck and real tests per generator.
const GENERATOR_TIMEOUT_MS = 900_000;

const root = fileURLToPath(new URL('../../../', import.meta.url));
let copy: string;

/**
 * The environment of the commands run in the copy: a coverage run's variables removed, since the
 * copy is another repository whose coverage would otherwise be merged into this one's report.
 */
function copyEnv(): NodeJS.ProcessEnv {
  const { TEST_COVERAGE_DIR: _suite, NODE_V8_COVERAGE: _processes, ...env } = process.env;
  return { ...env, CI: 'true', TURBO_TELEMETRY_DISABLED: '1' };
}

/** Runs a command in the copy; a failure throws with its output. */
function inCopy(command: string, args: string[]): string {
  try {
    return execFileSync(command, args, {
      cwd: copy,
      encoding: 'utf8',
      stdio: ['ignore', 'pipe', 'pipe'],
      env: copyEnv(),
    });
  } catch (error) {
    const { stdout, stderr } = error as { stdout?: string; stderr?: string };
    throw new Error(`${command} ${args.join(' ')} failed:\n${stdout ?? ''}\n${stderr ?? ''}`);
  }
}

beforeAll(() => {
  copy = mkdtempSync(join(tmpdir(), 'generators-'));
  const files = execFileSync('git', ['ls-files', '--cached', '--others', '--exclude-standard'], {
    cwd: root,
    encoding: 'utf8',
  })
    .split('\n')
    .filter(Boolean);
  for (const file of files) {
    mkdirSync(dirname(join(copy, file)), { recursive: true });
    cpSync(join(root, file), join(copy, file), { errorOnExist: false });
  }
  inCopy('pnpm', ['install', '--offline', '--frozen-lockfile']);
}, GENERATOR_TIMEOUT_MS);
afterAll(() => {
  if (copy) rmSync(copy, { recursive: true, force: true });
});

describe('pnpm gen (in a copy of the repository)', () => {
  it('job-type: a contract, a handler and a test that pass lint, typecheck and their tests', {
    timeout: GENERATOR_TIMEOUT_MS,
  }, () => {
    inCopy('pnpm', ['gen', 'job-type', '--args', 'report.render', 'Renders a report.', 'true']);

    expect(readFileSync(join(copy, 'packages/jobs/src/registry.ts'), 'utf8')).toContain(
      '[reportRender.type]: reportRender,',
    );
    expect(readFileSync(join(copy, 'docs/job-types.md'), 'utf8')).toContain('`report.render`');
    expect(readFileSync(join(copy, 'apps/api/openapi.json'), 'utf8')).toContain(
      '"CreateReportRenderJob"',
    );
    inCopy('pnpm', ['exec', 'biome', 'check', 'packages/jobs', 'apps/worker', 'docs']);
    inCopy('pnpm', [
      'turbo',
      'run',
      'typecheck',
      '--filter=@repo/jobs',
      '--filter=@repo/worker',
      '--filter=@repo/api',
      '--filter=@repo/client',
    ]);
    // the contract's docs are current, and the new handler runs through a real worker
    inCopy('pnpm', [
      '--filter',
      '@repo/jobs',
      'exec',
      'vitest',
      'run',
      'src/job-type-reference.test.ts',
    ]);
    inCopy('pnpm', [
      '--filter',
      '@repo/worker',
      'exec',
      'vitest',
      'run',
      'src/handlers/report-render.postgres-redis.test.ts',
    ]);
    // the api's document and the client's types are current
    inCopy('pnpm', [
      '--filter',
      '@repo/api',
      'exec',
      'vitest',
      'run',
      'src/openapi/document.test.ts',
    ]);
    inCopy('pnpm', ['--filter', '@repo/client', 'exec', 'vitest', 'run', 'src/api-types.test.ts']);
  });

  it('package: a package in the house shape that passes lint, typecheck and its tests', {
    timeout: GENERATOR_TIMEOUT_MS,
  }, () => {
    inCopy('pnpm', ['gen', 'package', '--args', 'notifications', 'Sends notifications.']);

    const manifest = JSON.parse(
      readFileSync(join(copy, 'packages/notifications/package.json'), 'utf8'),
    ) as { name: string; exports: Record<string, Record<string, string>> };
    expect(manifest.name).toBe('@repo/notifications');
    expect(manifest.exports['.']).toEqual({
      development: './src/index.ts',
      types: './dist/index.d.ts',
      default: './dist/index.js',
    });
    inCopy('pnpm', [
      'turbo',
      'run',
      'lint',
      'typecheck',
      'build',
      'test',
      '--filter=@repo/notifications',
    ]);
  });

  it('app: a queue consumer wired into every deploy file, passing lint, typecheck, its tests and the deploy checks', {
    timeout: GENERATOR_TIMEOUT_MS,
  }, () => {
    inCopy('pnpm', ['gen', 'app', '--args', 'mailer', 'Sends the mail that jobs queue.']);

    const read = (file: string) => readFileSync(join(copy, file), 'utf8');
    expect(read('apps/mailer/src/service.ts')).toContain(
      'export async function createMailerService(',
    );
    expect(read('apps/mailer/src/env.ts')).toContain('MAILER_CONCURRENCY');
    // the next free default health port: api 8000, worker 8001, beat 8002
    expect(read('docs/environment.md')).toMatch(/## mailer[\s\S]*`HEALTH_PORT` \| {2}\| `8003`/);
    expect(read('.railway/railway.ts')).toContain("const mailer = service('mailer', {");
    expect(read('infra/render.yaml')).toContain('name: jobstack-mailer');
    expect(read('infra/compose.yaml')).toContain('dockerfile: apps/mailer/Dockerfile');
    expect(read('infra/observability/prometheus.yml')).toContain('- job_name: mailer');
    expect(read('.github/workflows/ci.yml')).toContain('app: [api, worker, beat, mailer]');
    expect(read('.github/workflows/release.yml')).toContain('app: [api, worker, beat, mailer]');
    expect(read('.github/dependabot.yml')).toContain('"/apps/beat", "/apps/mailer"]');

    inCopy('pnpm', [
      'exec',
      'biome',
      'check',
      'apps/mailer',
      '.railway',
      '.github',
      'infra',
      'tooling/env-reference',
      'tooling/coverage',
      'docs',
    ]);
    inCopy('pnpm', [
      'turbo',
      'run',
      'typecheck',
      '--filter=@repo/mailer',
      '--filter=@repo/env-reference',
      '--filter=@repo/deploy-checks',
      '--filter=@repo/coverage',
    ]);
    // the app's own tests (real Redis, real processes), the generated environment reference and
    // the deploy checks: every platform file against the code, the new app included
    inCopy('pnpm', ['--filter', '@repo/mailer', 'test']);
    inCopy('pnpm', ['--filter', '@repo/env-reference', 'test']);
    inCopy('pnpm', ['--filter', '@repo/deploy-checks', 'test']);
  });
});
