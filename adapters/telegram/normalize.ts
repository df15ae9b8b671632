/**
 * Telegram `Update` → InboundMessage, pure. Only private chats are tips; groups, channels, service
 * messages and callbacks are ignored (counted, not kept). The message id is a keyed hash of bot id,
 * chat id, message id (and edit date): in a private chat the chat id is the user's id, so it must
 * not show through. `raw` keeps the update without the sender's and the chat's identifying fields.
 */
import type { Ignored, InboundMessage, MediaKind, MediaRef, Rejected } from '../../src/contracts/inbound-message';
import type { NormalizeContext } from '../../src/contracts/channel-adapter';

type Obj = Record<string, unknown>;
const isObj = (v: unknown): v is Obj => typeof v === 'object' && v !== null && !Array.isArray(v);
const str = (v: unknown): string | null => (typeof v === 'string' ? v : null);
const num = (v: unknown): number | null => (typeof v === 'number' && Number.isFinite(v) ? v : null);

const SERVICE_KEYS = [
  'new_chat_members', 'left_chat_member', 'new_chat_title', 'new_chat_photo', 'delete_chat_photo', 'group_chat_created',
  'supergroup_chat_created', 'channel_chat_created', 'message_auto_delete_timer_changed', 'migrate_to_chat_id',
  'migrate_from_chat_id', 'pinned_message', 'successful_payment', 'users_shared', 'chat_shared', 'write_access_allowed',
  'forum_topic_created', 'forum_topic_edited', 'forum_topic_closed', 'forum_topic_reopened', 'video_chat_started',
  'video_chat_ended', 'video_chat_scheduled', 'video_chat_participants_invited', 'boost_added',
];

export function media(m: Obj): MediaRef[] {
  const out: MediaRef[] = [];
  const add = (f: unknown, kind: MediaKind, mime: string | null) => {
    if (!isObj(f) || !str(f.file_id)) return;
    out.push({
      ref: str(f.file_id)!,
      kind,
      mime: str(f.mime_type) ?? mime,
      size: num(f.file_size),
      filename: str(f.file_name),
      sha256: null,
      sniffedMime: null,
      storedSize: null,
    });
  };
  // Photo sizes come smallest first: keep the largest.
  if (Array.isArray(m.photo) && m.photo.length) add(m.photo[m.photo.length - 1], 'photo', 'image/jpeg');
  add(m.video, 'video', 'video/mp4');
  add(m.video_note, 'video', 'video/mp4');
  add(m.animation, 'animation', 'video/mp4');
  add(m.voice, 'voice', 'audio/ogg');
  add(m.audio, 'audio', null);
  if (!m.animation) add(m.document, 'document', null); // an animation also carries a document
  if (isObj(m.sticker)) add(m.sticker, 'sticker', m.sticker.is_video ? 'video/webm' : m.sticker.is_animated ? 'application/x-tgsticker' : 'image/webp');
  return out;
}

/** The update as evidence, without the sender's or the chat's identifying fields. */
function scrub(update: Obj, key: string, senderId: number): Obj {
  const m = { ...(update[key] as Obj) };
  delete m.from;
  if (isObj(m.chat)) m.chat = { type: m.chat.type };
  if (isObj(m.reply_to_message)) {
    const r = { ...m.reply_to_message };
    if (isObj(r.from) && r.from.id === senderId) delete r.from;
    if (isObj(r.chat)) r.chat = { type: r.chat.type };
    m.reply_to_message = r;
  }
  if (isObj(m.contact) && m.contact.user_id === senderId) m.contact = { ...m.contact, user_id: undefined };
  return { update_id: update.update_id, [key]: m };
}

export function normalizeTelegram(update: unknown, ctx: NormalizeContext): InboundMessage | Rejected | Ignored {
  if (!isObj(update)) return { rejected: true, reason: 'update is not an object' };
  const key = update.message ? 'message' : update.edited_message ? 'edited_message' : null;
  if (!key) {
    const kind = Object.keys(update).find((k) => k !== 'update_id') ?? 'empty';
    return { ignored: true, reason: `update kind ${kind.slice(0, 40)}` };
  }
  const m = update[key];
  if (!isObj(m) || num(m.message_id) === null || !isObj(m.chat) || num(m.chat.id) === null || num(m.date) === null) {
    return { rejected: true, reason: `${key}: message_id, chat.id and date are required` };
  }
  const chat = m.chat;
  if (chat.type !== 'private') return { ignored: true, reason: `${String(chat.type).slice(0, 20)} chat` };
  const from = m.from;
  if (!isObj(from) || num(from.id) === null) return { rejected: true, reason: `${key}: from.id is required in a private chat` };
  if (from.is_bot === true) return { ignored: true, reason: 'message from a bot' };

  const text = str(m.text) || str(m.caption) || null;
  const files = media(m);
  const venue = isObj(m.venue) ? m.venue : null;
  const loc = isObj(m.location) ? m.location : venue && isObj(venue.location) ? venue.location : null;
  const location =
    loc && num(loc.latitude) !== null && num(loc.longitude) !== null
      ? {
          lat: num(loc.latitude)!,
          lon: num(loc.longitude)!,
          label: venue ? [str(venue.title), str(venue.address)].filter(Boolean).join(', ') || null : null,
        }
      : null;
  const contact = isObj(m.contact)
    ? { name: [str(m.contact.first_name), str(m.contact.last_name)].filter(Boolean).join(' ') || null, phone: str(m.contact.phone_number) }
    : null;
  if (!text && !files.length && !location && !contact) {
    const service = SERVICE_KEYS.find((k) => k in m);
    return { ignored: true, reason: service ? `service message ${service}` : 'message without content' };
  }

  const botId = ctx.account;
  const chatId = num(chat.id)!;
  const messageId = num(m.message_id)!;
  const editDate = num(m.edit_date);
  const edited = key === 'edited_message' && editDate !== null;
  const name = [str(from.first_name), str(from.last_name)].filter(Boolean).join(' ') || null;
  return {
    v: 1,
    id: ctx.messageId(edited ? [botId, chatId, messageId, editDate!] : [botId, chatId, messageId]),
    nativeId: String(messageId),
    channel: 'telegram',
    account: botId,
    sender: { address: String(from.id), name },
    sentAt: new Date((edited ? editDate! : num(m.date)!) * 1000).toISOString(),
    receivedAt: ctx.receivedAt.toISOString(),
    text,
    media: files,
    location,
    contact,
    replyTo: isObj(m.reply_to_message) && num(m.reply_to_message.message_id) !== null ? String(m.reply_to_message.message_id) : null,
    forwarded: isObj(m.forward_origin) || 'forward_date' in m,
    edited,
    editOf: edited ? ctx.messageId([botId, chatId, messageId]) : null,
    languageHint: str(from.language_code),
    groupKey: str(m.media_group_id),
    raw: scrub(update, key, num(from.id)!),
  };
}

/** The media references of a stored raw payload (the sweeper re-reads them from the case log). */
export function mediaOfRaw(raw: unknown): MediaRef[] {
  if (!isObj(raw)) return [];
  const m = raw.message ?? raw.edited_message;
  return isObj(m) ? media(m) : [];
}
