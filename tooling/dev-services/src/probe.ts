import { connect } from 'node:net';

/** How long a service may take to answer before it counts as absent. */
const PROBE_TIMEOUT_MS = 3_000;

/**
 * Whether a PostgreSQL server answers at `url`. Hand-written on a socket rather than with pg (and
 * ioredis below) because this runs before every `pnpm test` and `pnpm dev`: loading the client
 * libraries took seconds on a busy machine, the probe itself milliseconds. It sends the 8-byte
 * SSLRequest every client may open with; any PostgreSQL answers it with one byte ('S' or 'N')
 * before authentication, so a server that would refuse the login still counts as there.
 */
export function postgresAnswers(url: string): Promise<boolean> {
  const request = Buffer.alloc(8);
  request.writeInt32BE(8, 0);
  request.writeInt32BE(80877103, 4);
  return answers(
    url,
    5432,
    request,
    (reply) => reply.length > 0 && 'SNE'.includes(String.fromCharCode(reply[0] ?? 0)),
  );
}

/** Whether a Redis server answers at `url`: PING gets `+PONG`, or an error such as `-NOAUTH`. */
export function redisAnswers(url: string): Promise<boolean> {
  return answers(url, 6379, Buffer.from('PING\r\n'), (reply) =>
    /^[+-]/.test(reply.toString('latin1')),
  );
}

function answers(
  url: string,
  defaultPort: number,
  request: Buffer,
  recognise: (reply: Buffer) => boolean,
): Promise<boolean> {
  const { hostname, port } = new URL(url);
  return new Promise((resolve) => {
    const socket = connect({
      host: hostname.replace(/^\[|\]$/g, '') || '127.0.0.1',
      port: Number(port) || defaultPort,
    });
    const done = (answered: boolean) => {
      socket.destroy();
      resolve(answered);
    };
    socket.setTimeout(PROBE_TIMEOUT_MS, () => done(false));
    socket.once('error', () => done(false));
    socket.once('connect', () => socket.write(request));
    socket.once('data', (reply) => done(recognise(reply)));
  });
}
