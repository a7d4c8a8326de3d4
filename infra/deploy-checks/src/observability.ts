import { exportedMetricNames } from '@repo/metrics';
import { parse } from 'yaml';
import { readRepoFile } from './repo.ts';

export const OBSERVABILITY_DIR = 'infra/observability';

/**
 * Metrics a PromQL expression may use besides the jobstack_* ones: what Prometheus records about
 * every target, and beat's schedule metrics (they predate the jobstack_ names).
 */
const OTHER_KNOWN_METRICS = new Set(['up', 'beat_schedule_syncs_total', 'beat_schedules_left_out']);

// Words of PromQL that look like metric names: keywords, and label lists after these
const PROMQL_KEYWORDS = new Set(['and', 'or', 'unless', 'bool', 'offset', 'inf', 'nan']);
const LABEL_LIST = /\b(by|without|on|ignoring|group_left|group_right)\s*\([^)]*\)/g;

/**
 * The metric names a PromQL expression reads. Hand-written rather than with a PromQL parser:
 * none is published for Node, and the dashboard's and rules' expressions need only this: strip
 * strings, label matchers, ranges and label lists, and what remains that is not a function call,
 * a keyword or part of a number or duration is a metric name.
 */
export function metricNamesIn(expr: string): string[] {
  const stripped = expr
    .replace(/"(?:[^"\\]|\\.)*"/g, '""')
    .replace(/\{[^}]*\}/g, ' ')
    .replace(/\[[^\]]*\]/g, ' ')
    .replace(LABEL_LIST, ' ');
  const names = new Set<string>();
  for (const match of stripped.matchAll(/(?<![A-Za-z0-9_:.])([A-Za-z_:][A-Za-z0-9_:]*)(\s*\()?/g)) {
    const [, name, call] = match;
    if (!name || call || PROMQL_KEYWORDS.has(name.toLowerCase())) continue;
    names.add(name);
  }
  return [...names];
}

/** Whether the apps export `name` (a histogram's _bucket, _sum and _count included). */
export function isExportedMetric(name: string): boolean {
  const exported = exportedMetricNames();
  if (exported.has(name) || OTHER_KNOWN_METRICS.has(name)) return true;
  const histogram = /^(.*)_(bucket|sum|count)$/.exec(name)?.[1];
  return histogram !== undefined && exported.get(histogram) === 'histogram';
}

export interface Dashboard {
  uid: string;
  panels: {
    type: string;
    title: string;
    datasource?: { type: string; uid: string };
    targets?: { expr: string; datasource?: { uid: string } }[];
  }[];
}

export function readDashboard(): Dashboard {
  return JSON.parse(readRepoFile(`${OBSERVABILITY_DIR}/grafana/dashboards/jobstack.json`));
}

export function dashboardQueries(dashboard: Dashboard): { panel: string; expr: string }[] {
  return dashboard.panels.flatMap((panel) =>
    (panel.targets ?? []).map((target) => ({ panel: panel.title, expr: target.expr })),
  );
}

export interface AlertRule {
  alert: string;
  expr: string;
  for?: string;
  labels?: Record<string, string>;
  annotations?: Record<string, string>;
}

export function readAlertRules(): AlertRule[] {
  const file = parse(readRepoFile(`${OBSERVABILITY_DIR}/alerts.yml`)) as {
    groups: { rules: AlertRule[] }[];
  };
  return file.groups.flatMap((group) => group.rules);
}

export function readYaml<T>(relative: string): T {
  return parse(readRepoFile(`${OBSERVABILITY_DIR}/${relative}`)) as T;
}
