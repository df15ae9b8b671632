/**
 * A WhatsApp Web event (whatsapp-web.js) → InboundMessage, pure. The event's message is rebuilt
 * with the library's own `Message` from its raw data (what the live session hands over, and what
 * test/fixtures/whatsapp-web records), so the fields mean what the library says they mean.
 *
 * Only private chats are tips: groups (`@g.us`, unless asked for), status broadcasts, our own
 * messages and WhatsApp's service messages are ignored by a word of a fixed list. Ids: WhatsApp
 * Web's full id (`false_<number>@c.us_<stanza id>`) names the sender, so the pipeline id is its
 * keyed hash under our account; `nativeId` is the keyed hash of the stanza id alone, which is what
 * a quote of the message carries (`quotedStanzaID`) and what a revoke names; the full id travels
 * as `platformRef`, for the outbound step to quote the report (sendMessage's quotedMessageId) and
 * for the media step to find the message again (MediaRef.ref).
 *
 * Events, not reports: a revoke for everyone (a retraction), a reaction (`message_reaction`: its
 * target is the stanza id's hash of the message reacted to; ours and those in groups ignored), an
 * ack of one of our sent messages (`message_ack`: a delivery status of the nativeId our send
 * returned; acks of the informants' messages and pending ones ignored).
 */
import type WAWebJS from 'whatsapp-web.js';
import type { NormalizeContext } from '../../../src/contracts/channel-adapter';
import type { DeliveryStatus, EventOnly, Ignored, InboundMessage, MediaKind, MediaRef, Rejected } from '../../../src/contracts/inbound-message';
import type { WebPayload } from '../payload';
import { evidenceOf } from './evidence';

type Obj = Record<string, unknown>;
const isObj = (v: unknown): v is Obj => typeof v === 'object' && v !== null && !Array.isArray(v);
const str = (v: unknown): string | null => (typeof v === 'string' && v.length > 0 ? v : null);
const num = (v: unknown): number | null => (typeof v === 'number' && Number.isFinite(v) ? v : null);

/** A WhatsApp id as a string, whether the data holds it serialized or as a wid object. */
const wid = (v: unknown): string | null => (typeof v === 'string' ? str(v) : isObj(v) ? str(v._serialized) : null);

/*
 * The library's Message class and its ack codes, from their own files: the package's entry loads
 * puppeteer and ~600 modules (half a second at every command), which only a live session needs.
 * The same objects the entry exports (its index.js re-exports these files).
 */
/** The library's Message class (its types declare only an interface; the module exports the class). */
// eslint-disable-next-line @typescript-eslint/no-require-imports
export const WebMessage = require('whatsapp-web.js/src/structures/Message') as new (client: null, data: object) => WAWebJS.Message;

export const WEB_EVENTS = ['message', 'message_edit', 'message_revoke_everyone', 'message_reaction', 'message_ack'] as const;

/** whatsapp-web.js's MessageAck (src/util/Constants.js): -1 error, 0 pending, 1 server, 2 device, 3 read, 4 played. */
// eslint-disable-next-line @typescript-eslint/no-require-imports
const ACK = (require('whatsapp-web.js/src/util/Constants') as { MessageAck: Record<'ACK_ERROR' | 'ACK_PENDING' | 'ACK_SERVER' | 'ACK_DEVICE' | 'ACK_READ' | 'ACK_PLAYED', number> }).MessageAck;
const ACK_STATUS: ReadonlyMap<number, DeliveryStatus> = new Map([
  [ACK.ACK_SERVER, 'sent'],
  [ACK.ACK_DEVICE, 'delivered'],
  [ACK.ACK_READ, 'read'],
  [ACK.ACK_PLAYED, 'played'],
  [ACK.ACK_ERROR, 'failed'],
]);

/** Message types that carry media, and the kind each is. */
const MEDIA_TYPES: Readonly<Record<string, MediaKind>> = {
  image: 'photo',
  video: 'video',
  ptv: 'video',
  audio: 'audio',
  ptt: 'voice',
  document: 'document',
  sticker: 'sticker',
};
const CONTENT_TYPES = new Set(['chat', 'location', 'vcard', 'multi_vcard', ...Object.keys(MEDIA_TYPES)]);

/** Types that are not tips, counted by their own name (WhatsApp's fixed list); any other is `unknown`. */
const SERVICE_TYPES = new Set([
  'e2e_notification', 'notification_template', 'notification', 'gp2', 'group_notification', 'broadcast_notification',
  'ciphertext', 'protocol', 'call_log', 'revoked', 'debug', 'reaction', 'poll_creation', 'scheduled_event_creation',
  'groups_v4_invite', 'order', 'product', 'payment', 'list', 'list_response', 'buttons_response', 'template_button_reply',
  'interactive', 'native_flow', 'hsm', 'oversized', 'album', 'pin_message', 'keep_in_chat',
]);

