/**
 * Telegram through grammY's `Api`. Both transports, long polling and the webhook, call the one
 * inbound handler `handleUpdate`, which resolves only when the update's job is stored in Redis.
 * Polling is our own loop over getUpdates (not bot.start() or the runner, which confirm updates
 * that were tried or merely fetched): the offset moves past an update only once it is handled, so
 * a crash means redelivery, never loss. One poller per bot at a time, under a Redis lease.
 * One bad update (rejected by normalize, invalid against the schema, or refused by the sink) is
 * quarantined sealed and counted, and the loop goes on; a loop that dies gives up its lease.
 */
import { Readable } from 'node:stream';
import { Api, GrammyError, HttpError } from 'grammy';
import type { Update } from 'grammy/types';
import type { AdapterPorts, ChannelAdapter, ChannelModule, InboundSink, LeasePort, OutboundMessage, SendResult } from '../../src/contracts/channel-adapter';
import { describeIssues, InboundMessage, isIgnored, isRejected } from '../../src/contracts/inbound-message';
import { describeForeignError, isTiphubError, TiphubError } from '../../src/errors';
import { normalizeTelegram } from './normalize';
import { buildWebhookApp } from './webhook';
import { telegramConfig, type TelegramCredentials, type TelegramSettings } from './config';
import { telegramVocabulary } from './vocabulary';
import type { FastifyInstance } from 'fastify';

export { normalizeTelegram } from './normalize';

export const TELEGRAM_TEXT_LIMIT = 4096;
const ALLOWED_UPDATES = ['message', 'edited_message'] as const;

/** The commands as Telegram shows them, per language (Sorani speakers get the default, English). */
export const COMMAND_MENUS: Record<'default' | 'ar' | 'en' | 'fr', { command: string; description: string }[]> = {
  default: [
    { command: 'start', description: 'What this line is' },
    { command: 'status', description: 'What became of a report: /status CODE' },
    { command: 'lang', description: 'Language: ar, ckb, en or fr' },
    { command: 'help', description: 'How to send a tip' },
    { command: 'stop', description: 'Receive no more messages' },
  ],
  en: [],
  ar: [
    { command: 'start', description: 'ما هذا الخط' },
    { command: 'status', description: 'ماذا حدث لبلاغك: /status الرمز' },
    { command: 'lang', description: 'اللغة: ar أو ckb أو en أو fr' },
    { command: 'help', description: 'كيف ترسل بلاغًا' },
    { command: 'stop', description: 'لا تصلني رسائل بعد الآن' },
  ],
  fr: [
    { command: 'start', description: 'Ce qu’est cette ligne' },
    { command: 'status', description: 'Où en est un signalement : /status CODE' },
    { command: 'lang', description: 'Langue : ar, ckb, en ou fr' },
    { command: 'help', description: 'Comment envoyer un signalement' },
    { command: 'stop', description: 'Ne plus recevoir de messages' },
  ],
};
COMMAND_MENUS.en = COMMAND_MENUS.default;

export interface TelegramAdapter extends ChannelAdapter<unknown> {
  /** The one inbound handler: resolves when the update is enqueued, ignored (counted) or quarantined. */
  handleUpdate(update: unknown): Promise<void>;
  /** The same handler under the name every channel's one inbound entry point has. */
  handleInbound(update: unknown): Promise<void>;
  readonly botId: string;
  /** Updates kept in quarantine instead of enqueued, since start. */
  readonly quarantined: number;
  /** Updates that were not tips (groups, channels, service messages), by reason. */
  readonly ignored: ReadonlyMap<string, number>;
}

