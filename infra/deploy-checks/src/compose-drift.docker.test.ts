import { describe, expect, it } from 'vitest';
import { checkRequiredVariables, checkShutdownWindow } from './checks.ts';
import { COMPOSE_STACKS, composeConfig, composeTargets } from './compose.ts';
import { formatProblem, type Problem } from './targets.ts';

// drift.test.ts for the compose files, which only `docker compose config` resolves
// (`pnpm test:docker`): a copy of the real file with one thing broken must be reported naming
// the file, the service and the variable.

const messages = (problems: Problem[]) => problems.map(formatProblem);

describe('a drift in the compose files', () => {
  const stack = COMPOSE_STACKS[0];

  it('a variable removed: names the file, the service and the variable', () => {
    if (!stack) throw new Error('no compose stack');
    const project = composeConfig(stack);
    delete project.services.worker?.environment?.WEBHOOK_SECRETS_KEY_FILE;
    expect(messages(checkRequiredVariables(composeTargets(project, 'infra/compose.yaml')))).toEqual(
      [
        'infra/compose.yaml: service "worker": does not provide WEBHOOK_SECRETS_KEY, which the worker config requires in production (docs/environment.md)',
      ],
    );
  });

  it('NODE_ENV dropped from the file: the image still runs production, so API_KEYS is still required', () => {
    if (!stack) throw new Error('no compose stack');
    const project = composeConfig(stack);
    const api = project.services.api?.environment;
    if (api) {
      delete api.NODE_ENV;
      delete api.API_KEYS_FILE;
    }
    expect(messages(checkRequiredVariables(composeTargets(project, 'infra/compose.yaml')))).toEqual(
      [
        'infra/compose.yaml: service "api": does not provide API_KEYS, which the api config requires in production (docs/environment.md)',
      ],
    );
  });

  it('a stop grace period shorter than SHUTDOWN_TIMEOUT', () => {
    if (!stack) throw new Error('no compose stack');
    const project = composeConfig(stack);
    const beat = project.services.beat;
    if (beat) beat.stop_grace_period = '10s';
    expect(messages(checkShutdownWindow(composeTargets(project, 'infra/compose.yaml')))).toEqual([
      'infra/compose.yaml: service "beat": allows 10 s between SIGTERM and SIGKILL, but SHUTDOWN_TIMEOUT is 25 s: give it at least 30 s',
    ]);
  });
});
