import type { Queryable } from './db';
import { appendCaseEvent } from './events';

/** Moves a report to another case: an event in each chain, counters recounted in both. */
export async function moveReport(
  tx: Queryable,
  reportId: string,
  from: number,
  to: number,
  duplicate: { of: string; kind: string } | null | 'keep',
  actor = 'media',
): Promise<void> {
  const { rows } = await tx.query<{ informant: string; channel: string; duplicate_of: string | null; duplicate_kind: string | null }>(
    'SELECT informant, channel, duplicate_of, duplicate_kind FROM reports WHERE id = $1',
    [reportId],
  );
  const r = rows[0]!;
  // The report's content hash does not cover its case or duplicate link: carry its subject over.
  const { rows: ev } = await tx.query<{ subject: string }>(
    `SELECT data->>'subject' AS subject FROM events WHERE case_id = $1 AND kind IN ('report.added', 'report.moved-in', 'report.resealed') AND data->>'report' = $2 ORDER BY seq DESC LIMIT 1`,
    [from, reportId],
  );
  const subject = ev[0]!.subject;
  if (duplicate === 'keep') await tx.query('UPDATE reports SET case_id = $2 WHERE id = $1', [reportId, to]);
  else await tx.query('UPDATE reports SET case_id = $2, duplicate_of = $3, duplicate_kind = $4 WHERE id = $1', [reportId, to, duplicate?.of ?? null, duplicate?.kind ?? null]);
  await appendCaseEvent(tx, from, 'report.moved-out', actor, { report: reportId, to });
  // The link and the media states it arrives with: verify reads them from this chain alone.
  const kept = r.duplicate_of ? { of: r.duplicate_of, kind: r.duplicate_kind! } : null;
  const { rows: media } = await tx.query<{ idx: number; sha256: string | null; state: string }>('SELECT idx, sha256, state FROM report_media WHERE report_id = $1 ORDER BY idx', [reportId]);
  await appendCaseEvent(tx, to, 'report.moved-in', actor, {
    report: reportId,
    from,
    subject,
    duplicate: duplicate === 'keep' ? kept : duplicate,
    media: media.length ? media : undefined,
  });
  await tx.query('INSERT INTO case_informants (case_id, pseudonym, channel) VALUES ($1, $2, $3) ON CONFLICT DO NOTHING', [to, r.informant, r.channel]);
  await tx.query('DELETE FROM case_informants WHERE case_id = $1 AND pseudonym = $2 AND NOT EXISTS (SELECT 1 FROM reports WHERE case_id = $1 AND informant = $2)', [
    from,
    r.informant,
  ]);
  await tx.query(
    `UPDATE cases c SET
        report_count = s.n, informant_count = s.ni, channels = s.channels, first_report_at = s.first_at, last_report_at = s.last_at, updated_at = now(),
        -- a case's tags and places are the union of its reports'
        tags = COALESCE((SELECT array_agg(DISTINCT t ORDER BY t) FROM reports r2 CROSS JOIN unnest(r2.tags) AS t WHERE r2.case_id = c.id), '{}'),
        places = COALESCE((SELECT array_agg(DISTINCT p ORDER BY p) FROM reports r2 CROSS JOIN unnest(r2.places) AS p WHERE r2.case_id = c.id), '{}')
       FROM (SELECT x.id, count(r.id)::int AS n, count(DISTINCT r.informant)::int AS ni,
                    COALESCE(array_agg(DISTINCT r.channel ORDER BY r.channel) FILTER (WHERE r.id IS NOT NULL), '{}') AS channels,
                    min(r.sent_at) AS first_at, max(r.sent_at) AS last_at
               FROM (VALUES ($1::int), ($2::int)) AS x(id) LEFT JOIN reports r ON r.case_id = x.id GROUP BY x.id) s
      WHERE c.id = s.id`,
    [from, to],
  );
}