/** Maps the Bot API's answers to errors that say whether a retry can help. */
export function sendError(err: unknown): TiphubError {
  if (err instanceof GrammyError) {
    const code = err.error_code;
    if (code === 429) {
      const after = (err.parameters?.retry_after ?? 1) * 1000;
      return new TiphubError('TIPHUB_SEND_RATE_LIMITED', `Telegram asked to wait ${after} ms`, { retryAfterMs: after });
    }
    if (code === 403) return new TiphubError('TIPHUB_RECIPIENT_UNREACHABLE', 'Telegram: the user blocked the bot or cannot be written to (403)');
    if (code === 400 && /chat not found|user not found|PEER_ID_INVALID/i.test(err.description)) {
      return new TiphubError('TIPHUB_RECIPIENT_UNREACHABLE', 'Telegram: unknown chat (400)');
    }
    // Server errors may pass; any other refusal of this message will not.
    return new TiphubError('TIPHUB_SEND_FAILED', `Telegram answered ${code}`, { retryable: code >= 500 });
  }
  if (err instanceof HttpError) return new TiphubError('TIPHUB_SEND_FAILED', 'Telegram could not be reached');
  return new TiphubError('TIPHUB_SEND_FAILED', 'sending to Telegram failed');
}

function chunks(text: string, size: number): string[] {
  const out: string[] = [];
  for (let i = 0; i < text.length; i += size) out.push(text.slice(i, i + size));
  return out.length ? out : [''];
}

