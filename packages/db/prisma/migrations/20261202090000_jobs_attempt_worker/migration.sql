-- AlterTable
ALTER TABLE "jobs" ADD COLUMN     "attempt_started_at" TIMESTAMPTZ(3),
ADD COLUMN     "worker_id" TEXT;
