/**
 * One receive frame of signal-cli-rest-api 0.100 (`{envelope, account}`, as the json-rpc websocket
 * sends it and as each item of the polling answer) → InboundMessage, an event, ignored or
 * rejected; pure. Recorded shapes: null fields occur (`sourceNumber` for a sender who hides their
 * number, `filename`, `caption`, `message`…), so every field is checked, none trusted.
 *
 * The sender is `sourceUuid` (the number may be hidden); `sender.name` is the profile name.
 * Ids: a Signal message is named by its author and its timestamp, and the author is an identifier,
 * so none shows:
 * - `id = messageId([account, uuid, timestamp])`, `nativeId = messageId(['sig', uuid, timestamp])`
 *   (what a quote, a reaction or a remote delete of it names);
 * - `platformRef = "<timestamp>:<uuid>"`: what a reply needs to quote it (`quote_timestamp`,
 *   `quote_author`), sealed by the core;
 * - what quotes or reacts to one of OUR sends (the author is the bot's number) names it as our send
 *   does: `messageId(['sig-sent', timestamp])`, as do receipts (`sentId`). The adapter's send must
 *   return `nativeId = ports.messageId(['sig-sent', <the timestamp /v2/send answered>])`.
 * Reasons name kinds of a fixed list, never the payload's own strings: they are logged and counted.
 */
import type { NormalizeContext } from '../../src/contracts/channel-adapter';
import type { ChannelEvent, DeliveryStatus, EventOnly, Ignored, InboundMessage, MediaKind, MediaRef, Rejected } from '../../src/contracts/inbound-message';
import { evidenceOf } from './evidence';

type Obj = Record<string, unknown>;
type Result = InboundMessage | Rejected | Ignored | EventOnly;

const isObj = (v: unknown): v is Obj => typeof v === 'object' && v !== null && !Array.isArray(v);
const str = (v: unknown): string | null => (typeof v === 'string' && v.length > 0 ? v : null);
const num = (v: unknown): number | null => (typeof v === 'number' && Number.isFinite(v) ? v : null);
const digits = (s: string | null) => (s ? s.replace(/\D/g, '') : '');

/** Signal's timestamps: milliseconds since the epoch, an integer; a forged frame may carry anything. */
const MAX_MS = 8.64e15;
function stampOf(v: unknown): number | null {
  const n = num(v);
  return n !== null && Number.isSafeInteger(n) && n > 0 && n <= MAX_MS ? n : null;
}
const iso = (ms: number) => new Date(ms).toISOString();

const MAX_TEXT = 65_536;
const MAX_MEDIA = 100;

/** Where a mention stands in the text, signal-cli puts U+FFFC; the one mentioned is an identifier. */
const MENTION_PLACEHOLDER = '\uFFFC';
const MENTION_TEXT = '@[mention]';

/** Which ignored kinds the envelope may be (besides a data or edit message or a receipt). */
const IGNORED_KINDS: readonly (readonly [string, string])[] = [
  ['syncMessage', 'sync'],
  ['typingMessage', 'typing'],
  ['callMessage', 'call'],
  ['storyMessage', 'story'],
];

/** A message of `author` at `timestamp` as its nativeId names it; ours (the bot's number) as our send named it. */
function refOf(ctx: NormalizeContext, author: { uuid: unknown; number: unknown; legacy: unknown }, timestamp: number): string | null {
  const number = str(author.number);
  const legacy = str(author.legacy);
  if (number === ctx.account || legacy === ctx.account) return ctx.messageId(['sig-sent', timestamp]);
  const who = str(author.uuid) ?? legacy;
  return who ? ctx.messageId(['sig', who, timestamp]) : null;
}

function kindOf(contentType: string | null, voiceNote: boolean, filename: string | null): MediaKind {
  const t = (contentType ?? '').toLowerCase();
  if (t.startsWith('image/')) return 'photo';
  if (t.startsWith('video/')) return 'video';
  if (t.startsWith('audio/')) {
    // signal-cli 0.100 does not say which audio is a voice note: Signal's apps record them as AAC
    // and send them without a file name, where a shared audio file keeps its own.
    if (voiceNote) return 'voice';
    return t.startsWith('audio/aac') && filename === null ? 'voice' : 'audio';
  }
  return 'document';
}

function mediaOf(d: Obj): MediaRef[] {
  const list = Array.isArray(d.attachments) ? d.attachments.filter(isObj) : [];
  const out: MediaRef[] = [];
  for (const a of list) {
    const ref = str(a.id);
    if (!ref || ref.length > 1024) continue;
    const mime = str(a.contentType);
    const filename = str(a.filename);
    const size = num(a.size);
    out.push({
      ref,
      kind: kindOf(mime, a.voiceNote === true, filename),
      mime: mime && mime.length <= 255 ? mime : null,
      size: size !== null && Number.isSafeInteger(size) && size >= 0 ? size : null,
      filename: filename && filename.length <= 1024 ? filename : null,
      sha256: null,
      sniffedMime: null,
      storedSize: null,
    });
    if (out.length >= MAX_MEDIA) break;
  }
  return out;
}

