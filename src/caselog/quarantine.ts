import type { Queryable } from './db';

export interface QuarantineEntry {
  readonly channel: string;
  /** Where it came from: `FILE:LINE`, a job id; never the sender. */
  readonly source: string;
  readonly code: string;
  readonly reason: string;
  /** The payload, sealed; null only when there was nothing to keep. */
  readonly payloadSealed: string | null;
}

export async function addQuarantine(q: Queryable, entries: readonly QuarantineEntry[]): Promise<void> {
  if (!entries.length) return;
  await q.query(
    `INSERT INTO quarantine (channel, source, code, reason, payload_sealed)
     SELECT channel, source, code, reason, payload_sealed
       FROM jsonb_to_recordset($1::jsonb) AS x(channel text, source text, code text, reason text, payload_sealed text)`,
    [JSON.stringify(entries.map((e) => ({ channel: e.channel, source: e.source, code: e.code, reason: e.reason, payload_sealed: e.payloadSealed })))],
  );
}

export async function countQuarantine(q: Queryable): Promise<number> {
  const { rows } = await q.query<{ n: number }>('SELECT count(*)::int AS n FROM quarantine');
  return rows[0]!.n;
}
