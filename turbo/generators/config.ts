// Generators that keep new code in the house's shape: `pnpm gen <generator> --args …`
// (`turbo gen` runs the same file, but fetches @turbo/gen at turbo's own version, which the
// registry does not always have; the root script runs the @turbo/gen the lockfile pins).
import { execFileSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { dirname, join } from 'node:path';
import type { PlopTypes } from '@turbo/gen';

/** `report.render` → `report-render` (file names). */
const kebab = (name: string) => name.replaceAll('.', '-');
/** `report.render` → `reportRender` (identifiers). */
const camel = (name: string) =>
  name.replace(/[.-]([a-z0-9])/g, (_match, letter: string) => letter.toUpperCase());

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
          type: 'modify',
          path: `${root}/packages/jobs/src/registry.ts`,
          pattern: /(\n\/\*\* Every job type\.)/,
          template: "import { {{ camel }} } from './types/{{ kebab }}.ts';\n$1",
          data,
        },
        {
          type: 'modify',
          path: `${root}/packages/jobs/src/registry.ts`,
          pattern: /(\n} as const;)/,
          template: '\n  [{{ camel }}.type]: {{ camel }},$1',
          data,
        },
        {
          type: 'add',
          path: `${root}/apps/worker/src/handlers/{{ kebab }}.ts`,
          templateFile: 'templates/job-type/handler.ts.hbs',
          data,
        },
        {
          type: 'modify',
          path: `${root}/apps/worker/src/handlers/index.ts`,
          pattern: /(\nexport type \{ JobContext)/,
          template: "import { {{ camel }} } from './{{ kebab }}.ts';\n$1",
          data,
        },
        {
          type: 'modify',
          path: `${root}/apps/worker/src/handlers/index.ts`,
          pattern: /(\n {2}};\n}\n?$)/,
          template: "\n    '{{ name }}': {{ camel }},$1",
          data,
        },
        {
          type: 'add',
          path: `${root}/apps/worker/src/handlers/{{ kebab }}.postgres-redis.test.ts`,
          templateFile: 'templates/job-type/handler.test.ts.hbs',
          data,
        },
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
}
