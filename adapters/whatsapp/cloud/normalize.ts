/**
 * One Cloud API webhook item (payload.ts: a message or a status of `entry[].changes[].value`, with
 * the body's contacts and our number's id) → InboundMessage, an event, ignored or rejected; pure.
 *
 * Ids (the convention both WhatsApp back ends share): a wamid holds the sender's number, so it
 * never shows: `id = messageId([account, wamid])`, `nativeId = messageId(['wa', wamid])` (what a
 * reply, a reaction or a status names), the full wamid only in `platformRef` (sealed by the core).
 * Reasons name kinds of a fixed list, never the payload's own strings: they are logged and counted.
 */
import type { NormalizeContext } from '../../../src/contracts/channel-adapter';
import {
  DELIVERY_STATUSES,
  type ChannelEvent,
  type DeliveryStatus,
  type EventOnly,
  type Ignored,
  type InboundMessage,
  type MediaKind,
  type MediaRef,
  type Rejected,
} from '../../../src/contracts/inbound-message';
import type { CloudPayload } from '../payload';
import { evidenceOf } from './evidence';

type Obj = Record<string, unknown>;
const isObj = (v: unknown): v is Obj => typeof v === 'object' && v !== null && !Array.isArray(v);
const str = (v: unknown): string | null => (typeof v === 'string' && v.length > 0 ? v : null);
const num = (v: unknown): number | null => (typeof v === 'number' && Number.isFinite(v) ? v : null);

/** Meta's error code for a send outside the 24-hour customer service window. */
export const WINDOW_CLOSED_CODE = 131047;

/** Meta's timestamps are Unix seconds as a string; a forged item may carry anything. */
function timeOf(v: unknown): string | null {
  const s = typeof v === 'string' && /^\d{1,12}$/.test(v) ? Number(v) : num(v);
  if (s === null || s < 0) return null;
  const d = new Date(s * 1000);
  return Number.isFinite(d.getTime()) ? d.toISOString() : null;
}

const digits = (s: string | null) => (s ? s.replace(/\D/g, '') : '');

const MEDIA_TYPES: Readonly<Record<string, { kind: MediaKind; mime: string | null }>> = {
  image: { kind: 'photo', mime: 'image/jpeg' },
  video: { kind: 'video', mime: 'video/mp4' },
  audio: { kind: 'audio', mime: null },
  document: { kind: 'document', mime: null },
  sticker: { kind: 'sticker', mime: 'image/webp' },
};

function mediaOf(type: string, m: Obj): MediaRef[] {
  const spec = MEDIA_TYPES[type];
  const f = m[type];
  if (!spec || !isObj(f) || !str(f.id)) return [];
  const voice = type === 'audio' && f.voice === true;
  const size = num(f.file_size);
  return [
    {
      ref: str(f.id)!,
      kind: voice ? 'voice' : spec.kind,
      mime: str(f.mime_type) ?? (voice ? 'audio/ogg' : spec.mime),
      size: size !== null && Number.isInteger(size) && size >= 0 ? size : null,
      filename: type === 'document' ? str(f.filename) : null,
      sha256: null,
      sniffedMime: null,
      storedSize: null,
    },
  ];
}

/** The text a message carries, by type (a caption for media, the chosen title for a reply button…). */
function textOf(type: string, m: Obj): string | null {
  const part = m[type];
  switch (type) {
    case 'text':
      return isObj(part) ? str(part.body) : null;
    case 'image':
    case 'video':
    case 'document':
      return isObj(part) ? str(part.caption) : null;
    case 'button':
      return isObj(part) ? str(part.text) ?? str(part.payload) : null;
    case 'interactive': {
      if (!isObj(part)) return null;
      const reply = isObj(part.button_reply) ? part.button_reply : isObj(part.list_reply) ? part.list_reply : null;
      if (reply) return str(reply.title) ?? str(reply.id);
      // A flow's answers are in response_json; its body is Meta's fixed "Sent".
      if (isObj(part.nfm_reply)) return str(part.nfm_reply.response_json) ?? str(part.nfm_reply.body);
      return null;
    }
    case 'order': {
      if (!isObj(part)) return null;
      const items = Array.isArray(part.product_items) ? part.product_items.filter(isObj) : [];
      const lines = items.slice(0, 100).map((i) => `${str(i.product_retailer_id) ?? '?'} × ${num(i.quantity) ?? '?'}`);
      const said = str(part.text);
      const order = lines.length ? `Order: ${lines.join(', ')}` : 'Order';
      return said ? `${order}\n${said}` : order;
    }
    default:
      return null;
  }
}