/**
 * A sticker: signal-cli 0.100 names it by pack and number only (its image stays in signal-cli's
 * sticker store, not an attachment the hub could fetch). Where a sticker does carry an attachment
 * id, it is a media ref of kind sticker.
 */
function stickerMedia(d: Obj): MediaRef | null {
  const s = isObj(d.sticker) ? d.sticker : null;
  const a = s && isObj(s.attachment) ? s.attachment : null;
  const ref = a ? str(a.id) : null;
  if (!a || !ref || ref.length > 1024) return null;
  const size = num(a.size);
  const mime = str(a.contentType);
  return {
    ref,
    kind: 'sticker',
    mime: mime && mime.length <= 255 ? mime : 'image/webp',
    size: size !== null && Number.isSafeInteger(size) && size >= 0 ? size : null,
    filename: null,
    sha256: null,
    sniffedMime: null,
    storedSize: null,
  };
}

/** The text with each mention's placeholder in words that name no one. */
function textOf(d: Obj): string | null {
  let text = typeof d.message === 'string' ? d.message : null;
  if (text !== null && Array.isArray(d.mentions)) {
    const spots = d.mentions
      .filter(isObj)
      .map((m) => ({ start: num(m.start), length: num(m.length) }))
      .filter((m): m is { start: number; length: number } => m.start !== null && m.length !== null && Number.isInteger(m.start) && m.length === 1)
      .sort((a, b) => b.start - a.start);
    let last = Infinity;
    for (const { start } of spots) {
      if (start >= last || text[start] !== MENTION_PLACEHOLDER) continue;
      text = text.slice(0, start) + MENTION_TEXT + text.slice(start + 1);
      last = start;
    }
  }
  // A caption the sender gave an attachment (Signal's apps rarely do) is the sender's words too.
  const captions = (Array.isArray(d.attachments) ? d.attachments.filter(isObj) : []).map((a) => str(a.caption)).filter((c): c is string => c !== null && c !== text);
  const parts = [text, ...new Set(captions)].filter((p): p is string => p !== null && p.length > 0);
  return parts.length ? parts.join('\n') : null;
}

function nameOf(n: unknown): string | null {
  if (!isObj(n)) return null;
  const full = [str(n.prefix), str(n.given), str(n.middle), str(n.family), str(n.suffix)].filter(Boolean).join(' ');
  const name = full || str(n.nickname) || str(n.display);
  return name && name.length <= 512 ? name : null;
}

/** The first shared contact; the sender's own (their number on it) keeps only that fact. */
function contactOf(d: Obj, sender: { uuid: string; number: string | null }): { contact: InboundMessage['contact']; self: boolean | null } {
  const cards = Array.isArray(d.contacts) ? d.contacts : [];
  const c = cards[0];
  if (!isObj(c)) return { contact: null, self: null };
  const phones = (Array.isArray(c.phone) ? c.phone.filter(isObj) : []).map((p) => str(p.value)).filter((p): p is string => p !== null);
  const own = digits(sender.number);
  const self = phones.some((p) => p === sender.uuid || (own.length > 0 && digits(p) === own));
  if (self) return { contact: { self: true, name: null, phone: null }, self: true };
  const phone = phones[0] ?? null;
  const name = nameOf(c.name) ?? (str(c.organization) && str(c.organization)!.length <= 512 ? str(c.organization) : null);
  if (!name && !phone) return { contact: null, self: null };
  return { contact: { self: false, name, phone: phone && phone.length <= 64 ? phone : null }, self: false };
}

function receiptOf(e: Obj, r: Obj, ctx: NormalizeContext): EventOnly | Rejected | Ignored {
  const stamps = Array.isArray(r.timestamps) ? r.timestamps.map(stampOf) : [];
  const first = stamps[0];
  if (first === undefined || first === null) return { rejected: true, reason: 'receiptMessage: timestamps are required' };
  // A viewed receipt: the recipient opened a voice note or media of ours (WhatsApp's "played").
  const status: DeliveryStatus | null = r.isViewed === true ? 'played' : r.isRead === true ? 'read' : r.isDelivery === true ? 'delivered' : null;
  if (!status) return { ignored: true, reason: 'unknown' };
  const when = stampOf(r.when) ?? stampOf(e.timestamp);
  const at = when !== null ? iso(when) : ctx.receivedAt.toISOString();
  // One receipt may name several of our sends: the first is `event`, the others (each once) `more`.
  const event = (ts: number): ChannelEvent => ({ kind: 'delivery', sentId: ctx.messageId(['sig-sent', ts]), status, at, error: null });
  const rest = [...new Set(stamps.slice(1).filter((s): s is number => s !== null && s !== first))].slice(0, 100);
  return rest.length ? { event: event(first), more: rest.map(event) } : { event: event(first) };
}

