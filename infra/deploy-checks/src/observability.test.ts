import { describeServiceEnv } from '@repo/env-reference';
import { describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import {
  dashboardQueries,
  isExportedMetric,
  metricNamesIn,
  readAlertRules,
  readDashboard,
  readYaml,
} from './observability.ts';
import { deployableApps, existsInRepo, readRepoFile } from './repo.ts';

// Grafana cannot be fetched on every machine that runs these checks: its files are checked here,
// statically; Prometheus's rules run in its image (observability.docker.test.ts).

describe('metricNamesIn', () => {
  it('finds the metric names of an expression, not its functions, labels or keywords', () => {
    expect(
      metricNamesIn(
        'histogram_quantile(0.95, sum by (type, le) (rate(jobstack_job_wait_seconds_bucket{type=~"a|b"}[$__rate_interval]))) / on () up unless absent(foo_total offset 5m)',
      ).sort(),
    ).toEqual(['foo_total', 'jobstack_job_wait_seconds_bucket', 'up']);
  });
});

describe('the Grafana dashboard', () => {
  const dashboard = readDashboard();
  const queries = dashboardQueries(dashboard);

  it('has the panels an operator needs', () => {
    const titles = dashboard.panels.map((panel) => panel.title.toLowerCase()).join('\n');
    for (const topic of [
      'throughput',
      'failure ratio',
      'wait time',
      'run time',
      'queue depth',
      'latency',
      'errors',
    ]) {
      expect(titles).toContain(topic);
    }
  });

  it('queries only metrics the apps export', () => {
    expect(queries.length).toBeGreaterThan(10);
    const unknown = queries.flatMap(({ panel, expr }) =>
      metricNamesIn(expr)
        .filter((name) => !isExportedMetric(name))
        .map((name) => `${panel}: ${name}`),
    );
    expect(unknown).toEqual([]);
  });

  it('uses the provisioned Prometheus data source in every panel and query', () => {
    const provisioned = readYaml<{ datasources: { uid: string; type: string; url: string }[] }>(
      'grafana/provisioning/datasources/prometheus.yml',
    ).datasources;
    expect(provisioned).toHaveLength(1);
    const [datasource] = provisioned;
    expect(datasource).toMatchObject({ type: 'prometheus', url: 'http://prometheus:9090' });
    for (const panel of dashboard.panels.filter((p) => p.type !== 'row')) {
      expect(panel.datasource?.uid, panel.title).toBe(datasource?.uid);
      for (const target of panel.targets ?? [])
        expect(target.datasource?.uid).toBe(datasource?.uid);
    }
  });

  it('is loaded from where compose mounts it', () => {
    const provider = readYaml<{ providers: { type: string; options: { path: string } }[] }>(
      'grafana/provisioning/dashboards/jobstack.yml',
    ).providers;
    const compose = parse(readRepoFile('infra/compose.yaml')) as {
      services: Record<string, { volumes?: string[]; profiles?: string[] }>;
    };
    const grafana = compose.services.grafana;
    expect(grafana?.profiles).toEqual(['observability']);
    expect(grafana?.volumes).toContain(
      `./observability/grafana/dashboards:${provider[0]?.options.path}:ro`,
    );
    expect(grafana?.volumes).toContain(
      './observability/grafana/provisioning:/etc/grafana/provisioning:ro',
    );
  });
});

describe('Prometheus', () => {
  const config = readYaml<{
    rule_files: string[];
    scrape_configs: { job_name: string; dns_sd_configs?: { names: string[]; port: number }[] }[];
  }>('prometheus.yml');

  it('scrapes every app where compose runs it, on the port it serves /metrics on', () => {
    const jobs = Object.fromEntries(
      config.scrape_configs.map((job) => [job.job_name, job.dns_sd_configs?.[0]]),
    );
    expect(jobs.api).toEqual(expect.objectContaining({ names: ['api'], port: 8000 }));
    expect(jobs.worker).toEqual(expect.objectContaining({ names: ['worker'], port: 8001 }));
    expect(jobs.beat).toEqual(expect.objectContaining({ names: ['beat'], port: 8002 }));
    // the api serves /metrics on PORT, every other app on its health server's HEALTH_PORT
    for (const app of deployableApps()) {
      const port = describeServiceEnv(app.name).find(
        (v) => v.name === (app.name === 'api' ? 'PORT' : 'HEALTH_PORT'),
      )?.default;
      expect(jobs[app.name], app.name).toEqual(
        expect.objectContaining({ names: [app.name], port: Number(port) }),
      );
    }
  });

  it('loads rule files that exist, and compose mounts them beside the config', () => {
    const compose = parse(readRepoFile('infra/compose.yaml')) as {
      services: Record<string, { volumes?: string[] }>;
    };
    for (const file of config.rule_files) {
      expect(existsInRepo(`infra/observability/${file}`)).toBe(true);
      expect(compose.services.prometheus?.volumes).toContain(
        `./observability/${file}:/etc/prometheus/${file}:ro`,
      );
    }
  });

  it('alerts only on metrics the apps export, each with a runbook section in the docs', () => {
    const rules = readAlertRules();
    expect(rules.map((rule) => rule.alert)).toEqual(
      expect.arrayContaining([
        'JobstackJobFailureRatioHigh',
        'JobstackOldestWaitingJobTooOld',
        'JobstackJobRowsStuckRunning',
        'JobstackNoWorkerConsuming',
        'JobstackRedisMemoryNearLimit',
        'JobstackRedisMayEvict',
      ]),
    );
    const docs = readRepoFile('docs/observability.md');
    for (const rule of rules) {
      expect(
        metricNamesIn(rule.expr).filter((name) => !isExportedMetric(name)),
        rule.alert,
      ).toEqual([]);
      expect(rule.annotations?.runbook).toBe(`docs/observability.md#${rule.alert.toLowerCase()}`);
      expect(docs, `docs/observability.md has no section for ${rule.alert}`).toMatch(
        new RegExp(`^#+ ${rule.alert}$`, 'm'),
      );
    }
  });
});
