/**
 * Grouping: which case a new report joins. One function over a batch, so the dedupe issue can
 * replace it whole. The foundation's rules, every window measured on `sentAt`:
 * 0. an edit → the case of the message it edits;
 * 1. same `groupKey` from the same informant (an album) → that case;
 * 2. the same normalized text (not short) → the open case of its earliest copy, whatever its age;
 *    a copy of a closed case opens a new case linked to it (`duplicate.of` names the closed copy);
 * 3. the same informant within `followupMinutes` → the case of their nearest message;
 * 4. otherwise a new case.
 */
import type { Queryable } from '../caselog/db';

export type DuplicateKind = 'exact' | 'near' | 'followup' | 'media' | 'edit';

export interface GroupingInput {
  readonly id: string;
  /** For an edit: the message it edits; the edit joins that message's case. */
  readonly editOf?: string | null;
  readonly pseudonym: string;
  readonly sentAt: Date;
  readonly fingerprint: string | null;
  readonly groupKey: string | null;
}

/** A case that exists, or the n-th new case of this batch. */
export type CaseTarget = { readonly caseId: number } | { readonly newCase: number };

export interface GroupingDecision {
  readonly target: CaseTarget;
  readonly duplicate: { readonly of: string; readonly kind: DuplicateKind } | null;
}

export interface GroupingRules {
  readonly followupMinutes: number;
  readonly campaignMinInformants?: number;
  readonly campaignWindowMinutes?: number;
}

/** `items` come sorted by sentAt; decisions are returned in the same order. */
export type GroupBatch = (tx: Queryable, items: readonly GroupingInput[], rules: GroupingRules) => Promise<GroupingDecision[]>;

interface Seen {
  readonly id: string;
  readonly target: CaseTarget;
  readonly sentAt: number;
}

interface Row {
  i: number;
  id: string;
  case_id: number;
  sent_at: Date | string;
}

const toMs = (t: Date | string) => (t instanceof Date ? t.getTime() : Date.parse(t));

