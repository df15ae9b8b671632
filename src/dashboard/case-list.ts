/**
 * The case list (the queue): urgent first, then the most recent report; filters on status,
 * priority, tag (as the operator sees them: the reports' tags with their additions and removals),
 * channel, assignee, place, language, flag, the last report's date, and words in any of the case's
 * reports; keyset paging with an opaque cursor (the last row's sort key), so a page costs the same
 * deep in the list. Reads only: no row is written by looking.
 *
 * Speed (migration 8): the order is one index (cases_list_order) walked backwards, a next page a
 * row comparison on its three expressions (an index bound, not a filter); a row's first report
 * comes off reports_by_case_sent; words are found in the text folded when it was written
 * (reports.text_folded, migration 9) with its trigram index; a filter that matches few cases is
 * read off its own index first (migration 9).
 * The expressions here are the index's: change one and the list scans.
 */
import type { Queryable } from '../caselog/db';
import { effectiveTags } from '../caselog/actions';
import { isoMs } from '../caselog/chain';
import { TiphubError } from '../errors';
import { FOLD_DROP, URGENCY_SQL } from '../caselog/migrations';

export interface CaseListFilter {
  readonly status?: string;
  readonly priority?: string;
  readonly tag?: string;
  readonly channel?: string;
  readonly assignee?: string;
  readonly place?: string;
  readonly language?: string;
  /** A case flag, e.g. campaign. */
  readonly flag?: string;
  /**
   * Words (whitespace apart) that one report of the case holds, each anywhere in it, in any script:
   * case, accents and Arabic-script letter variants folded (tiphub_fold). At least one word of 3
   * letters or more (trigrams need 3); at most MAX_SEARCH_WORDS words.
   */
  readonly q?: string;
  /** The case's last report on or after this day (YYYY-MM-DD, UTC). */
  readonly from?: string;
  /** The case's last report on or before this day (YYYY-MM-DD, UTC, the whole day). */
  readonly to?: string;
  readonly cursor?: string;
  readonly limit?: number;
}

export interface CaseListRow {
  readonly ref: string;
  readonly status: string;
  readonly priority: string;
  readonly assignee: string | null;
  /** The first words of the case's first report, control characters made spaces. */
  readonly firstWords: string | null;
  readonly reportCount: number;
  readonly informantCount: number;
  readonly channels: string[];
  readonly tags: string[];
  readonly places: string[];
  /** The case's flags, e.g. campaign. */
  readonly flags: string[];
  readonly firstReportAt: string | null;
  readonly lastReportAt: string | null;
}

export interface CaseListPage {
  readonly cases: CaseListRow[];
  /** The cursor of the next page, null on the last. */
  readonly next: string | null;
}

export const DEFAULT_PAGE = 50;
export const FIRST_WORDS = 12;
const FIRST_CHARS = 120;

/** The sort key: priority rank, the last report's time (PostgreSQL's full-precision text), id. */
interface Cursor {
  readonly p: number;
  readonly t: string;
  readonly id: number;
}

/** Urgency, 3 (urgent) to 0 (low): only cases has a priority column, so the name is the index's. */
const URGENCY = `(${URGENCY_SQL})`;
/** A case without reports (purged) sorts last. */
const LAST_SQL = `COALESCE(c.last_report_at, '-infinity'::timestamptz)`;
export const MIN_SEARCH_CHARS = 3;
export const MAX_SEARCH_WORDS = 8;
const DROPPED = new RegExp(`[${FOLD_DROP}]`, 'gu');

export function encodeCursor(c: Cursor): string {
  return Buffer.from(JSON.stringify([c.p, c.t, c.id])).toString('base64url');
}

export function decodeCursor(s: string): Cursor {
  try {
    const v: unknown = JSON.parse(Buffer.from(s, 'base64url').toString('utf8'));
    if (Array.isArray(v) && v.length === 3 && Number.isInteger(v[0]) && typeof v[1] === 'string' && v[1].length <= 40 && /^[-0-9: .+a-z]+$/.test(v[1]) && Number.isInteger(v[2])) {
      return { p: v[0] as number, t: v[1], id: v[2] as number };
    }
  } catch {
    /* below */
  }
  throw new TiphubError('TIPHUB_CONFIG_INVALID', 'the page cursor is not one this list gave');
}

