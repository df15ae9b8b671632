/**
 * WhatsApp's part of the configuration: its YAML section `channels.whatsapp` and its environment
 * (TIPHUB_WHATSAPP_*). Two back ends, chosen by TIPHUB_WHATSAPP_MODE (or `mode` in the YAML file):
 * `web` drives WhatsApp Web in Debian's Chromium with whatsapp-web.js (the login lives on disk, so
 * the mode alone enables it); `cloud` is Meta's Cloud API (a webhook and the Graph API), enabled
 * with its four credentials. No mode: the channel is off.
 */
import { z } from 'zod';
import type { ChannelConfigPart } from '../../src/contracts/channel-adapter';
import { envProblems, ListenEnv, maskUserinfo } from '../../src/contracts/listen';

export const WHATSAPP_GRAPH_ROOT = 'https://graph.facebook.com';

export const WhatsAppSettings = z
  .object({
    mode: z.enum(['web', 'cloud']).nullable().default(null),
    /** Cloud API media may be 100 MB (documents); ours stops lower by default. */
    mediaMaxBytes: z.number().int().min(1).max(100 * 1024 * 1024).default(16 * 1024 * 1024),
    /** Messages from groups are not tips unless asked for (they are counted either way). */
    groups: z.boolean().default(false),
    web: z
      .object({
        /** Debian's chromium; puppeteer downloads none (.puppeteerrc.cjs). */
        chromiumPath: z.string().min(1).default('/usr/bin/chromium'),
        /** The LocalAuth session's name under <dataDir>/whatsapp-web (one per linked number). */
        clientId: z.string().regex(/^[A-Za-z0-9_-]{1,64}$/, 'letters, digits, _ and -').default('tiphub'),
        /** How often the watchdog asks the page for its state, and how long it waits for an answer. */
        watchdogIntervalMs: z.number().int().min(1000).default(60_000),
        watchdogTimeoutMs: z.number().int().min(1000).default(20_000),
        /** After a restored session, `ready` must come within this, or the browser is restarted. */
        readyTimeoutMs: z.number().int().min(1000).default(120_000),
        /** Browser restarts back off from this to the maximum. */
        restartBackoffMs: z.number().int().min(100).default(5_000),
        restartBackoffMaxMs: z.number().int().min(1000).default(300_000),
        /** One session per number: the lease in Redis, renewed at a third of this. */
        leaseMs: z.number().int().min(1000).default(30_000),
      })
      .strict()
      .prefault({}),
    cloud: z
      .object({
        apiVersion: z.string().regex(/^v\d+\.\d+$/, 'like v23.0').default('v23.0'),
        /** Where the webhook listens (behind your TLS reverse proxy); override: TIPHUB_WHATSAPP_WEBHOOK_LISTEN=host:port. */
        webhookListen: z
          .object({ host: z.string().default('127.0.0.1'), port: z.number().int().min(1).max(65535).default(8444), path: z.string().startsWith('/').default('/whatsapp/webhook') })
          .strict()
          .prefault({}),
        /** Meta's webhook bodies are small; anything larger is refused unread. */
        bodyLimitBytes: z.number().int().min(1024).max(16 * 1024 * 1024).default(1024 * 1024),
      })
      .strict()
      .prefault({}),
  })
  .strict()
  .prefault({});
export type WhatsAppSettings = z.infer<typeof WhatsAppSettings>;

export interface WhatsAppCloudCredentials {
  readonly mode: 'cloud';
  /** The system user's access token (bearer) for the Graph API. */
  readonly token: string;
  /** The app secret: the key of X-Hub-Signature-256. */
  readonly appSecret: string;
  /** What Meta's verification GET must present as hub.verify_token. */
  readonly verifyToken: string;
  /** The business number's id at Meta (not the number itself). */
  readonly phoneNumberId: string;
  /** Graph API root (tests point it at a local fake). */
  readonly apiRoot: string;
}
export type WhatsAppCredentials = { readonly mode: 'web' } | WhatsAppCloudCredentials;

