/**
 * Alerts for cases, by the outbox pattern: the intake transaction that makes a case high or
 * urgent for the first time writes its row in `alert_outbox` (so an alert is never decided
 * without the commit, nor lost by a crash after it); `CaseAlertRelay` then moves rows to the
 * alerts queue under a job id per row (two relays of one row make one job) and marks them; its
 * sweep relays what a crash between commit and relay left behind.
 *
 * "New" is decided once per case: `UNIQUE (case_id, kind)` keeps a case that an operator lowered
 * and a later report raised again, or that went from high to urgent, from being alerted twice.
 */
import type { Config } from '../config';
import type { Queryable } from '../caselog/db';
import type { RedisTarget } from '../queue/redis';
import type { CaseAlert } from './payload';
import { createAlertsQueue, type AlertsQueue } from './queue';

/** In the transaction that raised them: one alert row per case not alerted before; returns the new rows' ids. */
export async function addCaseAlerts(tx: Queryable, caseIds: readonly number[]): Promise<number[]> {
  if (!caseIds.length) return [];
  const { rows } = await tx.query<{ id: number }>(
    `INSERT INTO alert_outbox (kind, case_id, data)
     SELECT 'case.high-priority', c.id, jsonb_build_object('case', c.ref, 'priority', c.priority, 'tags', to_jsonb(c.tags), 'channels', to_jsonb(c.channels), 'reportCount', c.report_count)
       FROM cases c WHERE c.id IN (SELECT (jsonb_array_elements_text($1::jsonb))::int) AND c.priority IN ('high', 'urgent')
     ORDER BY c.id
     ON CONFLICT (case_id, kind) DO NOTHING RETURNING id::int AS id`,
    [JSON.stringify(caseIds)],
  );
  return rows.map((r) => r.id);
}

export class CaseAlertRelay {
  private q: AlertsQueue | null = null;

  constructor(
    private readonly redis: RedisTarget,
    private readonly cfg: Readonly<Config>,
    /** The case log's instance id: outbox ids restart with each case log, Redis may outlive it. */
    private readonly instance: string,
  ) {}

  private queue(): AlertsQueue {
    return (this.q ??= createAlertsQueue(this.redis, this.cfg));
  }

  async relay(db: Queryable, ids: readonly number[]): Promise<number> {
    if (!ids.length) return 0;
    const { rows } = await db.query<{ id: number; kind: 'case.high-priority'; data: Omit<CaseAlert, 'kind' | 'at'>; at: Date | string }>(
      `SELECT id::int AS id, kind, data, created_at AS at FROM alert_outbox
        WHERE id IN (SELECT (jsonb_array_elements_text($1::jsonb))::bigint) AND enqueued_at IS NULL ORDER BY id`,
      [JSON.stringify(ids)],
    );
    if (!rows.length) return 0;
    await this.queue().addBulk(
      rows.map((r) => {
        const d = r.data;
        const alert: CaseAlert = {
          kind: r.kind, case: d.case, priority: d.priority, tags: d.tags, channels: d.channels, reportCount: d.reportCount, at: new Date(r.at).toISOString(),
        };
        return { name: alert.kind, data: alert, opts: { jobId: `case-${this.instance}-${r.id}` } };
      }),
    );
    await db.query(`UPDATE alert_outbox SET enqueued_at = now() WHERE id IN (SELECT (jsonb_array_elements_text($1::jsonb))::bigint)`, [JSON.stringify(rows.map((r) => r.id))]);
    return rows.length;
  }

  /** Relays rows a crash between commit and relay left behind. */
  async sweep(db: Queryable, olderThanMs: number): Promise<number> {
    const { rows } = await db.query<{ id: number }>(
      `SELECT id::int AS id FROM alert_outbox WHERE enqueued_at IS NULL AND created_at < now() - make_interval(secs => $1) ORDER BY id LIMIT 500`,
      [olderThanMs / 1000],
    );
    return this.relay(db, rows.map((r) => r.id));
  }

  async close(): Promise<void> {
    await this.q?.close();
  }
}
