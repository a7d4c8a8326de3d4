/**
 * How long tests wait, sized for a busy two-core machine: the whole suite runs several packages'
 * test files at once, each starting real processes, and a process that is ready in well under a
 * second alone can take many seconds there. A wait ends as soon as its signal arrives, so a
 * generous deadline costs nothing when things go well; it only decides how long a real failure
 * takes to be reported.
 */

/** A started process's readiness signal (a log line, a port, a health answer). */
export const READY_DEADLINE_MS = 60_000;

/** One test, which may start processes and wait for them more than once. */
export const TEST_TIMEOUT_MS = 180_000;

/** A beforeAll/afterAll hook: creating databases, starting or stopping processes. */
export const HOOK_TIMEOUT_MS = 180_000;

/**
 * In a coverage run, how long clean-up waits for a left-over process to stop on SIGTERM (and so
 * write its coverage) before killing it.
 */
export const COVERAGE_WRITE_DEADLINE_MS = 10_000;
