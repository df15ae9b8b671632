/**
 * The case log in a few numbers, for `tiphub status` and the metrics: reports and cases, the last
 * commit, the outbox, the media still to fetch, the quarantine. Counts and times only: no tip text,
 * no informant. One read-only round of aggregates; at a million reports the counts are a few
 * index scans (each table's primary key, `outbox_pending`, report_media's state is not indexed:
 * it is a small table next to reports).
 */
import type { Queryable } from './db';

export interface CaseLogStats {
  readonly reports: number;
  /** Cases not merged into another (a merged case is an empty shell pointing to where it went). */
  readonly cases: number;
  /** Of those, the ones not closed. */
  readonly openCases: number;
  /** When the last report was committed (ISO 8601); null before the first. */
  readonly lastCommitAt: string | null;
  readonly outbox: {
    /** Messages decided but not yet handed to an outbound queue (the relay or its sweeper does it). */
    readonly pending: number;
    /** When the oldest of them was decided; null when none waits. */
    readonly oldestPendingAt: string | null;
    /** Messages the platform refused for good (each one is also a failed job of its outbound queue while kept). */
    readonly failed: number;
  };
  readonly media: {
    /** Still to fetch from the platform (the media step's backlog). */
    readonly pending: number;
    /** Given up: the platform no longer had it, or it was refused (the case says so). */
    readonly missing: number;
  };
  /** Messages kept aside unprocessed, waiting for a person (tiphub quarantine). */
  readonly quarantined: number;
}

const iso = (v: Date | string | null) => (v === null ? null : new Date(v).toISOString());

export async function readCaseLogStats(q: Queryable): Promise<CaseLogStats> {
  const { rows } = await q.query<{
    reports: number;
    cases: number;
    open_cases: number;
    last_commit: Date | string | null;
    outbox_pending: number;
    outbox_oldest: Date | string | null;
    sends_failed: number;
    media_pending: number;
    media_missing: number;
    quarantined: number;
  }>(
    `SELECT
       (SELECT count(*)::int FROM reports) AS reports,
       (SELECT count(*)::int FROM cases WHERE merged_into IS NULL) AS cases,
       (SELECT count(*)::int FROM cases WHERE merged_into IS NULL AND status <> 'closed') AS open_cases,
       (SELECT max(created_at) FROM reports) AS last_commit,
       (SELECT count(*)::int FROM outbox WHERE enqueued_at IS NULL) AS outbox_pending,
       (SELECT min(created_at) FROM outbox WHERE enqueued_at IS NULL) AS outbox_oldest,
       (SELECT count(*)::int FROM events WHERE kind = 'message.failed') + (SELECT count(*)::int FROM informant_log WHERE kind = 'message.failed') AS sends_failed,
       (SELECT count(*)::int FROM report_media WHERE state = 'pending') AS media_pending,
       (SELECT count(*)::int FROM report_media WHERE state = 'missing') AS media_missing,
       (SELECT count(*)::int FROM quarantine) AS quarantined`,
  );
  const r = rows[0]!;
  return {
    reports: r.reports,
    cases: r.cases,
    openCases: r.open_cases,
    lastCommitAt: iso(r.last_commit),
    outbox: { pending: r.outbox_pending, oldestPendingAt: iso(r.outbox_oldest), failed: r.sends_failed },
    media: { pending: r.media_pending, missing: r.media_missing },
    quarantined: r.quarantined,
  };
}
