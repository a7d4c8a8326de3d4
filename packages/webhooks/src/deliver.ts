import { request as httpRequest, type IncomingMessage } from 'node:http';
import { request as httpsRequest } from 'node:https';
import {
  assertPublicHost,
  BlockedDestinationError,
  guardedLookup,
  type ResolveHost,
  systemResolveHost,
} from './address-guard.ts';
import { signWebhook, WEBHOOK_HEADERS } from './signature.ts';
import { WebhookSigningError } from './signing-secret.ts';

export interface WebhookDelivery {
  /** Stable across retries (the job id); sent as webhook-id and signed. Letters, digits, _ and -. */
  id: string;
  url: string;
  body: unknown;
  headers?: Record<string, string>;
  /** The signing secret (`whsec_` + base64), or several while rotating: each adds a signature. */
  secret: string | readonly string[];
  timeoutMs: number;
  /** Allow loopback, private and link-local destinations (development and tests). */
  allowPrivateNetworks: boolean;
  userAgent?: string;
  /** Aborts the request early, e.g. when the worker shuts down. */
  signal?: AbortSignal;
  /** How the URL's host name becomes addresses; the system resolver unless given. */
  resolveHost?: ResolveHost;
}

export interface WebhookDeliveryResult {
  status: number;
  durationMs: number;
}

/** Why a delivery failed, and whether trying again later can help. */
export class WebhookDeliveryError extends Error {
  override readonly name = 'WebhookDeliveryError';
  readonly retryable: boolean;
  readonly status: number | undefined;

  constructor(message: string, options: { retryable: boolean; status?: number; cause?: unknown }) {
    super(message, { cause: options.cause });
    this.retryable = options.retryable;
    this.status = options.status;
  }
}

/**
 * POSTs the body as JSON, signed. 2xx succeeds. 429, 5xx, timeouts and network errors are
 * retryable; any other status (including redirects, which are not followed), a refused
 * destination and inputs that cannot be signed fail for good.
 */
export async function deliverWebhook(delivery: WebhookDelivery): Promise<WebhookDeliveryResult> {
  const url = URL.parse(delivery.url);
  if (!url) throw new WebhookDeliveryError('the URL is not valid', { retryable: false });
  if (url.protocol !== 'http:' && url.protocol !== 'https:') {
    throw new WebhookDeliveryError(`unsupported protocol ${url.protocol}`, { retryable: false });
  }
  if (!delivery.allowPrivateNetworks) {
    try {
      assertPublicHost(url.hostname);
    } catch (error) {
      throw refused(error);
    }
  }

  const body = JSON.stringify(delivery.body);
  const timestamp = Math.floor(Date.now() / 1000);
  let signature: string;
  try {
    signature = signWebhook({ id: delivery.id, timestamp, body, secret: delivery.secret });
  } catch (error) {
    if (!(error instanceof WebhookSigningError)) throw error;
    throw new WebhookDeliveryError(`cannot sign the delivery: ${error.message}`, {
      retryable: false,
      cause: error,
    });
  }
  const headers = {
    ...delivery.headers,
    'content-type': 'application/json',
    'content-length': String(Buffer.byteLength(body)),
    'user-agent': delivery.userAgent ?? 'jobstack-webhooks',
    [WEBHOOK_HEADERS.id]: delivery.id,
    [WEBHOOK_HEADERS.timestamp]: String(timestamp),
    [WEBHOOK_HEADERS.signature]: signature,
  };

  const started = performance.now();
  let response: IncomingMessage;
  try {
    response = await send(url, body, headers, delivery);
  } catch (error) {
    if (error instanceof BlockedDestinationError) throw refused(error);
    if (delivery.signal?.aborted) throw delivery.signal.reason;
    const reason =
      (error as { name?: string }).name === 'TimeoutError' ||
      (error as { name?: string }).name === 'AbortError'
        ? `no response within ${delivery.timeoutMs} ms`
        : `network error: ${(error as { code?: string }).code ?? (error as Error).message}`;
    throw new WebhookDeliveryError(`${url.origin} ${reason}`, { retryable: true, cause: error });
  }
  const status = response.statusCode ?? 0;
  const durationMs = Math.round(performance.now() - started);
  if (status >= 200 && status < 300) {
    // the receiver has acknowledged; its response body is not needed
    response.resume();
    return { status, durationMs };
  }
  const snippet = await readSnippet(response).catch(
    (error: { code?: string; message?: string }) =>
      `(response body unreadable: ${error.code ?? error.message})`,
  );
  const retryable = status === 429 || status >= 500;
  throw new WebhookDeliveryError(
    `${url.origin} answered ${status}${snippet ? `: ${snippet}` : ''}`,
    { retryable, status },
  );
}

function refused(error: unknown): WebhookDeliveryError {
  return new WebhookDeliveryError(
    `destination refused: ${(error as Error).message} (WEBHOOK_ALLOW_PRIVATE_NETWORKS is off)`,
    { retryable: false, cause: error },
  );
}

function send(
  url: URL,
  body: string,
  headers: Record<string, string>,
  delivery: WebhookDelivery,
): Promise<IncomingMessage> {
  return new Promise((resolve, reject) => {
    const request = (url.protocol === 'https:' ? httpsRequest : httpRequest)(url, {
      method: 'POST',
      headers,
      signal: delivery.signal
        ? AbortSignal.any([delivery.signal, AbortSignal.timeout(delivery.timeoutMs)])
        : AbortSignal.timeout(delivery.timeoutMs),
      lookup: guardedLookup({
        resolveHost: delivery.resolveHost ?? systemResolveHost,
        publicOnly: !delivery.allowPrivateNetworks,
      }),
    });
    request.on('response', resolve);
    request.on('error', reject);
    request.end(body);
  });
}

/** The start of an error response, for the job's error message; leaving the loop discards the rest. */
async function readSnippet(response: IncomingMessage, limit = 200): Promise<string> {
  let text = '';
  for await (const chunk of response) {
    text += String(chunk);
    if (text.length >= limit) break;
  }
  return text.slice(0, limit).replace(/\s+/g, ' ').trim();
}