const WhatsAppEnv = z.object({
  TIPHUB_WHATSAPP_MODE: z.enum(['web', 'cloud'], { error: 'must be web (WhatsApp Web in Chromium) or cloud (Meta\'s Cloud API)' }).optional(),
  TIPHUB_WHATSAPP_CLOUD_TOKEN: z.string().regex(/^[A-Za-z0-9_|.-]{20,1024}$/, 'not an access token (Meta gives a long string of letters and digits, e.g. EAAG…)').optional(),
  TIPHUB_WHATSAPP_APP_SECRET: z.string().regex(/^[0-9a-f]{32}$/i, 'not an app secret (32 hexadecimal characters, from the app\'s Basic settings)').optional(),
  // Anyone who knows it can pass Meta's verification of a webhook: long enough not to be guessed.
  TIPHUB_WHATSAPP_VERIFY_TOKEN: z.string().min(16, 'must be at least 16 characters (e.g. `openssl rand -hex 16`)').max(256).regex(/^[\x21-\x7e]+$/, 'printable ASCII without spaces').optional(),
  TIPHUB_WHATSAPP_PHONE_NUMBER_ID: z.string().regex(/^\d{5,32}$/, 'not a phone number id (digits; WhatsApp Manager → API Setup, not the phone number itself)').optional(),
  TIPHUB_WHATSAPP_API_ROOT: z.string().regex(/^https?:\/\/[^/]+/, 'must be an http(s) URL').optional(),
  TIPHUB_WHATSAPP_WEBHOOK_LISTEN: ListenEnv.optional(),
});

const CLOUD_VARS = ['TIPHUB_WHATSAPP_CLOUD_TOKEN', 'TIPHUB_WHATSAPP_APP_SECRET', 'TIPHUB_WHATSAPP_VERIFY_TOKEN', 'TIPHUB_WHATSAPP_PHONE_NUMBER_ID'] as const;

export const whatsappConfig: ChannelConfigPart<WhatsAppSettings, WhatsAppCredentials> = {
  section: WhatsAppSettings,
  env: ['TIPHUB_WHATSAPP_MODE', ...CLOUD_VARS, 'TIPHUB_WHATSAPP_API_ROOT', 'TIPHUB_WHATSAPP_WEBHOOK_LISTEN'],
  disabledNote: '(disabled: TIPHUB_WHATSAPP_MODE not set; web or cloud)',
  resolve(env, settings) {
    const parsed = WhatsAppEnv.safeParse(env);
    if (!parsed.success) return { problems: envProblems(parsed.error) };
    const e = parsed.data;
    const mode = e.TIPHUB_WHATSAPP_MODE ?? settings.mode;
    const problems: string[] = [];
    const cloudSet = CLOUD_VARS.filter((v) => e[v] !== undefined);
    if (mode !== 'cloud' && cloudSet.length) {
      problems.push(`environment: ${cloudSet[0]} is set but TIPHUB_WHATSAPP_MODE is ${mode ?? 'not set'} (set TIPHUB_WHATSAPP_MODE=cloud for the Cloud API)`);
    }
    if (mode === 'cloud') for (const v of CLOUD_VARS) if (e[v] === undefined) problems.push(`environment: ${v} is required when TIPHUB_WHATSAPP_MODE=cloud`);
    if (problems.length) return { problems };
    const resolved: WhatsAppSettings = {
      ...settings,
      mode,
      cloud: { ...settings.cloud, webhookListen: { ...settings.cloud.webhookListen, ...(e.TIPHUB_WHATSAPP_WEBHOOK_LISTEN ?? {}) } },
    };
    if (mode === 'web') return { settings: resolved, credentials: { mode: 'web' }, enabled: true };
    if (mode === 'cloud') {
      return {
        settings: resolved,
        credentials: {
          mode: 'cloud',
          token: e.TIPHUB_WHATSAPP_CLOUD_TOKEN!,
          appSecret: e.TIPHUB_WHATSAPP_APP_SECRET!,
          verifyToken: e.TIPHUB_WHATSAPP_VERIFY_TOKEN!,
          phoneNumberId: e.TIPHUB_WHATSAPP_PHONE_NUMBER_ID!,
          apiRoot: (e.TIPHUB_WHATSAPP_API_ROOT ?? WHATSAPP_GRAPH_ROOT).replace(/\/+$/, ''),
        },
      };
    }
    return { settings: resolved, credentials: null };
  },
  listeners: (s, c) => (c.mode === 'cloud' ? [{ name: 'whatsapp webhook', host: s.cloud.webhookListen.host, port: s.cloud.webhookListen.port }] : []),
  // What `config check` shows, field by field (a field added later is not shown until listed here).
  redact: (c) =>
    c.mode === 'web'
      ? { mode: 'web' }
      : { mode: 'cloud', token: '***', appSecret: '***', verifyToken: '***', phoneNumberId: c.phoneNumberId, apiRoot: maskUserinfo(c.apiRoot) },
};
