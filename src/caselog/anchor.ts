/**
 * Anchoring the chains: every few seconds one process (the holder of the `anchor` lease) records
 * each changed case's chain head and report count in `case_anchors`, and appends to `anchors` a
 * keyed root over all of them: the XOR of one HMAC per case, so an anchor costs what changed
 * since the last one, not the whole log. Whoever deletes a case with all its events, or cuts a
 * chain short and re-heads the case, leaves heads that no longer give the root, and cannot make a
 * new root without the audit key.
 */
import { keysOf, type Db } from './db';
import { anchorMac, anchorTerm, isoMs, xorInto } from './chain';

/** Cases whose `updated_at` is this much older than the last anchor are looked at again (long transactions). */
const SLACK_SECONDS = 600;

export interface AnchorResult {
  /** Cases whose anchored head changed. */
  readonly changed: number;
  /** Cases anchored in all. */
  readonly cases: number;
  /** False when nothing changed since the last anchor (no row written). */
  readonly written: boolean;
}

/** One anchor. `full` compares every case (the first anchor of a process), else only recently updated ones. */
export async function anchorHeads(db: Db, opts: { full?: boolean } = {}): Promise<AnchorResult> {
  return db.transaction(async (tx) => {
    const keys = keysOf(tx);
    // One anchorer at a time, whatever the leases say.
    await tx.query('SELECT pg_advisory_xact_lock(7202612031)');
    const { rows: last } = await tx.query<{ at: Date; cases: number; root: string }>('SELECT at, cases, root FROM anchors ORDER BY id DESC LIMIT 1');
    const prev = last[0] ?? null;
    const full = opts.full || !prev;
    const { rows: changed } = await tx.query<{ id: number; event_seq: number; head_hash: string; report_count: number; a_seq: number | null; a_hash: string | null; a_count: number | null }>(
      `SELECT c.id, c.event_seq, c.head_hash, c.report_count, a.seq AS a_seq, a.hash AS a_hash, a.report_count AS a_count
         FROM cases c LEFT JOIN case_anchors a ON a.case_id = c.id
        WHERE c.head_hash IS NOT NULL AND ($1::boolean OR c.updated_at >= $2::timestamptz - make_interval(secs => $3))
          AND (a.case_id IS NULL OR a.seq <> c.event_seq OR a.hash <> c.head_hash OR a.report_count <> c.report_count)`,
      [full, prev ? isoMs(prev.at) : null, SLACK_SECONDS],
    );
    const { rows: count } = await tx.query<{ n: number }>('SELECT count(*)::int AS n FROM case_anchors');
    let cases = count[0]!.n;
    if (!changed.length && prev) return { changed: 0, cases, written: false };
    const root = prev ? Buffer.from(prev.root, 'hex') : Buffer.alloc(32);
    for (const c of changed) {
      if (c.a_seq !== null) xorInto(root, anchorTerm(keys, { caseId: c.id, seq: c.a_seq, hash: c.a_hash!, reportCount: c.a_count! }));
      else cases++;
      xorInto(root, anchorTerm(keys, { caseId: c.id, seq: c.event_seq, hash: c.head_hash, reportCount: c.report_count }));
    }
    await tx.query(
      `INSERT INTO case_anchors (case_id, seq, hash, report_count)
       SELECT id, seq, hash, report_count FROM jsonb_to_recordset($1::jsonb) AS x(id int, seq int, hash text, report_count int)
       ON CONFLICT (case_id) DO UPDATE SET seq = EXCLUDED.seq, hash = EXCLUDED.hash, report_count = EXCLUDED.report_count`,
      [JSON.stringify(changed.map((c) => ({ id: c.id, seq: c.event_seq, hash: c.head_hash, report_count: c.report_count })))],
    );
    const at = isoMs(new Date());
    const hex = root.toString('hex');
    await tx.query('INSERT INTO anchors (at, cases, root, mac) VALUES ($1, $2, $3, $4)', [at, cases, hex, anchorMac(keys, { root: hex, cases, at })]);
    return { changed: changed.length, cases, written: true };
  });
}
