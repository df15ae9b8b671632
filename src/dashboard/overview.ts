/**
 * What the overview page reads (issue 11, item 9): reports per hour and channel, the open cases'
 * tags and places, the cases flagged as campaign, and the queues' depth. Reads only, aggregates
 * only: no tip text but a campaign case's first words, no informant.
 */
import type { Queryable } from '../caselog/db';
import { isoMs } from '../caselog/chain';
import { hubQueueNames } from '../queue/stats';
import { firstWordsOf } from './case-list';

export const HOURS = 48;
const HOUR_MS = 3_600_000;

/** An open case: not closed, not merged into another. */
const OPEN_SQL = `c.status <> 'closed' AND c.merged_into IS NULL`;

export interface HourlyReports {
  /** The start of each hour (UTC), oldest first; the last is the current hour. */
  readonly hours: string[];
  /** The channels with reports in the window, by name. */
  readonly channels: string[];
  /** Per channel, one count per hour of `hours`. */
  readonly counts: Readonly<Record<string, number[]>>;
  readonly total: number;
}

/**
 * Reports received per hour and channel over the `HOURS` hours up to `now` (the current hour
 * included). One aggregate over a range of received_at; at a million reports it wants the index
 * `reports (received_at, channel)`, which makes it an index-only scan of the window.
 */
export async function reportsPerHour(q: Queryable, now: Date = new Date()): Promise<HourlyReports> {
  const last = Math.floor(now.getTime() / HOUR_MS) * HOUR_MS;
  const from = last - (HOURS - 1) * HOUR_MS;
  const to = last + HOUR_MS;
  const { rows } = await q.query<{ channel: string; hour: Date; n: number }>(
    `SELECT r.channel, date_trunc('hour', r.received_at, 'UTC') AS hour, count(*)::int AS n
       FROM reports r WHERE r.received_at >= $1 AND r.received_at < $2
      GROUP BY 1, 2`,
    [new Date(from).toISOString(), new Date(to).toISOString()],
  );
  const hours = Array.from({ length: HOURS }, (_, i) => new Date(from + i * HOUR_MS).toISOString());
  const counts: Record<string, number[]> = {};
  let total = 0;
  for (const r of rows) {
    const i = Math.round((new Date(r.hour).getTime() - from) / HOUR_MS);
    if (i < 0 || i >= HOURS) continue;
    (counts[r.channel] ??= new Array<number>(HOURS).fill(0))[i]! += r.n;
    total += r.n;
  }
  return { hours, channels: Object.keys(counts).sort(), counts, total };
}

export interface Ranked {
  readonly name: string;
  /** Open cases that have it. */
  readonly cases: number;
}

/**
 * The tags of the open cases as operators see them (the reports' tags with the operators'
 * additions, less their removals: effectiveTags in src/caselog/actions.ts, the list's tag filter),
 * each with its number of open cases, most first.
 */
export async function openCaseTags(q: Queryable, limit = 10): Promise<Ranked[]> {
  const { rows } = await q.query<{ name: string; cases: number }>(
    `SELECT t.name, count(*)::int AS cases
       FROM cases c CROSS JOIN LATERAL (SELECT unnest(c.tags) UNION SELECT unnest(c.tags_added)) AS t(name)
      WHERE ${OPEN_SQL} AND NOT (t.name = ANY (c.tags_removed))
      GROUP BY t.name ORDER BY cases DESC, t.name LIMIT $1`,
    [limit],
  );
  return rows;
}

/** Every place named by open cases, with its number of open cases, most first (the map shows them all). */
export async function openCasePlaces(q: Queryable): Promise<Ranked[]> {
  const { rows } = await q.query<{ name: string; cases: number }>(
    `SELECT p.name, count(DISTINCT c.id)::int AS cases
       FROM cases c CROSS JOIN LATERAL unnest(c.places) AS p(name)
      WHERE ${OPEN_SQL}
      GROUP BY p.name ORDER BY cases DESC, p.name`,
  );
  return rows;
}

export interface CampaignCase {
  readonly ref: string;
  readonly status: string;
  readonly priority: string;
  readonly reportCount: number;
  readonly informantCount: number;
  readonly lastReportAt: string | null;
  /** The first words of its first report: hostile input, escaped where shown. */
  readonly firstWords: string | null;
}

export interface CampaignCases {
  readonly cases: CampaignCase[];
  readonly total: number;
  readonly open: number;
}

/** The flag the intake worker sets on a burst of near-identical reports from new informants (workers/intake/write-batch.ts). */
export const CAMPAIGN_FLAG = 'campaign';

/** The cases flagged as campaign: the open ones first, then by their last report. */
export async function campaignCases(q: Queryable, limit = 10): Promise<CampaignCases> {
  const [{ rows }, { rows: counts }] = await Promise.all([
    q.query<{ ref: string; status: string; priority: string; report_count: number; informant_count: number; last_report_at: Date | null; first_text: string | null }>(
      `SELECT c.ref, c.status, c.priority, c.report_count, c.informant_count, c.last_report_at,
              (SELECT r.text FROM reports r WHERE r.case_id = c.id ORDER BY r.sent_at, r.id LIMIT 1) AS first_text
         FROM cases c WHERE $1 = ANY (c.flags) AND c.merged_into IS NULL
        ORDER BY (c.status = 'closed'), c.last_report_at DESC NULLS LAST, c.id DESC LIMIT $2`,
      [CAMPAIGN_FLAG, limit],
    ),
    q.query<{ total: number; open: number }>(
      `SELECT count(*)::int AS total, (count(*) FILTER (WHERE c.status <> 'closed'))::int AS open
         FROM cases c WHERE $1 = ANY (c.flags) AND c.merged_into IS NULL`,
      [CAMPAIGN_FLAG],
    ),
  ]);
  return {
    cases: rows.map((r) => ({
      ref: r.ref,
      status: r.status,
      priority: r.priority,
      reportCount: r.report_count,
      informantCount: r.informant_count,
      lastReportAt: r.last_report_at ? isoMs(r.last_report_at) : null,
      firstWords: firstWordsOf(r.first_text),
    })),
    total: counts[0]?.total ?? 0,
    open: counts[0]?.open ?? 0,
  };
}

// The queues' depth is read by src/queue/stats.ts (tiphub status and the metrics read it too).
export { queueDepthReader, type QueueCounts, type QueueDepth, type QueueDepthReader } from '../queue/stats';

/**
 * The queues an overview shows: intake, and each channel's outbound and media queue.
 */
export const overviewQueueNames = hubQueueNames;
