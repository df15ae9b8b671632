/**
 * Configuration: secrets and addresses from the environment, everything else from an optional YAML
 * file (tiphub.yaml in the working directory, or --config FILE). Validated once with zod, unknown
 * keys rejected, then frozen. This is the only module that reads process.env.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { LineCounter, parseDocument, isNode } from 'yaml';
import { z } from 'zod';
import { packageRoot } from '../package-root';
import { TiphubError } from '../errors';
import type { ChannelModule } from '../contracts/channel-adapter';
import { ListenEnv, maskUserinfo } from '../contracts/listen';

const LogLevel = z.enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']);
const LogFormat = z.enum(['auto', 'json', 'pretty']);

/** An alert webhook: http or https, nothing else (no file:, no javascript:). */
const WebhookUrl = z.url({ protocol: /^https?$/, error: 'must be an http:// or https:// URL' });

/**
 * Alerts without Prometheus (src/alerts/): a signed JSON POST for each new high-priority case and
 * each channel going down or coming back. Off while `webhookUrl` is unset.
 */
const AlertsSection = z
  .object({
    /** Where alerts are posted; override: TIPHUB_ALERTS_WEBHOOK_URL. */
    webhookUrl: WebhookUrl.nullish(),
    /** The signing key (X-Tiphub-Signature); override: TIPHUB_ALERTS_SECRET. Unset: derived from the hub's secret (`tiphub alerts key` prints it). */
    secret: z.string().min(16, 'must be at least 16 characters').nullish(),
    /** A channel down for less than this long is not alerted (a reconnect, a restart): flapping stays quiet. */
    channelDownAfterSeconds: z.number().int().min(0).max(24 * 3600).default(30),
    /** Tries of one POST, with exponential backoff from `backoffMs` (12 × from 2 s: about two hours and a quarter in all). */
    attempts: z.number().int().min(1).max(100).default(12),
    backoffMs: z.number().int().min(10).default(2000),
    /** One POST waits this long for an answer. */
    timeoutMs: z.number().int().min(100).max(120_000).default(10_000),
  })
  .strict()
  .prefault({});

