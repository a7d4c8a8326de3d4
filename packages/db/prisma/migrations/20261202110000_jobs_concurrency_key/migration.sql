-- AlterTable
ALTER TABLE "jobs" ADD COLUMN "concurrency_key" TEXT;

-- CreateIndex
CREATE INDEX "jobs_concurrency_key_created_at_id_idx" ON "jobs"("concurrency_key", "created_at" DESC, "id" DESC);
