export { BlockedDestinationError, isPublicAddress } from './address-guard.ts';
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
