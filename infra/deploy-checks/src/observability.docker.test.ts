import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { OBSERVABILITY_DIR } from './observability.ts';
import { readRepoFile, repoPath } from './repo.ts';

/** The Prometheus image compose runs (its default tag): its promtool checks the files. */
function prometheusImage(): string {
  const compose = parse(readRepoFile('infra/compose.yaml')) as {
    services: { prometheus: { image: string } };
  };
  const image = /^\$\{PROMETHEUS_IMAGE:-(.+)\}$/.exec(compose.services.prometheus.image)?.[1];
  if (!image) throw new Error('infra/compose.yaml: prometheus.image has no default');
  return image;
}

const image = prometheusImage();
const dir = repoPath(OBSERVABILITY_DIR);
// the api job's credentials file, which compose provides from METRICS_TOKEN
const scratch = mkdtempSync(path.join(tmpdir(), 'promtool-'));
const token = path.join(scratch, 'metrics-token');
writeFileSync(token, '');

function promtool(...args: string[]) {
  const result = spawnSync(
    'docker',
    [
      'run',
      '--rm',
      '--network=none',
      '-v',
      `${dir}/prometheus.yml:/etc/prometheus/prometheus.yml:ro`,
      '-v',
      `${dir}/alerts.yml:/etc/prometheus/alerts.yml:ro`,
      '-v',
      `${dir}/alerts.test.yml:/etc/prometheus/alerts.test.yml:ro`,
      '-v',
      `${token}:/etc/prometheus/metrics-token:ro`,
      '--entrypoint',
      'promtool',
      image,
      ...args,
    ],
    { encoding: 'utf8', timeout: 120_000 },
  );
  return { status: result.status, output: `${result.stdout}${result.stderr}${result.error ?? ''}` };
}

describe(`promtool (${image})`, () => {
  afterAll(() => rmSync(scratch, { recursive: true, force: true }));

  it('has the image (`../shared/docker/provision.sh images <image>` builds one where no registry answers)', () => {
    const inspect = spawnSync('docker', ['image', 'inspect', image], { encoding: 'utf8' });
    expect(inspect.status, `docker image inspect ${image}: ${inspect.stderr}`).toBe(0);
  });

  it('accepts the Prometheus config and its rules', () => {
    const result = promtool('check', 'config', '/etc/prometheus/prometheus.yml');
    expect(result.status, result.output).toBe(0);
    // every alert of the file, as the file declares them
    const alerts = parse(readRepoFile(`${OBSERVABILITY_DIR}/alerts.yml`)) as {
      groups: { rules: unknown[] }[];
    };
    const rules = alerts.groups.reduce((count, group) => count + group.rules.length, 0);
    expect(rules).toBeGreaterThan(0);
    expect(result.output).toContain(`SUCCESS: ${rules} rules found`);
  });

  it('passes the alert rules unit tests: each alert fires when it should and only then', () => {
    const result = promtool('test', 'rules', '/etc/prometheus/alerts.test.yml');
    expect(result.status, result.output).toBe(0);
    expect(result.output).toContain('SUCCESS');
  });
});
