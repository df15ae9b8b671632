/**
 * WhatsApp, two back ends behind one channel `whatsapp`: a WhatsApp Web session driven by
 * whatsapp-web.js in Debian's Chromium (./web), or Meta's Cloud API, a webhook and the Graph API
 * (./cloud). Both give the same InboundMessage; the platform's ids name the sender (a wamid holds
 * the number), so `nativeId` is their keyed hash and the full id travels sealed (`platformRef`).
 */
import type { ChannelAdapter, ChannelModule, NormalizeContext } from '../../src/contracts/channel-adapter';
import type { EventOnly, Ignored, InboundMessage, Rejected } from '../../src/contracts/inbound-message';
import { whatsappConfig, type WhatsAppCredentials, type WhatsAppSettings } from './config';
import { isCloudPayload, isWebPayload } from './payload';
import { normalizeCloud } from './cloud/normalize';
import { createCloudAdapter } from './cloud/adapter';
import { normalizeWeb } from './web/normalize';
import { createWebAdapter } from './web/adapter';
import { whatsappVocabulary } from './vocabulary';

export type { WhatsAppSettings, WhatsAppCredentials, WhatsAppCloudCredentials } from './config';
export type { CloudPayload, WebPayload, WhatsAppPayload } from './payload';

/** WhatsApp's longest text message. */
export const WHATSAPP_TEXT_LIMIT = 4096;

export function normalizeWhatsApp(raw: unknown, ctx: NormalizeContext): InboundMessage | Rejected | Ignored | EventOnly {
  if (isCloudPayload(raw)) return normalizeCloud(raw, ctx);
  if (isWebPayload(raw)) return normalizeWeb(raw, ctx);
  return { rejected: true, reason: 'not a WhatsApp item (backend is neither cloud nor web)' };
}

export type WhatsAppAdapter = ChannelAdapter<unknown>;

export const whatsapp: ChannelModule<'whatsapp', WhatsAppSettings, WhatsAppCredentials, WhatsAppAdapter> = {
  name: 'whatsapp',
  config: whatsappConfig,
  // 80 messages a second per number on the Cloud API; the pair rate (one per 6 s to a person) is the adapter's.
  limits: { mediaMaxBytes: (s) => s.mediaMaxBytes, textLength: WHATSAPP_TEXT_LIMIT, sendPerSecond: 20 },
  normalize: normalizeWhatsApp,
  vocabulary: whatsappVocabulary,
  login: (c) => (c.mode === 'web' ? 'qr' : null),
  create: (ports) => (ports.credentials.mode === 'cloud' ? createCloudAdapter(ports as never) : createWebAdapter(ports as never)),
};
