export { declaredSchedules } from './declared-schedules.ts';
export type { JobTypeDefinition, JobTypeLimits, JobTypeOptions } from './define-job-type.ts';
export {
  type ArrivalOptions,
  createJobEnqueuer,
  ENQUEUE_BATCH_SIZE,
  type EnqueueJob,
  type EnqueueJobInput,
  enqueueJob,
  enqueueJobs,
  type JobEnqueuerOptions,
} from './enqueue.ts';
export { InvalidPayloadError, UnknownJobTypeError } from './errors.ts';
export {
  CONCURRENCY_KEY_FIELD,
  concurrencyKeySchema,
  type QueuedRowCount,
  queuedJobData,
  ROW_COUNT_FIELD,
  splitQueuedJobData,
} from './fair-execution/concurrency-key.ts';
export {
  type ArrivingJob,
  createFairScheduler,
  type FairScheduler,
  type FairSchedulerOptions,
  PARKED_RECHECK_MS,
  readWaitingFor,
  type WaitingFor,
} from './fair-execution/fair-scheduler.ts';
export {
  type LimitsByType,
  limitApplies,
  type ResolvedLimits,
  resolveJobLimits,
} from './fair-execution/limits.ts';
export {
  decodeJobEvent,
  encodeJobEvent,
  type JobEventMessage,
  jobCancelChannel,
  jobEventsChannel,
} from './job-channels.ts';
export {
  MAX_PAYLOAD_DEPTH,
  parseJobPayload,
  resolveEnqueueableType,
  resolveJobType,
} from './payloads.ts';
export { DEFAULT_JOB_PRIORITY, jobPrioritySchema, queuePriority } from './priority.ts';
export { createJobQueue, type JobQueue, jobOptions, QUEUE_NAME } from './queue.ts';
export {
  createRedisConnection,
  isRedisUnavailableError,
  pingRedis,
  type RedisConnectionOptions,
  type RedisOutageMode,
} from './redis-connection.ts';
export { checkRedisEvictionPolicy, RedisEvictionPolicyError } from './redis-eviction-policy.ts';
export { type DependencyCheck, redisHealthChecks } from './redis-health-checks.ts';
export { type RedisMemory, readRedisMemory } from './redis-memory.ts';
export {
  ENQUEUEABLE_JOB_TYPES,
  isJobType,
  JOB_TYPE_NAMES,
  type JobPayload,
  type JobResult,
  type JobType,
  type JobTypes,
  jobTypes,
} from './registry.ts';
export {
  checkCron,
  checkTimezone,
  DEFAULT_SCHEDULE_TIMEZONE,
  InvalidScheduleTimingError,
  NEXT_RUNS_SHOWN,
  nextRuns,
  type ScheduleTiming,
} from './schedule-timing.ts';
export {
  announceScheduleChange,
  type DefinedSchedule,
  type DefinedSchedules,
  defineSchedule,
  leaveSchedules,
  listSchedules,
  type ScheduleDeclaration,
  type ScheduleInfo,
  type ScheduleOwnerOptions,
  type ScheduleSyncResult,
  type SkippedSchedule,
  type SyncSchedulesOptions,
  syncSchedules,
  watchScheduleChanges,
} from './schedules.ts';
export { WEBHOOK_RESERVED_HEADERS } from './types/webhook-deliver.ts';
