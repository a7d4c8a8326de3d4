import type { SealedEndpointSecrets, WebhookEndpointRepository } from '@repo/db';
import { type SecretBox, SecretBoxError } from '@repo/webhooks';

export interface ResealOutcome {
  /** Endpoints looked at. */
  checked: number;
  /** Endpoints whose secrets a previous key had sealed, now sealed with the current key. */
  resealed: number;
  /** Endpoints whose secrets changed while they were being resealed: run again. */
  changedMeanwhile: number;
  /** Endpoints with a secret that no configured key opens: they cannot sign until rotated. */
  unreadable: { id: string; reason: string }[];
}

/**
 * Seals every endpoint's secrets with the current WEBHOOK_SECRETS_KEY, so the keys in
 * WEBHOOK_SECRETS_PREVIOUS_KEYS can be dropped. Run it once every api and worker runs with the new
 * key (a process with only the old one cannot open what is resealed). A row that changed while it
 * was read (a rotation) is left as it is and counted; running again finishes it.
 */
export async function resealWebhookSecrets(options: {
  endpoints: Pick<WebhookEndpointRepository, 'sealedSecrets' | 'replaceSealedSecrets'>;
  secretBox: SecretBox;
  /** Endpoints read per query. */
  pageSize?: number;
}): Promise<ResealOutcome> {
  const { endpoints, secretBox, pageSize = 500 } = options;
  const outcome: ResealOutcome = { checked: 0, resealed: 0, changedMeanwhile: 0, unreadable: [] };
  let after: string | undefined;
  for (;;) {
    const page = await endpoints.sealedSecrets({ limit: pageSize, ...(after ? { after } : {}) });
    for (const row of page) {
      outcome.checked += 1;
      let next: Omit<SealedEndpointSecrets, 'id'>;
      try {
        next = resealedSecrets(row, secretBox);
      } catch (error) {
        if (!(error instanceof SecretBoxError)) throw error;
        outcome.unreadable.push({ id: row.id, reason: error.message });
        continue;
      }
      if (next.secret === row.secret && next.previousSecret === row.previousSecret) continue;
      if (await endpoints.replaceSealedSecrets(row, next)) outcome.resealed += 1;
      else outcome.changedMeanwhile += 1;
    }
    if (page.length < pageSize) return outcome;
    after = page.at(-1)?.id;
  }
}

function resealedSecrets(row: SealedEndpointSecrets, box: SecretBox) {
  return {
    secret: box.resealed(row.secret, row.id) ?? row.secret,
    previousSecret:
      row.previousSecret === null
        ? null
        : (box.resealed(row.previousSecret, row.id) ?? row.previousSecret),
  };
}
