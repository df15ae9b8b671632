/**
 * Signal through a signal-cli-rest-api 0.100 server (client.ts: axios; receive.ts: the websocket
 * of json-rpc mode, or polling in normal/native mode, read from `GET /v1/about` at start unless
 * `channels.signal.mode` says). One receiver per number, under a Redis lease (a standby waits);
 * every frame goes through the one receive path (`inboundPath`, as `handleInbound`), kept in
 * memory and retried until it is taken, since the server keeps nothing once it sent it.
 *
 * Sends: `POST /v2/send`, quoting the report when `replyTo` is its platformRef
 * (`<timestamp>:<uuid>`); the answer's timestamp names our message (`sig-sent`, as receipts,
 * reactions and quotes of it do). A 429 with challenge tokens means Signal wants a captcha: the
 * channel says `needs-captcha`, keeps the last token (`pendingChallenge`) for
 * `tiphub signal challenge TOKEN CAPTCHA` (`submitChallenge`), and sends wait (retryable).
 * Attachments: `openMedia` streams `GET /v1/attachments/{id}` within the cap, `releaseMedia`
 * deletes it (the server never does). Nothing here logs a number, a uuid, a name or a text.
 */
import type { AdapterPorts, ChannelAdapter, ChannelState, LeasePort, OutboundMessage, SendResult } from '../../src/contracts/channel-adapter';
import { inboundPath } from '../../src/contracts/inbound-path';
import { isTiphubError, TiphubError } from '../../src/errors';
import { ATTACHMENT_ID, SignalClient, SignalHttpError, SignalUnreachable, type SendBody } from './client';
import type { SignalCredentials, SignalSettings } from './config';
import { normalizeSignal } from './normalize';
import { Downtime, Inbox, pollingReceiver, websocketReceiver, type DownReason, type Receiver } from './receive';

/** Signal's longest text we send in one message (longer replies are split). */
export const SIGNAL_TEXT_LIMIT = 2000;
/** After a 429, replies wait this long before the next try (a captcha may be needed first). */
export const RATE_LIMIT_WAIT_MS = 60_000;
export const CAPTCHA_DETAIL = 'Signal asks for a captcha: tiphub signal challenge';

export interface SignalAdapter extends ChannelAdapter<unknown> {
  /** The receive mode in use once started (from `/v1/about` or the settings), else null. */
  readonly mode: 'websocket' | 'polling' | null;
  /** The last challenge token of a 429 (Signal wants a captcha), until a challenge is accepted. */
  readonly pendingChallenge: string | null;
  /** Posts a solved captcha for a challenge token; the channel is `connected` again once accepted. */
  submitChallenge(token: string, captcha: string): Promise<void>;
  /** Seconds the receiver had no connection since start (the current gap included). */
  readonly disconnectedSeconds: number;
  /** Whether this process holds the receive lease (false: a standby, or not started). */
  readonly receiving: boolean;
  readonly quarantined: number;
  readonly ignored: ReadonlyMap<string, number>;
  /** Frames that were not envelopes (signal-cli's exception frames), counted and passed over. */
  readonly notEnvelopes: number;
}

function chunks(text: string, size: number): string[] {
  const out: string[] = [];
  for (let i = 0; i < text.length; ) {
    let end = Math.min(i + size, text.length);
    // Never between the two halves of a surrogate pair (an emoji).
    if (end < text.length && /[\uD800-\uDBFF]/.test(text[end - 1]!)) end--;
    out.push(text.slice(i, end));
    i = end;
  }
  return out.length ? out : [''];
}

const UUID = /[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}/gi;

/** The server's words, without what may name someone: uuids, digits (numbers), quoted parts; short. */
export function safeServerText(text: string | null): string {
  if (!text) return '';
  const t = text
    .replace(UUID, '[id]')
    .replace(/"[^"]*"|(?<=^|\s)'[^']*'/g, '"..."')
    .replace(/\+?\d(?:[\d\s.-]*\d)?/g, '#')
    .replace(/[^\x20-\x7e]/g, '')
    .replace(/\s+/g, ' ')
    .trim();
  return t.length > 160 ? `${t.slice(0, 160)}…` : t;
}

