-- AlterEnum: a value added, never one removed or renamed, so builds that do not know it keep starting
ALTER TYPE "job_status" ADD VALUE 'expired';

-- AlterTable
ALTER TABLE "jobs" ADD COLUMN "expires_at" TIMESTAMPTZ(3),
ADD COLUMN "ttl" INTEGER;

-- CreateIndex
CREATE INDEX "jobs_queued_expires_at_idx" ON "jobs"("expires_at") WHERE (status = 'queued' AND expires_at IS NOT NULL);
