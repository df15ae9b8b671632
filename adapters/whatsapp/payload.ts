/**
 * What the WhatsApp adapter hands its one inbound handler (and what the recordings in
 * test/fixtures/whatsapp-cloud and test/fixtures/whatsapp-web hold): one item, tagged with its
 * back end. The Cloud API's webhook body is split into one item per message or status, each
 * with what the body said beside it (the contacts, our number's id); a WhatsApp Web event is the
 * Message's raw data as whatsapp-web.js keeps it (`msg.rawData`), with the event's own arguments
 * (a reaction: the Reaction's fields).
 */
export interface CloudPayload {
  readonly backend: 'cloud';
  /** `value.metadata.phone_number_id`: our business number's id at Meta. */
  readonly phoneNumberId: string;
  /** `value.contacts` (profile name, wa_id, user_id) of the body this item came in. */
  readonly contacts: readonly unknown[];
  /** One of `value.messages`… */
  readonly message?: unknown;
  /** …or one of `value.statuses`. */
  readonly status?: unknown;
}

export interface WebPayload {
  readonly backend: 'web';
  readonly event: 'message' | 'message_edit' | 'message_revoke_everyone' | 'message_reaction' | 'message_ack';
  /**
   * The Message's raw data (`new Message(client, raw)` builds it again offline); for
   * message_ack the message whose ack changed; null for message_reaction (see `reaction`).
   */
  readonly msg: unknown;
  /**
   * message_reaction: the Reaction's fields as whatsapp-web.js gives them (src/structures/Reaction.js):
   * `id` (the reaction's own message key: fromMe, remote, id, _serialized), `msgId` (the key of
   * the message reacted to), `senderId` (the reactor, `…@c.us` or `…@lid`), `timestamp` (seconds,
   * may be fractional), `reaction` (the emoji; empty: taken back), `orphan`, `orphanReason`,
   * `read`, `ack`. The page's own names (`msgKey`, `parentMsgKey`, `senderUserJid`,
   * `reactionText`) are read too.
   */
  readonly reaction?: unknown;
  /** message_ack: the new ack (MessageAck: -1 error, 0 pending, 1 server, 2 device, 3 read, 4 played). */
  readonly ack?: number;
  /** message_edit: the new text. */
  readonly newBody?: string | null;
  /** message_revoke_everyone: the revoked message's raw data, when WhatsApp Web still had it. */
  readonly revoked?: unknown;
  /** The sender's LID, when `getContactLidAndPhone` answered for a phone (`@c.us`) sender. */
  readonly lid?: string | null;
}

export type WhatsAppPayload = CloudPayload | WebPayload;

const isObj = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);

export function isCloudPayload(v: unknown): v is CloudPayload {
  return isObj(v) && v.backend === 'cloud';
}

export function isWebPayload(v: unknown): v is WebPayload {
  return isObj(v) && v.backend === 'web';
}
