/**
 * WhatsApp through WhatsApp Web: whatsapp-web.js in Debian's Chromium, a linked device of the
 * tip line's phone (a QR code scanned once; LocalAuth keeps the login under <dataDir>/whatsapp-web).
 * The browser session lives in the background (./session.ts): `start()` resolves at once and the
 * other channels never wait for it. Each event of the session (`message`, `message_edit`,
 * `message_revoke_everyone`, `message_reaction`, `message_ack`) becomes one WebPayload, handed to
 * the one inbound path both back ends share (../inbound.ts), the same path a recorded payload
 * replays through. WhatsApp Web does not deliver an event twice, so one that could not be handled
 * (the case log down) is tried again here until it is, or until stop.
 *
 * Senders are known by their LID (`…@lid`) where WhatsApp gives one; for a phone (`@c.us`) sender
 * the adapter asks WhatsApp Web for the LID once (best effort, cached in memory) and records the
 * second address as an alias event before the report, so the informant stays one person; for a
 * LID sender it records the phone WhatsApp Web knows for it the same way (the address stays the LID).
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { Readable } from 'node:stream';
import type { AdapterPorts, ChannelAdapter, LeasePort, OutboundMessage, SendResult } from '../../../src/contracts/channel-adapter';
import type { EventOnly, Ignored, InboundMessage, Rejected } from '../../../src/contracts/inbound-message';
import { describeForeignError, TiphubError } from '../../../src/errors';
import type { WhatsAppCredentials, WhatsAppSettings } from '../config';
import { inboundPath } from '../../../src/contracts/inbound-path';
import { isCloudPayload, isWebPayload, type WebPayload } from '../payload';
import { normalizeCloud } from '../cloud/normalize';
import { normalizeWeb, WEB_EVENTS, webNativeId } from './normalize';
import { makeWebClient, WebSession, type MakeClient, type WebClient } from './session';

/** WhatsApp's longest text message (as ../index.ts says; not imported from there, which imports us). */
const TEXT_LIMIT = 4096;
/** LIDs learned, kept in memory only (never in Redis or on disk). */
const LID_CACHE = 10_000;

export interface WebAdapterOptions {
  /** Makes the whatsapp-web.js Client (tests give a fake). */
  readonly makeClient?: MakeClient;
  /** How long a LID look-up may take before the message goes on without it. */
  readonly lidTimeoutMs?: number;
  /** How long closing a browser may take before it is killed. */
  readonly closeTimeoutMs?: number;
  /** How long a download from WhatsApp Web may take. */
  readonly mediaTimeoutMs?: number;
  readonly random?: () => number;
}

export interface WebAdapter extends ChannelAdapter<unknown> {
  readonly quarantined: number;
  readonly ignored: ReadonlyMap<string, number>;
  /** The browser session (its state, restarts) for tests and status. */
  readonly session: WebSession;
}

type Obj = Record<string, unknown>;
const isObj = (v: unknown): v is Obj => typeof v === 'object' && v !== null && !Array.isArray(v);
const wid = (v: unknown): string | null => (typeof v === 'string' ? v : isObj(v) && typeof v._serialized === 'string' ? v._serialized : null);
const ADDRESS = /^[^@\s]{1,64}@(c\.us|lid)$/;
/** A WhatsApp Web serialized message id (`false_<chat>_<stanza>`), what quotedMessageId takes. */
const SERIALIZED = /^(true|false)_[^_\s]+@[a-z.]+_[^\s]+$/;

/** The raw data a whatsapp-web.js Message carries (`rawData`), or a plain object as given. */
function rawOf(msg: unknown): Obj | null {
  if (!isObj(msg)) return null;
  const r = (msg as { rawData?: unknown }).rawData ?? (msg as { _data?: unknown })._data;
  return isObj(r) ? r : 'id' in msg ? msg : null;
}

/** Splits at the limit without cutting a surrogate pair in two. */
export function chunks(text: string, size = TEXT_LIMIT): string[] {
  const out: string[] = [];
  let i = 0;
  while (i < text.length) {
    let end = Math.min(text.length, i + size);
    if (end < text.length && /[\uD800-\uDBFF]/.test(text[end - 1]!)) end--;
    out.push(text.slice(i, end));
    i = end;
  }
  return out.length ? out : [''];
}

/** Maps what sendMessage threw to an error that says whether a retry can help. */
export function sendError(err: unknown): TiphubError {
  const text = err instanceof Error ? err.message : typeof err === 'string' ? err : '';
  // "No LID for user" is the library failing to resolve a phone chat (a known whatsapp-web.js
  // fault), not the informant leaving: tried again, the informant stays reachable.
  if (/No LID for user/i.test(text)) return new TiphubError('TIPHUB_SEND_FAILED', 'WhatsApp Web could not resolve the chat (no LID yet)', { retryable: true });
  if (/invalid wid|wid error|not registered|isn't on WhatsApp|Invalid serialized/i.test(text)) {
    return new TiphubError('TIPHUB_RECIPIENT_UNREACHABLE', 'WhatsApp Web: the address is not on WhatsApp');
  }
  return new TiphubError('TIPHUB_SEND_FAILED', 'sending through WhatsApp Web failed', { retryable: true });
}

