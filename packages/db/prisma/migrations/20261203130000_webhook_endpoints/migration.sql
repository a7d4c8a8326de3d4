-- CreateTable
CREATE TABLE "webhook_endpoints" (
    "id" UUID NOT NULL DEFAULT gen_random_uuid(),
    "url" TEXT NOT NULL,
    "description" TEXT,
    "event_types" JSONB NOT NULL DEFAULT '[]',
    "job_types" JSONB NOT NULL DEFAULT '[]',
    "secret" TEXT NOT NULL,
    "previous_secret" TEXT,
    "previous_secret_expires_at" TIMESTAMPTZ(3),
    "created_at" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "updated_at" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,

    CONSTRAINT "webhook_endpoints_pkey" PRIMARY KEY ("id")
);

-- CreateIndex
CREATE INDEX "webhook_endpoints_created_at_id_idx" ON "webhook_endpoints"("created_at" DESC, "id" DESC);

-- CreateTable
CREATE TABLE "job_attempts" (
    "id" BIGSERIAL NOT NULL,
    "job_id" UUID NOT NULL,
    "attempt" INTEGER NOT NULL,
    "started_at" TIMESTAMPTZ(3) NOT NULL,
    "finished_at" TIMESTAMPTZ(3) NOT NULL,
    "outcome" TEXT NOT NULL,
    "error" TEXT,
    "worker_id" TEXT,
    "http_status" INTEGER,
    "duration_ms" INTEGER NOT NULL,

    CONSTRAINT "job_attempts_pkey" PRIMARY KEY ("id")
);

-- CreateIndex
CREATE INDEX "job_attempts_job_id_id_idx" ON "job_attempts"("job_id", "id");

-- CreateTable
CREATE TABLE "job_events" (
    "id" BIGSERIAL NOT NULL,
    "job_id" UUID NOT NULL,
    "type" TEXT NOT NULL,
    "created_at" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,

    CONSTRAINT "job_events_pkey" PRIMARY KEY ("id")
);

-- The outbox of job events: a job reaching a final status records its event in the same
-- transaction as the status change, whichever process wrote it (worker, api, reconcile), when an
-- endpoint subscribes to it. The worker relays each event to webhook.deliver jobs.
-- The body is an escape string with each semicolon written as \x3B: prisma migrate splits a
-- script into statements at every semicolon, dollar quotes included, and would cut it apart.
CREATE FUNCTION "jobs_record_event"() RETURNS trigger LANGUAGE plpgsql AS E'
BEGIN
  INSERT INTO job_events (job_id, type)
  SELECT NEW.id, ''job.'' || NEW.status::text
   WHERE EXISTS (
     SELECT 1 FROM webhook_endpoints e
      WHERE e.event_types ? (''job.'' || NEW.status::text)
        AND (e.job_types = ''[]''::jsonb OR e.job_types ? NEW.type))\x3B
  RETURN NULL\x3B
END
';

-- Statuses compared as text, so a status a later migration adds needs no change here.
-- Deliveries themselves never raise events: a failing receiver must not feed itself.
CREATE TRIGGER "jobs_record_event"
  AFTER UPDATE OF "status" ON "jobs"
  FOR EACH ROW
  WHEN (NEW.status IS DISTINCT FROM OLD.status
        AND NEW.status::text IN ('succeeded', 'failed', 'cancelled', 'expired')
        AND NEW.type <> 'webhook.deliver')
  EXECUTE FUNCTION "jobs_record_event"();
