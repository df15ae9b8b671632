/**
 * Grouping: which case a new report joins. One function over a batch (one statement of look-ups,
 * then decisions in sentAt order, so copies inside one batch group as if sent one by one).
 * In order, every window measured on `sentAt`:
 * 0. an edit → the case of the message it edits;
 * 1. the same `groupKey` from the same informant (an album) → that case;
 * 2. noise (greetings, thanks, "?", emoji) → a case of its own, always;
 * 3. the same normalized text (not short) → the open case of its earliest copy, whatever its age;
 * 4. a near copy (MinHash estimate ≥ `nearThreshold`, candidates from the LSH band index) in the
 *    same language, unless the two texts name different places, numbers or days (a look-alike
 *    about another place or day is another incident) → the open case of the most similar copy;
 *    a copy (3 or 4) whose copies are all in closed cases opens a new case linked to the closed one;
 * 5. the same informant within `followupMinutes` → the case of their nearest message, unless this
 *    message opens another subject ("Separate thing:") or names other places and other topics;
 * 6. otherwise a new case.
 */
import type { Queryable } from '../caselog/db';
import { estimatedSimilarity, SIGNATURE_SIZE } from './minhash';

export type DuplicateKind = 'exact' | 'near' | 'followup' | 'media' | 'edit';

export interface GroupingInput {
  readonly id: string;
  /** For an edit: the message it edits; the edit joins that message's case. */
  readonly editOf?: string | null;
  readonly pseudonym: string;
  readonly sentAt: Date;
  readonly fingerprint: string | null;
  readonly groupKey: string | null;
  /** MinHash signature and its LSH band keys; null/empty for texts too short to compare. */
  readonly minhash?: Int32Array | null;
  readonly bands?: readonly number[];
  /** Places ("p:Mosul"), numbers ("n:3") and days ("d:fri") the text names: the look-alike veto. */
  readonly matchKeys?: readonly string[];
  readonly language?: string | null;
  readonly tags?: readonly string[];
  readonly places?: readonly string[];
  /** A greeting, thanks, "?", emoji: never grouped, never a follow-up target. */
  readonly noise?: boolean;
  /** Says it is about something else ("Separate thing:", "موضوع آخر"). */
  readonly topicBreak?: boolean;
}

/** A case that exists, or the n-th new case of this batch. */
export type CaseTarget = { readonly caseId: number } | { readonly newCase: number };

export interface GroupingDecision {
  readonly target: CaseTarget;
  readonly duplicate: { readonly of: string; readonly kind: DuplicateKind; readonly similarity?: number } | null;
}

export interface GroupingRules {
  readonly followupMinutes: number;
  readonly nearThreshold?: number;
  readonly campaignMinInformants?: number;
  readonly campaignWindowMinutes?: number;
}

/** `items` come sorted by sentAt; decisions are returned in the same order. */
export type GroupBatch = (tx: Queryable, items: readonly GroupingInput[], rules: GroupingRules) => Promise<GroupingDecision[]>;

/** Candidates read per band key: a hot bucket (one text in many variants) cannot flood a look-up. */
const PER_BAND = 8;
/** Candidates confirmed by their estimated similarity, those sharing the most bands first. */
const CONFIRM = 4;

interface Seen {
  readonly id: string;
  readonly target: CaseTarget;
  readonly sentAt: number;
  readonly open: boolean;
  readonly minhash?: ArrayLike<number> | null;
  readonly matchKeys: readonly string[];
  readonly language: string | null;
  readonly places: readonly string[];
  readonly tags: readonly string[];
  readonly noise: boolean;
  readonly similarity?: number;
}

type Kind = 'exact' | 'closed' | 'album' | 'follow' | 'edit' | 'near';

interface Row {
  k: Kind;
  i: number;
  id: string;
  case_id: number;
  sent_at: Date | string;
  open: boolean | null;
  sim: number | null;
  match_keys: string[] | null;
  language: string | null;
  places: string[] | null;
  tags: string[] | null;
}

const toMs = (t: Date | string) => (t instanceof Date ? t.getTime() : Date.parse(t));

