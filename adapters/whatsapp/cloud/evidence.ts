/**
 * What of a Cloud API message is kept as evidence (`raw`): an allow-list, not a deny-list. A field
 * Meta adds tomorrow (another way to name a user) is dropped until someone decides to keep it.
 *
 * Kept: type, timestamp; text body; the media objects' id, mime type, Meta's sha256, caption,
 * file name, voice / animated flags; location (coordinates, name, address); interactive and
 * button replies (their type, our own ids, titles, payloads); an order's catalog and items; an
 * ad referral's source type, headline and media type; that the message was forwarded; error codes
 * (numbers only); of a shared contact card, only whether it is the sender's own.
 * Dropped: `from`, `from_user_id`, the message id (a wamid holds the sender's number, even in
 * base64), `context.from` and `context.id`, contacts' names and numbers (they go to the message's
 * `contact` field, which the case log seals), referral ids and URLs, the ctwa click id, and
 * everything not listed here.
 */
import { copyAllowed, type AllowSpec } from '../../../src/contracts/allow-list';

type Obj = Record<string, unknown>;
type Spec = AllowSpec;

const isObj = (v: unknown): v is Obj => typeof v === 'object' && v !== null && !Array.isArray(v);

const MEDIA = { id: 'string', mime_type: 'string', sha256: 'string', file_size: 'number', caption: 'string' } as const;

const MESSAGE: { readonly [k: string]: Spec } = {
  type: 'string',
  timestamp: 'string',
  text: { body: 'string' },
  image: MEDIA,
  video: MEDIA,
  audio: { ...MEDIA, voice: 'boolean' },
  document: { ...MEDIA, filename: 'string' },
  sticker: { ...MEDIA, animated: 'boolean' },
  location: { latitude: 'number', longitude: 'number', name: 'string', address: 'string' },
  interactive: {
    type: 'string',
    button_reply: { id: 'string', title: 'string' },
    list_reply: { id: 'string', title: 'string', description: 'string' },
    nfm_reply: { name: 'string', body: 'string' },
  },
  button: { text: 'string', payload: 'string' },
  order: { catalog_id: 'string', text: 'string', product_items: ['array', { product_retailer_id: 'string', quantity: 'number', item_price: 'number', currency: 'string' }, 100] },
  referral: { source_type: 'string', headline: 'string', media_type: 'string' },
  context: { forwarded: 'boolean', frequently_forwarded: 'boolean' },
  errors: ['array', { code: 'number' }, 10],
};


/** The message as evidence (see above); `contactIsSelf` only for a shared contact card. */
export function evidenceOf(m: Obj, contactIsSelf: boolean | null): Obj {
  const out = copyAllowed(m, MESSAGE) as Obj;
  if (typeof m.timestamp === 'number' && Number.isFinite(m.timestamp)) out.timestamp = String(m.timestamp);
  if (isObj(out.context) && !Object.keys(out.context).length) delete out.context;
  if (contactIsSelf !== null) out.contacts = { self: contactIsSelf, count: Array.isArray(m.contacts) ? m.contacts.length : 0 };
  return { backend: 'cloud', message: out };
}
