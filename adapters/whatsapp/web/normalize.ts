import type { NormalizeContext } from '../../../src/contracts/channel-adapter';
import type { EventOnly, Ignored, InboundMessage, Rejected } from '../../../src/contracts/inbound-message';
import type { WebPayload } from '../payload';

/** Placeholder until the WhatsApp Web back end lands. */
export function normalizeWeb(_raw: WebPayload, _ctx: NormalizeContext): InboundMessage | Rejected | Ignored | EventOnly {
  return { rejected: true, reason: 'the WhatsApp Web back end is not built yet' };
}