export function createTelegramAdapter(ports: AdapterPorts<TelegramSettings, TelegramCredentials>): TelegramAdapter {
  const tg = ports.credentials;
  if (!tg) throw new TiphubError('TIPHUB_CONFIG_INVALID', 'the Telegram channel needs TIPHUB_TELEGRAM_TOKEN');
  const settings = ports.settings;
  const log = ports.log;
  const botId = tg.token.split(':')[0]!;
  // A call that hangs must not hold the hub (grammY waits 500 s by default).
  const api = new Api(tg.token, { ...(tg.apiRoot ? { apiRoot: tg.apiRoot } : {}), timeoutSeconds: settings.pollTimeoutSeconds + 15 });
  const ignored = new Map<string, number>();
  let sink: InboundSink | null = null;
  let running = false;
  let abort: AbortController | null = null;
  let loop: Promise<void> | null = null;
  let offset: number | undefined;
  let lease: LeasePort | null = null;
  let webhook: FastifyInstance | null = null;
  let stopping = false;
  let quarantined = 0;

  const ctx = () => ({ account: botId, receivedAt: new Date(), messageId: ports.messageId });

  /** Keeps one update that cannot become a report; resolves once it is stored (the offset may then pass it). */
  const quarantine = async (update: unknown, code: string, reason: string): Promise<void> => {
    const id = typeof (update as { update_id?: unknown })?.update_id === 'number' ? (update as { update_id: number }).update_id : 'unknown';
    await ports.quarantine({ source: `update ${id}`, code, reason, payload: update });
    quarantined++;
  };

  const handleUpdate = async (update: unknown): Promise<void> => {
    // Not started, or stopping: nothing is counted, kept or enqueued, and Telegram sends it again.
    const to = sink;
    if (!to || stopping) throw new TiphubError('TIPHUB_HUB_UNAVAILABLE', 'the Telegram adapter is not started');
    const n = normalizeTelegram(update, ctx());
    if (isIgnored(n)) {
      const kind = n.reason.startsWith('update kind ') ? n.reason.slice(12) : n.reason.replace(/ .*/, '');
      ignored.set(kind, (ignored.get(kind) ?? 0) + 1);
      await ports.countIgnored(kind);
      log.debug({ channel: 'telegram', reason: n.reason }, 'update ignored');
      return;
    }
    if (isRejected(n)) return quarantine(update, 'TIPHUB_MESSAGE_INVALID', n.reason);
    // Checked here too (the sink checks again when sealing): a value out of range is this update's fault, not the loop's.
    const checked = InboundMessage.safeParse(n);
    if (!checked.success) return quarantine(update, 'TIPHUB_MESSAGE_INVALID', describeIssues(checked.error));
    try {
      await to(checked.data, { origin: 'live' });
    } catch (err) {
      // While stopping, the sink gives up on Redis: leave the update unconfirmed, Telegram sends it again.
      if (stopping) throw err;
      await quarantine(update, isTiphubError(err) ? err.code : 'TIPHUB_MESSAGE_INVALID', `not enqueued: ${describeForeignError(err)}`);
    }
  };

  /** A webhook body that is not JSON: kept as text, so nothing Telegram sent is lost. */
  const handleUnparsable = (body: string) => quarantine({ unparsable: body }, 'TIPHUB_MESSAGE_INVALID', 'webhook body is not JSON');

  const poll = async () => {
    while (running) {
      if (lease && !lease.held) {
        log.info({ channel: 'telegram', bot: botId }, 'waiting for the polling lease');
        if (!(await lease.acquire(() => !running))) break;
        log.info({ channel: 'telegram', bot: botId }, 'polling lease taken');
      }
      let updates: Update[];
      const asked = Date.now();
      try {
        abort = new AbortController();
        updates = await api.getUpdates({ offset, timeout: settings.pollTimeoutSeconds, allowed_updates: [...ALLOWED_UPDATES] }, abort.signal as Parameters<Api['getUpdates']>[1]);
      } catch (err) {
        if (!running) break;
        if (err instanceof GrammyError && err.error_code === 401) {
          log.error({ channel: 'telegram', code: 401 }, 'Telegram rejected the bot token; polling stopped');
          ports.events.state({ state: 'disconnected', detail: 'token rejected', mode: 'polling' });
          running = false;
          break;
        }
        // 409 (a webhook is set, or another poller) and network faults: wait and try again.
        const code = err instanceof GrammyError ? err.error_code : 'network';
        log.warn({ channel: 'telegram', code }, 'getUpdates failed; retrying');
        ports.events.state({ state: 'disconnected', detail: code === 409 ? 'another receiver or a webhook (409)' : code === 'network' ? 'Telegram not reachable' : `getUpdates answered ${code}`, mode: 'polling' });
        await new Promise((r) => setTimeout(r, 1000));
        continue;
      }
      ports.events.state({ state: 'connected', mode: 'polling' });
      // A server that answers at once instead of long polling (a test server, a proxy) is not hammered.
      if (!updates.length && Date.now() - asked < 100) await new Promise((r) => setTimeout(r, 250));
      for (const u of updates) {
        // The sink waits out a Redis outage; the offset moves only past what was handled (enqueued,
        // ignored or quarantined). A failure here (the case log down while quarantining) leaves the
        // update unconfirmed: wait, then fetch it again.
        try {
          await handleUpdate(u);
        } catch (err) {
          if (!running) break;
          log.warn({ channel: 'telegram', updateId: u.update_id, cause: describeForeignError(err) }, 'update not handled; fetching it again');
          await new Promise((r) => setTimeout(r, 1000));
          break;
        }
        offset = u.update_id + 1;
      }
    }
  };

  const registerCommands = async () => {
    for (const [lang, commands] of Object.entries(COMMAND_MENUS)) {
      try {
        await api.setMyCommands(commands, lang === 'default' ? undefined : { language_code: lang as 'ar' | 'en' | 'fr' });
      } catch (err) {
        log.warn({ channel: 'telegram', lang, code: err instanceof GrammyError ? err.error_code : 'network' }, 'setMyCommands failed (not fatal)');
      }
    }
  };

  return {
    channel: 'telegram',
    botId,
    ignored,
    normalize: normalizeTelegram,
    handleUpdate,
    handleInbound: handleUpdate,
    get quarantined() {
      return quarantined;
    },
    async start(s) {
      sink = s;
      stopping = false;
      try {
        const me = await api.getMe();
        log.info({ channel: 'telegram', bot: String(me.id), mode: tg.webhookUrl ? 'webhook' : 'polling' }, 'Telegram bot found');
      } catch (err) {
        if (err instanceof GrammyError && (err.error_code === 401 || err.error_code === 404)) {
          throw new TiphubError('TIPHUB_CONFIG_INVALID', `Telegram rejected TIPHUB_TELEGRAM_TOKEN (getMe answered ${err.error_code}): check the token BotFather gave`);
        }
        throw new TiphubError('TIPHUB_SEND_FAILED', 'Telegram could not be reached to check the bot (getMe)');
      }
      await registerCommands();
      if (tg.webhookUrl) {
        const listen = settings.webhookListen;
        webhook = await buildWebhookApp({ path: listen.path, secret: tg.webhookSecret!, handleUpdate, handleUnparsable });
        await webhook.listen({ host: listen.host, port: listen.port });
        await api.setWebhook(tg.webhookUrl, { secret_token: tg.webhookSecret!, allowed_updates: [...ALLOWED_UPDATES] });
        log.info({ channel: 'telegram', listen: `${listen.host}:${listen.port}${listen.path}` }, 'webhook set');
        ports.events.state({ state: 'connected', mode: 'webhook' });
        return;
      }
      await api.deleteWebhook().catch(() => undefined);
      running = true;
      ports.events.state({ state: 'connecting', mode: 'polling' });
      lease = ports.lease(botId, settings.leaseMs, () => log.warn({ channel: 'telegram' }, 'polling lease lost'));
      // However the loop ends (401, a bug), the lease goes with it, so another process can take over.
      loop = poll()
        .catch((err) => log.error({ err, channel: 'telegram' }, 'polling stopped'))
        .finally(() => {
          running = false;
          return lease?.release();
        });
    },
    async openMedia(fileId: string, maxBytes: number) {
      let file;
      try {
        file = await api.getFile(fileId);
      } catch (err) {
        if (err instanceof GrammyError && /too big/i.test(err.description)) throw new TiphubError('TIPHUB_MEDIA_TOO_LARGE', 'Telegram: file is too big for bots');
        if (err instanceof GrammyError && err.error_code < 500) throw new TiphubError('TIPHUB_MEDIA_UNREADABLE', `Telegram getFile answered ${err.error_code}`);
        throw new TiphubError('TIPHUB_MEDIA_UNREADABLE', 'Telegram getFile failed', { retryable: true });
      }
      if ((file.file_size ?? 0) > maxBytes) throw new TiphubError('TIPHUB_MEDIA_TOO_LARGE', `file of ${file.file_size} bytes over the limit`);
      if (!file.file_path) throw new TiphubError('TIPHUB_MEDIA_UNREADABLE', 'Telegram gave no file path');
      const url = `${tg.apiRoot ?? 'https://api.telegram.org'}/file/bot${tg.token}/${file.file_path}`;
      let res: Response;
      try {
        res = await fetch(url, { signal: AbortSignal.timeout(120_000) });
      } catch {
        throw new TiphubError('TIPHUB_MEDIA_UNREADABLE', 'download from Telegram failed', { retryable: true });
      }
      if (!res.ok || !res.body) throw new TiphubError('TIPHUB_MEDIA_UNREADABLE', `download answered ${res.status}`, { retryable: res.status >= 500 });
      return Readable.fromWeb(res.body as import('node:stream/web').ReadableStream);
    },
    async send(address: string, message: OutboundMessage): Promise<SendResult> {
      let first: number | null = null;
      try {
        for (const part of chunks(message.text, TELEGRAM_TEXT_LIMIT)) {
          const replyTo = first === null && message.replyTo ? Number(message.replyTo) : null;
          const sent = await api.sendMessage(Number(address), part, replyTo ? { reply_parameters: { message_id: replyTo, allow_sending_without_reply: true } } : undefined);
          first ??= sent.message_id;
        }
      } catch (err) {
        throw sendError(err);
      }
      return { nativeId: String(first) };
    },
    async stop() {
      stopping = true;
      running = false;
      await webhook?.close();
      abort?.abort();
      await loop;
      // Confirm what was handled (and nothing else) before letting go.
      if (offset !== undefined) await api.getUpdates({ offset, timeout: 0, limit: 1 }).catch(() => undefined);
      await lease?.release();
      ports.events.state({ state: 'stopped', mode: tg.webhookUrl ? 'webhook' : 'polling' });
      sink = null;
    },
  };
}

/** The channel as the registry lists it: configuration, limits, normalization, the adapter. */
export const telegram: ChannelModule<'telegram', TelegramSettings, TelegramCredentials, TelegramAdapter> = {
  name: 'telegram',
  config: telegramConfig,
  limits: { mediaMaxBytes: (s) => s.mediaMaxBytes, textLength: TELEGRAM_TEXT_LIMIT, sendPerSecond: 25 },
  normalize: normalizeTelegram,
  vocabulary: telegramVocabulary,
  create: createTelegramAdapter,
};