const KEY_KINDS = ['p:', 'n:', 'd:'] as const;

/**
 * Two otherwise similar texts about different places, numbers or days are different incidents:
 * for each kind, when both name some and neither's set contains the other's, they are kept apart.
 * A copy that adds a place, a time or a day to the original is still a copy (forwards add "today",
 * and a day one side writes as "tmrw" the other cannot be told from a day it left out).
 */
export function lookAlikeVeto(a: readonly string[], b: readonly string[]): boolean {
  for (const kind of KEY_KINDS) {
    const A = new Set(a.filter((k) => k.startsWith(kind)));
    const B = new Set(b.filter((k) => k.startsWith(kind)));
    if (!A.size || !B.size) continue;
    const aInB = [...A].every((k) => B.has(k));
    const bInA = [...B].every((k) => A.has(k));
    if (!aInB && !bInA) return true;
  }
  return false;
}

/** Texts in two different known languages are never copies (a translation is its own case). */
function sameLanguage(a: string | null | undefined, b: string | null | undefined): boolean {
  return !a || !b || a === 'und' || b === 'und' || a === b;
}

/** A follow-up that names other places and other topics than the message it follows is not one. */
function otherSubject(it: GroupingInput, prev: Seen): boolean {
  if (it.topicBreak) return true;
  const places = it.places ?? [];
  const tags = it.tags ?? [];
  if (!places.length || !prev.places.length || !tags.length || !prev.tags.length) return false;
  return !places.some((p) => prev.places.includes(p)) && !tags.some((t) => prev.tags.includes(t));
}