/** The digits of a `<number>@c.us` id (a LID holds no number). */
const phoneOf = (id: string | null): string | null => (id && /^\d{5,20}@c\.us$/.test(id) ? id.slice(0, id.indexOf('@')) : null);
const digits = (s: string) => s.replace(/\D/g, '');

interface Card {
  name: string | null;
  phone: string | null;
  /** The number WhatsApp put in the card (`waid=`), else the phone's digits. */
  number: string | null;
}

/** The name and first phone of a vCard (WhatsApp writes 3.0: FN, N, `item1.TEL;waid=…:+…`). */
export function readVcard(text: string): Card {
  const lines = text.replace(/\r\n/g, '\n').replace(/\n[ \t]/g, '').split('\n');
  const unescape = (v: string) => v.replace(/\\n/gi, ' ').replace(/\\([,;\\])/g, '$1').trim();
  let fn: string | null = null;
  let n: string | null = null;
  let phone: string | null = null;
  let waid: string | null = null;
  for (const line of lines) {
    const colon = line.indexOf(':');
    if (colon < 0) continue;
    const [prop = '', ...params] = line.slice(0, colon).split(';');
    const name = prop.replace(/^[^.]*\./, '').toUpperCase();
    const value = line.slice(colon + 1);
    if (name === 'FN' && fn === null) fn = unescape(value) || null;
    else if (name === 'N' && n === null) n = value.split(';').map(unescape).filter(Boolean).reverse().join(' ') || null;
    else if (name === 'TEL' && phone === null) {
      phone = unescape(value).slice(0, 64) || null;
      const w = params.find((p) => /^waid=/i.test(p));
      waid = w ? digits(w.slice(5)) || null : null;
    }
  }
  return { name: (fn ?? n)?.slice(0, 512) ?? null, phone, number: waid ?? (phone ? digits(phone) || null : null) };
}

export interface WebNormalizeOptions {
  /** Take messages from groups too (channels.whatsapp.groups): the group member is the sender. */
  readonly groups?: boolean;
}

/** The stanza id's keyed hash: a report's nativeId, what a quote of it and a revoke of it name. */
export const webNativeId = (messageId: (parts: readonly (string | number)[]) => string, stanzaId: string) => messageId(['wa', stanzaId]);

/** A message key as the page hands it over: an object (fromMe, remote, id, _serialized) or its serialized form. */
interface Key {
  readonly fromMe: boolean | null;
  readonly remote: string | null;
  readonly id: string;
  readonly serialized: string | null;
}
function keyOf(v: unknown): Key | null {
  if (isObj(v)) {
    const id = str(v.id);
    if (!id) return null;
    return { fromMe: typeof v.fromMe === 'boolean' ? v.fromMe : null, remote: wid(v.remote), id, serialized: str(v._serialized) };
  }
  // `<fromMe>_<chat>_<stanza id>[_<participant>]`
  const m = typeof v === 'string' ? /^(true|false)_([^_\s]+)_([^_\s]+)(?:_[^\s]+)?$/.exec(v) : null;
  return m ? { fromMe: m[1] === 'true', remote: m[2]!, id: m[3]!, serialized: v as string } : null;
}

const SENDER = /^[^@\s]{1,64}@(c\.us|lid)$/;

/**
 * A reaction → its event: the reactor, the stanza id of the message reacted to (the same hash as
 * that report's or our reply's nativeId), the emoji (empty: taken back, null). Its id is keyed from
 * the reaction's own key and its time, so the same reaction handed over again (WhatsApp Web
 * upserts it when it is read) is recorded once, and a changed emoji is a new one.
 */
