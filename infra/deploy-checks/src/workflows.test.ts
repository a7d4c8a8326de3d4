import { NoOperationTraceWriter } from '@actions/workflow-parser';
import { parseAction } from '@actions/workflow-parser/actions/index';
import { describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { deployableApps, existsInRepo, readManifest, readRepoFile } from './repo.ts';
import {
  actionReferences,
  lintWorkflow,
  parseWorkflowYaml,
  pnpmScriptsRun,
  type Workflow,
  type WorkflowJob,
  type WorkflowStep,
  workflowFiles,
} from './workflows.ts';

const CI = '.github/workflows/ci.yml';
const RELEASE = '.github/workflows/release.yml';
const SETUP_ACTION = '.github/actions/setup/action.yml';

const workflow = (file: string): Workflow => parseWorkflowYaml(readRepoFile(file));
const steps = (job: WorkflowJob | undefined): WorkflowStep[] => job?.steps ?? [];
const allRuns = (file: string): string[] =>
  Object.values(workflow(file).jobs).flatMap((job) => steps(job).flatMap((s) => s.run ?? []));

describe('GitHub workflows', () => {
  it('include CI and the image release', () => {
    expect(workflowFiles()).toEqual(expect.arrayContaining([CI, RELEASE]));
  });

  it.each(workflowFiles())("%s passes GitHub's workflow schema and actionlint", async (file) => {
    expect(await lintWorkflow(file, readRepoFile(file))).toEqual([]);
  });

  it(`${SETUP_ACTION} passes GitHub's action schema`, () => {
    const parsed = parseAction(
      { name: SETUP_ACTION, content: readRepoFile(SETUP_ACTION) },
      new NoOperationTraceWriter(),
    );
    expect(parsed.context.errors.getErrors().map((e) => e.message)).toEqual([]);
  });

  it('the linters catch a broken workflow (they are not vacuous)', async () => {
    const broken = readRepoFile(CI)
      .replace('cancel-in-progress: true', 'cancel-in-progres: true')
      .replace('needs: [', 'needs: [ghost, ');
    const findings = await lintWorkflow(
      'broken.yml',
      `${broken}\n  extra:\n    needs: [nothing]\n    runs-on: ubuntu-24.04\n    steps:\n      - run: echo \${{ matrix.nope }}\n`,
    );
    expect(findings.join('\n')).toMatch(/cancel-in-progres/);
    expect(findings.join('\n')).toMatch(/nothing/);
  });

  it('pin every action to a full commit SHA, with its version in a comment, the same everywhere', () => {
    const pins = new Map<string, string>();
    const problems: string[] = [];
    for (const file of [...workflowFiles(), SETUP_ACTION]) {
      for (const ref of actionReferences(readRepoFile(file))) {
        const [action = '', sha = ''] = ref.uses.split('@');
        if (!/^[0-9a-f]{40}$/.test(sha))
          problems.push(`${file}:${ref.line} ${ref.uses} is not pinned to a commit SHA`);
        if (!/^v\d+(\.\d+){0,2}$/.test(ref.comment))
          problems.push(`${file}:${ref.line} ${ref.uses} has no "# vX.Y.Z" comment`);
        const pinned = pins.get(action);
        if (pinned && pinned !== ref.uses)
          problems.push(`${file}:${ref.line} ${action} is pinned to two commits`);
        pins.set(action, ref.uses);
      }
    }
    expect(problems).toEqual([]);
    expect(pins.size).toBeGreaterThan(0);
  });

  describe('Dependabot', () => {
    const config = parse(readRepoFile('.github/dependabot.yml')) as {
      version: number;
      updates: { 'package-ecosystem': string; directories?: string[]; directory?: string }[];
    };
    const directoriesOf = (ecosystem: string) =>
      config.updates
        .filter((u) => u['package-ecosystem'] === ecosystem)
        .flatMap((u) => u.directories ?? (u.directory ? [u.directory] : []));

    it('keeps the pinned actions current, in the workflows and the composite action', () => {
      expect(config.version).toBe(2);
      expect(directoriesOf('github-actions')).toEqual(
        expect.arrayContaining(['/', '/.github/actions/*']),
      );
    });

    it('keeps the npm dependencies of the workspace current (the root, where the lockfile is)', () => {
      expect(existsInRepo('pnpm-lock.yaml')).toBe(true);
      expect(directoriesOf('npm')).toEqual(['/']);
    });

    it("keeps every app's Docker base image current, and the images compose runs", () => {
      expect([...directoriesOf('docker')].sort()).toEqual(
        deployableApps()
          .map((app) => `/${app.dir}`)
          .sort(),
      );
      for (const app of deployableApps()) {
        expect(readRepoFile(app.dockerfile)).toMatch(/^ARG NODE_IMAGE=\S+/m);
      }
      expect(directoriesOf('docker-compose')).toEqual(['/infra']);
      expect(existsInRepo('infra/compose.yaml')).toBe(true);
    });
  });

  it('grant read-only access by default; only the release job may write packages', () => {
    const problems: string[] = [];
    for (const file of workflowFiles()) {
      const wf = workflow(file);
      if (typeof wf.permissions !== 'object') {
        problems.push(`${file}: no top-level permissions map (the default token may write)`);
      } else {
        for (const [scope, level] of Object.entries(wf.permissions)) {
          if (level !== 'read' && level !== 'none')
            problems.push(`${file}: top-level ${scope}: ${level}`);
        }
      }
      for (const [id, job] of Object.entries(wf.jobs)) {
        if (typeof job.permissions === 'string')
          problems.push(`${file}: job ${id}: permissions: ${job.permissions}`);
        for (const [scope, level] of Object.entries(job.permissions ?? {})) {
          const allowed = file === RELEASE && id === 'publish' && scope === 'packages';
          if (level === 'write' && !allowed) problems.push(`${file}: job ${id}: ${scope}: write`);
        }
      }
    }
    expect(problems).toEqual([]);
    expect(workflow(RELEASE).jobs.publish?.permissions).toMatchObject({ packages: 'write' });
  });

  it('never leave the checkout token behind for later steps', () => {
    for (const file of workflowFiles()) {
      for (const job of Object.values(workflow(file).jobs)) {
        for (const step of steps(job).filter((s) => s.uses?.startsWith('actions/checkout@'))) {
          expect(step.with?.['persist-credentials'], `${file}: ${step.uses}`).toBe(false);
        }
      }
    }
  });
});

describe(CI, () => {
  const ci = workflow(CI);

  it('cancels a run when a newer commit supersedes it', () => {
    expect(ci.concurrency).toMatchObject({ 'cancel-in-progress': true });
    expect(typeof ci.concurrency === 'object' && ci.concurrency.group).toMatch(/github\.ref/);
  });

  it('runs every pnpm step of .ci/run (lint, typecheck, test, end-to-end)', () => {
    const ciRun = readRepoFile('.ci/run');
    const local = [...ciRun.matchAll(/^step\s+"[^"]+"\s+(pnpm\s+.+)$/gm)]
      .map((m) => (m[1] ?? '').trim())
      .filter((command) => !command.startsWith('pnpm install'));
    expect(local.length).toBeGreaterThan(0);
    expect(allRuns(CI)).toEqual(expect.arrayContaining(local));
  });

  it('runs only scripts that exist in the root package.json', () => {
    const scripts = Object.keys(readManifest('.').scripts ?? {});
    const used = [...workflowFiles(), SETUP_ACTION].flatMap((file) => {
      const text = readRepoFile(file);
      return [...text.matchAll(/^\s*(?:-\s+)?run:\s*(.+)$/gm)].flatMap((m) =>
        pnpmScriptsRun(m[1] ?? ''),
      );
    });
    expect(used.filter((s) => !scripts.includes(s))).toEqual([]);
    // the suites run once, with coverage (`pnpm test` plus the report and its thresholds)
    expect(used).toEqual(
      expect.arrayContaining(['lint', 'typecheck', 'test:coverage', 'test:e2e']),
    );
  });

  it('gives the tests PostgreSQL and Redis, under the variables turbo passes to tests', () => {
    const job = Object.values(ci.jobs).find((j) =>
      steps(j).some((s) => s.run === 'pnpm test:coverage'),
    );
    expect(job, 'a job running pnpm test:coverage').toBeDefined();
    const turbo = JSON.parse(readRepoFile('turbo.json')) as {
      tasks: Record<string, { env?: string[] }>;
    };
    const declared = turbo.tasks.test?.env ?? [];
    expect(declared.length).toBeGreaterThan(0);
    // …and they are what tooling/testing connects with.
    const testing = readRepoFile('tooling/testing/src/services.ts');
    const read = [...testing.matchAll(/process\.env\.(\w+)/g)].map((m) => m[1]);
    expect([...declared].sort()).toEqual([...new Set(read)].sort());
    // Everything the test task declares is set (anything else would not reach the tests:
    // Turborepo's strict environment mode passes only declared variables).
    expect(Object.keys(job?.env ?? {}).sort()).toEqual([...declared].sort());
    const services = job?.services ?? {};
    expect(Object.values(services).map((s) => s.image.split(':')[0])).toEqual(
      expect.arrayContaining(['postgres', 'redis']),
    );
    const ports = Object.values(services).flatMap((s) => (s.ports ?? []).map(String));
    for (const url of Object.values(job?.env ?? {})) {
      const port = new URL(url).port;
      expect(
        ports.some((p) => p.split(':')[0] === port),
        `${url} is a published service port`,
      ).toBe(true);
    }
  });

  it('builds every app image with buildx and a per-app layer cache in GitHub Actions', () => {
    const job = Object.values(ci.jobs).find((j) =>
      steps(j).some((s) => s.uses?.startsWith('docker/build-push-action@')),
    );
    expect([...((job?.strategy?.matrix?.app as string[]) ?? [])].sort()).toEqual(
      deployableApps().map((a) => a.name),
    );
    expect(steps(job).some((s) => s.uses?.startsWith('docker/setup-buildx-action@'))).toBe(true);
    const build = steps(job).find((s) => s.uses?.startsWith('docker/build-push-action@'));
    checkImageBuild(build, job?.strategy?.matrix?.app as string[]);
    expect(build?.with?.push).toBe(false);
  });
});

describe(RELEASE, () => {
  const release = workflow(RELEASE);
  const job = release.jobs.publish;
  const build = steps(job).find((s) => s.uses?.startsWith('docker/build-push-action@'));

  it('publishes every app image to GHCR, tagged with the git commit', () => {
    expect([...((job?.strategy?.matrix?.app as string[]) ?? [])].sort()).toEqual(
      deployableApps().map((a) => a.name),
    );
    checkImageBuild(build, job?.strategy?.matrix?.app as string[]);
    expect(build?.with?.push).toBe(true);
    expect(String(build?.with?.tags)).toMatch(/:\$\{\{ env\.REVISION \}\}$/);
    expect(job?.env?.REVISION).toMatch(/github\.event\.workflow_run\.head_sha \|\| github\.sha/);
    const login = steps(job).find((s) => s.uses?.startsWith('docker/login-action@'));
    expect(login?.with?.registry).toBe('ghcr.io');
  });

  it('by hand, publishes only a commit CI passed on, never any ref on request', () => {
    const on = release.on as Record<string, unknown>;
    expect(Object.keys(on)).toContain('workflow_dispatch');
    const gate = release.jobs['ci-passed'] as WorkflowJob & { if?: string };
    expect(gate.if).toBe("github.event_name == 'workflow_dispatch'");
    expect(gate.permissions).toEqual({ actions: 'read' });
    const script = steps(gate)
      .map((s) => s.run ?? '')
      .join('\n');
    // asks for successful runs of the CI workflow file, for exactly the dispatched commit
    expect(script).toMatch(/actions\/workflows\/ci\.yml\/runs\?head_sha=\$\{SHA\}&status=success/);
    // biome-ignore lint/suspicious/noTemplateCurlyInString: a GitHub Actions expression
    expect(steps(gate)[0]?.env?.SHA).toBe('${{ github.sha }}');
    expect(script).toMatch(/exit 1/);
    expect(existsInRepo(CI)).toBe(true);
    // publish waits for it, and a dispatch publishes only when it succeeded
    expect(job?.needs).toEqual(['ci-passed']);
    const condition = String((job as { if?: string } | undefined)?.if);
    expect(condition).toMatch(
      /github\.event_name == 'workflow_dispatch' && needs\.ci-passed\.result == 'success'/,
    );
    expect(condition).not.toMatch(/github\.event_name == 'workflow_dispatch' \|\|/);
  });

  it('releases only what CI passed on a push to main, and never cancels a push half-way', () => {
    expect(JSON.stringify(release.on)).toMatch(/"workflow_run".*"CI"/);
    expect(workflow(CI).name).toBe('CI');
    expect(String((job as { if?: string } | undefined)?.if)).toMatch(/conclusion == 'success'/);
    expect(release.concurrency).toMatchObject({ 'cancel-in-progress': false });
  });
});

/** A build-push step builds apps/<app>/Dockerfile from the root, with a cache scope per app. */
function checkImageBuild(step: WorkflowStep | undefined, apps: string[]): void {
  expect(step?.with?.context).toBe('.');
  const file = String(step?.with?.file);
  for (const app of apps) {
    // biome-ignore lint/suspicious/noTemplateCurlyInString: a GitHub Actions expression
    const resolved = file.replace('${{ matrix.app }}', app);
    expect(resolved).toBe(`apps/${app}/Dockerfile`);
    expect(existsInRepo(resolved), resolved).toBe(true);
  }
  expect(String(step?.with?.['cache-from'])).toMatch(
    /^type=gha,.*scope=[^,]*\$\{\{ matrix\.app \}\}/,
  );
  expect(String(step?.with?.['cache-to'])).toMatch(
    /^type=gha,mode=max,.*scope=[^,]*\$\{\{ matrix\.app \}\}/,
  );
}
