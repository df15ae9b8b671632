/**
 * What the adapter conformance suite (test/adapters/conformance.test.ts) needs of a channel and
 * only the channel knows: its recorded payloads with their golden outputs, the identifying strings
 * each one holds, payloads that must end in quarantine, and a stand-in of its platform (how to
 * enable the channel on it, put a media file there, make it refuse a send). The checks themselves
 * are the suite's, the same for every channel.
 */
import type { ChannelName } from '../../../adapters/registry';
import type { Config } from '../../../app/config';
import type { ChannelAdapter } from '../../../src/contracts/channel-adapter';
import type { ErrorCode } from '../../../src/errors';

/** The fixed context the goldens were recorded with (test/unit/*-normalize.test.ts). */
export const GOLDEN_SECRET = 'golden-secret-0123456789abcdef0123456789';
export const GOLDEN_RECEIVED_AT = new Date('2026-06-10T06:00:00Z');

export interface Fixture {
  /** As the golden file names it (a file's base name, a line's number). */
  readonly name: string;
  /** The payload as the channel's normalize and handleInbound take it. */
  readonly payload: unknown;
  /**
   * The identifying strings the payload holds (sender and chat ids, phone numbers, names, user
   * names): never in a message's raw, id or nativeId, nor in a log line. Each must occur in the
   * payload (a stale list fails).
   */
  readonly identifiers: readonly string[];
}

export interface Recorded {
  readonly fixtures: readonly Fixture[];
  /** The golden outputs by fixture name, read from the channel's existing golden file. */
  readonly golden: Readonly<Record<string, unknown>>;
}

/** A payload, and what the quarantine keeps of it (sealed) when it ends there: all of it, or the part the adapter keeps. */
export interface KeptPayload extends Fixture {
  readonly kept: unknown;
}

export interface SendRefusal {
  /** What the platform does ("answers 429 with retry_after 7"). */
  readonly what: string;
  /** Makes the platform refuse the next send; gives the address to send to. */
  arrange(adapter: ChannelAdapter): string;
  /** How the adapter must classify it: the TiphubError's code, retry flag and wait. */
  readonly expected: { readonly code: ErrorCode; readonly retryable: boolean; readonly retryAfterMs: number | null };
}

/** The channel's platform, or its stand-in, running for one describe block. */
export interface Platform {
  /** The configuration with the channel enabled on this platform (its credentials and test settings). */
  configure(base: Readonly<Config>): Readonly<Config>;
  /** An address a send reaches, and what that address received so far (texts). */
  reachable(adapter: ChannelAdapter): { readonly address: string; delivered(): readonly string[] };
  readonly refusals: readonly SendRefusal[];
  /** Puts a media file on the platform and gives its reference (channels with remote media only). */
  putMedia?(bytes: Buffer): string;
  stop(): Promise<void>;
}

interface KitBase {
  readonly channel: ChannelName;
  /** The account (bot id, number) the goldens were recorded with; the stand-in's too. */
  readonly account: string;
  recorded(): Recorded;
  /** Payloads the receive path must quarantine, not enqueue nor throw. */
  readonly bad: readonly KeptPayload[];
  /**
   * A payload that must be enqueued (after the bad ones, and again: one job); quarantined, with
   * what `kept` says, when the sink refuses it.
   */
  readonly good: KeptPayload;
  platform(): Promise<Platform>;
}

/**
 * `remoteMedia`: the platform holds media the adapter opens (`openMedia`) within the channel's
 * cap; false: the channel's media arrive already stored, and the adapter has no `openMedia`.
 */
export type ChannelKit = KitBase & ({ readonly remoteMedia: true } | { readonly remoteMedia: false; readonly noRemoteMediaBecause: string });
