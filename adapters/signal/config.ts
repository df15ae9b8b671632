/**
 * Signal's part of the configuration: its YAML section `channels.signal` and its environment
 * (TIPHUB_SIGNAL_*). The hub talks to a signal-cli-rest-api server (0.100); the channel is enabled
 * when both TIPHUB_SIGNAL_URL and TIPHUB_SIGNAL_NUMBER are set. The server has no authentication
 * of its own: behind a reverse proxy, TIPHUB_SIGNAL_AUTH is sent as the Authorization header.
 */
import { z } from 'zod';
import type { ChannelConfigPart } from '../../src/contracts/channel-adapter';
import { envProblems, maskUserinfo } from '../../src/contracts/listen';

export const SignalSettings = z
  .object({
    /** Read from the server's `GET /v1/about` at start (json-rpc → websocket, normal/native → polling); set to override. */
    mode: z.enum(['websocket', 'polling']).nullable().default(null),
    /** Polling mode: how often `GET /v1/receive/{number}` is asked. */
    pollIntervalMs: z.number().int().min(200).default(2_000),
    /** Websocket: our own ping this often; two pongs missed count as a drop. */
    pingIntervalMs: z.number().int().min(1_000).default(30_000),
    /** Reconnects back off from this to the maximum (the first is at once). */
    reconnectBackoffMs: z.number().int().min(100).default(1_000),
    reconnectBackoffMaxMs: z.number().int().min(1_000).default(60_000),
    /** One receiver per number: the lease in Redis, renewed at a third of this. */
    leaseMs: z.number().int().min(1_000).default(30_000),
    /** signal-cli accepts attachments up to 100 MiB; ours stops lower by default. */
    mediaMaxBytes: z.number().int().min(1).max(100 * 1024 * 1024).default(16 * 1024 * 1024),
    /** Group messages are not tips unless asked for (they are counted either way). */
    groups: z.boolean().default(false),
    /** Per request to the server. */
    requestTimeoutMs: z.number().int().min(1_000).default(30_000),
  })
  .strict()
  .prefault({});
export type SignalSettings = z.infer<typeof SignalSettings>;

export interface SignalCredentials {
  /** The signal-cli-rest-api server, e.g. http://signal-cli-rest-api:8080 (no trailing slash). */
  readonly url: string;
  /** The tip line's number, as registered or linked (E.164). */
  readonly number: string;
  /** Sent as the Authorization header on every request (a reverse proxy's), or null. */
  readonly auth: string | null;
}

const SignalEnv = z.object({
  TIPHUB_SIGNAL_URL: z.string().regex(/^https?:\/\/[^/\s]+(\/[^\s]*)?$/, 'must be the http(s) URL of a signal-cli-rest-api server, e.g. http://127.0.0.1:8090').optional(),
  TIPHUB_SIGNAL_NUMBER: z.string().regex(/^\+[1-9]\d{6,14}$/, "must be the tip line's number in international form, e.g. +15550001234").optional(),
  TIPHUB_SIGNAL_AUTH: z.string().min(1).max(4096).regex(/^[\x20-\x7e]+$/, 'printable ASCII (an Authorization header value, e.g. "Bearer …" or "Basic …")').optional(),
});

export const signalConfig: ChannelConfigPart<SignalSettings, SignalCredentials> = {
  section: SignalSettings,
  env: ['TIPHUB_SIGNAL_URL', 'TIPHUB_SIGNAL_NUMBER', 'TIPHUB_SIGNAL_AUTH'],
  disabledNote: '(disabled: TIPHUB_SIGNAL_URL and TIPHUB_SIGNAL_NUMBER not both set)',
  resolve(env, settings) {
    const parsed = SignalEnv.safeParse(env);
    if (!parsed.success) return { problems: envProblems(parsed.error) };
    const e = parsed.data;
    const problems: string[] = [];
    if (!!e.TIPHUB_SIGNAL_URL !== !!e.TIPHUB_SIGNAL_NUMBER) {
      const [missing, given] = e.TIPHUB_SIGNAL_URL ? ['TIPHUB_SIGNAL_NUMBER', 'TIPHUB_SIGNAL_URL'] : ['TIPHUB_SIGNAL_URL', 'TIPHUB_SIGNAL_NUMBER'];
      problems.push(`environment: ${missing} is required with ${given} (the Signal channel needs both)`);
    }
    if (e.TIPHUB_SIGNAL_AUTH && !e.TIPHUB_SIGNAL_URL) problems.push('environment: TIPHUB_SIGNAL_AUTH is set but TIPHUB_SIGNAL_URL is not');
    if (problems.length) return { problems };
    return {
      settings,
      credentials:
        e.TIPHUB_SIGNAL_URL && e.TIPHUB_SIGNAL_NUMBER ? { url: e.TIPHUB_SIGNAL_URL.replace(/\/+$/, ''), number: e.TIPHUB_SIGNAL_NUMBER, auth: e.TIPHUB_SIGNAL_AUTH ?? null } : null,
    };
  },
  // What `config check` shows, field by field (a field added later is not shown until listed here).
  redact: (c) => ({ url: maskUserinfo(c.url), number: `${c.number.slice(0, 4)}***${c.number.slice(-2)}`, auth: c.auth ? '***' : null }),
};
