-- Every job's row is updated twice after its INSERT (running, then succeeded or failed). With
-- pages filled to 100% the new row version never fits on its page, so each update also writes a
-- second heap page. Leaving 30% free keeps it on the same page and halves the WAL each job writes
-- (bench/findings.md). Prisma's schema cannot express storage parameters, so this lives here only.
-- It applies to pages written from now on: existing pages keep their layout until rewritten.
-- (No semicolon in these comments: Prisma's migrate splits the file on every one.)
ALTER TABLE "jobs" SET (fillfactor = 70);
