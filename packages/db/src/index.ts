export {
  type CreateDbOptions,
  createDb,
  type Db,
  type PrismaClient,
} from './create-db.ts';
export { databaseHealthCheck } from './database-health-check.ts';
export { DatabaseUnavailableError, isDatabaseUnavailableError } from './database-unavailable.ts';
export {
  ATTEMPT_OUTCOMES,
  type AttemptOutcome,
  createJobAttemptLog,
  type JobAttemptInput,
  type JobAttemptLog,
  type JobAttemptRecord,
} from './jobs/job-attempts.ts';
export { InvalidCursorError, InvalidListLimitError, JobJsonError } from './jobs/job-errors.ts';
export {
  createJobEventOutbox,
  type JobEventOutbox,
  type JobEventRecord,
} from './jobs/job-events.ts';
export {
  FINISHED_JOB_STATUSES,
  JOB_STATUSES,
  type JobRecord,
  type JobStatus,
  type JsonValue,
} from './jobs/job-record.ts';
export {
  type CancelOutcome,
  type CreateJobInput,
  type CreateJobOptions,
  type CreateManyOutcome,
  createJobRepository,
  JOB_CREATE_MAX_WAITING,
  JOB_LIST_MAX_LIMIT,
  type JobBacklog,
  type JobPage,
  type JobProgress,
  type JobRepository,
  type JobRepositoryOptions,
  type ListJobsInput,
  type QueuedJobRelease,
  type ScheduledRunInput,
  type StaleCursor,
  type StaleJob,
  type StartedAttempt,
  type SucceededAttempt,
} from './jobs/job-repository.ts';
export { type AppRoleOptions, grantAppRole } from './migrate/app-role.ts';
export { migrationChecksum } from './migrate/checksum.ts';
export {
  assertSchemaCurrent,
  type MigrateOptions,
  type MigrateResult,
  type MigrationLogger,
  migrate,
  type SchemaAssertOptions,
  type SchemaCheckOptions,
  type SchemaStatus,
} from './migrate/migrate.ts';
export {
  DatabaseNotEmptyError,
  FailedMigrationError,
  MigrationError,
  MigrationFailedError,
  MigrationLockTimeoutError,
  MigrationsDirectoryError,
  ModifiedMigrationError,
  PendingMigrationsError,
  UnknownMigrationsError,
} from './migrate/migration-errors.ts';
export { DEFAULT_MIGRATIONS_DIR } from './migrate/migration-files.ts';
export { type PrepareSchemaOptions, prepareSchema } from './prepare-schema.ts';
export { ScheduleKeyTakenError } from './schedules/schedule-errors.ts';
export type { ScheduleDefinition, ScheduleRecord } from './schedules/schedule-record.ts';
export {
  createScheduleRepository,
  SCHEDULE_LIST_MAX_LIMIT,
  type ScheduleListInput,
  type SchedulePage,
  type ScheduleRepository,
  type ScheduleRun,
  type ScheduleUpdateOutcome,
} from './schedules/schedule-repository.ts';
export {
  type CreateWebhookEndpointInput,
  createWebhookEndpointRepository,
  type SealedEndpointSecrets,
  type UpdateWebhookEndpointInput,
  WEBHOOK_ENDPOINT_LIST_MAX_LIMIT,
  type WebhookEndpointPage,
  type WebhookEndpointRecord,
  type WebhookEndpointRepository,
  type WebhookSubscription,
} from './webhook-endpoints/webhook-endpoint-repository.ts';
