// Runs before every test file of every kind (see vitest-config.ts): whatever a test started with
// startServiceProcess is killed when the test ends, and whatever a beforeAll started when the
// file ends — passed, failed or timed out.
import { afterAll, afterEach, beforeEach } from 'vitest';
import { serviceProcessLifetimes } from './service-process.ts';

// Registered before the file's own hooks: with Vitest's default stacked hook order this
// beforeEach runs first and this afterEach and afterAll last, after the test's own clean-up.
beforeEach(() => serviceProcessLifetimes.testStarted());
afterEach(() => serviceProcessLifetimes.testEnded());
afterAll(() => serviceProcessLifetimes.fileEnded());