/**
 * A search's words, LIKE-escaped (folded by the database, as the index is). Refused when no word
 * has 3 letters (not counting the marks folding drops): trigrams cannot find it.
 */
export function searchWords(q: string): string[] {
  const words = q.normalize('NFC').split(/\s+/u).filter(Boolean);
  if (!words.some((w) => Array.from(w.replace(DROPPED, '')).length >= MIN_SEARCH_CHARS)) {
    throw new TiphubError('TIPHUB_CONFIG_INVALID', `a search needs a word of at least ${MIN_SEARCH_CHARS} letters`);
  }
  if (words.length > MAX_SEARCH_WORDS) throw new TiphubError('TIPHUB_CONFIG_INVALID', `a search takes at most ${MAX_SEARCH_WORDS} words`);
  return words.map((w) => w.replace(/[\\%_]/g, (c) => `\\${c}`));
}

/** A YYYY-MM-DD day that exists, or a coded refusal. */
function day(v: string, what: string): string {
  const d = /^\d{4}-\d{2}-\d{2}$/.test(v) ? new Date(`${v}T00:00:00Z`) : null;
  if (!d || Number.isNaN(d.getTime()) || d.toISOString().slice(0, 10) !== v) throw new TiphubError('TIPHUB_CONFIG_INVALID', `${what} is a day as YYYY-MM-DD`);
  return v;
}

/** The first words of a tip, for a list row. */
export function firstWordsOf(text: string | null): string | null {
  if (text === null) return null;
  const words = text.replace(/\p{Cc}+/gu, ' ').trim().split(/\s+/u);
  let out = words.slice(0, FIRST_WORDS).join(' ');
  const chars = Array.from(out);
  if (chars.length > FIRST_CHARS) out = chars.slice(0, FIRST_CHARS).join('');
  return words.length > FIRST_WORDS || chars.length > FIRST_CHARS ? `${out} …` : out;
}

/** Up to this many matching reports, a search lists their cases; beyond, it walks the list (see listCases). */
const SEARCH_FEW = 1000;
/** Up to this many cases matching the column filters, the list is of those cases (see listCases). */
const FILTER_FEW = 1000;

