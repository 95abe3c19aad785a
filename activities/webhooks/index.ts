/** Outgoing webhooks shared by every workflow's activities: settings, the signed POST, the checks. */
export { loadOutboundSettings, DEFAULT_ALLOWED_HOSTS, DEFAULT_MAX_RESPONSE_BYTES, type OutboundSettings } from './settings';
export {
  createWebhookSender,
  hostRefusal,
  readBounded,
  signWebhook,
  verifyWebhookSignature,
  SIGNATURE_HEADER,
  TIMESTAMP_HEADER,
  type WebhookOutcome,
  type WebhookRequest,
  type WebhookSender,
} from './client';