function normalizeReaction(raw: WebPayload, ctx: NormalizeContext, opts: WebNormalizeOptions): Rejected | Ignored | EventOnly {
  const r = raw.reaction;
  if (!isObj(r)) return { rejected: true, reason: 'message_reaction: reaction is required' };
  const own = keyOf(r.id ?? r.msgKey);
  const parent = keyOf(r.msgId ?? r.parentMsgKey);
  if (!parent || parent.id.length > 200 || (own?.serialized?.length ?? 0) > 1024) return { rejected: true, reason: 'message_reaction: reaction.msgId is required' };
  const remote = parent.remote ?? own?.remote ?? '';
  if (remote === 'status@broadcast') return { ignored: true, reason: 'reaction-status' };
  // Ours (from this session or the phone): not the informant's.
  if (own?.fromMe === true) return { ignored: true, reason: 'reaction-own' };
  if (remote.endsWith('@broadcast') || remote.endsWith('@newsletter')) return { ignored: true, reason: 'reaction-broadcast' };
  if (remote.endsWith('@g.us') && !opts.groups) return { ignored: true, reason: 'reaction-group' };
  const from = wid(r.senderId ?? r.senderUserJid);
  if (!from || !SENDER.test(from)) return { rejected: true, reason: 'message_reaction: the sender is not a @c.us or @lid id' };
  const learned = typeof raw.lid === 'string' && /^[^@\s]{1,64}@lid$/.test(raw.lid) ? raw.lid : null;
  const sender = from.endsWith('@lid') ? from : (learned ?? from);
  const ts = num(r.timestamp);
  const ms = ts === null ? NaN : Math.round(ts * 1000);
  if (!Number.isFinite(new Date(ms).getTime())) return { rejected: true, reason: 'message_reaction: reaction.timestamp is required' };
  const text = typeof r.reaction === 'string' ? r.reaction : typeof r.reactionText === 'string' ? r.reactionText : null;
  if (text === null) return { rejected: true, reason: 'message_reaction: reaction.reaction is required' };
  if (text.length > 64) return { rejected: true, reason: 'message_reaction: reaction.reaction too long' };
  return {
    event: {
      kind: 'reaction',
      id: ctx.messageId([ctx.account, 'reaction', own?.serialized ?? own?.id ?? '', parent.id, from, ms]),
      sender,
      target: webNativeId(ctx.messageId, parent.id),
      emoji: text.length ? text : null,
      at: new Date(ms).toISOString(),
    },
  };
}

/**
 * An ack of one of our sent messages → a delivery status of it (its sentId is what our send
 * returned). WhatsApp Web says when the ack changed, not when it happened: `at` is when we got it.
 * Acks of the informants' messages (WhatsApp Web marks them too) and pending ones are not statuses.
 */
function normalizeAck(raw: WebPayload, data: Obj, key: Obj, stanza: string, ctx: NormalizeContext): Ignored | EventOnly {
  if (key.fromMe !== true) return { ignored: true, reason: 'ack-inbound' };
  const ack = num(raw.ack) ?? num(data.ack);
  if (ack === ACK.ACK_PENDING) return { ignored: true, reason: 'ack-pending' };
  const status = ack === null ? undefined : ACK_STATUS.get(ack);
  if (!status) return { ignored: true, reason: 'ack-unknown' };
  return {
    event: {
      kind: 'delivery',
      sentId: webNativeId(ctx.messageId, stanza),
      status,
      at: ctx.receivedAt.toISOString(),
      error: status === 'failed' ? { code: 'TIPHUB_SEND_FAILED', reason: 'WhatsApp Web reported an error' } : null,
    },
  };
}

