import { existsSync } from 'node:fs';
import { type Browser, chromium } from 'playwright-core';
import request from 'supertest';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  type ApiUnderTest,
  auth,
  startApiUnderTest,
  TEST_ADMIN,
} from '../testing/api-under-test.ts';

// Debian's chromium package; CI installs it (see .ci/run). CHROMIUM_PATH points elsewhere.
const executablePath = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';

describe('queue dashboard in a browser (headless Chromium, real PostgreSQL and Redis)', () => {
  let api: ApiUnderTest;
  let browser: Browser;

  beforeAll(async () => {
    if (!existsSync(executablePath)) {
      throw new Error(`${executablePath} is missing: apt-get install -y chromium`);
    }
    api = await startApiUnderTest('api-dashboard');
    browser = await chromium.launch({ executablePath, headless: true });
  });
  afterAll(async () => {
    await browser?.close();
    await api?.close();
  });

  it('signs in with basic auth and shows the jobs queue with a job just enqueued', async () => {
    const created = await request(api.url)
      .post('/v1/jobs')
      .set(auth)
      .send({ type: 'system.echo', payload: { data: 'seen in the dashboard' } })
      .expect(202);

    const context = await browser.newContext({ httpCredentials: TEST_ADMIN });
    const page = await context.newPage();
    const violations: string[] = [];
    page.on('console', (message) => {
      if (/content security policy/i.test(message.text())) violations.push(message.text());
    });

    const response = await page.goto(`${api.url}/admin/queues`);
    expect(response?.status()).toBe(200);
    const queueLink = page.getByRole('link', { name: 'jobs', exact: true }).first();
    await queueLink.waitFor({ timeout: 15_000 });

    await queueLink.click();
    await page.waitForURL(/\/admin\/queues\/queue\/jobs/);
    await page.getByText(created.body.id).waitFor({ timeout: 15_000 });
    await expect(page.getByText('system.echo').first().isVisible()).resolves.toBe(true);
    // read-only: the dashboard offers no way to change a job behind the API's back
    await expect(
      page.getByRole('button', { name: /retry|remove|promote|clean/i }).count(),
    ).resolves.toBe(0);

    expect(violations).toEqual([]);
    await context.close();
  });

  it('does not sign in without credentials or with a wrong password', async () => {
    const anonymous = await browser.newContext();
    // headless Chromium cannot show the sign-in dialog, so the challenge ends the navigation
    await expect((await anonymous.newPage()).goto(`${api.url}/admin/queues`)).rejects.toThrow(
      /ERR_INVALID_AUTH_CREDENTIALS/,
    );
    await anonymous.close();

    const wrong = await browser.newContext({
      httpCredentials: { username: TEST_ADMIN.username, password: 'not-the-password' },
    });
    const page = await wrong.newPage();
    const response = await page.goto(`${api.url}/admin/queues`);
    expect(response?.status()).toBe(401);
    expect(await page.content()).not.toContain('jobstack queues');
    await wrong.close();
  });
});
