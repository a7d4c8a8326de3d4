import { JOB_STATUSES, type ScheduleRecord, type ScheduleRun } from '@repo/db';
import {
  DEFAULT_SCHEDULE_TIMEZONE,
  nextRuns,
  type ScheduleDeclaration,
  type ScheduleTiming,
} from '@repo/jobs';
import { z } from 'zod';
import { jobPath } from './job-resource.ts';
import { jsonValueSchema } from './openapi/operation.ts';

export function schedulePath(key: string): string {
  return `/v1/schedules/${encodeURIComponent(key)}`;
}

const timestamp = z.iso.datetime();

/**
 * A schedule as the API shows it: scheduleResource below must produce exactly this (its return
 * type is this schema's), and the OpenAPI document describes it from here.
 */
export const scheduleResourceSchema = z
  .strictObject({
    key: z.string().meta({ description: "The schedule's name, and its job scheduler's id." }),
    source: z.enum(['code', 'api']).meta({
      description: 'code: declared in the code, read-only here. api: defined through the API.',
    }),
    type: z.string().meta({ description: 'The job type each run is.' }),
    payload: jsonValueSchema,
    cron: z.string().nullable().meta({ description: 'The cron expression; null for an interval.' }),
    timezone: z
      .string()
      .nullable()
      .meta({ description: 'The IANA time zone `cron` is read in; null for an interval.' }),
    everySeconds: z
      .int()
      .nullable()
      .meta({ description: 'The interval in seconds; null for a cron expression.' }),
    paused: z.boolean(),
    description: z.string().nullable(),
    nextRuns: z.array(timestamp).meta({
      description:
        'The next five runs, as the scheduler computes them (daylight-saving changes included); empty while paused.',
    }),
    lastJob: z
      .strictObject({
        id: z.uuid(),
        status: z.enum(JOB_STATUSES),
        createdAt: timestamp,
        links: z.strictObject({ self: z.string() }),
      })
      .nullable()
      .meta({ description: 'The latest job the schedule started, scheduled or triggered.' }),
    createdAt: timestamp.nullable().meta({ description: 'null for a schedule declared in code.' }),
    updatedAt: timestamp.nullable().meta({ description: 'null for a schedule declared in code.' }),
    links: z.strictObject({ self: z.string(), trigger: z.string() }),
  })
  .meta({ id: 'Schedule' });

export type ScheduleResource = z.input<typeof scheduleResourceSchema>;

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
export function scheduleResource(
  view: ScheduleView,
  lastJob: ScheduleRun | null,
  now: Date,
): ScheduleResource {
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