const FileSchema = z
  .object({
    queue: z
      .object({
        /** BullMQ key prefix; wrap it in {braces} on Redis Cluster so a queue's keys share a slot. */
        prefix: z.string().regex(/^[A-Za-z0-9_{}.-]{1,64}$/, 'letters, digits, _ { } . - only').default('tiphub'),
        attempts: z.number().int().min(1).max(100).default(10),
        backoffMs: z.number().int().min(10).max(3_600_000).default(1000),
        keepCompleted: z
          .object({ ageSeconds: z.number().int().min(0).default(3600), count: z.number().int().min(0).default(10_000) })
          .strict()
          .prefault({}),
        keepFailed: z
          .object({ ageSeconds: z.number().int().min(0).default(14 * 86_400), count: z.number().int().min(0).default(50_000) })
          .strict()
          .prefault({}),
      })
      .strict()
      .prefault({}),
    worker: z
      .object({
        concurrency: z.number().int().min(1).max(5000).default(1024),
        /** Reports written per database transaction (group commit). */
        batchSize: z.number().int().min(1).max(2000).default(256),
        /** How long a batch waits for company before it is written. */
        batchWaitMs: z.number().int().min(0).max(1000).default(2),
        /** Batches written at once on PostgreSQL (PGlite writes one at a time). */
        writers: z.number().int().min(1).max(16).default(2),
        /**
         * A job's lock, renewed every half of it while the job runs; a killed worker's jobs are
         * taken up again within lockDurationMs + stalledIntervalMs (5 s + 5 s: under 10 s, issue 14).
         * A batch commit far shorter than half of it (about 0.1 s at 256 reports) never loses its lock.
         */
        lockDurationMs: z.number().int().min(1000).default(5_000),
        /** How often a worker looks for jobs whose lock expired (stalled) and puts them back. */
        stalledIntervalMs: z.number().int().min(500).default(5_000),
        /**
         * Stalls a job may have before BullMQ fails it for good. An intake job is safe to run again
         * (the report's primary key is the guard), and a starved process (PGlite's queries run on its
         * one thread) misses a 5 s lock renewal far more often than a message crashes a worker: a low
         * count left messages failed, out of the case log, under load (the soak at 20 msg/s).
         */
        maxStalledCount: z.number().int().min(1).default(50),
      })
      .strict()
      .prefault({}),
    grouping: z
      .object({
        followupMinutes: z.number().min(0).max(24 * 60).default(10),
        /** This many informants first seen within the window, all sending into one case in it: a possible campaign. */
        campaignMinInformants: z.number().int().min(2).default(10),
        campaignWindowMinutes: z.number().min(1).max(24 * 60).default(30),
        /** Estimated similarity (Jaccard of character 4-grams) from which a text is a near copy. */
        nearThreshold: z.number().min(0.3).max(1).default(0.6),
        /** Hamming distance (of 64 bits) up to which two images' perceptual hashes are the same picture. */
        imageMaxDistance: z.number().int().min(0).max(16).default(8),
        /** A text shorter than this (letters and digits, after normalization) never matches others. */
        minChars: z.number().int().min(1).default(12),
        minWords: z.number().int().min(1).default(3),
      })
      .strict()
      .prefault({}),
    conversation: z
      .object({
        /** Off: the line records only and never writes to informants. */
        enabled: z.boolean().default(true),
        /** An acknowledgement waits this long so a burst (an album, quick messages) gets one. */
        ackDelayMs: z.number().int().min(0).max(600_000).default(3000),
        /** No second acknowledgement for the same case and informant within this time. */
        ackQuietMinutes: z.number().min(0).max(24 * 60).default(10),
        /** Messages a minute above which an informant is flagged and moved to the slow lane. */
        floodPerMinute: z.number().int().min(1).default(20),
        /** /status queries an informant may make in an hour. */
        statusPerHour: z.number().int().min(1).default(10),
        outboxSweepMs: z.number().int().min(100).default(15_000),
      })
      .strict()
      .prefault({}),
    outbound: z
      .object({
        attempts: z.number().int().min(1).max(100).default(8),
        backoffMs: z.number().int().min(10).default(2000),
        /** Messages to one informant a minute (our own counter; BullMQ's limiter is queue-wide). */
        perRecipientPerMinute: z.number().int().min(1).default(10),
        /** Per-channel queue limiter. */
        limits: z
          // Default per channel: its module's send rate (filled in by loadConfig).
          .record(z.string(), z.object({ max: z.number().int().min(1), durationMs: z.number().int().min(1) }).strict())
          .default({}),
      })
      .strict()
      .prefault({}),
    media: z
      .object({ maxBytes: z.number().int().min(1).default(16 * 1024 * 1024) })
      .strict()
      .prefault({}),
    log: z
      .object({
        level: LogLevel.default('info'),
        /** auto: short readable lines when stderr is a terminal, JSON lines otherwise (a service's log). */
        format: LogFormat.default('auto'),
      })
      .strict()
      .prefault({}),
    retention: z
      .object({
        /** Closed cases older than this many days are purged; null keeps everything (a case log is evidence). */
        closedCaseDays: z.number().int().min(1).nullable().default(null),
        /**
         * Quarantine entries older than this many days are deleted; null keeps them. 90 days leaves an
         * operator a quarter to notice a refused import or adapter bug and retry it, while a sealed
         * whole payload (an informant's words and address) does not stay forever.
         */
        quarantineDays: z.number().int().min(1).nullable().default(90),
      })
      .strict()
      .prefault({}),
    /** Tag vocabulary, gazetteer and priority rules (tags.yaml, places.yaml, priority.yaml); default: the shipped config/. */
    rules: z.object({ dir: z.string().min(1).nullish() }).strict().prefault({}),
    dashboard: z
      .object({
        /** Where the operators' dashboard listens (`tiphub start`, `tiphub dashboard`); override: TIPHUB_DASHBOARD_LISTEN=host:port. */
        listen: z
          .object({ host: z.string().min(1).default('127.0.0.1'), port: z.number().int().min(0).max(65535).default(8080) })
          .strict()
          .prefault({}),
        /** Off: `tiphub start` serves no dashboard. */
        enabled: z.boolean().default(true),
        /** Origins that may post besides the request's own host: a reverse proxy's, e.g. https://tips.example.org. */
        trustedOrigins: z.array(z.string().regex(/^https?:\/\/[^/]+$/, 'scheme://host[:port], nothing after it')).default([]),
        /** Behind a reverse proxy of ours: take the client address from X-Forwarded-For (for login throttling). */
        trustProxy: z.boolean().default(false),
        /** Every operator logs in with a second factor (TOTP). */
        requireTotp: z.boolean().default(true),
        /** Cookies marked Secure: set when the dashboard is served behind TLS (a reverse proxy). */
        secureCookies: z.boolean().default(false),
        /** A session ends after this long without a request, and after `absoluteHours` in any case. */
        idleMinutes: z.number().int().min(1).max(24 * 60).default(30),
        absoluteHours: z.number().int().min(1).max(24 * 7).default(12),
        /** The reply composer's canned replies (relative to this file); default: the shipped config/replies.yaml. */
        cannedReplies: z.string().min(1).nullish(),
      })
      .strict()
      .prefault({}),
    ops: z
      .object({
        /**
         * The operations listener (/metrics, /healthz, /readyz) of `tiphub start`, `worker` and
         * `adapter`; override: TIPHUB_OPS_LISTEN=host:port (each process on one host its own port).
         * Port 0: any free port, logged at start. 9464 is the port Prometheus lists for exporters.
         */
        listen: z
          .object({ host: z.string().min(1).default('127.0.0.1'), port: z.number().int().min(0).max(65535).default(9464) })
          .strict()
          .prefault({}),
        /** Off: no operations listener (nothing to scrape, no readiness probe). */
        enabled: z.boolean().default(true),
      })
      .strict()
      .prefault({}),
    hub: z
      .object({
        /** How long a command waits for the embedded case log held by a process with no control socket. */
        lockWaitMs: z.number().int().min(0).default(15_000),
        /** Off (null): else the hub logs its memory and event-loop delay once per this many seconds (`npm run soak`). */
        statsLogSeconds: z.number().min(0.1).max(86_400).nullable().default(null),
      })
      .strict()
      .prefault({}),
    alerts: AlertsSection,
    /** Each channel's own section (`channels.<name>`), validated by its module (adapters/<name>/). */
    channels: z.record(z.string(), z.unknown()).default({}),
  })
  .strict();

