-- CreateIndex
CREATE INDEX CONCURRENTLY "jobs_active_updated_at_id_idx" ON "jobs"("updated_at", "id") WHERE (status IN ('queued', 'running'));
