import { mkdirSync, mkdtempSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { checkoutId } from './checkout.ts';
import { checkoutDatabaseUrl, checkoutQueuePrefix, settingOf } from './dev-defaults.ts';

const scratch = mkdtempSync(join(tmpdir(), 'dev-defaults-'));
afterAll(() => rmSync(scratch, { recursive: true, force: true }));

describe('checkoutId', () => {
  it('is the same for one checkout, whatever path leads to it, and differs between checkouts', () => {
    const a = join(scratch, 'My Clone');
    const b = join(scratch, 'other');
    mkdirSync(a);
    mkdirSync(b);
    symlinkSync(a, join(scratch, 'link'));
    expect(checkoutId(a)).toMatch(/^my-clone-[0-9a-f]{6}$/);
    expect(checkoutId(join(scratch, 'link'))).toBe(checkoutId(a));
    expect(checkoutId(b)).not.toBe(checkoutId(a));
  });
});

describe('settingOf', () => {
  const root = join(scratch, 'root');
  mkdirSync(root);
  writeFileSync(join(root, '.env.development'), 'A=committed\nB=committed\nC=committed\n');
  writeFileSync(join(root, '.env'), 'A=own\nB=own\n');

  it('takes the shell first, then .env, then .env.development, then the built-in default', () => {
    const env = { A: 'shell' };
    expect(settingOf('A', root, 'x', env)).toEqual({ name: 'A', value: 'shell', source: 'shell' });
    expect(settingOf('B', root, 'x', env)).toEqual({ name: 'B', value: 'own', source: '.env' });
    expect(settingOf('C', root, 'x', env)).toEqual({
      name: 'C',
      value: 'committed',
      source: '.env.development',
    });
    expect(settingOf('D', root, 'x', env)).toEqual({
      name: 'D',
      value: 'x',
      source: 'built-in default',
    });
  });
});

describe('the development defaults made private to a checkout', () => {
  it('suffixes the database name and the queue prefix with the checkout id', () => {
    expect(
      checkoutDatabaseUrl('postgresql://postgres@127.0.0.1:5432/jobstack_dev', 'main-3f9a1c'),
    ).toBe('postgresql://postgres@127.0.0.1:5432/jobstack_dev_main_3f9a1c');
    expect(checkoutQueuePrefix('jobstack-dev', 'main-3f9a1c')).toBe('jobstack-dev-main-3f9a1c');
  });

  it('keeps a database name within PostgreSQL’s 63 bytes', () => {
    const url = checkoutDatabaseUrl(`postgresql://h:5432/${'d'.repeat(60)}`, 'x-123456');
    expect(new URL(url).pathname.length - 1).toBe(63);
  });
});
