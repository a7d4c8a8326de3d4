-- AlterTable
ALTER TABLE "jobs" ADD COLUMN "retry_of" UUID;

-- CreateIndex
CREATE INDEX "jobs_retry_of_idx" ON "jobs"("retry_of");
