-- AlterTable
ALTER TABLE "jobs" ADD COLUMN "tags" TEXT[] DEFAULT ARRAY[]::TEXT[],
ADD COLUMN "metadata" JSONB NOT NULL DEFAULT '{}';

-- CreateIndex
CREATE INDEX "jobs_tags_idx" ON "jobs" USING GIN ("tags");