function within<T>(p: Promise<T>, ms: number): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  return Promise.race([p, new Promise<never>((_, reject) => (timer = setTimeout(() => reject(new Error('timed out')), ms)))]).finally(() => clearTimeout(timer));
}

export function createWebAdapter(ports: AdapterPorts<WhatsAppSettings, WhatsAppCredentials>, options: WebAdapterOptions = {}): WebAdapter {
  const settings = ports.settings;
  const web = settings.web;
  const log = ports.log;
  const dataPath = path.join(ports.dataDir, 'whatsapp-web');
  const CH = { channel: 'whatsapp', mode: 'web' } as const;

  const normalize = (raw: unknown, ctx: Parameters<typeof normalizeWeb>[1]): InboundMessage | Rejected | Ignored | EventOnly => {
    if (isWebPayload(raw)) return normalizeWeb(raw, ctx, { groups: settings.groups });
    if (isCloudPayload(raw)) return normalizeCloud(raw, ctx);
    return { rejected: true, reason: 'not a WhatsApp item (backend is neither cloud nor web)' };
  };
  const source = (raw: unknown) => (isWebPayload(raw) && (WEB_EVENTS as readonly unknown[]).includes(raw.event) ? `web ${raw.event}` : 'web item');
  const intake = inboundPath(ports as AdapterPorts, normalize, () => web.clientId, source);

  let running = false;
  let stopping = false;
  let lease: LeasePort | null = null;
  let chain: Promise<void> = Promise.resolve();
  const wakers = new Set<() => void>();
  /** c.us id → its LID, LID → its phone (null: WhatsApp Web knows none), in memory only. */
  const lids = new Map<string, string | null>();

  const pause = (ms: number) =>
    new Promise<void>((resolve) => {
      const done = () => {
        clearTimeout(t);
        wakers.delete(done);
        resolve();
      };
      const t = setTimeout(done, ms);
      wakers.add(done);
    });

  /** Records that a phone sender and a LID are one informant; false when the case log refused. */
  const alias = async (phone: string, lid: string): Promise<boolean> => {
    try {
      await ports.events.record({ kind: 'alias', id: ports.messageId(['alias', phone, lid]), from: phone, to: lid, reason: 'lid-learned', at: new Date().toISOString() });
      return true;
    } catch (err) {
      // Not recorded: keep the phone address this time (the informant stays one person), try again later.
      log.warn({ ...CH, cause: describeForeignError(err) }, 'second address not recorded; keeping the first');
      return false;
    }
  };

  /** WhatsApp Web's answer for one id: the other form (a LID for a phone, a phone for a LID), null for none, undefined when it did not answer. */
  const lookUp = async (id: string, want: 'lid' | 'pn'): Promise<string | null | undefined> => {
    const client = session.client;
    if (!client) return undefined;
    try {
      const answer = await within(client.getContactLidAndPhone([id]), options.lidTimeoutMs ?? 5_000);
      const found = Array.isArray(answer) ? answer[0]?.[want] : undefined;
      const shape = want === 'lid' ? /^[^@\s]{1,64}@lid$/ : /^\d{5,20}@c\.us$/;
      return typeof found === 'string' && shape.test(found) ? found : null;
    } catch (err) {
      log.debug({ ...CH, cause: describeForeignError(err) }, 'LID look-up failed (best effort)');
      return undefined;
    }
  };

  /**
   * The sender's LID for a phone sender, once its alias is recorded; null when none is known. For a
   * LID sender, the phone WhatsApp Web knows for it is recorded as an alias once (so an informant
   * first seen by number and now by LID stays one person); the address stays the LID.
   */
  const lidFor = async (data: Obj): Promise<string | null> => {
    const from = wid(data.from);
    if (!from || (isObj(data.id) && data.id.fromMe === true)) return null;
    if (/^[^@\s]{1,64}@lid$/.test(from)) {
      if (!lids.has(from)) {
        const phone = await lookUp(from, 'pn');
        if (phone === null || (phone !== undefined && (await alias(phone, from)))) remember(from, phone);
      }
      return null;
    }
    if (!/^\d{5,20}@c\.us$/.test(from)) return null;
    let lid = lids.get(from);
    if (lid === undefined) {
      const found = await lookUp(from, 'lid');
      if (found === undefined) return null;
      if (found !== null && !(await alias(from, found))) return null;
      remember(from, found);
      lid = found;
    }
    return lid;
  };
  const remember = (id: string, other: string | null) => {
    if (lids.size >= LID_CACHE) lids.delete(lids.keys().next().value!);
    lids.set(id, other);
  };

  /**
   * Who sent what the payload is about, for the LID look-up: a message's sender, the reactor of a
   * reaction in a private chat (not in a group, as for messages); none for an ack (of ours).
   */
  const senderOf = (event: WebPayload['event'], data: Obj | null, extra: Partial<WebPayload>): Obj | null => {
    if (event === 'message_ack') return null;
    if (event !== 'message_reaction') return data;
    const r = extra.reaction;
    if (!isObj(r)) return null;
    const key = r.id ?? r.msgKey;
    const parent = r.msgId ?? r.parentMsgKey;
    const chat = isObj(parent) ? wid(parent.remote) : typeof parent === 'string' ? (parent.split('_')[1] ?? null) : null;
    if (!chat || !ADDRESS.test(chat)) return null;
    return { from: r.senderId ?? r.senderUserJid, id: { fromMe: isObj(key) && key.fromMe === true } };
  };

  /** One event of the session, through the inbound path, tried again until handled (or stop). */
  const deliver = async (event: WebPayload['event'], msg: unknown, extra: Partial<WebPayload>) => {
    const data = rawOf(msg);
    const base: WebPayload = { backend: 'web', event, msg: data ?? msg, ...extra };
    const who = senderOf(event, data, extra);
    const lid = who ? await lidFor(who) : null;
    const payload: WebPayload = lid ? { ...base, lid } : base;
    for (let attempt = 0; running && !stopping; attempt++) {
      try {
        await intake.handleInbound(payload);
        return;
      } catch (err) {
        if (!running || stopping) break;
        const wait = Math.min(30_000, 1000 * 2 ** Math.min(attempt, 5));
        log.warn({ ...CH, event, cause: describeForeignError(err), retryInMs: wait }, 'WhatsApp Web message not handled; trying again');
        await pause(wait);
      }
    }
    // Stopping: WhatsApp Web will not deliver it again, so it is kept (sealed) rather than dropped;
    // `tiphub quarantine retry` brings it in.
    await ports.quarantine({ source: `web ${event}`, code: 'TIPHUB_HUB_UNAVAILABLE', reason: 'the adapter stopped before it was handled', payload }).then(
      () => log.warn({ ...CH, event }, 'WhatsApp Web message kept in quarantine at stop'),
      (err: unknown) => log.error({ ...CH, event, cause: describeForeignError(err) }, 'WhatsApp Web message lost at stop'),
    );
  };
  const queue = (event: WebPayload['event'], msg: unknown, extra: Partial<WebPayload> = {}) => {
    chain = chain.then(() => deliver(event, msg, extra)).catch((err: unknown) => log.error({ ...CH, event, cause: describeForeignError(err) }, 'WhatsApp Web message lost in the adapter'));
  };

  const attach = (client: WebClient) => {
    client.on('message', (m: unknown) => queue('message', m));
    client.on('message_edit', (m: unknown, newBody: unknown) => queue('message_edit', m, { newBody: typeof newBody === 'string' ? newBody : null }));
    client.on('message_revoke_everyone', (m: unknown, revoked: unknown) => queue('message_revoke_everyone', m, { revoked: rawOf(revoked) }));
    // A Reaction keeps no raw data: its own fields are the payload (the client is not one of them).
    client.on('message_reaction', (r: unknown) => queue('message_reaction', null, { reaction: isObj(r) ? { ...r } : r }));
    client.on('message_ack', (m: unknown, ack: unknown) => queue('message_ack', m, typeof ack === 'number' ? { ack } : {}));
    client.on('message_ciphertext_failed', () => {
      ports.countIgnored('ciphertext').catch((err: unknown) => log.warn({ ...CH, cause: describeForeignError(err) }, 'count not kept'));
    });
  };

  const session = new WebSession({
    settings: web,
    dataPath,
    log,
    state: (s) => ports.events.state(s),
    makeClient: options.makeClient ?? makeWebClient,
    attach,
    get lease() {
      return lease;
    },
    closeTimeoutMs: options.closeTimeoutMs,
    random: options.random,
  });

  const ready = (what: 'send' | 'media'): WebClient => {
    const client = session.client;
    if (client) return client;
    if (what === 'send') throw new TiphubError('TIPHUB_SEND_FAILED', 'the WhatsApp Web session is not ready', { retryable: true });
    throw new TiphubError('TIPHUB_MEDIA_UNREADABLE', 'the WhatsApp Web session is not ready', { retryable: true });
  };

  return {
    channel: 'whatsapp',
    normalize,
    async handleInbound(raw) {
      if (stopping) throw new TiphubError('TIPHUB_HUB_UNAVAILABLE', 'the WhatsApp adapter is stopping');
      return intake.handleInbound(raw);
    },
    session,
    get quarantined() {
      return intake.quarantined;
    },
    ignored: intake.ignored,

    async start(sink) {
      try {
        fs.mkdirSync(dataPath, { recursive: true, mode: 0o700 });
        fs.chmodSync(dataPath, 0o700);
      } catch (err) {
        throw new TiphubError('TIPHUB_CONFIG_INVALID', `the data directory cannot hold the WhatsApp Web session (${describeForeignError(err)})`);
      }
      stopping = false;
      running = true;
      intake.open(sink);
      lease = ports.lease(web.clientId, web.leaseMs, () => {
        log.warn({ ...CH }, 'WhatsApp Web session lease lost');
        session.leaseLost();
      });
      ports.events.state({ state: 'connecting', mode: 'web' });
      // The browser comes up in the background: the hub and its other channels go on meanwhile.
      session.start();
    },

    async send(address: string, message: OutboundMessage): Promise<SendResult> {
      if (!ADDRESS.test(address)) throw new TiphubError('TIPHUB_RECIPIENT_UNREACHABLE', 'not a WhatsApp address (…@c.us or …@lid)');
      const client = ready('send');
      // The report's platformRef is WhatsApp Web's full id; a bare hash cannot be quoted.
      const quote = message.replyTo && SERIALIZED.test(message.replyTo) ? message.replyTo : null;
      let first: { id: string; _serialized: string } | null = null;
      for (const part of chunks(message.text)) {
        let sent;
        try {
          // sendSeen off: reading is not announced to the informant, and the library's sendSeen
          // has broken sends before (whatsapp-web.js #5718, "markedUnread").
          sent = await client.sendMessage(address, part, first === null && quote ? { quotedMessageId: quote, sendSeen: false } : { sendSeen: false });
        } catch (err) {
          throw sendError(err);
        }
        if (!sent || !isObj(sent.id) || typeof sent.id.id !== 'string') {
          // No chat could be found or made for the address.
          if (first === null) throw new TiphubError('TIPHUB_RECIPIENT_UNREACHABLE', 'WhatsApp Web: no chat for the address');
          throw new TiphubError('TIPHUB_SEND_FAILED', 'WhatsApp Web did not send a part of the message', { retryable: true });
        }
        first ??= sent.id;
      }
      return { nativeId: webNativeId(ports.messageId, first!.id), platformRef: first!._serialized };
    },

    async openMedia(ref: string, maxBytes: number) {
      const client = ready('media');
      const ms = options.mediaTimeoutMs ?? 120_000;
      let msg;
      try {
        msg = await within(client.getMessageById(ref), ms);
      } catch {
        throw new TiphubError('TIPHUB_MEDIA_UNREADABLE', 'WhatsApp Web could not find the message now', { retryable: true });
      }
      if (!msg) throw new TiphubError('TIPHUB_MEDIA_UNREADABLE', 'WhatsApp Web no longer has the message');
      let media;
      try {
        media = await within(msg.downloadMedia(), ms);
      } catch {
        throw new TiphubError('TIPHUB_MEDIA_UNREADABLE', 'download from WhatsApp Web failed', { retryable: true });
      }
      // undefined: the media expired on WhatsApp's servers (the library's type says otherwise).
      if (!media || typeof media.data !== 'string') throw new TiphubError('TIPHUB_MEDIA_UNREADABLE', 'the media expired on WhatsApp (expired)');
      if (typeof media.filesize === 'number' && media.filesize > maxBytes) throw new TiphubError('TIPHUB_MEDIA_TOO_LARGE', `file of ${media.filesize} bytes over the limit`);
      // Refused before decoding when the base64 alone says it is too large.
      const padding = media.data.endsWith('==') ? 2 : media.data.endsWith('=') ? 1 : 0;
      if (Math.floor((media.data.length * 3) / 4) - padding > maxBytes + 2) throw new TiphubError('TIPHUB_MEDIA_TOO_LARGE', 'file over the limit');
      const bytes = Buffer.from(media.data, 'base64');
      if (bytes.length > maxBytes) throw new TiphubError('TIPHUB_MEDIA_TOO_LARGE', `file of ${bytes.length} bytes over the limit`);
      return Readable.from([bytes]);
    },

    async stop() {
      stopping = true;
      for (const w of [...wakers]) w();
      await session.stop();
      // What was being handled finishes (enqueued, ignored or kept); nothing new comes.
      await chain;
      running = false;
      intake.close();
      await lease?.release();
      lease = null;
      ports.events.state({ state: 'stopped', mode: 'web' });
    },
  };
}
