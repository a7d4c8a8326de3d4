-- AlterTable
ALTER TABLE "jobs" ADD COLUMN "queue_job_id" TEXT;
