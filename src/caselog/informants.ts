/**
 * One informant by pseudonym, as operators may see them (issue 11, item 8): channel, language,
 * first and last seen, blocked, the flood flag (the intake's `flood` flag on the informant, or
 * reports recorded as flooded), their cases and latest reports, and their log (welcome, stop,
 * block...) by kind and actor. Never the sealed address, nor anything read from it.
 */
import type { Queryable } from './db';
import { isoMs } from './chain';

export interface InformantCase {
  readonly ref: string;
  readonly status: string;
  /** This informant's reports in the case. */
  readonly reports: number;
  readonly lastReportAt: string;
}

export interface InformantReport {
  readonly id: string;
  readonly caseRef: string;
  readonly sentAt: string;
  readonly text: string | null;
  readonly flooded: boolean;
  readonly blocked: boolean;
}

export interface InformantLogEntry {
  readonly seq: number | null;
  readonly at: string;
  readonly kind: string;
  readonly actor: string;
}

export interface InformantView {
  readonly pseudonym: string;
  readonly channel: string;
  readonly language: string | null;
  readonly firstSeen: string;
  readonly lastSeen: string;
  readonly blocked: boolean;
  /** Flagged by the intake's flood limit, or has reports recorded while flooding. */
  readonly flooded: boolean;
  readonly floodedReports: number;
  readonly flags: string[];
  /** Asked not to be contacted (/stop). */
  readonly stopped: boolean;
  /** The platform refused the last message to them. */
  readonly unreachable: boolean;
  readonly reportCount: number;
  readonly cases: InformantCase[];
  /** The newest reports first, at most `reportLimit`. */
  readonly reports: InformantReport[];
  readonly log: InformantLogEntry[];
}

export const INFORMANT_REPORT_LIMIT = 200;
const LOG_LIMIT = 200;

/** The informant, or null when no informant has this pseudonym. */
export async function informantView(q: Queryable, pseudonym: string, opts: { reportLimit?: number } = {}): Promise<InformantView | null> {
  const { rows } = await q.query<{
    pseudonym: string; channel: string; language: string | null; first_seen: Date; last_seen: Date; blocked: boolean; flags: string[];
    stopped: boolean; unreachable: boolean;
  }>(
    `SELECT pseudonym, channel, language, first_seen, last_seen, blocked, flags, stopped_at IS NOT NULL AS stopped, unreachable_at IS NOT NULL AS unreachable
       FROM informants WHERE pseudonym = $1`,
    [pseudonym],
  );
  const i = rows[0];
  if (!i) return null;
  const limit = Math.min(Math.max(opts.reportLimit ?? INFORMANT_REPORT_LIMIT, 1), 1000);
  const [{ rows: counts }, { rows: cases }, { rows: reports }, { rows: log }] = await Promise.all([
    q.query<{ n: number; flooded: number }>('SELECT count(*)::int AS n, count(*) FILTER (WHERE flooded)::int AS flooded FROM reports WHERE informant = $1', [pseudonym]),
    q.query<{ ref: string; status: string; n: number; last: Date }>(
      `SELECT c.ref, c.status, count(*)::int AS n, max(r.sent_at) AS last
         FROM reports r JOIN cases c ON c.id = r.case_id WHERE r.informant = $1
        GROUP BY c.ref, c.status ORDER BY max(r.sent_at) DESC, c.ref LIMIT 500`,
      [pseudonym],
    ),
    q.query<{ id: string; ref: string; sent_at: Date; text: string | null; flooded: boolean; blocked: boolean }>(
      `SELECT r.id, c.ref, r.sent_at, r.text, r.flooded, r.blocked
         FROM reports r JOIN cases c ON c.id = r.case_id WHERE r.informant = $1
        ORDER BY r.sent_at DESC, r.id DESC LIMIT $2`,
      [pseudonym, limit],
    ),
    q.query<{ seq: number | null; at: Date; kind: string; actor: string }>(
      'SELECT seq, at, kind, actor FROM informant_log WHERE pseudonym = $1 ORDER BY seq DESC NULLS LAST, id DESC LIMIT $2',
      [pseudonym, LOG_LIMIT],
    ),
  ]);
  const floodedReports = counts[0]?.flooded ?? 0;
  return {
    pseudonym: i.pseudonym,
    channel: i.channel,
    language: i.language,
    firstSeen: isoMs(i.first_seen),
    lastSeen: isoMs(i.last_seen),
    blocked: i.blocked,
    flooded: i.flags.includes('flood') || floodedReports > 0,
    floodedReports,
    flags: i.flags,
    stopped: i.stopped,
    unreachable: i.unreachable,
    reportCount: counts[0]?.n ?? 0,
    cases: cases.map((c) => ({ ref: c.ref, status: c.status, reports: c.n, lastReportAt: isoMs(c.last) })),
    reports: reports.map((r) => ({ id: r.id, caseRef: r.ref, sentAt: isoMs(r.sent_at), text: r.text, flooded: r.flooded, blocked: r.blocked })),
    log: log.map((e) => ({ seq: e.seq === null ? null : Number(e.seq), at: isoMs(e.at), kind: e.kind, actor: e.actor })),
  };
}
