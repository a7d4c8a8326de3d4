import { once } from 'node:events';
import { createConnection, createServer, type Server, type Socket } from 'node:net';
import { freePort } from '@repo/testing';

/**
 * A loopback TCP proxy in front of a real server (PostgreSQL here) that a test can cut: while cut,
 * every connection through it is closed and new ones are refused, as when the database host goes
 * away; restore() listens again on the same port.
 */
export interface TcpProxy {
  port: number;
  cut(): Promise<void>;
  restore(): Promise<void>;
  close(): Promise<void>;
}

export async function createTcpProxy(
  targetPort: number,
  targetHost = '127.0.0.1',
): Promise<TcpProxy> {
  const port = await freePort();
  const sockets = new Set<Socket>();
  let server: Server | undefined;

  const track = (socket: Socket) => {
    sockets.add(socket);
    socket.once('close', () => sockets.delete(socket));
  };
  const listen = async () => {
    server = createServer((client) => {
      track(client);
      const upstream = createConnection({ port: targetPort, host: targetHost });
      track(upstream);
      client.pipe(upstream).pipe(client);
      const destroyBoth = () => {
        client.destroy();
        upstream.destroy();
      };
      client.on('error', destroyBoth);
      upstream.on('error', destroyBoth);
      client.on('close', destroyBoth);
      upstream.on('close', destroyBoth);
    });
    server.listen(port, '127.0.0.1');
    await once(server, 'listening');
  };
  const cut = async () => {
    const closing = server;
    server = undefined;
    if (closing) {
      const closed = new Promise<void>((resolve) => closing.close(() => resolve()));
      for (const socket of sockets) socket.destroy();
      await closed;
    }
  };

  await listen();
  return {
    port,
    cut,
    async restore() {
      if (!server) await listen();
    },
    close: cut,
  };
}