/** Unknown or unregistered recipients, as signal-cli words them. */
const UNREACHABLE = /unregistered|not registered|invalid recipient|unknown recipient|no such (user|account|recipient)|UnregisteredUser/i;
/** 400s signal-cli gives for its own trouble reaching Signal: a later try may pass. */
const TRANSIENT_400 = /network|timed? ?out|temporar|try again|connection|IOException/i;

/** A failed send as a TiphubError saying whether a retry can help; its message names no one. */
export function sendError(err: unknown): TiphubError {
  if (isTiphubError(err)) return err;
  if (err instanceof SignalHttpError) {
    const { status } = err;
    if (status === 429) return new TiphubError('TIPHUB_SEND_RATE_LIMITED', 'Signal limits this number\'s sending (429)' + (err.challengeTokens.length ? ': a captcha is needed (tiphub signal challenge)' : ''), { retryAfterMs: RATE_LIMIT_WAIT_MS });
    const said = safeServerText(err.serverText);
    if (status === 400 && UNREACHABLE.test(err.serverText ?? '')) return new TiphubError('TIPHUB_RECIPIENT_UNREACHABLE', 'Signal: the recipient is not (or no longer) registered (400)');
    if (status === 400) return new TiphubError('TIPHUB_SEND_FAILED', `signal-cli-rest-api refused the message (400)${said ? `: ${said}` : ''}`, { retryable: TRANSIENT_400.test(err.serverText ?? '') });
    if (status === 401 || status === 403) return new TiphubError('TIPHUB_SEND_FAILED', `signal-cli-rest-api refused the request (${status}): check TIPHUB_SIGNAL_AUTH`, { retryable: true });
    return new TiphubError('TIPHUB_SEND_FAILED', `signal-cli-rest-api answered ${status}`, { retryable: status >= 500 || status === 408 });
  }
  if (err instanceof SignalUnreachable) return new TiphubError('TIPHUB_SEND_FAILED', err.message, { retryable: true });
  return new TiphubError('TIPHUB_SEND_FAILED', 'sending to Signal failed', { retryable: true });
}

function mediaError(err: unknown): TiphubError {
  if (isTiphubError(err)) return err;
  if (err instanceof SignalHttpError) {
    // 404: no attachment by that id (deleted, or never there): it will not come back.
    if (err.status === 404 || err.status === 400) return new TiphubError('TIPHUB_MEDIA_UNREADABLE', `signal-cli-rest-api has no such attachment (${err.status})`, { retryable: false });
    return new TiphubError('TIPHUB_MEDIA_UNREADABLE', `attachment download answered ${err.status}`, { retryable: true });
  }
  if (err instanceof SignalUnreachable) return new TiphubError('TIPHUB_MEDIA_UNREADABLE', err.message, { retryable: true });
  return new TiphubError('TIPHUB_MEDIA_UNREADABLE', 'attachment download failed', { retryable: true });
}

/**
 * Posts a solved captcha for a rate-limit challenge token (`tiphub signal challenge TOKEN CAPTCHA`,
 * or the adapter's `submitChallenge`). Its errors name no one: the server's text without digits.
 */
export async function postChallenge(client: SignalClient, token: string, captcha: string): Promise<void> {
  const t = token.trim();
  const c = captcha.trim();
  if (!t || !c) throw new TiphubError('TIPHUB_CONFIG_INVALID', 'a challenge token and a captcha (signalcaptcha://…) are both needed');
  try {
    await client.rateLimitChallenge(t, c);
  } catch (err) {
    if (err instanceof SignalHttpError) {
      if (err.status === 401 || err.status === 403) throw new TiphubError('TIPHUB_CONFIG_INVALID', `signal-cli-rest-api refused the request (${err.status}): check TIPHUB_SIGNAL_AUTH`);
      const said = safeServerText(err.serverText);
      throw new TiphubError('TIPHUB_SEND_FAILED', `Signal did not accept the challenge (${err.status})${said ? `: ${said}` : ''}: solve a new captcha and try again`, { retryable: err.status >= 500 });
    }
    throw new TiphubError('TIPHUB_SEND_FAILED', 'signal-cli-rest-api could not be reached to post the challenge', { retryable: true });
  }
}

