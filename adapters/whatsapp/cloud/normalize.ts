import type { NormalizeContext } from '../../../src/contracts/channel-adapter';
import type { EventOnly, Ignored, InboundMessage, Rejected } from '../../../src/contracts/inbound-message';
import type { CloudPayload } from '../payload';

/** Placeholder until the Cloud API back end lands. */
export function normalizeCloud(_raw: CloudPayload, _ctx: NormalizeContext): InboundMessage | Rejected | Ignored | EventOnly {
  return { rejected: true, reason: 'the Cloud API back end is not built yet' };
}