export const groupReports: GroupBatch = async (tx, items, rules) => {
  const followMs = rules.followupMinutes * 60_000;
  const threshold = rules.nearThreshold ?? 0.6;
  const at = items.map((it) => it.sentAt.toISOString());
  const matchable = (it: GroupingInput) => !it.noise;

  const withFp = items.map((it, i) => ({ i, fp: it.fingerprint, ok: matchable(it) })).filter((x) => x.fp && x.ok);
  const withKey = items.map((it, i) => ({ i, p: it.pseudonym, g: it.groupKey })).filter((x) => x.g);
  const all = items.map((it, i) => ({ i, p: it.pseudonym, at: at[i], ok: matchable(it) })).filter((x) => x.ok);
  const edits = items.map((it, i) => ({ i, of: it.editOf ?? null })).filter((x) => x.of);
  const near = items
    .map((it, i) => ({ i, fp: it.fingerprint, b: it.bands ?? [], sig: it.minhash ? Array.from(it.minhash) : null, ok: matchable(it) }))
    .filter((x) => x.sig && x.b.length && x.ok);

  // One statement for every look-up. Each branch returns the same columns; what a branch does not
  // need is NULL. Open = the case is neither closed nor merged away (a primary-key look-up).
  const OPEN = `(SELECT c.status <> 'closed' AND c.merged_into IS NULL FROM cases c WHERE c.id = r.case_id)`;
  const { rows } = await tx.query<Row>(
    `SELECT 'exact' AS k, x.i, r.id, r.case_id, r.sent_at, true AS open, NULL::float8 AS sim,
            NULL::text[] AS match_keys, NULL::text AS language, NULL::text[] AS places, NULL::text[] AS tags
       FROM jsonb_to_recordset($1::jsonb) AS x(i int, fp text)
       CROSS JOIN LATERAL (
         SELECT r.id, r.case_id, r.sent_at FROM reports r
          WHERE r.fingerprint = x.fp AND ${OPEN}
          ORDER BY r.sent_at, r.id LIMIT 1) r
     UNION ALL
     SELECT 'closed', x.i, r.id, r.case_id, r.sent_at, false, NULL, NULL, NULL, NULL, NULL
       FROM jsonb_to_recordset($1::jsonb) AS x(i int, fp text)
       CROSS JOIN LATERAL (
         SELECT id, case_id, sent_at FROM reports WHERE fingerprint = x.fp ORDER BY sent_at, id LIMIT 1) r
     UNION ALL
     SELECT 'album', x.i, r.id, r.case_id, r.sent_at, NULL, NULL, NULL, NULL, NULL, NULL
       FROM jsonb_to_recordset($2::jsonb) AS x(i int, p text, g text)
       CROSS JOIN LATERAL (
         SELECT id, case_id, sent_at FROM reports WHERE informant = x.p AND group_key = x.g ORDER BY sent_at, id LIMIT 1) r
     UNION ALL
     SELECT 'edit', x.i, r.id, r.case_id, r.sent_at, NULL, NULL, NULL, NULL, NULL, NULL
       FROM jsonb_to_recordset($5::jsonb) AS x(i int, "of" text) JOIN reports r ON r.id = x."of"
     UNION ALL
     SELECT 'follow', x.i, r.id, r.case_id, r.sent_at, true, NULL, NULL, NULL, r.places, r.tags
       FROM jsonb_to_recordset($3::jsonb) AS x(i int, p text, at timestamptz)
       CROSS JOIN LATERAL (
         SELECT r.id, r.case_id, r.sent_at, r.places, r.tags FROM reports r
          WHERE r.informant = x.p AND NOT r.noise
            AND r.sent_at BETWEEN x.at - make_interval(secs => $4) AND x.at + make_interval(secs => $4)
            AND ${OPEN}
          ORDER BY abs(extract(epoch FROM r.sent_at - x.at)), r.id LIMIT 1) r
     UNION ALL
     SELECT 'near', x.i, r.id, r.case_id, r.sent_at, ${OPEN}, s.sim, r.match_keys, r.language, NULL, NULL
       FROM jsonb_to_recordset($6::jsonb) AS x(i int, fp text, b bigint[], sig int[])
       CROSS JOIN LATERAL (
         SELECT c.report_id FROM unnest(x.b) AS k(band)
           CROSS JOIN LATERAL (SELECT report_id FROM report_bands WHERE band = k.band LIMIT ${PER_BAND}) c
          -- the more bands two signatures share, the more alike they are: confirm the best few
          GROUP BY c.report_id ORDER BY count(*) DESC, c.report_id LIMIT ${CONFIRM}) cand
       JOIN reports r ON r.id = cand.report_id
       CROSS JOIN LATERAL (
         SELECT count(*)::float8 / ${SIGNATURE_SIZE} AS sim FROM unnest(r.minhash, x.sig) AS u(a, b) WHERE u.a = u.b) s
      -- an exact copy needs no near one (a viral text's copies are mostly exact)
      WHERE s.sim >= $7 AND NOT EXISTS (SELECT 1 FROM reports e WHERE e.fingerprint = x.fp)`,
    [JSON.stringify(withFp), JSON.stringify(withKey), JSON.stringify(all), followMs / 1000, JSON.stringify(edits), JSON.stringify(near), threshold],
  );

  const seenOf = (r: Row): Seen => ({
    id: r.id,
    target: { caseId: r.case_id },
    sentAt: toMs(r.sent_at),
    open: r.open !== false,
    matchKeys: r.match_keys ?? [],
    language: r.language,
    places: r.places ?? [],
    tags: r.tags ?? [],
    noise: false,
    similarity: r.sim ?? undefined,
  });
  const one = (k: Kind) => new Map(rows.filter((r) => r.k === k).map((r) => [r.i, seenOf(r)]));
  const dbExact = one('exact');
  const dbClosed = one('closed');
  const dbAlbum = one('album');
  const dbEdit = one('edit');
  const dbFollow = one('follow');
  const dbNear = new Map<number, Seen[]>();
  for (const r of rows) if (r.k === 'near') dbNear.set(r.i, [...(dbNear.get(r.i) ?? []), seenOf(r)]);

  // What this batch has placed so far.
  const batchByFp = new Map<string, Seen[]>();
  const batchByBand = new Map<number, Seen[]>();
  const batchByInformant = new Map<string, Seen[]>();
  const batchByAlbum = new Map<string, Seen>();
  const batchById = new Map<string, Seen>();
  let newCases = 0;
  const decisions: GroupingDecision[] = [];

  items.forEach((it, i) => {
    const t = it.sentAt.getTime();
    const keys = it.matchKeys ?? [];
    const albumKey = it.groupKey ? `${it.pseudonym}\u0000${it.groupKey}` : null;
    let decision: GroupingDecision | null = null;
    let closedCopy: { of: string; kind: DuplicateKind } | null = null;

    const editHit = it.editOf ? (batchById.get(it.editOf) ?? dbEdit.get(i)) : undefined;
    if (editHit) decision = { target: editHit.target, duplicate: { of: editHit.id, kind: 'edit' } };

    const albumHit = albumKey ? (batchByAlbum.get(albumKey) ?? dbAlbum.get(i)) : undefined;
    if (!decision && albumHit) decision = { target: albumHit.target, duplicate: { of: albumHit.id, kind: 'followup' } };

    if (!decision && it.noise) decision = { target: { newCase: newCases++ }, duplicate: null };

    if (!decision && it.fingerprint) {
      const candidates = [dbExact.get(i), ...(batchByFp.get(it.fingerprint) ?? [])].filter((s): s is Seen => !!s && s.open);
      const earliest = candidates.sort((a, b) => a.sentAt - b.sentAt)[0];
      if (earliest) decision = { target: earliest.target, duplicate: { of: earliest.id, kind: 'exact' } };
      else if (dbClosed.has(i)) closedCopy = { of: dbClosed.get(i)!.id, kind: 'exact' };
    }

    if (!decision && it.minhash && it.bands?.length) {
      const fromBatch = new Map<string, Seen>();
      for (const b of it.bands) for (const s of batchByBand.get(b) ?? []) fromBatch.set(s.id, s);
      const candidates = [
        ...(dbNear.get(i) ?? []),
        ...[...fromBatch.values()].map((s) => ({ ...s, similarity: estimatedSimilarity(it.minhash!, s.minhash!) })),
      ].filter((s) => s.similarity! >= threshold && sameLanguage(it.language, s.language) && !lookAlikeVeto(keys, s.matchKeys));
      const best = candidates.filter((s) => s.open).sort((a, b) => b.similarity! - a.similarity! || a.sentAt - b.sentAt)[0];
      if (best) decision = { target: best.target, duplicate: { of: best.id, kind: 'near', similarity: Math.round(best.similarity! * 100) / 100 } };
      else if (!closedCopy && candidates.length) closedCopy = { of: candidates[0]!.id, kind: 'near' };
    }

    // A copy of something closed is a new incident report about an old one: its own case, linked.
    if (!decision && closedCopy) decision = { target: { newCase: newCases++ }, duplicate: closedCopy };

    if (!decision && !it.noise) {
      const candidates = [dbFollow.get(i), ...(batchByInformant.get(it.pseudonym) ?? [])].filter(
        (s): s is Seen => !!s && s.open && !s.noise && Math.abs(s.sentAt - t) <= followMs,
      );
      const nearest = candidates.sort((a, b) => Math.abs(a.sentAt - t) - Math.abs(b.sentAt - t))[0];
      if (nearest && !otherSubject(it, nearest)) decision = { target: nearest.target, duplicate: { of: nearest.id, kind: 'followup' } };
    }

    decision ??= { target: { newCase: newCases++ }, duplicate: null };
    decisions.push(decision);

    const seen: Seen = {
      id: it.id,
      target: decision.target,
      sentAt: t,
      open: true,
      minhash: it.minhash,
      matchKeys: keys,
      language: it.language ?? null,
      places: it.places ?? [],
      tags: it.tags ?? [],
      noise: it.noise === true,
    };
    if (it.fingerprint && !it.noise) batchByFp.set(it.fingerprint, [...(batchByFp.get(it.fingerprint) ?? []), seen]);
    if (it.minhash && !it.noise) for (const b of it.bands ?? []) batchByBand.set(b, [...(batchByBand.get(b) ?? []), seen]);
    batchByInformant.set(it.pseudonym, [...(batchByInformant.get(it.pseudonym) ?? []), seen]);
    if (albumKey && !batchByAlbum.has(albumKey)) batchByAlbum.set(albumKey, seen);
    batchById.set(it.id, seen);
  });
  return decisions;
};