function locationOf(m: Obj): InboundMessage['location'] {
  const l = m.location;
  if (!isObj(l) || num(l.latitude) === null || num(l.longitude) === null) return null;
  return { lat: num(l.latitude)!, lon: num(l.longitude)!, label: [str(l.name), str(l.address)].filter(Boolean).join(', ') || null };
}

/** The first shared card; the sender's own (their number or wa_id on it) keeps only that fact. */
function contactOf(m: Obj, sender: string): { contact: InboundMessage['contact']; self: boolean | null } {
  const cards = Array.isArray(m.contacts) ? m.contacts : [];
  const c = cards[0];
  if (!isObj(c)) return { contact: null, self: null };
  const phones = Array.isArray(c.phones) ? c.phones.filter(isObj) : [];
  const own = digits(sender);
  const self = own.length > 0 && phones.some((p) => digits(str(p.wa_id)) === own || digits(str(p.phone)) === own);
  if (self) return { contact: { self: true, name: null, phone: null }, self: true };
  const n = isObj(c.name) ? c.name : {};
  const name = str(n.formatted_name) ?? ([str(n.first_name), str(n.last_name)].filter(Boolean).join(' ') || null);
  const phone = phones.map((p) => str(p.phone) ?? str(p.wa_id)).find((p) => p !== null) ?? null;
  return { contact: { self: false, name, phone: phone && phone.length <= 64 ? phone : null }, self: false };
}

function senderName(contacts: readonly unknown[], from: string | null, userId: string | null): string | null {
  const c = contacts.find((x) => isObj(x) && ((from !== null && x.wa_id === from) || (userId !== null && x.user_id === userId)));
  const name = isObj(c) && isObj(c.profile) ? str(c.profile.name) : null;
  return name && name.length <= 512 ? name : null;
}

function normalizeStatus(s: unknown, ctx: NormalizeContext): EventOnly | Rejected | Ignored {
  if (!isObj(s) || !str(s.id) || !str(s.status)) return { rejected: true, reason: 'status: id and status are required' };
  const status = s.status as string;
  if (!(DELIVERY_STATUSES as readonly string[]).includes(status)) return { ignored: true, reason: 'status-other' };
  const at = timeOf(s.timestamp) ?? ctx.receivedAt.toISOString();
  let error: { code: string; reason: string } | null = null;
  if (status === 'failed') {
    const code = Array.isArray(s.errors) && isObj(s.errors[0]) ? num(s.errors[0].code) : null;
    error =
      code === WINDOW_CLOSED_CODE
        ? { code: 'TIPHUB_WINDOW_CLOSED', reason: 'the informant must write first (24-hour window)' }
        : { code: 'TIPHUB_SEND_FAILED', reason: code === null ? 'Meta error' : `Meta error ${Math.trunc(code)}` };
  }
  return { event: { kind: 'delivery', sentId: ctx.messageId(['wa', s.id as string]), status: status as DeliveryStatus, at, error } };
}

function systemEvent(m: Obj, wamid: string, from: string | null, userId: string | null, at: string, ctx: NormalizeContext): EventOnly | Ignored {
  const sys = isObj(m.system) ? m.system : {};
  const id = ctx.messageId([ctx.account, 'alias', wamid]);
  let e: ChannelEvent | null = null;
  if (sys.type === 'user_changed_number') {
    const to = str(sys.new_wa_id) ?? str(sys.wa_id);
    const old = from ?? userId;
    if (to && old) e = { kind: 'alias', id, from: old, to, reason: 'changed-number', at };
  } else if (sys.type === 'user_changed_user_id') {
    const to = str(sys.new_user_id) ?? str(sys.user_id);
    const old = userId ?? from;
    if (to && old) e = { kind: 'alias', id, from: old, to, reason: 'changed-user-id', at };
  }
  return e ? { event: e } : { ignored: true, reason: 'system' };
}