/** The link URI of `tiphub signal link` (GET /v1/qrcodelink/raw), for a QR code rendered locally. */
export async function linkUri(client: SignalClient, deviceName: string): Promise<string> {
  try {
    return await client.linkUri(deviceName);
  } catch (err) {
    if (err instanceof SignalHttpError && (err.status === 401 || err.status === 403)) throw new TiphubError('TIPHUB_CONFIG_INVALID', `signal-cli-rest-api refused the request (${err.status}): check TIPHUB_SIGNAL_AUTH`);
    if (err instanceof SignalHttpError) {
      // signal-cli answers 400 when the number is already registered or linked on this server.
      throw new TiphubError('TIPHUB_CONFIG_INVALID', `signal-cli-rest-api gave no link URI (${err.status})${safeServerText(err.serverText) ? `: ${safeServerText(err.serverText)}` : ''}`);
    }
    throw new TiphubError('TIPHUB_CHANNEL_NOT_LINKED', 'signal-cli-rest-api at TIPHUB_SIGNAL_URL is not reachable: is its container running?', { retryable: true });
  }
}

/** A client of the server the settings and credentials name (for the command line's account operations). */
export function clientOf(settings: SignalSettings, cred: SignalCredentials): SignalClient {
  return new SignalClient({ url: cred.url, number: cred.number, auth: cred.auth, timeoutMs: settings.requestTimeoutMs });
}

/** Which receive mode a server's `/v1/about` mode means. */
function modeOf(serverMode: string | null): 'websocket' | 'polling' | null {
  if (serverMode === 'json-rpc' || serverMode === 'json-rpc-native') return 'websocket';
  if (serverMode === 'normal' || serverMode === 'native') return 'polling';
  return null;
}

