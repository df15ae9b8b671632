import type { ChannelName, Ignored, InboundMessage, Origin, Rejected } from './inbound-message';
import type { Keyring } from '../crypto/keyring';
import type { Logger } from '../log';
import type { Config } from '../config';
import type { RedisTarget } from '../queue/redis';
import type { QuarantineEntry } from '../caselog/quarantine';

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
  /** The native id of the informant's message this answers, where the channel can quote. */
  readonly replyTo?: string | null;
}

export interface SendResult {
  readonly nativeId: string;
}

export interface ChannelAdapter<Raw = unknown> {
  readonly channel: ChannelName;
  /** Pure: the same payload and context give the same result. */
  normalize(raw: Raw, ctx: NormalizeContext): InboundMessage | Rejected | Ignored;
  /** Receives (polling, webhook, websocket, browser session) and calls `sink` for each message. */
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
}

export interface AdapterDeps {
  readonly keyring: Keyring;
  readonly log: Logger;
  /** Which bot or number this adapter receives for (set by the adapter when it learns it). */
  readonly account: string;
  readonly cfg: Readonly<Config>;
  /** For leases (one receiver at a time) and counters. */
  readonly redis: RedisTarget | null;
  /** Keeps a payload that could not be normalized, with its reason. */
  readonly quarantine?: (entry: QuarantineEntry) => Promise<void>;
}

export type AdapterFactory = (deps: AdapterDeps) => ChannelAdapter;