export function normalizeCloud(raw: CloudPayload, ctx: NormalizeContext): InboundMessage | Rejected | Ignored | EventOnly {
  if (!isObj(raw)) return { rejected: true, reason: 'item is not an object' };
  if (raw.phoneNumberId !== ctx.account) return { ignored: true, reason: 'other-number' };
  if (raw.status !== undefined) return normalizeStatus(raw.status, ctx);
  const m = raw.message;
  if (!isObj(m)) return { rejected: true, reason: 'item has neither a message nor a status' };
  const wamid = str(m.id);
  const from = str(m.from);
  const userId = str(m.from_user_id);
  const type = str(m.type);
  if (!wamid || !type || !(from || userId)) return { rejected: true, reason: 'message: id, type and from (or from_user_id) are required' };
  if (wamid.length > 1024) return { rejected: true, reason: 'message: id too long' };
  const sentAt = timeOf(m.timestamp);
  if (!sentAt) return { rejected: true, reason: 'message: timestamp missing or out of range' };
  const address = from ?? userId!;

  if (type === 'reaction') {
    const r = isObj(m.reaction) ? m.reaction : null;
    if (!r || !str(r.message_id)) return { rejected: true, reason: 'reaction: message_id is required' };
    return {
      event: { kind: 'reaction', id: ctx.messageId([ctx.account, 'reaction', wamid]), sender: address, target: ctx.messageId(['wa', r.message_id as string]), emoji: str(r.emoji), at: sentAt },
    };
  }
  if (type === 'system') return systemEvent(m, wamid, from, userId, sentAt, ctx);
  const name = () => senderName(Array.isArray(raw.contacts) ? raw.contacts : [], from, userId);
  // Opening the chat before writing: greeted (when new to us), no report.
  if (type === 'request_welcome') return { event: { kind: 'first-contact', id: ctx.messageId([ctx.account, 'welcome', wamid]), sender: address, name: name(), at: sentAt } };
  // What Meta could not pass on (131051: a poll, a view-once…): its sender is told so, no report.
  if (type === 'unsupported') return { event: { kind: 'unreadable', id: ctx.messageId([ctx.account, wamid]), sender: address, name: name(), at: sentAt } };

  const KNOWN = ['text', 'image', 'video', 'audio', 'document', 'sticker', 'location', 'contacts', 'interactive', 'button', 'order'];
  if (!KNOWN.includes(type)) return { ignored: true, reason: 'unknown' };

  const media = mediaOf(type, m);
  const text = textOf(type, m);
  const location = type === 'location' ? locationOf(m) : null;
  const { contact, self } = type === 'contacts' ? contactOf(m, address) : { contact: null, self: null };
  if (!text && !media.length && !location && !contact) return { rejected: true, reason: `${type}: no content` };

  const context = isObj(m.context) ? m.context : {};
  const forwarded = context.forwarded === true || context.frequently_forwarded === true;
  const evidence = evidenceOf(m, self);
  return {
    v: 1,
    id: ctx.messageId([ctx.account, wamid]),
    nativeId: ctx.messageId(['wa', wamid]),
    platformRef: wamid,
    channel: 'whatsapp',
    account: ctx.account,
    sender: { address, name: name() },
    sentAt,
    receivedAt: ctx.receivedAt.toISOString(),
    text,
    media,
    location,
    contact,
    replyTo: str(context.id) ? ctx.messageId(['wa', context.id as string]) : null,
    forwarded,
    edited: false,
    editOf: null,
    languageHint: null,
    groupKey: null,
    raw: evidence,
  };
}