/** The core's variables; each channel adds its own (its module's config.env). */
export const CORE_ENV = ['TIPHUB_SECRET', 'TIPHUB_DATA_DIR', 'TIPHUB_LOG_LEVEL', 'TIPHUB_CONFIG', 'TIPHUB_MIGRATE_DATABASE_URL', 'TIPHUB_DASHBOARD_LISTEN',
  'TIPHUB_ALERTS_WEBHOOK_URL', 'TIPHUB_ALERTS_SECRET', 'TIPHUB_OPS_LISTEN', 'TIPHUB_LOG_FORMAT'] as const;

const PostgresUrl = z.string().regex(/^postgres(ql)?:\/\//, 'must be a postgres:// URL');

const EnvSchema = z.object({
  TIPHUB_DASHBOARD_LISTEN: ListenEnv.optional(),
  TIPHUB_OPS_LISTEN: ListenEnv.optional(),
  TIPHUB_SECRET: z
    .string()
    .min(32, 'must be at least 32 characters (e.g. `openssl rand -hex 32`)')
    .optional(),
  REDIS_URL: z
    .string()
    .regex(/^(rediss?:\/\/|\/)/, 'must be a redis:// or rediss:// URL, or the absolute path of a Unix socket')
    .optional(),
  DATABASE_URL: PostgresUrl.optional(),
  /** The role that owns the tables and runs migrations; DATABASE_URL's role may then be a lesser one. */
  TIPHUB_MIGRATE_DATABASE_URL: PostgresUrl.optional(),
  TIPHUB_DATA_DIR: z.string().min(1).optional(),
  TIPHUB_LOG_LEVEL: LogLevel.optional(),
  TIPHUB_LOG_FORMAT: LogFormat.optional(),
  TIPHUB_CONFIG: z.string().min(1).optional(),
  TIPHUB_ALERTS_WEBHOOK_URL: WebhookUrl.optional(),
  TIPHUB_ALERTS_SECRET: z.string().min(16, 'must be at least 16 characters').optional(),
});

export type FileConfig = z.infer<typeof FileSchema>;

/** One channel as configured: its section (with the environment's overrides) and credentials. */
export interface ChannelConfig {
  /** Its credentials are set (or it is always on): `tiphub start` runs it. */
  readonly enabled: boolean;
  readonly settings: unknown;
  /** Null when not enabled. */
  readonly credentials: unknown;
}

/** What the configuration needs of a channel's module (adapters/registry.ts lists them). */
export type ChannelConfigSource = Pick<ChannelModule, 'name' | 'config' | 'limits' | 'alwaysOn'>;

export interface Config extends Omit<FileConfig, 'channels'> {
  /** Every registered channel, enabled or not, by name. */
  readonly channels: Readonly<Record<string, ChannelConfig>>;
  readonly secret: string | null;
  readonly redisUrl: string | null;
  readonly databaseUrl: string | null;
  /** TIPHUB_MIGRATE_DATABASE_URL: the role that owns the tables and migrates; null: databaseUrl migrates too. */
  readonly migrateDatabaseUrl: string | null;
  readonly dataDir: string;
  readonly configFile: string | null;
  /** Where tags.yaml, places.yaml and priority.yaml are read from (absolute). */
  readonly rulesDir: string;
  /**
   * Whether ops.listen was chosen (TIPHUB_OPS_LISTEN or the file): a chosen port that is taken
   * stops the start; the default one taken (a second process on the host) only costs that process
   * its listener, with a warning.
   */
  readonly opsListenChosen?: boolean;
}

export interface LoadOptions {
  env?: Record<string, string | undefined>;
  /** --config FILE; a missing explicit file is an error, a missing tiphub.yaml is not. */
  configPath?: string;
  cwd?: string;
  /** Values that replace the file's (tests, benchmarks). Validated like the file. */
  overrides?: Record<string, unknown>;
  /** The channels' parts (adapters/registry.ts): without them no channel section or variable is known. */
  channels?: readonly ChannelConfigSource[];
}

function deepFreeze<T>(value: T): T {
  if (value && typeof value === 'object' && !Object.isFrozen(value)) {
    Object.freeze(value);
    for (const v of Object.values(value as object)) deepFreeze(v);
  }
  return value;
}

function deepMerge(base: Record<string, unknown>, over: Record<string, unknown>): Record<string, unknown> {
  const out: Record<string, unknown> = { ...base };
  for (const [k, v] of Object.entries(over)) {
    const b = out[k];
    out[k] =
      v && typeof v === 'object' && !Array.isArray(v) && b && typeof b === 'object' && !Array.isArray(b)
        ? deepMerge(b as Record<string, unknown>, v as Record<string, unknown>)
        : v;
  }
  return out;
}

function issueLines(issues: readonly z.core.$ZodIssue[], where: (p: PropertyKey[]) => string): string[] {
  return issues.map((i) => {
    const p = i.path.map(String).join('.');
    const keys = i.code === 'unrecognized_keys' ? ` (${(i as { keys: string[] }).keys.join(', ')})` : '';
    const msg = i.code === 'unrecognized_keys' ? 'unknown key' + (i.path.length ? '' : ' at top level') : i.message;
    return `${where(i.path as PropertyKey[])}${p ? p + ': ' : ''}${msg}${keys}`;
  });
}

/** Reads, validates and freezes the configuration. Throws TIPHUB_CONFIG_INVALID listing every problem. */
export function loadConfig(opts: LoadOptions = {}): Readonly<Config> {
  const env = opts.env ?? process.env;
  const cwd = opts.cwd ?? process.cwd();
  const problems: string[] = [];

  const channels = opts.channels ?? [];
  const KNOWN_ENV = [...CORE_ENV, ...channels.flatMap((c) => c.config.env)];
  const envIn: Record<string, string | undefined> = {};
  for (const k of Object.keys(env)) {
    if (k.startsWith('TIPHUB_') && !KNOWN_ENV.includes(k) && !k.startsWith('TIPHUB_TEST_')) {
      problems.push(`environment: ${k}: unknown variable (known: ${KNOWN_ENV.join(', ')})`);
    }
  }
  for (const k of [...CORE_ENV, 'REDIS_URL', 'DATABASE_URL']) if (env[k] !== undefined && env[k] !== '') envIn[k] = env[k];
  const envParsed = EnvSchema.safeParse(envIn);
  if (!envParsed.success) problems.push(...issueLines(envParsed.error.issues, () => 'environment: '));

  const explicit = opts.configPath ?? envIn.TIPHUB_CONFIG;
  const file = explicit ? path.resolve(cwd, explicit) : path.join(cwd, 'tiphub.yaml');
  let fileValue: Record<string, unknown> = {};
  let configFile: string | null = null;
  let locate: (p: PropertyKey[]) => string = () => '';
  if (fs.existsSync(file)) {
    configFile = file;
    const text = fs.readFileSync(file, 'utf8');
    const lineCounter = new LineCounter();
    const doc = parseDocument(text, { lineCounter, prettyErrors: false });
    if (doc.errors.length) {
      for (const e of doc.errors) {
        problems.push(`${file}:${lineCounter.linePos(e.pos[0]).line}: ${e.code}: not valid YAML`);
      }
    } else {
      const v = doc.toJS() as unknown;
      if (v !== null && v !== undefined && (typeof v !== 'object' || Array.isArray(v))) {
        problems.push(`${file}:1: the file must hold a mapping`);
      } else fileValue = (v ?? {}) as Record<string, unknown>;
      locate = (p) => {
        for (let n = p.length; n >= 0; n--) {
          const node = n === 0 ? doc.contents : doc.getIn(p.slice(0, n), true);
          if (isNode(node) && node.range) return `${file}:${lineCounter.linePos(node.range[0]).line}: `;
        }
        return `${file}: `;
      };
    }
  } else if (explicit) {
    problems.push(`${file}: configuration file not found`);
  }

  const merged = opts.overrides ? deepMerge(fileValue, opts.overrides) : fileValue;
  const fileParsed = FileSchema.safeParse(merged);
  if (!fileParsed.success) problems.push(...issueLines(fileParsed.error.issues, locate));

  // Each channel's section and variables, by its own module.
  const channelConfigs: Record<string, ChannelConfig> = {};
  const sections = (merged.channels ?? {}) as Record<string, unknown>;
  const names = channels.map((c) => c.name);
  if (sections && typeof sections === 'object' && !Array.isArray(sections)) {
    for (const k of Object.keys(sections)) if (!names.includes(k)) problems.push(`${locate(['channels', k])}channels.${k}: unknown channel (known: ${names.join(', ') || 'none'})`);
  }
  for (const c of channels) {
    const section = c.config.section.safeParse(sections?.[c.name] ?? {});
    if (!section.success) problems.push(...issueLines(section.error.issues.map((i) => ({ ...i, path: ['channels', c.name, ...i.path] })), locate));
    const own: Record<string, string> = {};
    for (const k of c.config.env) if (env[k] !== undefined && env[k] !== '') own[k] = env[k]!;
    // Its variables are checked even when its section is wrong (against the defaults): every problem at once.
    const r = c.config.resolve(own, section.success ? section.data : c.config.section.parse({}));
    if (!section.success) {
      if ('problems' in r) problems.push(...r.problems);
      continue;
    }
    if ('problems' in r) problems.push(...r.problems);
    else channelConfigs[c.name] = { enabled: !!c.alwaysOn || (r.enabled ?? r.credentials !== null), settings: r.settings, credentials: r.credentials };
  }
  if (envParsed.success && envParsed.data.TIPHUB_MIGRATE_DATABASE_URL && !envParsed.data.DATABASE_URL) {
    problems.push('environment: TIPHUB_MIGRATE_DATABASE_URL is set but DATABASE_URL is not (the embedded case log has no roles)');
  }
  if (problems.length || !envParsed.success || !fileParsed.success) {
    throw new TiphubError('TIPHUB_CONFIG_INVALID', `invalid configuration:\n  ${problems.join('\n  ')}`);
  }
  const e = envParsed.data;
  const f = fileParsed.data;
  const cfg: Config = {
    ...f,
    log: { level: e.TIPHUB_LOG_LEVEL ?? f.log.level, format: e.TIPHUB_LOG_FORMAT ?? f.log.format },
    // Every listener: a YAML {host, port}, and TIPHUB_<NAME>_LISTEN=host:port over it.
    dashboard: {
      ...f.dashboard,
      listen: e.TIPHUB_DASHBOARD_LISTEN ?? f.dashboard.listen,
      // Absolute from here on, relative to the configuration file that names it.
      cannedReplies: f.dashboard.cannedReplies
        ? path.resolve(configFile ? path.dirname(configFile) : cwd, f.dashboard.cannedReplies)
        : path.join(packageRoot(), 'config', 'replies.yaml'),
    },
    alerts: { ...f.alerts, webhookUrl: e.TIPHUB_ALERTS_WEBHOOK_URL ?? f.alerts.webhookUrl ?? null, secret: e.TIPHUB_ALERTS_SECRET ?? f.alerts.secret ?? null },
    ops: { ...f.ops, listen: e.TIPHUB_OPS_LISTEN ?? f.ops.listen },
    opsListenChosen: e.TIPHUB_OPS_LISTEN !== undefined || (merged.ops as { listen?: unknown } | undefined)?.listen !== undefined,
    channels: channelConfigs,
    outbound: {
      ...f.outbound,
      limits: { ...Object.fromEntries(channels.map((c) => [c.name, { max: c.limits.sendPerSecond, durationMs: 1000 }])), ...f.outbound.limits },
    },
    secret: e.TIPHUB_SECRET ?? null,
    redisUrl: e.REDIS_URL ?? null,
    databaseUrl: e.DATABASE_URL ?? null,
    migrateDatabaseUrl: e.TIPHUB_MIGRATE_DATABASE_URL ?? null,
    dataDir: path.resolve(cwd, e.TIPHUB_DATA_DIR ?? 'data'),
    configFile,
    // Relative to the configuration file that names it.
    rulesDir: fileParsed.data.rules.dir
      ? path.resolve(configFile ? path.dirname(configFile) : cwd, fileParsed.data.rules.dir)
      : path.join(packageRoot(), 'config'),
  };
  // Every listener of one process on its own address (port 0: any free port, never a clash).
  const listeners = [
    ...(cfg.dashboard.enabled ? [{ name: 'dashboard', ...cfg.dashboard.listen }] : []),
    ...(cfg.ops.enabled ? [{ name: 'ops', ...cfg.ops.listen }] : []),
    ...channels.flatMap((c) => {
      const got = cfg.channels[c.name];
      return got?.enabled && got.credentials !== null && c.config.listeners ? c.config.listeners(got.settings, got.credentials) : [];
    }),
  ].filter((l) => l.port !== 0);
  const taken = new Map<string, string>();
  const clashes: string[] = [];
  for (const l of listeners) {
    const at = `${l.host}:${l.port}`;
    const before = taken.get(at) ?? taken.get(`0.0.0.0:${l.port}`) ?? (l.host === '0.0.0.0' ? [...taken].find(([k]) => k.endsWith(`:${l.port}`))?.[1] : undefined);
    if (before) clashes.push(`listeners: ${before} and ${l.name} both listen on port ${l.port} (${at}): give one of them another port`);
    taken.set(at, l.name);
  }
  if (clashes.length) throw new TiphubError('TIPHUB_CONFIG_INVALID', `invalid configuration:\n  ${clashes.join('\n  ')}`);
  return deepFreeze(cfg);
}

/**
 * A webhook URL as `tiphub config check` shows it: user and password, every query value, and any
 * path segment that looks like a token (Slack's and Discord's webhooks carry theirs in the path)
 * masked. Not a valid URL: nothing of it shown.
 */
export function maskWebhookUrl(url: string | null): string | null {
  if (!url) return null;
  let u: URL;
  try {
    u = new URL(url);
  } catch {
    return '***';
  }
  if (u.username || u.password) {
    u.username = '***';
    u.password = '';
  }
  u.pathname = u.pathname
    .split('/')
    .map((seg) => (seg.length >= 16 && /\d/.test(seg) && /[A-Za-z]/.test(seg) ? '***' : seg))
    .join('/');
  const q = [...u.searchParams.keys()].map((k) => `${encodeURIComponent(k)}=***`).join('&');
  u.search = q ? `?${q}` : '';
  return decodeURI(u.toString());
}

/** A description of the configuration with secrets masked, for `tiphub config check`. */
export function describeConfig(cfg: Readonly<Config>, channels: readonly ChannelConfigSource[] = []): Record<string, unknown> {
  const mask = maskUserinfo;
  const described = Object.fromEntries(
    channels.map((c) => {
      const got = cfg.channels[c.name];
      const credentials = got?.credentials ? c.config.redact(got.credentials) : got?.enabled ? null : c.config.disabledNote;
      return [c.name, { settings: got?.settings ?? null, credentials }];
    }),
  );
  return {
    ...cfg,
    channels: described,
    secret: cfg.secret ? '(set from TIPHUB_SECRET)' : '(key file in the data directory)',
    redisUrl: mask(cfg.redisUrl),
    databaseUrl: mask(cfg.databaseUrl),
    migrateDatabaseUrl: mask(cfg.migrateDatabaseUrl),
    alerts: { ...cfg.alerts, webhookUrl: maskWebhookUrl(cfg.alerts.webhookUrl ?? null), secret: cfg.alerts.secret ? '(set)' : '(derived from the hub secret)' },
  };
}

/**
 * NO_COLOR (https://no-color.org), set to anything but the empty string: the user wants no colour
 * on a terminal. A convention of terminals, not a setting of tiphub: read here, the one module
 * that reads the environment, for commands that colour their output (tiphub status).
 */
export function noColorRequested(env: NodeJS.ProcessEnv = process.env): boolean {
  return (env.NO_COLOR ?? '') !== '';
}
