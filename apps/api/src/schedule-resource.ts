import type { ScheduleRecord, ScheduleRun } from '@repo/db';
import {
  DEFAULT_SCHEDULE_TIMEZONE,
  nextRuns,
  type ScheduleDeclaration,
  type ScheduleTiming,
} from '@repo/jobs';
import { jobPath } from './job-resource.ts';

export function schedulePath(key: string): string {
  return `/v1/schedules/${encodeURIComponent(key)}`;
}

/**
 * A schedule from either place it is defined: declared in code (`source: "code"`, read-only
 * through the API) or defined through the API (`source: "api"`, a row of the schedules table).
 */
export interface ScheduleView {
  key: string;
  source: 'code' | 'api';
  type: string;
  payload: unknown;
  timing: ScheduleTiming;
  paused: boolean;
  description: string | null;
  createdAt: Date | null;
  updatedAt: Date | null;
}

export function codeScheduleView(declaration: ScheduleDeclaration): ScheduleView {
  return {
    key: declaration.id,
    source: 'code',
    type: declaration.type,
    payload: declaration.payload,
    timing:
      declaration.pattern === undefined
        ? { everySeconds: declaration.every / 1_000 }
        : { cron: declaration.pattern, timezone: declaration.tz ?? DEFAULT_SCHEDULE_TIMEZONE },
    paused: false,
    description: null,
    createdAt: null,
    updatedAt: null,
  };
}

export function apiScheduleView(row: ScheduleRecord): ScheduleView {
  return {
    key: row.key,
    source: 'api',
    type: row.type,
    payload: row.payload,
    timing:
      row.cron === null
        ? { everySeconds: row.everySeconds ?? 0 }
        : { cron: row.cron, timezone: row.timezone ?? DEFAULT_SCHEDULE_TIMEZONE },
    paused: row.paused,
    description: row.description,
    createdAt: row.createdAt,
    updatedAt: row.updatedAt,
  };
}

/**
 * A schedule as the API shows it. `nextRuns`: the next five times it fires after `now`, computed
 * as BullMQ computes them (none while paused). `lastJob`: the latest job it started, scheduled or
 * triggered.
 */
export function scheduleResource(view: ScheduleView, lastJob: ScheduleRun | null, now: Date) {
  const path = schedulePath(view.key);
  return {
    key: view.key,
    source: view.source,
    type: view.type,
    payload: view.payload,
    cron: 'cron' in view.timing ? view.timing.cron : null,
    timezone: 'cron' in view.timing ? view.timing.timezone : null,
    everySeconds: 'everySeconds' in view.timing ? view.timing.everySeconds : null,
    paused: view.paused,
    description: view.description,
    nextRuns: view.paused ? [] : nextRuns(view.timing, now).map((run) => run.toISOString()),
    lastJob:
      lastJob === null
        ? null
        : {
            id: lastJob.id,
            status: lastJob.status,
            createdAt: lastJob.createdAt.toISOString(),
            links: { self: jobPath(lastJob.id) },
          },
    createdAt: view.createdAt?.toISOString() ?? null,
    updatedAt: view.updatedAt?.toISOString() ?? null,
    links: { self: path, trigger: `${path}/trigger` },
  };
}
