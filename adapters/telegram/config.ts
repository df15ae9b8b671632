/**
 * Telegram's part of the configuration: its YAML section `channels.telegram` and its environment
 * (TIPHUB_TELEGRAM_*). The channel is enabled when TIPHUB_TELEGRAM_TOKEN is set.
 */
import { z } from 'zod';
import type { ChannelConfigPart } from '../../src/contracts/channel-adapter';
import { envProblems, ListenEnv, maskUserinfo } from '../../src/contracts/listen';

export const TelegramSettings = z
  .object({
    /** Bots may download 20 MB at most; ours stops lower by default. */
    mediaMaxBytes: z.number().int().min(1).max(20 * 1024 * 1024).default(10 * 1024 * 1024),
    pollTimeoutSeconds: z.number().int().min(0).max(50).default(25),
    /** Only one long-polling receiver per bot: the lease in Redis, renewed at a third of this. */
    leaseMs: z.number().int().min(1000).default(30_000),
    /** Where the webhook route listens (behind your reverse proxy); override: TIPHUB_TELEGRAM_WEBHOOK_LISTEN=host:port. */
    webhookListen: z
      .object({ host: z.string().default('127.0.0.1'), port: z.number().int().min(1).max(65535).default(8443), path: z.string().startsWith('/').default('/telegram/webhook') })
      .strict()
      .prefault({}),
  })
  .strict()
  .prefault({});
export type TelegramSettings = z.infer<typeof TelegramSettings>;

export interface TelegramCredentials {
  readonly token: string;
  readonly apiRoot: string | null;
  readonly webhookUrl: string | null;
  readonly webhookSecret: string | null;
}

const TelegramEnv = z.object({
  TIPHUB_TELEGRAM_TOKEN: z
    .string()
    .regex(/^\d{5,16}:[A-Za-z0-9_-]{30,64}$/, 'not a bot token: BotFather gives one like 123456789:AAH-xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx (digits, a colon, then letters)')
    .optional(),
  TIPHUB_TELEGRAM_API_ROOT: z.string().regex(/^https?:\/\//, 'must be an http(s) URL of a Bot API server').optional(),
  TIPHUB_TELEGRAM_WEBHOOK_URL: z.string().regex(/^https:\/\//, 'Telegram only calls https:// webhooks').optional(),
  // Anyone who knows it can post forged updates to the webhook: long enough not to be guessed.
  TIPHUB_TELEGRAM_WEBHOOK_SECRET: z
    .string()
    .min(32, 'must be at least 32 characters (e.g. `openssl rand -hex 32`)')
    .regex(/^[A-Za-z0-9_-]{1,256}$/, '32 to 256 characters of A-Z a-z 0-9 _ -')
    .optional(),
  TIPHUB_TELEGRAM_WEBHOOK_LISTEN: ListenEnv.optional(),
});

export const telegramConfig: ChannelConfigPart<TelegramSettings, TelegramCredentials> = {
  section: TelegramSettings,
  env: ['TIPHUB_TELEGRAM_TOKEN', 'TIPHUB_TELEGRAM_API_ROOT', 'TIPHUB_TELEGRAM_WEBHOOK_URL', 'TIPHUB_TELEGRAM_WEBHOOK_SECRET', 'TIPHUB_TELEGRAM_WEBHOOK_LISTEN'],
  disabledNote: '(disabled: TIPHUB_TELEGRAM_TOKEN not set)',
  resolve(env, settings) {
    const parsed = TelegramEnv.safeParse(env);
    const problems = parsed.success ? [] : envProblems(parsed.error);
    if (!parsed.success) return { problems };
    const e = parsed.data;
    if (!!e.TIPHUB_TELEGRAM_WEBHOOK_URL !== !!e.TIPHUB_TELEGRAM_WEBHOOK_SECRET) {
      problems.push('environment: TIPHUB_TELEGRAM_WEBHOOK_URL and TIPHUB_TELEGRAM_WEBHOOK_SECRET go together (webhook mode needs both)');
    }
    if (e.TIPHUB_TELEGRAM_WEBHOOK_URL && !e.TIPHUB_TELEGRAM_TOKEN) problems.push('environment: TIPHUB_TELEGRAM_WEBHOOK_URL is set but TIPHUB_TELEGRAM_TOKEN is not');
    if (problems.length) return { problems };
    return {
      settings: { ...settings, webhookListen: { ...settings.webhookListen, ...(e.TIPHUB_TELEGRAM_WEBHOOK_LISTEN ?? {}) } },
      credentials: e.TIPHUB_TELEGRAM_TOKEN
        ? { token: e.TIPHUB_TELEGRAM_TOKEN, apiRoot: e.TIPHUB_TELEGRAM_API_ROOT ?? null, webhookUrl: e.TIPHUB_TELEGRAM_WEBHOOK_URL ?? null, webhookSecret: e.TIPHUB_TELEGRAM_WEBHOOK_SECRET ?? null }
        : null,
    };
  },
  // What `config check` shows, field by field (a field added later is not shown until listed here).
  listeners: (s, c) => (c.webhookUrl ? [{ name: 'telegram webhook', host: s.webhookListen.host, port: s.webhookListen.port }] : []),
  redact: (c) => ({
    token: `${c.token.split(':')[0]}:***`,
    apiRoot: maskUserinfo(c.apiRoot),
    webhookUrl: maskUserinfo(c.webhookUrl),
    webhookSecret: c.webhookSecret ? '***' : null,
    mode: c.webhookUrl ? 'webhook' : 'polling',
  }),
};
