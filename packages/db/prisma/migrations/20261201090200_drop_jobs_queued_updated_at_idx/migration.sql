-- DropIndex
DROP INDEX CONCURRENTLY "jobs_queued_updated_at_idx";
