-- A schedule's latest run is read by scheduler_id. Built concurrently, so the jobs table takes
-- writes while it builds (the statement then runs outside a transaction, alone in its file).
-- CreateIndex
CREATE INDEX CONCURRENTLY "jobs_scheduler_id_created_at_idx" ON "jobs"("scheduler_id", "created_at" DESC) WHERE (scheduler_id IS NOT NULL);
