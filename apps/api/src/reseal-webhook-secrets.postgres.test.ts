import { randomBytes, randomUUID } from 'node:crypto';
import { fileURLToPath } from 'node:url';
import { loadConfig } from '@repo/config';
import {
  createDb,
  createWebhookEndpointRepository,
  type Db,
  migrate,
  type WebhookEndpointRepository,
} from '@repo/db';
import { databaseOptions, migrateEnv } from '@repo/db/env';
import { createTestDatabase, startServiceProcess, type TestDatabase } from '@repo/testing';
import { createSecretBox, type SecretBox } from '@repo/webhooks';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { resealWebhookSecrets } from './reseal-webhook-secrets.ts';

// Changing WEBHOOK_SECRETS_KEY against real PostgreSQL: endpoints sealed under the old key are
// resealed under the new one, the current key's are left alone, and one no key opens is reported.

const BIN = fileURLToPath(new URL('./bin/reseal-webhook-secrets.ts', import.meta.url));
const [oldKey, newKey, lostKey] = [randomBytes(32), randomBytes(32), randomBytes(32)];
const boxFor = (key: Buffer, previous: Buffer[] = []) => createSecretBox(key, previous);

let database: TestDatabase;
let db: Db;
let endpoints: WebhookEndpointRepository;

beforeAll(async () => {
  database = await createTestDatabase('reseal_secrets');
  await migrate({ databaseUrl: database.url });
  db = createDb({
    ...databaseOptions(loadConfig(migrateEnv, { DATABASE_URL: database.url })),
    applicationName: 'reseal-webhook-secrets-test',
  });
  endpoints = createWebhookEndpointRepository(db);
});
afterAll(async () => {
  await db?.disconnect();
  await database?.drop();
});

async function endpointSealedBy(box: SecretBox, secret = `whsec_${randomUUID()}`) {
  const id = randomUUID();
  await endpoints.create({
    id,
    url: 'https://receiver.example/hook',
    sealedSecret: box.seal(secret, id),
  });
  return { id, secret };
}

async function storedSecret(id: string) {
  return (await endpoints.findById(id))?.secret ?? '';
}

describe('resealWebhookSecrets (real PostgreSQL)', () => {
  it('reseals what the previous key sealed, keeps what the current key sealed, and names what no key opens', async () => {
    await db.pool.query('DELETE FROM webhook_endpoints');
    const byOld = await Promise.all([1, 2, 3].map(() => endpointSealedBy(boxFor(oldKey))));
    const rotated = await endpointSealedBy(boxFor(oldKey));
    // a rotation within the overlap: the old key sealed both the new and the previous secret
    await endpoints.rotateSecret(rotated.id, boxFor(oldKey).seal('whsec_next', rotated.id), 60_000);
    const byNew = await endpointSealedBy(boxFor(newKey));
    const newSealed = await storedSecret(byNew.id);
    const lost = await endpointSealedBy(boxFor(lostKey));

    const outcome = await resealWebhookSecrets({
      endpoints,
      secretBox: boxFor(newKey, [oldKey]),
      pageSize: 2,
    });
    expect(outcome).toEqual({
      checked: 6,
      resealed: 4,
      changedMeanwhile: 0,
      unreadable: [{ id: lost.id, reason: expect.stringContaining('WEBHOOK_SECRETS_KEY') }],
    });

    // the new key alone opens them now
    const newOnly = boxFor(newKey);
    for (const { id, secret } of byOld)
      expect(newOnly.open(await storedSecret(id), id)).toBe(secret);
    const afterRotation = await endpoints.findById(rotated.id);
    expect(newOnly.open(afterRotation?.secret ?? '', rotated.id)).toBe('whsec_next');
    expect(newOnly.open(afterRotation?.previousSecret ?? '', rotated.id)).toBe(rotated.secret);
    expect(await storedSecret(byNew.id)).toBe(newSealed);

    // a second run finds nothing left to do
    expect(
      await resealWebhookSecrets({ endpoints, secretBox: boxFor(newKey, [oldKey]) }),
    ).toMatchObject({ checked: 6, resealed: 0, changedMeanwhile: 0 });
  });

  it('leaves a row that changed after it was read (a rotation meanwhile) and counts it', async () => {
    await db.pool.query('DELETE FROM webhook_endpoints');
    const { id } = await endpointSealedBy(boxFor(oldKey));
    const rotatingMeanwhile: Pick<
      WebhookEndpointRepository,
      'sealedSecrets' | 'replaceSealedSecrets'
    > = {
      sealedSecrets: async (input) => {
        const page = await endpoints.sealedSecrets(input);
        await endpoints.rotateSecret(id, boxFor(newKey).seal('whsec_rotated', id), 60_000);
        return page;
      },
      replaceSealedSecrets: endpoints.replaceSealedSecrets,
    };
    const outcome = await resealWebhookSecrets({
      endpoints: rotatingMeanwhile,
      secretBox: boxFor(newKey, [oldKey]),
    });
    expect(outcome).toMatchObject({ checked: 1, resealed: 0, changedMeanwhile: 1 });
    // the rotation's secret stands
    expect(boxFor(newKey).open(await storedSecret(id), id)).toBe('whsec_rotated');
  });
});

describe('reseal-webhook-secrets bin (real PostgreSQL)', () => {
  const env = (previous: Buffer[]) => ({
    DATABASE_URL: database.url,
    WEBHOOK_SECRETS_KEY: newKey.toString('base64'),
    WEBHOOK_SECRETS_PREVIOUS_KEYS: previous.map((key) => key.toString('hex')).join(','),
  });

  it('exits 0 once every endpoint is sealed with the current key, and 1 naming an endpoint it cannot open', async () => {
    await db.pool.query('DELETE FROM webhook_endpoints');
    const byOld = await endpointSealedBy(boxFor(oldKey));

    const done = startServiceProcess(BIN, env([oldKey]));
    expect(await done.exited, done.stderr()).toBe(0);
    expect(done.logs().at(-1)).toMatchObject({
      level: 'info',
      service: 'reseal-webhook-secrets',
      checked: 1,
      resealed: 1,
    });
    expect(boxFor(newKey).open(await storedSecret(byOld.id), byOld.id)).toBe(byOld.secret);

    const lost = await endpointSealedBy(boxFor(lostKey));
    const left = startServiceProcess(BIN, env([oldKey]));
    expect(await left.exited, left.stderr()).toBe(1);
    expect(left.logs()).toEqual(
      expect.arrayContaining([
        expect.objectContaining({ level: 'error', endpointId: lost.id }),
        expect.objectContaining({ level: 'error', checked: 2, resealed: 0, unreadable: 1 }),
      ]),
    );
    // no secret, sealed or not, reaches the log
    expect(JSON.stringify(left.logs())).not.toContain(byOld.secret);
    expect(JSON.stringify(left.logs())).not.toContain(newKey.toString('base64'));
  });

  it('refuses to start without WEBHOOK_SECRETS_KEY, naming it', async () => {
    const bin = startServiceProcess(BIN, { DATABASE_URL: database.url });
    expect(await bin.exited).toBe(1);
    expect(`${bin.stderr()}${JSON.stringify(bin.logs())}`).toContain('WEBHOOK_SECRETS_KEY');
  });
});