export function normalizeWeb(raw: WebPayload, ctx: NormalizeContext, opts: WebNormalizeOptions = {}): InboundMessage | Rejected | Ignored | EventOnly {
  if (!isObj(raw)) return { rejected: true, reason: 'item is not an object' };
  const event = raw.event;
  if (!(WEB_EVENTS as readonly unknown[]).includes(event)) return { rejected: true, reason: `event is not one of ${WEB_EVENTS.join(', ')}` };
  if (event === 'message_reaction') return normalizeReaction(raw, ctx, opts);
  const data = raw.msg;
  if (!isObj(data) || !isObj(data.id)) return { rejected: true, reason: `${event}: msg.id is required` };
  const key = data.id;
  const serialized = str(key._serialized);
  const stanza = str(key.id);
  if (!serialized || !stanza || serialized.length > 1024 || stanza.length > 200) return { rejected: true, reason: `${event}: msg.id.id and msg.id._serialized are required` };
  let msg: WAWebJS.Message;
  try {
    msg = new WebMessage(null, data);
  } catch {
    return { rejected: true, reason: `${event}: msg is not a WhatsApp Web message` };
  }

  // Not tips: status updates, our own messages (also seen when we edit or revoke), groups.
  const remote = wid(key.remote) ?? msg.from ?? null;
  if (msg.isStatus || remote === 'status@broadcast' || msg.from === 'status@broadcast') return { ignored: true, reason: 'status' };
  if (event === 'message_ack') return normalizeAck(raw, data, key, stanza, ctx);
  if (msg.fromMe === true) return { ignored: true, reason: 'own' };
  if (msg.broadcast === true || (remote ?? '').endsWith('@broadcast')) return { ignored: true, reason: 'broadcast' };
  if ((remote ?? '').endsWith('@newsletter')) return { ignored: true, reason: 'newsletter' };
  const type = typeof msg.type === 'string' ? msg.type : '';
  // WhatsApp's own service messages by their type's name (a revoke's message is of type `revoked`).
  if (event !== 'message_revoke_everyone' && SERVICE_TYPES.has(type)) return { ignored: true, reason: type };
  const inGroup = (remote ?? '').endsWith('@g.us') || (msg.from ?? '').endsWith('@g.us');
  if (inGroup && !opts.groups) return { ignored: true, reason: 'group' };

  const from = inGroup ? (msg.author ?? null) : (msg.from ?? null);
  if (!from || !SENDER.test(from)) return { rejected: true, reason: `${event}: the sender is not a @c.us or @lid id` };
  const learned = typeof raw.lid === 'string' && /^[^@\s]{1,64}@lid$/.test(raw.lid) ? raw.lid : null;
  const address = from.endsWith('@lid') ? from : (learned ?? from);
  const t = num(data.t);
  if (t === null || !Number.isFinite(new Date(t * 1000).getTime())) return { rejected: true, reason: `${event}: msg.t is required` };

  if (event === 'message_revoke_everyone') {
    const revoked = isObj(raw.revoked) && isObj(raw.revoked.id) ? raw.revoked.id : null;
    const pkey = data.protocolMessageKey;
    const target = (isObj(pkey) ? str(pkey.id) : null) ?? (revoked ? str(revoked.id) : null) ?? stanza;
    return {
      event: {
        kind: 'retraction',
        id: ctx.messageId([ctx.account, 'revoke', serialized]),
        sender: address,
        target: webNativeId(ctx.messageId, target),
        at: new Date(t * 1000).toISOString(),
      },
    };
  }

  if (!CONTENT_TYPES.has(type)) return { ignored: true, reason: 'unknown' };

  const edited = event === 'message_edit';
  const editMs = num(data.latestEditSenderTimestampMs);
  const sentMs = edited && editMs !== null ? editMs : t * 1000;
  if (!Number.isFinite(new Date(sentMs).getTime())) return { rejected: true, reason: `${event}: edit time out of range` };

  const kind = MEDIA_TYPES[type];
  const media: MediaRef[] = kind
    ? [
        {
          ref: serialized,
          kind: kind === 'video' && msg.isGif ? 'animation' : kind,
          mime: str(data.mimetype)?.slice(0, 255) ?? null,
          size: Number.isInteger(data.size) && (data.size as number) >= 0 ? (data.size as number) : null,
          filename: type === 'document' ? (str(data.filename)?.slice(0, 1024) ?? null) : null,
          sha256: null,
          sniffedMime: null,
          storedSize: null,
        },
      ]
    : [];

  const loc = msg.location;
  const lat = loc ? Number(loc.latitude) : NaN;
  const lon = loc ? Number(loc.longitude) : NaN;
  const location =
    type === 'location' && Number.isFinite(lat) && Number.isFinite(lon)
      ? { lat, lon, label: [str(loc!.name), str(loc!.address)].filter(Boolean).join(', ').slice(0, 1024) || null }
      : null;

  const cards = Array.isArray(msg.vCards) ? msg.vCards.filter((c): c is string => typeof c === 'string' && c.length > 0) : [];
  let contact: InboundMessage['contact'] = null;
  if (cards.length) {
    const card = readVcard(cards[0]!);
    // A card of the sender's own number says who they are: keep only that they shared it.
    const own = phoneOf(from);
    contact = own !== null && card.number === own ? { self: true, name: null, phone: null } : { self: false, name: card.name, phone: card.phone };
  }

  // The body of a location is its thumbnail, of a vCard the card: not text.
  const body = edited && typeof raw.newBody === 'string' ? raw.newBody : msg.body;
  const text = type === 'location' || type === 'vcard' || type === 'multi_vcard' ? null : typeof body === 'string' && body.length ? body.slice(0, 65_536) : null;
  if (!text && !media.length && !location && !contact) return { ignored: true, reason: 'empty' };

  const quoted = msg.hasQuotedMsg ? str(data.quotedStanzaID) : null;
  const id = ctx.messageId([ctx.account, serialized]);
  return {
    v: 1,
    id: edited ? ctx.messageId([ctx.account, serialized, 'edit', sentMs]) : id,
    nativeId: webNativeId(ctx.messageId, stanza),
    platformRef: serialized,
    channel: 'whatsapp',
    account: ctx.account,
    sender: { address, name: str(data.notifyName)?.slice(0, 512) ?? null },
    sentAt: new Date(sentMs).toISOString(),
    receivedAt: ctx.receivedAt.toISOString(),
    text,
    media,
    location,
    contact,
    replyTo: quoted ? webNativeId(ctx.messageId, quoted) : null,
    forwarded: msg.isForwarded === true || (msg.forwardingScore ?? 0) > 0,
    edited,
    editOf: edited ? id : null,
    languageHint: null,
    groupKey: null,
    raw: evidenceOf(event, type, data, msg.hasMedia === true, cards.length),
  };
}
