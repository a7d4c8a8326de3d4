// `pnpm dev` and `pnpm test` run through this: with-dev-services <dev|test> <command> [args…].
// It makes sure PostgreSQL and Redis answer (starting them when they do not, see
// dev-services.ts), runs the command with the variables pointing at them, and stops what it
// started when the command exits. Its exit code is the command's.
import { spawn } from 'node:child_process';
import { constants } from 'node:os';
import { workspaceRoot } from '../checkout.ts';
import {
  DevServicesError,
  type Mode,
  type PreparedServices,
  prepareServices,
} from '../dev-services.ts';

const [mode, command, ...args] = process.argv.slice(2);
if ((mode !== 'dev' && mode !== 'test') || command === undefined) {
  process.stderr.write('usage: with-dev-services <dev|test> <command> [args…]\n');
  process.exit(2);
}

const log = (line: string) => process.stderr.write(`dev-services: ${line}\n`);

let services: PreparedServices;
try {
  services = await prepareServices(mode as Mode, { root: workspaceRoot(), log });
} catch (error) {
  if (!(error instanceof DevServicesError)) throw error;
  process.stderr.write(`dev-services: ${error.message}\n`);
  process.exit(1);
}

const child = spawn(command, args, {
  stdio: 'inherit',
  env: { ...process.env, ...services.env },
});
// The command shares the terminal: a Ctrl-C reaches it directly. This process waits for it to
// finish (it may take a while to stop gracefully), then stops the services.
for (const signal of ['SIGINT', 'SIGTERM', 'SIGHUP'] as const) {
  process.on(signal, () => {
    if (signal !== 'SIGINT') child.kill(signal);
  });
}
const code = await new Promise<number>((resolve) => {
  child.once('error', (error) => {
    process.stderr.write(`dev-services: could not run ${command}: ${error.message}\n`);
    resolve(127);
  });
  child.once('exit', (exitCode, signal) =>
    resolve(exitCode ?? 128 + (signal ? constants.signals[signal] : 0)),
  );
});
await services.stop();
process.exit(code);
