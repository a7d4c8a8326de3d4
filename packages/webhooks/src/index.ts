export { BlockedDestinationError, isPublicAddress, type ResolveHost } from './address-guard.ts';
export {
  deliverWebhook,
  type WebhookDelivery,
  WebhookDeliveryError,
  type WebhookDeliveryResult,
} from './deliver.ts';
export {
  type SignatureInput,
  signWebhook,
  verifyWebhook,
  WEBHOOK_HEADERS,
  WebhookVerificationError,
} from './signature.ts';
export { generateSigningSecret, signingKey, WebhookSigningError } from './signing-secret.ts';
