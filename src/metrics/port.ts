/**
 * What the pipeline counts, as a port: workers and the composition root call these, and only
 * src/metrics/index.ts knows prom-client. Every argument is a word of a fixed list (a channel's
 * registry name, a queue name, a decision kind, an error code) or a number: never an identifier.
 */

/**
 * How the intake decided about a message it wrote: `transport` the same message was already in
 * the case log (a redelivery, a re-run job); `exact`/`near`/`followup`/`media`/`edit` a new report linked
 * to an earlier one (src/grouping/group.ts); `none` a new report linked to nothing.
 */
export const DEDUPE_KINDS = ['none', 'transport', 'exact', 'near', 'followup', 'media', 'edit'] as const;
export type DedupeKind = (typeof DEDUPE_KINDS)[number];

export interface PipelineMetrics {
  /** An adapter handed a message to the intake queue (a redelivery counts again). */
  received(channel: string): void;
  /** A new report is in the case log, with how the intake decided about it. */
  committed(channel: string, origin: string, kind: DedupeKind, latencySeconds: number | null): void;
  /** A message was already in the case log: nothing written. */
  alreadyPresent(): void;
  outboundSent(channel: string): void;
  /** A send attempt failed, by error code (a retried one counts each time). */
  outboundFailed(channel: string, reason: string): void;
  mediaStored(channel: string, bytes: number): void;
  /** A media file recorded missing for good, by error code. */
  mediaFailed(channel: string, reason: string): void;
}

const nothing = () => undefined;
/** For a process (or a test) that counts nothing. */
export const NO_METRICS: PipelineMetrics = {
  received: nothing,
  committed: nothing,
  alreadyPresent: nothing,
  outboundSent: nothing,
  outboundFailed: nothing,
  mediaStored: nothing,
  mediaFailed: nothing,
};
