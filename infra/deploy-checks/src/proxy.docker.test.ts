import { spawnSync } from 'node:child_process';
import { READY_DEADLINE_MS } from '@repo/testing';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { readRepoFile, repoPath } from './repo.ts';

// The proxy image (infra/proxy) in front of a stand-in api, on a network of their own: every line
// it writes, from its start to its stop, is one JSON object, like the apps' logs.

const run = (args: string[], allowFailure = false) => {
  const result = spawnSync('docker', args, { encoding: 'utf8', timeout: 10 * 60_000 });
  if (result.status !== 0 && !allowFailure) {
    throw new Error(`docker ${args.join(' ')} exited ${result.status}:\n${result.stderr}`);
  }
  return result;
};

const suffix = `deploy-checks-${process.pid}`;
const image = `jobstack-proxy:${suffix}`;
const network = `proxy-${suffix}`;
const names = { proxy: `proxy-${suffix}`, api: `api-${suffix}` };
/** The apps' base image (the proxy's too), already on every host that builds them. */
const baseImage = /^ARG NODE_IMAGE=(\S+)/m.exec(readRepoFile('infra/proxy/Dockerfile'))?.[1] ?? '';

/** An HTTP request from inside the proxy's container (the proxy publishes nothing here). */
function request(port: number, path: string): number {
  const script = `require('node:http').get({ port: ${port}, path: ${JSON.stringify(path)} }, (res) => { console.log(res.statusCode); res.resume(); }).on('error', () => console.log(0))`;
  return Number(run(['exec', names.proxy, 'node', '-e', script]).stdout.trim());
}

describe('the proxy image (infra/proxy)', () => {
  beforeAll(() => {
    expect(baseImage, 'infra/proxy/Dockerfile: ARG NODE_IMAGE=<default>').not.toBe('');
    run(['build', '--quiet', '--tag', image, repoPath('infra/proxy')]);
    run(['network', 'create', network]);
    // answers its readiness with 200 and every other path with a 500, which the proxy logs
    const api = `require('node:http').createServer((req, res) => { res.statusCode = req.url === '/health/ready' ? 200 : 500; res.end(); }).listen(8000)`;
    run([
      'run',
      '--detach',
      '--name',
      names.api,
      '--network',
      network,
      '--network-alias',
      'api',
      baseImage,
      'node',
      '-e',
      api,
    ]);
    run(['run', '--detach', '--name', names.proxy, '--network', network, image]);
  }, 10 * 60_000);

  afterAll(() => {
    run(['rm', '--force', names.proxy, names.api], true);
    run(['network', 'rm', network], true);
    run(['image', 'rm', image], true);
  });

  it(
    'writes one JSON object per line, its request log and its own notices alike, and stops with 0 on docker stop',
    async () => {
      // ready once it has found the api through Docker's DNS and checked it
      await vi.waitFor(
        () => {
          if (request(8405, '/ready') !== 200) throw new Error('the proxy is not ready');
        },
        { timeout: READY_DEADLINE_MS, interval: 500 },
      );
      expect(request(8000, '/health/ready')).toBe(200);
      // a 5xx is logged; the quote and backslash must come out escaped
      const path = '/fails/"quoted"\\slash';
      expect(request(8000, path)).toBe(500);

      run(['stop', names.proxy]);
      const { State } = JSON.parse(run(['inspect', names.proxy]).stdout)[0] as {
        State: { ExitCode: number };
      };
      expect(State.ExitCode).toBe(0);

      const { stdout, stderr } = run(['logs', names.proxy]);
      expect(stderr).toBe('');
      const lines = stdout.split('\n').filter((line) => line !== '');
      const notJson = lines.filter((line) => {
        try {
          const value: unknown = JSON.parse(line);
          return !(value && typeof value === 'object' && !Array.isArray(value));
        } catch {
          return true;
        }
      });
      expect(notJson).toEqual([]);
      const entries = lines.map((line) => JSON.parse(line) as Record<string, unknown>);
      for (const entry of entries) {
        expect(entry).toMatchObject({
          service: 'proxy',
          level: expect.stringMatching(/^(info|warn|error|fatal)$/),
          time: expect.stringMatching(/^\d{4}-\d\d-\d\dT/),
          msg: expect.any(String),
        });
      }
      // the failed request, and HAProxy's own messages on starting and stopping
      // HAProxy writes a URI's double quotes as #22 (its log escaping), the JSON encoding the rest
      expect(entries).toContainEqual(
        expect.objectContaining({
          msg: 'request',
          method: 'GET',
          path: path.replaceAll('"', '#22'),
          status: 500,
        }),
      );
      expect(entries.filter((e) => e.msg === 'request')).toHaveLength(1);
      expect(entries).toContainEqual(expect.objectContaining({ msg: 'Loading success.' }));
      expect(entries).toContainEqual(
        expect.objectContaining({ msg: expect.stringMatching(/^All workers exited/) }),
      );
    },
    5 * 60_000,
  );
});
