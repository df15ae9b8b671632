/**
 * The channel contract: what a channel is to the core (src/, workers/), which knows channels only
 * through it. A channel is one folder under adapters/ whose index exports one ChannelModule, and
 * one line in adapters/registry.ts. This file stands on the ground floor: it imports nothing of
 * the project but the message contract, so an adapter needs nothing from the core but these
 * types, and gets everything it uses (ids, sealing, quarantine, leases, counters, its state, the
 * log) as ports from the composition root.
 */
import type { ZodType } from 'zod';
import type { ChannelEvent, EventOnly, Ignored, InboundMessage, Origin, Rejected } from './inbound-message';

export type { ChannelEvent, EventOnly } from './inbound-message';

export interface NormalizeContext {
  /** Which bot or number received the payload. */
  readonly account: string;
  /** When the hub received it; the default for a missing sentAt. */
  readonly receivedAt: Date;
  /** The keyed hash that turns the platform's identifying parts into the pipeline's message id. */
  readonly messageId: (parts: readonly (string | number)[]) => string;
}

export type SinkResult = { readonly status: 'enqueued' };

/**
 * Where an adapter hands a message. It resolves once the job is stored in Redis: only then may
 * the adapter acknowledge the platform's update. It does not reject for a transient fault (it
 * waits and tries again), so a failed enqueue never turns into a confirmed, lost update.
 */
export type InboundSink = (message: InboundMessage, meta?: { origin?: Origin }) => Promise<SinkResult>;

export interface OutboundMessage {
  readonly text: string;
  /**
   * The platform's id of the informant's message this answers, where the channel can quote: the
   * report's `platformRef` when it had one (opened from the case log), else its `nativeId`.
   */
  readonly replyTo?: string | null;
}

export interface SendResult {
  /** The sent message's id as the platform's statuses will name it: its keyed hash where the id names the recipient (as InboundMessage.nativeId). */
  readonly nativeId: string;
  /** The platform's full id where `nativeId` is its hash: sealed by the core (sent_messages.ref_sealed). */
  readonly platformRef?: string;
}

export interface ChannelAdapter<Raw = unknown> {
  readonly channel: string;
  /** Pure: the same payload and context give the same result. */
  normalize(raw: Raw, ctx: NormalizeContext): InboundMessage | Rejected | Ignored | EventOnly;
  /**
   * Receives (polling, webhook, websocket, browser session) and calls `sink` for each message.
   * One that throws leaves nothing running (no loop, listener, lease or browser).
   */
  start(sink: InboundSink): Promise<void>;
  /**
   * The receive path for one raw platform payload, the only one every transport calls (so a
   * recorded payload replays through exactly what production runs): normalize, check, seal and
   * enqueue through the started sink. Resolves once it is enqueued, ignored or quarantined: a
   * bad payload is quarantined (sealed, with a reason that quotes nothing of it), never thrown.
   * It rejects only when the adapter is not started or is stopping, or when the quarantine itself
   * fails: the payload then stays unconfirmed, for the platform to deliver again.
   */
  handleInbound(raw: Raw): Promise<void>;
  /** Answers an informant; throws a TiphubError saying whether a retry can help. */
  send(address: string, message: OutboundMessage): Promise<SendResult>;
  /** Drains: acknowledges nothing that was not enqueued. */
  stop(): Promise<void>;
  /**
   * Opens a media file the platform holds (the media step streams it into the store). Throws
   * TIPHUB_MEDIA_TOO_LARGE / TIPHUB_MEDIA_UNREADABLE when it can never succeed, a retryable
   * error otherwise. Absent: the channel's media arrive already stored (the simulator).
   */
  openMedia?(ref: string, maxBytes: number): Promise<NodeJS.ReadableStream>;
  /**
   * The media step is done with a file the platform keeps until told (signal-cli-rest-api never
   * deletes attachments): called once it is stored, or recorded missing for good. A failure only
   * leaves the file on the platform's side.
   */
  releaseMedia?(ref: string): Promise<void>;
}

// --- Ports: what the composition root hands an adapter --------------------------------------------

/** Log lines carry fields without identifiers (no address, user id, platform id or text). */
export interface LogPort {
  debug(fields: object, msg: string): void;
  info(fields: object, msg: string): void;
  warn(fields: object, msg: string): void;
  error(fields: object, msg: string): void;
}

/** One receiver at a time (long polling, a browser session, a websocket per number). */
export interface LeasePort {
  readonly held: boolean;
  tryAcquire(): Promise<boolean>;
  /** Waits until the lease is ours, or `stopped()` says to give up. */
  acquire(stopped: () => boolean): Promise<boolean>;
  release(): Promise<void>;
}

/** What a channel says of itself for `tiphub status`, metrics and the dashboard: never an identifier. */
export interface ChannelState {
  readonly state: 'connected' | 'connecting' | 'needs-login' | 'needs-captcha' | 'disconnected' | 'stopped';
  /** A short reason in words of a fixed list (e.g. "token rejected"), never the platform's own text. */
  readonly detail?: string | null;
  /** The receive mode (polling, webhook, websocket, web session). */
  readonly mode?: string | null;
  /**
   * While `needs-login`: the text of the QR code to scan (a WhatsApp Web pairing code, valid a
   * minute or so), for `tiphub <channel> link` and the dashboard's channels page. A login secret,
   * not an identifier: kept in Redis with a short life, never logged.
   */
  readonly qr?: string | null;
}

