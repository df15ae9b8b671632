/**
 * Media matching, once the bytes are stored: the same file (sha256) or the same picture
 * recompressed (perceptual hash within `maxDistance` bits) in another case. A report alone in its
 * case moves into the case of the earliest copy (an event in both chains); a report that is part
 * of a larger case stays, and the match is recorded as an event.
 */
import type { Queryable } from './db';
import { appendCaseEvent } from './events';
import { moveReport } from './move';
import { hammingDistance, phashBands } from '../media/phash';

export interface StoredMediaRef {
  readonly reportId: string;
  readonly caseId: number;
  readonly sha256: string;
  /** Perceptual hash of an image, null for anything else. */
  readonly phash: string | null;
}

export async function recordPerceptualHash(tx: Queryable, sha256: string, phash: string): Promise<void> {
  const { rows } = await tx.query<{ sha256: string }>('UPDATE media SET phash = $2 WHERE sha256 = $1 AND phash IS NULL RETURNING sha256', [sha256, phash]);
  if (!rows.length) return;
  await tx.query(
    `INSERT INTO media_bands (band, sha256) SELECT j.k::int, $2 FROM jsonb_array_elements_text($1::jsonb) AS j(k) ON CONFLICT DO NOTHING`,
    [JSON.stringify(phashBands(phash)), sha256],
  );
}

export async function matchStoredMedia(tx: Queryable, m: StoredMediaRef, maxDistance: number, actor = 'media'): Promise<{ kind: 'sha256' | 'phash'; sameAs: string; moved: boolean } | null> {
  if (m.phash) await recordPerceptualHash(tx, m.sha256, m.phash);
  // The same bytes: the earliest other report with them, in another case.
  const { rows: exact } = await tx.query<{ report_id: string; case_id: number }>(
    `SELECT rm.report_id, r.case_id FROM report_media rm JOIN reports r ON r.id = rm.report_id
      WHERE rm.sha256 = $1 AND r.case_id <> $2 ORDER BY r.sent_at, r.id LIMIT 1`,
    [m.sha256, m.caseId],
  );
  let hit: { report_id: string; case_id: number; distance?: number } | undefined = exact[0];
  let kind: 'sha256' | 'phash' = 'sha256';
  if (!hit && m.phash) {
    // The same picture in other bytes: candidates sharing a band, confirmed by the distance.
    const { rows: cands } = await tx.query<{ sha256: string; phash: string }>(
      `SELECT DISTINCT m.sha256, m.phash FROM media_bands b JOIN media m ON m.sha256 = b.sha256
        WHERE b.band IN (SELECT (jsonb_array_elements_text($1::jsonb))::int) AND b.sha256 <> $2 LIMIT 64`,
      [JSON.stringify(phashBands(m.phash)), m.sha256],
    );
    const close = cands
      .map((c) => ({ sha256: c.sha256, d: hammingDistance(c.phash, m.phash!) }))
      .filter((c) => c.d <= maxDistance)
      .sort((a, b) => a.d - b.d);
    if (close.length) {
      const { rows } = await tx.query<{ report_id: string; case_id: number; sha256: string }>(
        `SELECT rm.report_id, r.case_id, rm.sha256 FROM report_media rm JOIN reports r ON r.id = rm.report_id
          WHERE rm.sha256 IN (SELECT jsonb_array_elements_text($1::jsonb)) AND r.case_id <> $2 ORDER BY r.sent_at, r.id LIMIT 1`,
        [JSON.stringify(close.map((c) => c.sha256)), m.caseId],
      );
      if (rows[0]) {
        hit = { ...rows[0], distance: close.find((c) => c.sha256 === rows[0]!.sha256)!.d };
        kind = 'phash';
      }
    }
  }
  if (!hit) return null;
  // Media are matched in the order they are stored, not sent: when the copy found was sent later
  // and is alone in its case, it is the one that moves, so the case stays the first copy's. When
  // the later copies were stored first and already gathered (two batches committed out of order),
  // the earlier copy alone in its case joins them instead of staying apart.
  const { rows: st } = await tx.query<{ id: string; case_id: number; sent_at: Date | string; open: boolean; n: number }>(
    `SELECT r.id, r.case_id, r.sent_at, c.status <> 'closed' AND c.merged_into IS NULL AS open,
            (SELECT count(*)::int FROM reports x WHERE x.case_id = r.case_id) AS n
       FROM reports r JOIN cases c ON c.id = r.case_id WHERE r.id IN ($1, $2)`,
    [m.reportId, hit.report_id],
  );
  const mine = st.find((r) => r.id === m.reportId)!;
  const theirs = st.find((r) => r.id === hit!.report_id)!;
  const t = (r: { sent_at: Date | string }) => new Date(r.sent_at).getTime();
  let [from, to] = t(theirs) > t(mine) ? [theirs, mine] : [mine, theirs];
  if (from.n > 1 && to.n === 1 && from.open) [from, to] = [to, from];
  const moved = from.n === 1 && to.open;
  if (moved) await moveReport(tx, from.id, from.case_id, to.case_id, { of: to.id, kind: 'media' }, actor);
  else await appendCaseEvent(tx, m.caseId, 'media.match', actor, { report: m.reportId, sameAs: hit.report_id, by: kind, distance: hit.distance ?? 0 });
  return { kind, sameAs: hit.report_id, moved };
}