export function createSignalAdapter(ports: AdapterPorts<SignalSettings, SignalCredentials>): SignalAdapter {
  const cred = ports.credentials;
  if (!cred) throw new TiphubError('TIPHUB_CONFIG_INVALID', 'the Signal channel needs TIPHUB_SIGNAL_URL and TIPHUB_SIGNAL_NUMBER');
  const settings = ports.settings;
  const log = ports.log;
  const client = clientOf(settings, cred);
  const path = inboundPath(ports, normalizeSignal, () => cred.number, () => 'receive frame');
  // A frame for another number the server serves is not a tip to this line: kept aside, never
  // answered from our number (that would tell its sender this line knows them).
  const handle = async (frame: unknown) => {
    const account = (frame as { account?: unknown } | null)?.account;
    if (typeof account === 'string' && account !== cred.number) {
      await ports.quarantine({ source: 'receive frame', code: 'TIPHUB_MESSAGE_INVALID', reason: 'frame for another account of the server', payload: frame });
      return;
    }
    await path.handleInbound(frame);
  };
  const inbox = new Inbox(handle, log, settings.reconnectBackoffMs, settings.reconnectBackoffMaxMs, (kind) => ports.countIgnored(kind));
  const downtime = new Downtime();
  // The lease names the number by its keyed hash, never by itself (it is a Redis key).
  const leaseName = `receiver-${ports.messageId(['receiver', cred.number]).slice(1, 17)}`;

  let mode: 'websocket' | 'polling' | null = null;
  let running = false;
  let loop: Promise<void> | null = null;
  let lease: LeasePort | null = null;
  let receiver: Receiver | null = null;
  let pendingChallenge: string | null = null;
  let receiverState: ChannelState = { state: 'connecting', mode: null };

  const withDowntime = (detail: string | null): string | null => {
    const s = downtime.seconds();
    if (!s) return detail;
    return detail ? `${detail}; disconnected ${s} s since start` : `disconnected ${s} s since start`;
  };
  /** Says the state: a captcha pending outranks the receiver's own state (the lead line of `tiphub status`). */
  const publish = () => {
    if (!running && receiverState.state !== 'stopped') return;
    // The token is Signal's, for this account's sending (no one's identity): the operator reads it
    // off `tiphub status` to answer; it is kept out of the log, whose lines travel further.
    if (pendingChallenge && running) ports.events.state({ state: 'needs-captcha', detail: `${CAPTCHA_DETAIL} ${pendingChallenge} CAPTCHA`, mode });
    else ports.events.state(receiverState);
  };
  const setReceiver = (s: ChannelState) => {
    receiverState = s;
    publish();
  };

  const makeReceiver = (): Receiver => {
    const o = {
      client,
      inbox,
      log,
      downtime,
      pingIntervalMs: settings.pingIntervalMs,
      pollIntervalMs: settings.pollIntervalMs,
      backoffBaseMs: settings.reconnectBackoffMs,
      backoffMaxMs: settings.reconnectBackoffMaxMs,
      handshakeTimeoutMs: settings.requestTimeoutMs,
      events: {
        connected: () => setReceiver({ state: 'connected', detail: withDowntime(null), mode }),
        down: (reason: DownReason) => setReceiver({ state: 'disconnected', detail: withDowntime(reason), mode }),
      },
    };
    return mode === 'websocket' ? websocketReceiver(o) : pollingReceiver(o);
  };

  const receiveLoop = async () => {
    while (running) {
      if (lease && !lease.held) {
        setReceiver({ state: 'connecting', detail: 'standby: another process receives for this number', mode });
        log.info({ channel: 'signal' }, 'waiting for the Signal receive lease (one receiver per number)');
        if (!(await lease.acquire(() => !running))) break;
        log.info({ channel: 'signal', mode }, 'Signal receive lease taken');
      }
      if (!running) break;
      const r = makeReceiver();
      receiver = r;
      downtime.down();
      await r.run(() => running && (!lease || lease.held));
      downtime.up();
      receiver = null;
    }
  };

  const onLeaseLost = () => {
    log.warn({ channel: 'signal' }, 'Signal receive lease lost; receiving stops until it is taken again');
    receiver?.stop();
  };

  return {
    channel: 'signal',
    normalize: normalizeSignal,
    handleInbound: (raw) => path.handleInbound(raw),
    get mode() {
      return mode;
    },
    get pendingChallenge() {
      return pendingChallenge;
    },
    get disconnectedSeconds() {
      return downtime.seconds();
    },
    get receiving() {
      return running && receiver !== null;
    },
    get quarantined() {
      return path.quarantined;
    },
    ignored: path.ignored,
    get notEnvelopes() {
      return inbox.notEnvelopes;
    },

    async start(sink) {
      let about;
      try {
        about = await client.about();
      } catch (err) {
        if (err instanceof SignalHttpError && (err.status === 401 || err.status === 403)) {
          throw new TiphubError('TIPHUB_CONFIG_INVALID', `signal-cli-rest-api refused the request (GET /v1/about answered ${err.status}): check TIPHUB_SIGNAL_AUTH, the Authorization header its reverse proxy expects`);
        }
        if (err instanceof SignalHttpError && err.status === 404) {
          throw new TiphubError('TIPHUB_CONFIG_INVALID', 'no signal-cli-rest-api at TIPHUB_SIGNAL_URL (GET /v1/about answered 404): check the URL');
        }
        const why = err instanceof SignalHttpError ? `GET /v1/about answered ${err.status}` : err instanceof SignalUnreachable && err.timedOut ? 'no answer in time' : 'not reachable';
        throw new TiphubError('TIPHUB_CHANNEL_NOT_LINKED', `signal-cli-rest-api at TIPHUB_SIGNAL_URL is not ready (${why}): is its container running?`, { retryable: true });
      }
      const fromServer = modeOf(about.mode);
      const chosen = settings.mode ?? fromServer;
      if (!chosen) throw new TiphubError('TIPHUB_CONFIG_INVALID', 'signal-cli-rest-api did not say a known mode (GET /v1/about): set channels.signal.mode to websocket or polling');
      if (settings.mode && fromServer && settings.mode !== fromServer) log.warn({ channel: 'signal', mode: settings.mode, serverMode: about.mode }, 'channels.signal.mode differs from the mode the server says it runs in');
      mode = chosen;
      path.open(sink);
      running = true;
      receiverState = { state: 'connecting', mode };
      publish();
      lease = ports.lease(leaseName, settings.leaseMs, onLeaseLost);
      log.info({ channel: 'signal', mode, serverMode: about.mode, version: about.version }, 'Signal channel starting');
      loop = receiveLoop()
        .catch((err: unknown) => log.error({ channel: 'signal', cause: isTiphubError(err) ? err.code : 'bug' }, 'Signal receiving stopped'))
        .finally(() => lease?.release());
    },

    async stop() {
      const wasRunning = running;
      running = false;
      receiver?.stop();
      // What was received and not yet handed on: the server will not send it again, so it is
      // handed on now, for 10 s at most, whether the loop is still draining or not.
      let late = false;
      const deadline = setTimeout(() => {
        late = true;
        inbox.stopTrying();
      }, 10_000);
      await loop;
      loop = null;
      if (inbox.size && !late) await inbox.drain();
      clearTimeout(deadline);
      // Still there (Redis or the case log down): kept in quarantine when the case log answers.
      const left = inbox.takeAll();
      let lost = 0;
      for (const frame of left) {
        await ports
          .quarantine({ source: 'receive frame', code: 'TIPHUB_HUB_UNAVAILABLE', reason: 'the adapter stopped before it was handled', payload: frame })
          .catch(() => void lost++);
      }
      if (left.length) {
        log.error({ channel: 'signal', kept: left.length - lost, lost }, 'Signal messages received but not handed on at stop: kept in quarantine (tiphub quarantine list); signal-cli-rest-api will not send them again');
      }
      path.close();
      await lease?.release();
      lease = null;
      receiverState = { state: 'stopped', mode };
      if (wasRunning || mode) ports.events.state(receiverState);
    },

    async send(address: string, message: OutboundMessage): Promise<SendResult> {
      // Only a report's platformRef (`<timestamp>:<uuid>`) can be quoted; a nativeId (its hash) cannot.
      const ref = message.replyTo?.match(/^(\d{1,16}):([^\s:]{1,512})$/);
      const quote = ref ? { quote_timestamp: Number(ref[1]), quote_author: ref[2]! } : null;
      let first: number | null = null;
      try {
        for (const part of chunks(message.text, SIGNAL_TEXT_LIMIT)) {
          const body: SendBody = { number: cred.number, recipients: [address], message: part, ...(first === null && quote ? quote : {}) };
          const ts = await client.send(body);
          first ??= ts;
        }
      } catch (err) {
        if (err instanceof SignalHttpError && err.status === 429 && err.challengeTokens.length) {
          const was = pendingChallenge;
          pendingChallenge = err.challengeTokens[err.challengeTokens.length - 1]!;
          if (!was) log.warn({ channel: 'signal', code: 'TIPHUB_SEND_RATE_LIMITED' }, 'Signal asks for a captcha before this number sends more: replies wait; tiphub status shows the token for tiphub signal challenge TOKEN CAPTCHA');
          publish();
        }
        const e = sendError(err);
        log.warn({ channel: 'signal', code: e.code, retryable: e.retryable, status: err instanceof SignalHttpError ? err.status : null }, 'Signal send failed');
        throw e;
      }
      // Signal let us send again: whatever challenge was pending no longer holds replies.
      if (pendingChallenge) {
        pendingChallenge = null;
        publish();
      }
      return { nativeId: ports.messageId(['sig-sent', first!]), platformRef: String(first!) };
    },

    async submitChallenge(token: string, captcha: string) {
      await postChallenge(client, token, captcha);
      pendingChallenge = null;
      log.info({ channel: 'signal' }, 'Signal accepted the captcha; replies go again');
      publish();
    },

    async openMedia(ref: string, maxBytes: number) {
      if (!ATTACHMENT_ID.test(ref)) throw new TiphubError('TIPHUB_MEDIA_UNREADABLE', 'not a signal-cli attachment id');
      try {
        return await client.attachment(ref, maxBytes);
      } catch (err) {
        throw mediaError(err);
      }
    },

    async releaseMedia(ref: string) {
      if (!ATTACHMENT_ID.test(ref)) return;
      try {
        await client.deleteAttachment(ref);
      } catch (err) {
        throw new TiphubError('TIPHUB_MEDIA_UNREADABLE', `the attachment could not be deleted on signal-cli-rest-api (${err instanceof SignalHttpError ? err.status : 'not reachable'})`, { retryable: true });
      }
    },
  };
}
