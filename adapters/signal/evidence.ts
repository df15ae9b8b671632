/**
 * What of a signal-cli-rest-api envelope is kept as evidence (`raw`): an allow-list, not a
 * deny-list. A field signal-cli adds tomorrow (another way to name a user) is dropped until someone
 * decides to keep it.
 *
 * Kept: the envelope's timestamps and device number; of the data message: its timestamp, text,
 * expiry, view-once and expiration-update flags; the attachments' content type, size, width,
 * height, caption, file name and upload time (not their server ids: those are the media refs); a
 * sticker's pack and number; a quote's timestamp (what it answers) and its attachments' content
 * types; mentions and text styles by position only; how many link previews; of shared contacts,
 * only how many and whether the first is the sender's own; of an edit, the timestamp it edits.
 * Dropped: `source`, `sourceNumber`, `sourceUuid`, `sourceName`, the frame's `account`, a quote's
 * author and text (the informant's words or ours, in either case not this message), mentions'
 * names, numbers and uuids, the shared contacts' names and numbers (they go to the message's
 * `contact` field, which the case log seals), previews' URLs and titles, group info, and
 * everything not listed here.
 */
import { copyAllowed, type AllowSpec } from '../../src/contracts/allow-list';

type Obj = Record<string, unknown>;

const isObj = (v: unknown): v is Obj => typeof v === 'object' && v !== null && !Array.isArray(v);

const ATTACHMENT = {
  contentType: 'string',
  size: 'number',
  width: 'number',
  height: 'number',
  caption: 'string',
  filename: 'string',
  uploadTimestamp: 'number',
  voiceNote: 'boolean',
} as const;

const DATA: { readonly [k: string]: AllowSpec } = {
  timestamp: 'number',
  message: 'string',
  expiresInSeconds: 'number',
  viewOnce: 'boolean',
  isExpirationUpdate: 'boolean',
  attachments: ['array', ATTACHMENT, 100],
  sticker: { packId: 'string', stickerId: 'number' },
  quote: { id: 'number', attachments: ['array', { contentType: 'string' }, 10] },
  mentions: ['array', { start: 'number', length: 'number' }, 100],
  textStyles: ['array', { start: 'number', length: 'number', style: 'string' }, 1000],
};

const ENVELOPE: { readonly [k: string]: AllowSpec } = {
  timestamp: 'number',
  serverReceivedTimestamp: 'number',
  serverDeliveredTimestamp: 'number',
  sourceDevice: 'number',
};

function dataEvidence(d: Obj, contactIsSelf: boolean | null): Obj {
  const out = copyAllowed(d, DATA) as Obj;
  if (Array.isArray(d.previews) && d.previews.length) out.previews = { count: d.previews.length };
  if (contactIsSelf !== null) out.contacts = { self: contactIsSelf, count: Array.isArray(d.contacts) ? d.contacts.length : 0 };
  return out;
}

/**
 * The envelope of a report as evidence (see above): `data` is the data message the report is made
 * of (an edit's inner one), `contactIsSelf` only for shared contacts.
 */
export function evidenceOf(envelope: Obj, data: Obj, contactIsSelf: boolean | null): Obj {
  const env = copyAllowed(envelope, ENVELOPE) as Obj;
  if (isObj(envelope.editMessage)) {
    const edit = envelope.editMessage;
    return {
      kind: 'editMessage',
      envelope: env,
      editMessage: { ...(copyAllowed(edit, { targetSentTimestamp: 'number' }) as Obj), dataMessage: dataEvidence(data, contactIsSelf) },
    };
  }
  return { kind: 'dataMessage', envelope: env, dataMessage: dataEvidence(data, contactIsSelf) };
}
