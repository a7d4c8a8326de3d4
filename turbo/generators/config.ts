// Generators that keep new code in the house's shape: `pnpm gen <generator> --args …`
// (`turbo gen` runs the same file, but fetches @turbo/gen at turbo's own version, which the
// registry does not always have; the root script runs the @turbo/gen the lockfile pins).
import { execFileSync } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import type { PlopTypes } from '@turbo/gen';
import {
  addWorkspaceDependency,
  buildDirectories,
  nextHealthPort,
  validateAppName,
} from './app-wiring.ts';
import { appendToFlowLists, insertInFile } from './file-edits.ts';
import { applyEdits, jobTypeEdits } from './job-type-edits.ts';

/** `report.render` → `report-render` (file names). */
const kebab = (name: string) => name.replaceAll('.', '-');
/** `report.render` → `reportRender` (identifiers). */
const camel = (name: string) =>
  name.replace(/[.-]([a-z0-9])/g, (_match, letter: string) => letter.toUpperCase());

/** `mail-sender` → `MailSender` (type and function names). */
const pascal = (name: string) => camel(name).replace(/^[a-z]/, (letter) => letter.toUpperCase());
/** `mail-sender` → `MAIL_SENDER` (environment variables, constants). */
const constant = (name: string) => name.replaceAll('-', '_').toUpperCase();

/**
 * A sentence the templates copy into JSON, YAML, TypeScript comments and a Dockerfile label as
 * it is: none of the characters Handlebars escapes or those files quote.
 */
const PLAIN_SENTENCE = /^[^"'`<>&=\\\n{}]+$/;

/** The image jobs' matrix of apps in the workflows: `app: [api, worker, beat]`. */
const APP_MATRIX = /(\bapp: \[)([^\]]*)\]/;
/** The apps' Dockerfile directories Dependabot keeps current. */
const DOCKER_DIRECTORIES = /(package-ecosystem: docker\n\s+directories: \[)([^\]]*)\]/;

const JOB_TYPE_NAME = /^[a-z][a-z0-9]*\.[a-z][a-z0-9-]*$/;
const PACKAGE_NAME = /^[a-z][a-z0-9-]*$/;

/** Runs a command at the repository root, for the steps a generator hands to existing tooling. */
function run(root: string, command: string, args: string[]): string {
  execFileSync(command, args, { cwd: root, stdio: 'inherit' });
  return `${command} ${args.join(' ')}`;
}

/** The directory holding pnpm-workspace.yaml, from `dir` upwards (generators run from anywhere inside). */
function repositoryRoot(dir: string): string {
  if (existsSync(join(dir, 'pnpm-workspace.yaml'))) return dir;
  const parent = dirname(dir);
  if (parent === dir) throw new Error('run the generators inside the repository');
  return repositoryRoot(parent);
}