function dataResult(e: Obj, d: Obj, sender: { uuid: string; number: string | null; name: string | null }, timestamp: number, ctx: NormalizeContext, edit: { target: number } | null): Result {
  if (isObj(d.groupInfo)) return { ignored: true, reason: 'group' };
  const at = iso(timestamp);

  if (!edit && isObj(d.reaction)) {
    const r = d.reaction;
    const ts = stampOf(r.targetSentTimestamp);
    const target = ts === null ? null : refOf(ctx, { uuid: r.targetAuthorUuid, number: r.targetAuthorNumber, legacy: r.targetAuthor }, ts);
    if (!target) return { rejected: true, reason: 'reaction: targetAuthor and targetSentTimestamp are required' };
    const emoji = r.isRemove === true ? null : str(r.emoji);
    if (r.isRemove !== true && (!emoji || emoji.length > 64)) return { rejected: true, reason: 'reaction: emoji is required' };
    const event: ChannelEvent = { kind: 'reaction', id: ctx.messageId([ctx.account, 'reaction', sender.uuid, timestamp]), sender: sender.uuid, target, emoji, at };
    return { event };
  }
  if (!edit && isObj(d.remoteDelete)) {
    const ts = stampOf(d.remoteDelete.timestamp);
    if (ts === null) return { rejected: true, reason: 'remoteDelete: timestamp is required' };
    return { event: { kind: 'retraction', id: ctx.messageId([ctx.account, 'retraction', sender.uuid, timestamp]), sender: sender.uuid, target: ctx.messageId(['sig', sender.uuid, ts]), at } };
  }

  const text = textOf(d);
  if (text !== null && text.length > MAX_TEXT) return { rejected: true, reason: 'dataMessage: message too long' };
  const media = mediaOf(d);
  const sticker = isObj(d.sticker) ? stickerMedia(d) : null;
  if (sticker && media.length < MAX_MEDIA) media.push(sticker);
  const { contact, self } = contactOf(d, sender);
  const hasSticker = isObj(d.sticker);
  // A sticker without an image to fetch is still the sender writing to us: a report without text
  // or media, its sticker in the evidence. Anything else without content (an expiry timer update,
  // a profile key, a poll, a payment, a pin) is not a tip.
  if (!text && !media.length && !contact && !hasSticker) return { ignored: true, reason: 'unknown' };

  const quote = isObj(d.quote) ? d.quote : null;
  const quoted = quote ? stampOf(quote.id) : null;
  const replyTo = quote && quoted !== null ? refOf(ctx, { uuid: quote.authorUuid, number: quote.authorNumber, legacy: quote.author }, quoted) : null;
  // What a reply quotes: Signal's apps know an edited message by the timestamp it was first sent with.
  const quoteStamp = edit ? edit.target : timestamp;
  return {
    v: 1,
    id: ctx.messageId([ctx.account, sender.uuid, timestamp]),
    nativeId: ctx.messageId(['sig', sender.uuid, timestamp]),
    platformRef: `${quoteStamp}:${sender.uuid}`,
    channel: 'signal',
    account: ctx.account,
    sender: { address: sender.uuid, name: sender.name },
    sentAt: at,
    receivedAt: ctx.receivedAt.toISOString(),
    text,
    media,
    location: null,
    contact,
    replyTo,
    forwarded: false,
    edited: edit !== null,
    editOf: edit ? ctx.messageId([ctx.account, sender.uuid, edit.target]) : null,
    languageHint: null,
    groupKey: null,
    raw: evidenceOf(e, d, self),
  };
}

export function normalizeSignal(raw: unknown, ctx: NormalizeContext): Result {
  if (!isObj(raw) || !isObj(raw.envelope)) return { rejected: true, reason: 'frame has no envelope' };
  const e = raw.envelope;
  for (const [field, reason] of IGNORED_KINDS) if (isObj(e[field])) return { ignored: true, reason };
  if (isObj(e.receiptMessage)) return receiptOf(e, e.receiptMessage, ctx);

  const uuid = str(e.sourceUuid);
  const timestamp = stampOf(e.timestamp);
  if (!uuid || uuid.length > 512) return { rejected: true, reason: 'envelope: sourceUuid is required' };
  if (timestamp === null) return { rejected: true, reason: 'envelope: timestamp missing or out of range' };
  const name = str(e.sourceName);
  const sender = { uuid, number: str(e.sourceNumber), name: name && name.length <= 512 ? name : null };

  if (isObj(e.editMessage)) {
    const target = stampOf(e.editMessage.targetSentTimestamp);
    const d = e.editMessage.dataMessage;
    if (target === null || !isObj(d)) return { rejected: true, reason: 'editMessage: targetSentTimestamp and dataMessage are required' };
    return dataResult(e, d, sender, timestamp, ctx, { target });
  }
  if (isObj(e.dataMessage)) return dataResult(e, e.dataMessage, sender, timestamp, ctx, null);
  return { ignored: true, reason: 'unknown' };
}