export const groupByFoundationRules: GroupBatch = async (tx, items, rules) => {
  const followMs = rules.followupMinutes * 60_000;
  const at = items.map((it) => it.sentAt.toISOString());

  const withFp = items.map((it, i) => ({ i, fp: it.fingerprint, at: at[i] })).filter((x) => x.fp);
  const withKey = items.map((it, i) => ({ i, p: it.pseudonym, g: it.groupKey })).filter((x) => x.g);
  const all = items.map((it, i) => ({ i, p: it.pseudonym, at: at[i] }));
  const edits = items.map((it, i) => ({ i, of: it.editOf ?? null })).filter((x) => x.of);

  // One statement for the three lookups: copies of the text, the album, the informant's nearby messages.
  const { rows } = await tx.query<Row & { k: 'exact' | 'closed' | 'album' | 'follow' | 'edit' }>(
    `SELECT 'exact' AS k, x.i, r.id, r.case_id, r.sent_at
       FROM jsonb_to_recordset($1::jsonb) AS x(i int, fp text, at timestamptz)
       CROSS JOIN LATERAL (
         SELECT r.id, r.case_id, r.sent_at FROM reports r
          WHERE r.fingerprint = x.fp
            -- a primary-key look-up per copy, in sent order (a join here may scan all cases per look-up)
            AND (SELECT c.status <> 'closed' AND c.merged_into IS NULL FROM cases c WHERE c.id = r.case_id)
          ORDER BY r.sent_at, r.id LIMIT 1) r
     UNION ALL
     SELECT 'closed', x.i, r.id, r.case_id, r.sent_at
       FROM jsonb_to_recordset($1::jsonb) AS x(i int, fp text, at timestamptz)
       CROSS JOIN LATERAL (
         SELECT id, case_id, sent_at FROM reports WHERE fingerprint = x.fp ORDER BY sent_at, id LIMIT 1) r
     UNION ALL
     SELECT 'album', x.i, r.id, r.case_id, r.sent_at
       FROM jsonb_to_recordset($2::jsonb) AS x(i int, p text, g text)
       CROSS JOIN LATERAL (
         SELECT id, case_id, sent_at FROM reports WHERE informant = x.p AND group_key = x.g ORDER BY sent_at, id LIMIT 1) r
     UNION ALL
     SELECT 'edit', x.i, r.id, r.case_id, r.sent_at
       FROM jsonb_to_recordset($5::jsonb) AS x(i int, "of" text) JOIN reports r ON r.id = x."of"
     UNION ALL
     SELECT 'follow', x.i, r.id, r.case_id, r.sent_at
       FROM jsonb_to_recordset($3::jsonb) AS x(i int, p text, at timestamptz)
       CROSS JOIN LATERAL (
         SELECT id, case_id, sent_at FROM reports
          WHERE informant = x.p AND sent_at BETWEEN x.at - make_interval(secs => $4) AND x.at + make_interval(secs => $4)
          ORDER BY abs(extract(epoch FROM sent_at - x.at)), id LIMIT 1) r`,
    [JSON.stringify(withFp), JSON.stringify(withKey), JSON.stringify(all), followMs / 1000, JSON.stringify(edits)],
  );
  const exact = { rows: rows.filter((r) => r.k === 'exact') };
  const album = { rows: rows.filter((r) => r.k === 'album') };
  const follow = { rows: rows.filter((r) => r.k === 'follow') };
  const closedCopy = new Map(rows.filter((r) => r.k === 'closed').map((r) => [r.i, r.id]));
  const dbEdit = new Map(rows.filter((r) => r.k === 'edit').map((r) => [r.i, { id: r.id, target: { caseId: r.case_id }, sentAt: toMs(r.sent_at) } as Seen]));
  const byIndex = (rows: Row[]) => new Map(rows.map((r) => [r.i, { id: r.id, target: { caseId: r.case_id }, sentAt: toMs(r.sent_at) } as Seen]));
  const dbExact = byIndex(exact.rows);
  const dbAlbum = byIndex(album.rows);
  const dbFollow = byIndex(follow.rows);

  // What this batch has placed so far, so copies inside one batch group as if sent one by one.
  const batchByFp = new Map<string, Seen[]>();
  const batchByInformant = new Map<string, Seen[]>();
  const batchByAlbum = new Map<string, Seen>();
  const batchById = new Map<string, Seen>();
  let newCases = 0;
  const decisions: GroupingDecision[] = [];

  items.forEach((it, i) => {
    const t = it.sentAt.getTime();
    const albumKey = it.groupKey ? `${it.pseudonym}\u0000${it.groupKey}` : null;
    let decision: GroupingDecision | null = null;

    const editHit = it.editOf ? (batchById.get(it.editOf) ?? dbEdit.get(i)) : undefined;
    if (editHit) decision = { target: editHit.target, duplicate: { of: editHit.id, kind: 'edit' } };

    const albumHit = albumKey ? (batchByAlbum.get(albumKey) ?? dbAlbum.get(i)) : undefined;
    if (!decision && albumHit) decision = { target: albumHit.target, duplicate: { of: albumHit.id, kind: 'followup' } };

    if (!decision && it.fingerprint) {
      const candidates = [dbExact.get(i), ...(batchByFp.get(it.fingerprint) ?? [])].filter((s): s is Seen => !!s);
      const earliest = candidates.sort((a, b) => a.sentAt - b.sentAt)[0];
      if (earliest) decision = { target: earliest.target, duplicate: { of: earliest.id, kind: 'exact' } };
      // Only copies in closed cases: a new case, linked to the closed one through its copy.
      else if (closedCopy.has(i)) decision = { target: { newCase: newCases++ }, duplicate: { of: closedCopy.get(i)!, kind: 'exact' } };
    }

    if (!decision) {
      const candidates = [dbFollow.get(i), ...(batchByInformant.get(it.pseudonym) ?? [])].filter(
        (s): s is Seen => !!s && Math.abs(s.sentAt - t) <= followMs,
      );
      const nearest = candidates.sort((a, b) => Math.abs(a.sentAt - t) - Math.abs(b.sentAt - t))[0];
      if (nearest) decision = { target: nearest.target, duplicate: { of: nearest.id, kind: 'followup' } };
    }

    decision ??= { target: { newCase: newCases++ }, duplicate: null };
    decisions.push(decision);

    const seen: Seen = { id: it.id, target: decision.target, sentAt: t };
    if (it.fingerprint) batchByFp.set(it.fingerprint, [...(batchByFp.get(it.fingerprint) ?? []), seen]);
    batchByInformant.set(it.pseudonym, [...(batchByInformant.get(it.pseudonym) ?? []), seen]);
    if (albumKey && !batchByAlbum.has(albumKey)) batchByAlbum.set(albumKey, seen);
    batchById.set(it.id, seen);
  });
  return decisions;
};