export default function generators(plop: PlopTypes.NodePlopAPI): void {
  const repo = repositoryRoot(process.cwd());

  plop.setGenerator('job-type', {
    description:
      'A job type: its zod contract in packages/jobs, registered; a handler in apps/worker, registered; a test that runs it through the worker against real PostgreSQL and Redis',
    prompts: [
      {
        type: 'input',
        name: 'name',
        message: 'Job type, <area>.<action> (e.g. report.render):',
        validate: (value: string) =>
          JOB_TYPE_NAME.test(value) || 'expected <area>.<action> in lower case, e.g. report.render',
      },
      {
        type: 'input',
        name: 'description',
        message: 'What it does (one sentence, for docs/job-types.md):',
        default: 'Describe what this job does.',
      },
      {
        type: 'confirm',
        name: 'enqueueable',
        message: 'May API clients post it (POST /v1/jobs)?',
        default: false,
      },
    ],
    actions: (answers) => {
      const data = {
        ...answers,
        kebab: kebab(String(answers?.name)),
        camel: camel(String(answers?.name)),
      };
      const root = '{{ turbo.paths.root }}';
      return [
        {
          type: 'add',
          path: `${root}/packages/jobs/src/types/{{ kebab }}.ts`,
          templateFile: 'templates/job-type/contract.ts.hbs',
          data,
        },
        {
          type: 'add',
          path: `${root}/apps/worker/src/handlers/{{ kebab }}.ts`,
          templateFile: 'templates/job-type/handler.ts.hbs',
          data,
        },
        {
          type: 'add',
          path: `${root}/apps/worker/src/handlers/{{ kebab }}.postgres-redis.test.ts`,
          templateFile: 'templates/job-type/handler.test.ts.hbs',
          data,
        },
        () =>
          applyEdits(
            repo,
            jobTypeEdits({ name: String(answers?.name), kebab: data.kebab, camel: data.camel }),
          ),
        () => {
          run(repo, 'pnpm', ['--filter', '@repo/jobs', 'docs:job-types']);
          // an enqueueable type is a new body of POST /v1/jobs: the api's OpenAPI document and
          // the client's types, generated from it, follow
          run(repo, 'pnpm', ['--filter', '@repo/api', 'openapi']);
          run(repo, 'pnpm', ['--filter', '@repo/client', 'api-types']);
          return run(repo, 'pnpm', [
            'exec',
            'biome',
            'check',
            '--write',
            'packages/jobs',
            'apps/worker/src/handlers',
          ]);
        },
      ];
    },
  });

  plop.setGenerator('package', {
    description:
      "A library package under packages/: the house's package.json (exports with the development condition, scripts), tsconfig, Vitest config and README",
    prompts: [
      {
        type: 'input',
        name: 'name',
        message: 'Package name, without @repo/ (e.g. notifications):',
        validate: (value: string) =>
          PACKAGE_NAME.test(value) || 'expected lower case letters, digits and dashes',
      },
      {
        type: 'input',
        name: 'description',
        message: 'What it is for (one sentence):',
        default: 'Describe what this package is for.',
      },
    ],
    actions: (answers) => {
      const root = '{{ turbo.paths.root }}';
      const dir = `${root}/packages/{{ name }}`;
      const files: [string, string][] = [
        ['package.json', 'package.json.hbs'],
        ['tsconfig.json', 'tsconfig.json.hbs'],
        ['tsconfig.build.json', 'tsconfig.build.json.hbs'],
        ['vitest.config.ts', 'vitest.config.ts.hbs'],
        ['README.md', 'README.md.hbs'],
        ['src/index.ts', 'index.ts.hbs'],
      ];
      return [
        ...files.map(
          ([target, template]): PlopTypes.ActionType => ({
            type: 'add',
            path: `${dir}/${target}`,
            templateFile: `templates/package/${template}`,
            data: answers,
          }),
        ),
        () => {
          // links the new workspace package (and records it in the lockfile)
          return run(repo, 'pnpm', ['install', '--offline', '--no-frozen-lockfile']);
        },
      ];
    },
  });

  plop.setGenerator('app', {
    description:
      'A deployable queue consumer under apps/: its package, env, one wiring (service.ts), main, health check, tests and Dockerfile, and its service in compose, render.yaml, the Railway program, the CI image matrices, Dependabot, the environment reference and the coverage floors',
    prompts: [
      {
        type: 'input',
        name: 'name',
        message: 'App name, also its queue and service name (e.g. mailer):',
        validate: (value: string) => validateAppName(repo, value),
      },
      {
        type: 'input',
        name: 'description',
        message: 'What it does (one sentence):',
        default: 'Runs the jobs of its own queue.',
        validate: (value: string) =>
          PLAIN_SENTENCE.test(value) ||
          'one plain sentence: no quotes, backslashes, braces or any of < > & =',
      },
    ],
    actions: (answers) => {
      const name = String(answers?.name);
      const description = String(answers?.description);
      const data = {
        ...answers,
        camel: camel(name),
        pascal: pascal(name),
        constant: constant(name),
        port: nextHealthPort(repo),
      };
      const root = '{{ turbo.paths.root }}';
      const files = [
        'package.json',
        'tsconfig.json',
        'tsconfig.build.json',
        'vitest.config.ts',
        'README.md',
        'Dockerfile',
        'src/env.ts',
        'src/consumer.ts',
        'src/process-job.ts',
        'src/service.ts',
        'src/main.ts',
        'src/tracing.ts',
        'src/healthcheck.ts',
        'src/service.redis.test.ts',
        'src/main.redis.test.ts',
        'src/healthcheck.test.ts',
      ];
      const render = (template: string, extra: Record<string, unknown> = {}) =>
        plop.renderString(
          readFileSync(join(repo, 'turbo/generators/templates/app', template), 'utf8'),
          { ...data, ...extra },
        );
      return [
        ...files.map(
          (file): PlopTypes.ActionType => ({
            type: 'add',
            path: `${root}/apps/{{ name }}/${file}`,
            templateFile: `templates/app/${file}.hbs`,
            data,
          }),
        ),
        // the places that list the apps, each edited where the file's own structure says
        () => {
          const dirs = buildDirectories(repo, `apps/${name}`);
          return [
            insertInFile(repo, 'infra/compose.yaml', render('deploy/compose.yaml.hbs'), {
              before: /^ {2}# `--profile observability`/m,
            }),
            insertInFile(
              repo,
              'infra/render.yaml',
              render('deploy/render.yaml.hbs', { buildDirectories: dirs }),
              { before: /^ {2}# BullMQ keeps jobs and locks in Redis/m },
            ),
            insertInFile(
              repo,
              'infra/observability/prometheus.yml',
              render('deploy/prometheus.yml.hbs'),
              { before: /^ {2}- job_name: prometheus$/m },
            ),
            insertInFile(
              repo,
              '.railway/railway.ts',
              render('deploy/railway.ts.hbs', { buildDirectories: dirs }),
              { before: /^ {2}return project\(/m },
            ),
            insertInFile(repo, '.railway/railway.ts', `, ${data.camel}`, {
              before: /(?<=^ {2}return project\([^\n]*resources: \[[^\]]*)\]/m,
            }),
            appendToFlowLists(repo, '.github/workflows/ci.yml', APP_MATRIX, name),
            appendToFlowLists(repo, '.github/workflows/release.yml', APP_MATRIX, name),
            appendToFlowLists(
              repo,
              '.github/dependabot.yml',
              DOCKER_DIRECTORIES,
              `"/apps/${name}"`,
            ),
            insertInFile(
              repo,
              'tooling/env-reference/src/services.ts',
              `import { ${data.camel}Env } from '@repo/${name}/env';\n`,
              { before: /^\n\/\*\*/m },
            ),
            insertInFile(
              repo,
              'tooling/env-reference/src/services.ts',
              `  '${name}': ${data.camel}Env,\n`,
              { before: /^ {2}migrate: migrateEnv,/m },
            ),
            addWorkspaceDependency(repo, 'tooling/env-reference/package.json', `@repo/${name}`),
            insertInFile(
              repo,
              'docs/deploy.md',
              `| ${name} | \`apps/${name}/Dockerfile\` | ${description} | health server on \`HEALTH_PORT\` (${data.port}) |\n`,
              { before: /^\nEvery image builds \*\*from the repository root\*\*/m },
            ),
            insertInFile(
              repo,
              'docs/deploy.md',
              `   - \`jobstack-${name}\`: background worker (Docker);\n`,
              { before: /^ {3}- `jobstack-redis`/m },
            ),
            insertInFile(
              repo,
              'tooling/coverage/src/coverage-policy.ts',
              `    'apps/${name}': { lines: 80, branches: 70 },\n`,
              { before: /^ {4}'packages\//m },
            ),
          ].join(', ');
        },
        () => {
          // links the new app (and records it in the lockfile), then regenerates what is
          // generated from the apps' environments
          run(repo, 'pnpm', ['install', '--offline', '--no-frozen-lockfile']);
          run(repo, 'pnpm', ['docs:env']);
          run(repo, 'pnpm', ['placeholders']);
          return run(repo, 'pnpm', [
            'exec',
            'biome',
            'check',
            '--write',
            `apps/${name}`,
            '.railway',
            'tooling/env-reference',
            'tooling/coverage',
            'docs/deploy.md',
          ]);
        },
      ];
    },
  });
}
