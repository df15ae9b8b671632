/**
 * What of a WhatsApp Web message is kept as evidence (`raw`): an allow-list of facts about the
 * message, never who sent it. WhatsApp Web's message data is large and grows (ids of the sender
 * and the chat in several forms, the push name, mentions, vCards, media keys, direct paths,
 * thumbnails, the quoted message's content, `futureproofParams` with the sender's number): a field
 * added tomorrow is dropped until someone decides to keep it.
 *
 * Kept: the event, type, t (seconds), whether it has media, its declared mimetype, size, duration,
 * width and height, isViewOnce, isGif, isForwarded, forwardingScore, whether it quotes a message,
 * how many contact cards it holds, and for an edit the edit's time (ms).
 */
type Obj = Record<string, unknown>;

const num = (v: unknown): number | null => (typeof v === 'number' && Number.isFinite(v) ? v : typeof v === 'string' && /^\d{1,12}(\.\d+)?$/.test(v) ? Number(v) : null);
const bool = (v: unknown): boolean | null => (typeof v === 'boolean' ? v : null);
/** A MIME type as declared (`image/jpeg`, `audio/ogg; codecs=opus`), or nothing. */
const mime = (v: unknown): string | null => (typeof v === 'string' && /^[a-z0-9.+-]{1,64}\/[a-z0-9.+-]{1,128}(\s*;\s*[a-z0-9=.+-]{1,64}){0,3}$/i.test(v) ? v : null);

export interface WebEvidence {
  readonly event: string;
  readonly type: string;
  readonly t: number | null;
  readonly hasMedia: boolean;
  readonly [k: string]: unknown;
}

export function evidenceOf(event: string, type: string, data: Obj, hasMedia: boolean, cards: number): WebEvidence {
  const out: Record<string, unknown> = { event, type, t: num(data.t), hasMedia };
  const put = (k: string, v: unknown) => {
    if (v !== null && v !== undefined) out[k] = v;
  };
  put('mimetype', mime(data.mimetype));
  put('size', num(data.size));
  put('duration', num(data.duration));
  put('width', num(data.width));
  put('height', num(data.height));
  put('isViewOnce', bool(data.isViewOnce));
  put('isGif', bool(data.isGif));
  put('isForwarded', bool(data.isForwarded));
  put('forwardingScore', num(data.forwardingScore));
  put('hasQuotedMsg', data.quotedMsg ? true : null);
  if (cards) out.vcardCount = cards;
  if (event === 'message_edit') put('latestEditSenderTimestampMs', num(data.latestEditSenderTimestampMs));
  return out as WebEvidence;
}
