/**
 * What of a Telegram update is kept as evidence (`raw`): an allow-list, not a deny-list. A field
 * Telegram adds tomorrow (another way to name a user) is dropped until someone decides to keep it.
 *
 * Kept, because the hub uses it (media step, replies, evidence of what was sent and when):
 * - update_id; message_id, date, edit_date, media_group_id, chat.type
 * - text, caption, entities / caption_entities (type, offset, length, url, language, custom_emoji_id:
 *   a text_mention's `user` is not copied)
 * - media with their file ids: photo sizes, video, video_note, animation, voice, audio, document,
 *   sticker (file ids, size, mime type, file name, dimensions, duration; sticker kind and emoji;
 *   not audio performer/title, not thumbnails)
 * - location, venue (its location, title, address)
 * - reply_to_message.message_id (what the reply answers, nothing of that message)
 * - forward_origin.type and .date, forward_date: that it was forwarded and when, never by whom
 * - contact: only `self` (whether the sender shared their own); a third party's name and phone go
 *   to the message's contact field, which the case log seals.
 * Everything else (from, chat ids and names, forward_from*, forward_sender_name, external_reply,
 * quote, reply_to_message's content, via_bot, author_signature, link previews…) is dropped.
 */
import { copyAllowed, type AllowSpec } from '../../src/contracts/allow-list';

type Obj = Record<string, unknown>;
type Spec = AllowSpec;

const FILE = { file_id: 'string', file_unique_id: 'string', file_size: 'number', mime_type: 'string', width: 'number', height: 'number', duration: 'number' } as const;
const NAMED_FILE = { ...FILE, file_name: 'string' } as const;
const ENTITY = { type: 'string', offset: 'number', length: 'number', url: 'string', language: 'string', custom_emoji_id: 'string' } as const;
const LOCATION = { latitude: 'number', longitude: 'number', horizontal_accuracy: 'number', live_period: 'number', heading: 'number' } as const;

const MESSAGE: { readonly [k: string]: Spec } = {
  message_id: 'number',
  date: 'number',
  edit_date: 'number',
  media_group_id: 'string',
  chat: { type: 'string' },
  text: 'string',
  caption: 'string',
  entities: ['array', ENTITY, 1000],
  caption_entities: ['array', ENTITY, 1000],
  photo: ['array', { file_id: 'string', file_unique_id: 'string', width: 'number', height: 'number', file_size: 'number' }, 20],
  video: NAMED_FILE,
  video_note: { ...FILE, length: 'number' },
  animation: NAMED_FILE,
  voice: FILE,
  audio: NAMED_FILE,
  document: NAMED_FILE,
  sticker: { ...FILE, type: 'string', is_animated: 'boolean', is_video: 'boolean', emoji: 'string' },
  location: LOCATION,
  venue: { location: LOCATION, title: 'string', address: 'string' },
  reply_to_message: { message_id: 'number' },
  forward_origin: { type: 'string', date: 'number' },
  forward_date: 'number',
};


/** The update as evidence: only the allow-listed fields of its message (see above). */
export function evidenceOf(update: Obj, key: 'message' | 'edited_message', contactIsSelf: boolean | null): Obj {
  const m = copyAllowed(update[key], MESSAGE) as Obj;
  if (contactIsSelf !== null) m.contact = { self: contactIsSelf };
  const updateId = copyAllowed(update.update_id, 'number');
  return updateId === undefined ? { [key]: m } : { update_id: updateId, [key]: m };
}
