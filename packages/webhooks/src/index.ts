export {
  assertPublicHost,
  BlockedDestinationError,
  isPublicAddress,
  type ResolveHost,
} from './address-guard.ts';
export {
  deliverWebhook,
  type WebhookDelivery,
  WebhookDeliveryError,
  type WebhookDeliveryResult,
} from './deliver.ts';
export {
  createSecretBox,
  parseSecretsKey,
  SECRETS_KEY_BYTES,
  type SecretBox,
  SecretBoxError,
} from './secret-box.ts';
export {
  type SignatureInput,
  signWebhook,
  verifyWebhook,
  WEBHOOK_HEADERS,
  WebhookVerificationError,
} from './signature.ts';
export { generateSigningSecret, signingKey, WebhookSigningError } from './signing-secret.ts';