export async function listCases(q: Queryable, f: CaseListFilter, opts: { searchFew?: number; filterFew?: number } = {}): Promise<CaseListPage> {
  const few = opts.searchFew ?? SEARCH_FEW;
  const filterFew = opts.filterFew ?? FILTER_FEW;
  const limit = Math.min(Math.max(f.limit ?? DEFAULT_PAGE, 1), 200);
  const where: string[] = ['c.merged_into IS NULL'];
  const params: unknown[] = [];
  const p = (v: unknown) => {
    params.push(v);
    return `$${params.length}`;
  };
  if (f.status) where.push(`c.status = ${p(f.status)}`);
  if (f.priority) where.push(`c.priority = ${p(f.priority)}`);
  if (f.channel) where.push(`c.channels @> ARRAY[${p(f.channel)}]::text[]`);
  if (f.assignee) where.push(`c.assignee = ${p(f.assignee)}`);
  if (f.place) where.push(`c.places @> ARRAY[${p(f.place)}]::text[]`);
  if (f.language) where.push(`c.language = ${p(f.language)}`);
  if (f.flag) where.push(`c.flags @> ARRAY[${p(f.flag)}]::text[]`);
  if (f.tag) {
    const t = `ARRAY[${p(f.tag)}]::text[]`;
    where.push(`(c.tags @> ${t} OR c.tags_added @> ${t}) AND NOT c.tags_removed @> ${t}`);
  }
  // A filter on an indexed column that matches few cases (or none) is read off its index first
  // (migration 9): walking the list's order to find them would read every case to find nothing.
  // The probe has no order, so the planner stops a frequent value's scan at the limit; more
  // matches than that fill a page quickly in the list's order, as below.
  if (where.length > 1) {
    const { rows: few } = await q.query<{ id: number }>(`SELECT c.id FROM cases c WHERE ${where.join(' AND ')} LIMIT ${filterFew + 1}`, [...params]);
    if (few.length <= filterFew) where.push(`c.id = ANY(${p(few.map((r) => Number(r.id)))}::int[])`);
  }
  // The last report's day, in UTC: the list's own order, so the range is a stretch of it.
  if (f.from) where.push(`${LAST_SQL} >= (${p(day(f.from, 'from'))}::date::timestamp AT TIME ZONE 'UTC')`);
  if (f.to) where.push(`${LAST_SQL} < ((${p(day(f.to, 'to'))}::date + 1)::timestamp AT TIME ZONE 'UTC')`);
  if (f.q) {
    // Every word in one report. A word in few reports: the trigram index finds them all and the
    // list is of their cases. A word in many (a rumour forwarded thousands of times): finding
    // every report costs seconds at a million, so the list's own order is walked instead and
    // each case's reports are checked until the page is full, which a frequent word fills fast.
    const words = searchWords(f.q);
    const likeOf = (ref: (v: unknown) => string) => words.map((w) => `r.text_folded LIKE '%' || tiphub_fold(${ref(w)}) || '%'`).join(' AND ');
    const probe: unknown[] = [];
    const { rows: hits } = await q.query<{ case_id: number }>(
      `SELECT r.case_id FROM reports r WHERE ${likeOf((v) => `$${probe.push(v)}`)} LIMIT ${few + 1}`,
      probe,
    );
    // Every matching report was read only when fewer than the limit came back.
    if (hits.length <= few) where.push(`c.id = ANY(${p([...new Set(hits.map((h) => Number(h.case_id)))])}::int[])`);
    else where.push(`(SELECT true FROM reports r WHERE r.case_id = c.id AND ${likeOf(p)} LIMIT 1)`);
  }
  if (f.cursor) {
    // The cursor keeps the rank (0 urgent .. 3 low) it always had; urgency is 3 minus it.
    const c = decodeCursor(f.cursor);
    where.push(`(${URGENCY}, ${LAST_SQL}, c.id) < (${p(3 - c.p)}::int, ${p(c.t)}::timestamptz, ${p(c.id)}::int)`);
  }
  const { rows } = await q.query<{
    id: number; ref: string; status: string; priority: string; assignee: string | null; tags: string[]; tags_added: string[]; tags_removed: string[];
    places: string[]; flags: string[]; channels: string[]; report_count: number; informant_count: number; first_report_at: Date | null; last_report_at: Date | null;
    rank: number; last_text: string; first_text: string | null;
  }>(
    `SELECT c.id, c.ref, c.status, c.priority, c.assignee, c.tags, c.tags_added, c.tags_removed, c.places, c.flags, c.channels, c.report_count, c.informant_count,
            c.first_report_at, c.last_report_at, 3 - ${URGENCY} AS rank, ${LAST_SQL}::text AS last_text,
            (SELECT r.text FROM reports r WHERE r.case_id = c.id ORDER BY r.sent_at, r.id LIMIT 1) AS first_text
       FROM cases c WHERE ${where.join(' AND ')}
      ORDER BY ${URGENCY} DESC, ${LAST_SQL} DESC, c.id DESC LIMIT ${p(limit + 1)}`,
    params,
  );
  const more = rows.length > limit;
  const page = rows.slice(0, limit);
  const last = page[page.length - 1];
  return {
    cases: page.map((r) => ({
      ref: r.ref,
      status: r.status,
      priority: r.priority,
      assignee: r.assignee,
      firstWords: firstWordsOf(r.first_text),
      reportCount: r.report_count,
      informantCount: r.informant_count,
      channels: r.channels,
      tags: effectiveTags(r),
      places: r.places,
      flags: r.flags,
      firstReportAt: r.first_report_at ? isoMs(r.first_report_at) : null,
      lastReportAt: r.last_report_at ? isoMs(r.last_report_at) : null,
    })),
    next: more && last ? encodeCursor({ p: Number(last.rank), t: last.last_text, id: last.id }) : null,
  };
}