export interface ChannelEvents {
  /** The adapter's state changed; the core keeps it (in Redis) with the time it changed. */
  state(s: ChannelState): void;
  /**
   * A fact about a report or a reply (reaction, retraction, delivery status, a second address of
   * an informant), recorded on its case in the case log, once per id whatever is delivered again.
   * Resolves once it is recorded, or known to concern nothing of ours (counted); rejects when it
   * could not be recorded: the adapter then leaves the platform's delivery unconfirmed.
   */
  record(e: ChannelEvent): Promise<void>;
}

/** A payload kept instead of enqueued: sealed by the core, stored with its reason, counted. */
export interface QuarantineRequest {
  /** Where it came from (`update 123`, `chat`): never the sender. */
  readonly source: string;
  readonly code: string;
  /** What is wrong, quoting nothing of the payload. */
  readonly reason: string;
  readonly payload: unknown;
}

export interface AdapterPorts<Settings = unknown, Credentials = unknown> {
  /** The channel's name, as the registry lists it (for log fields and messages). */
  readonly channel: string;
  /** The channel's YAML section (`channels.<name>`), validated, with the environment's overrides. */
  readonly settings: Settings;
  /** What its environment variables gave: set when they enable the channel (null only where `resolve` enabled it without any). */
  readonly credentials: Credentials;
  /** The data directory (a session kept on disk, e.g. a WhatsApp Web login). */
  readonly dataDir: string;
  readonly log: LogPort;
  /** The foundation's keyed hash of the platform's identifying parts, for this channel. */
  messageId(parts: readonly (string | number)[]): string;
  /** Keeps a payload that cannot become a report; resolves once it is stored. */
  quarantine(q: QuarantineRequest): Promise<void>;
  /** Counts what was not a tip (group messages, service messages…), by a kind of a fixed list. */
  countIgnored(kind: string): Promise<void>;
  /** A lease of this channel's, named e.g. by bot id (never by a token); null without Redis. */
  lease(name: string, ttlMs: number, onLost?: () => void): LeasePort | null;
  readonly events: ChannelEvents;
}

// --- The module: one per channel folder ------------------------------------------------------------

export interface ChannelConfigPart<Settings = unknown, Credentials = unknown> {
  /** The YAML section `channels.<name>`, with its defaults (an empty section is valid). */
  readonly section: ZodType<Settings>;
  /** The environment variables it reads (all `TIPHUB_<NAME>_…`). */
  readonly env: readonly string[];
  /**
   * From its environment variables (those set, non-empty) and its section: the settings with any
   * override from the environment (e.g. a listen address), the credentials, and whether the
   * channel is enabled (default: credentials not null; a channel whose login lives on disk, such
   * as a WhatsApp Web session, says so itself); or every problem, each naming the variable.
   */
  resolve(
    env: Readonly<Record<string, string>>,
    settings: Settings,
  ): { settings: Settings; credentials: Credentials | null; enabled?: boolean } | { problems: string[] };
  /**
   * The credentials as `tiphub config check` may show them: the fields it lists, each masked as
   * needed (an allow-list: a credential added later stays hidden until it is listed here).
   */
  redact(credentials: Credentials): Record<string, unknown>;
  /** Said by `tiphub config check` when the channel is not enabled (which variable enables it). */
  readonly disabledNote: string;
  /** The addresses it listens on when enabled so (a webhook), named, for the check that no two listeners of the hub share one. */
  listeners?(settings: Settings, credentials: Credentials): readonly { readonly name: string; readonly host: string; readonly port: number }[];
}

export interface ChannelLimits<Settings = unknown> {
  /** The largest media file it fetches. */
  mediaMaxBytes(settings: Settings): number;
  /** The longest text one message may carry (longer replies are split or refused by the adapter). */
  readonly textLength: number;
  /** Messages a second the platform allows a sender (the default outbound limiter). */
  readonly sendPerSecond: number;
}

export interface ChannelModule<Name extends string = string, Settings = unknown, Credentials = unknown, Adapter extends ChannelAdapter = ChannelAdapter> {
  readonly name: Name;
  readonly config: ChannelConfigPart<Settings, Credentials>;
  readonly limits: ChannelLimits<Settings>;
  /** Pure, on recorded payloads: the same as the adapter's. */
  normalize(raw: unknown, ctx: NormalizeContext): InboundMessage | Rejected | Ignored | EventOnly;
  /** Always enabled, whatever the environment (the simulator). */
  readonly alwaysOn?: boolean;
  /** Whether its login is a QR code scanned with a phone (its state then carries `qr`): `tiphub start` shows it on a terminal. */
  login?(credentials: Credentials): 'qr' | null;
  /** What an operator does to the channel's account from the command line (`tiphub <channel> link|challenge`), without a running adapter. */
  readonly account?: {
    /** The URI a phone scans to link the hub as a device of an existing account (printed as a QR code). */
    linkUri?(settings: Settings, credentials: Credentials, deviceName: string): Promise<string>;
    /** Answers the platform's rate-limit challenge (a token it gave with a refused send) with a solved captcha. */
    submitChallenge?(settings: Settings, credentials: Credentials, token: string, captcha: string): Promise<void>;
  };
  /**
   * The platform's own words that `tiphub quarantine show` may print in a kept payload's shape:
   * its schema's field names (space-separated runs) and the values of its fixed lists. Never a
   * word an informant chooses.
   */
  readonly vocabulary?: { readonly fieldNames: readonly string[]; readonly values: readonly string[] };
  create(ports: AdapterPorts<Settings, Credentials>): Adapter;
}
