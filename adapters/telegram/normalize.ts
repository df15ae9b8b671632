/**
 * Telegram `Update` → InboundMessage, pure. Only private chats are tips; groups, channels, service
 * messages and callbacks are ignored (counted, not kept). The message id is a keyed hash of bot id,
 * chat id, message id (and edit date): in a private chat the chat id is the user's id, so it must
 * not show through. `raw` keeps an allow-list of the update's fields (evidence.ts). A contact the
 * sender shared of themselves keeps only that fact; another person's contact is report content
 * (sealed in the case log). Reasons name kinds from a fixed list, never the payload's own strings:
 * they are logged and counted in Redis.
 */
import type { Ignored, InboundMessage, MediaKind, MediaRef, Rejected } from '../../src/contracts/inbound-message';
import type { NormalizeContext } from '../../src/contracts/channel-adapter';
import { evidenceOf } from './evidence';

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

/** Update kinds of the Bot API other than messages; anything else is counted as `unknown`. */
const UPDATE_KINDS = new Set([
  'channel_post', 'edited_channel_post', 'business_connection', 'business_message', 'edited_business_message',
  'deleted_business_messages', 'message_reaction', 'message_reaction_count', 'inline_query', 'chosen_inline_result',
  'callback_query', 'shipping_query', 'pre_checkout_query', 'purchased_paid_media', 'poll', 'poll_answer', 'my_chat_member',
  'chat_member', 'chat_join_request', 'chat_boost', 'removed_chat_boost',
]);
const CHAT_TYPES = new Set(['group', 'supergroup', 'channel']);

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

export function normalizeTelegram(update: unknown, ctx: NormalizeContext): InboundMessage | Rejected | Ignored {
  if (!isObj(update)) return { rejected: true, reason: 'update is not an object' };
  const key = update.message ? 'message' : update.edited_message ? 'edited_message' : null;
  if (!key) {
    const kind = Object.keys(update).find((k) => k !== 'update_id');
    return { ignored: true, reason: `update kind ${kind === undefined ? 'empty' : UPDATE_KINDS.has(kind) ? kind : 'unknown'}` };
  }
  const m = update[key];
  if (!isObj(m) || num(m.message_id) === null || !isObj(m.chat) || num(m.chat.id) === null || num(m.date) === null) {
    return { rejected: true, reason: `${key}: message_id, chat.id and date are required` };
  }
  const chat = m.chat;
  if (chat.type !== 'private') return { ignored: true, reason: `${typeof chat.type === 'string' && CHAT_TYPES.has(chat.type) ? chat.type : 'unknown'} chat` };
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
  // "Share my phone number" (or a card of oneself) says who the informant is: keep only that they did.
  const contactIsSelf = isObj(m.contact) ? m.contact.user_id === from.id : null;
  const contact = !isObj(m.contact)
    ? null
    : contactIsSelf
      ? { self: true, name: null, phone: null }
      : { self: false, name: [str(m.contact.first_name), str(m.contact.last_name)].filter(Boolean).join(' ') || null, phone: str(m.contact.phone_number) };
  if (!text && !files.length && !location && !contact) {
    const service = SERVICE_KEYS.find((k) => k in m);
    return { ignored: true, reason: service ? `service message ${service}` : 'message without content' };
  }

  const botId = ctx.account;
  const chatId = num(chat.id)!;
  const messageId = num(m.message_id)!;
  const editDate = num(m.edit_date);
  const edited = key === 'edited_message' && editDate !== null;
  // Unix seconds a Date can hold (a forged update may carry any number).
  const sent = (edited ? editDate! : num(m.date)!) * 1000;
  if (!Number.isFinite(new Date(sent).getTime())) return { rejected: true, reason: `${key}: date out of range` };
  const name = [str(from.first_name), str(from.last_name)].filter(Boolean).join(' ') || null;
  return {
    v: 1,
    id: ctx.messageId(edited ? [botId, chatId, messageId, editDate!] : [botId, chatId, messageId]),
    nativeId: String(messageId),
    channel: 'telegram',
    account: botId,
    sender: { address: String(from.id), name },
    sentAt: new Date(sent).toISOString(),
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
    raw: evidenceOf(update, key, contactIsSelf),
  };
}

/** The media references of a stored raw payload (the sweeper re-reads them from the case log). */
export function mediaOfRaw(raw: unknown): MediaRef[] {
  if (!isObj(raw)) return [];
  const m = raw.message ?? raw.edited_message;
  return isObj(m) ? media(m) : [];
}
