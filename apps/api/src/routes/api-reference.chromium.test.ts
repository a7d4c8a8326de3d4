import { existsSync } from 'node:fs';
import { type Browser, chromium } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type ApiUnderTest, startApiUnderTest, TEST_API_KEY } from '../testing/api-under-test.ts';

// Debian's chromium package; CI installs it (see .ci/run). CHROMIUM_PATH points elsewhere.
const executablePath = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';

describe('API reference in a browser (headless Chromium, real PostgreSQL and Redis)', () => {
  let api: ApiUnderTest;
  let browser: Browser;

  beforeAll(async () => {
    if (!existsSync(executablePath)) {
      throw new Error(`${executablePath} is missing: apt-get install -y chromium`);
    }
    api = await startApiUnderTest('api-reference-browser');
    browser = await chromium.launch({ executablePath, headless: true });
  });
  afterAll(async () => {
    await browser?.close();
    await api?.close();
  });

  it('renders the operations of /v1/openapi.json with no console error or CSP violation, and tries one out', async () => {
    const context = await browser.newContext();
    const page = await context.newPage();
    const problems: string[] = [];
    page.on('console', (message) => {
      if (message.type() === 'error' || /content security policy/i.test(message.text())) {
        problems.push(message.text());
      }
    });
    page.on('pageerror', (error) => problems.push(error.message));
    const offOrigin: string[] = [];
    page.on('request', (sent) => {
      if (!sent.url().startsWith(api.url) && !sent.url().startsWith('data:')) {
        offOrigin.push(sent.url());
      }
    });

    const response = await page.goto(`${api.url}/docs`);
    expect(response?.status()).toBe(200);
    expect(page.url()).toBe(`${api.url}/docs/`);
    await page.getByText('jobstack API', { exact: false }).first().waitFor({ timeout: 15_000 });
    // an operation of each tag, by its summary
    for (const summary of [
      'List the schedules, declared in code and defined through the API',
      'List webhook endpoints, newest first',
      'This document',
    ]) {
      await page.getByText(summary, { exact: true }).first().waitFor({ timeout: 15_000 });
    }

    // "Try it out" with the API key, against this server: the page may call its own origin
    await page.getByRole('button', { name: 'Authorize' }).first().click();
    const apiKey = page.locator('.dialog-ux .auth-container').filter({ hasText: 'apiKey' });
    await apiKey.locator('input').fill(TEST_API_KEY);
    await apiKey.getByRole('button', { name: 'Apply credentials' }).click();
    await page.locator('.dialog-ux').getByRole('button', { name: 'Close' }).first().click();
    const operation = page.locator('#operations-Schedules-listSchedules');
    await operation.locator('.opblock-summary').first().click();
    await operation.getByRole('button', { name: 'Try it out' }).click();
    await operation.getByRole('button', { name: 'Execute' }).click();
    await operation
      .locator('.live-responses-table .response-col_status')
      .filter({ hasText: '200' })
      .first()
      .waitFor({ timeout: 15_000 });

    expect(problems).toEqual([]);
    expect(offOrigin).toEqual([]);
    await context.close();
  });
});
