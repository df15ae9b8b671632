/**
 * Retention: a closed case untouched for `retention.closedCaseDays` days loses its content —
 * reports with their sealed payloads and contacts, media rows and files no other report uses,
 * written texts, queued messages, its informants' link to it — and keeps its row and its chain,
 * which end in a `case.purged` tombstone event saying how much went. `tiphub verify` still
 * checks the chain, and a purged case's reference still answers (`/status` says closed).
 *
 * Each case is purged in its own transaction, re-checked under its row lock (an operator may have
 * reopened it since it was planned). Media files are unlinked after the commit, and only when no
 * media row names them again.
 */
import type { Db, Queryable } from './db';
import { appendCaseEvent } from './events';
import { isoMs } from './chain';

export interface PurgeOptions {
  /** Cases closed and unchanged for at least this many days. */
  readonly olderThanDays: number;
  /** "Now" (tests). */
  readonly now?: Date;
  /** Who purges, for the tombstone event. */
  readonly actor?: string;
  /** At most this many cases (a dry run lists them; a purge takes them in this order). */
  readonly limit?: number;
}

export interface PurgeCandidate {
  readonly ref: string;
  readonly closedSince: string;
  readonly reports: number;
  readonly media: number;
  readonly texts: number;
}

export interface PurgePlan {
  readonly before: string;
  readonly cases: readonly PurgeCandidate[];
  readonly reports: number;
  readonly media: number;
  readonly texts: number;
}

export interface PurgeSummary {
  readonly before: string;
  readonly cases: number;
  readonly reports: number;
  readonly texts: number;
  /** Media rows removed (no other report used them). */
  readonly media: number;
  /** Media files unlinked from the store. */
  readonly files: number;
  /** Report ids that are gone: their Redis job records can go too. */
  readonly reportIds: readonly string[];
}

/** Removes a stored media file; the media store's `remove`. */
export type RemoveMediaFile = (sha256: string) => boolean;

function cutoffOf(o: PurgeOptions): string {
  const now = o.now ?? new Date();
  return isoMs(new Date(now.getTime() - o.olderThanDays * 86_400_000));
}

const CANDIDATES = `
  SELECT c.id, c.ref, c.updated_at,
         (SELECT count(*)::int FROM reports r WHERE r.case_id = c.id) AS reports,
         (SELECT count(*)::int FROM report_media m JOIN reports r ON r.id = m.report_id WHERE r.case_id = c.id) AS media,
         (SELECT count(*)::int FROM case_texts t WHERE t.case_id = c.id AND t.text_sealed IS NOT NULL) AS texts
    FROM cases c
   WHERE c.status = 'closed' AND c.updated_at < $1::timestamptz
     AND (EXISTS (SELECT 1 FROM reports r WHERE r.case_id = c.id)
          OR EXISTS (SELECT 1 FROM case_texts t WHERE t.case_id = c.id AND t.text_sealed IS NOT NULL)
          OR EXISTS (SELECT 1 FROM outbox o WHERE o.case_id = c.id)
          OR EXISTS (SELECT 1 FROM case_informants ci WHERE ci.case_id = c.id))`;

interface CandidateRow {
  id: number;
  ref: string;
  updated_at: Date;
  reports: number;
  media: number;
  texts: number;
}

/** What a purge would remove now (the `--dry-run`). */
export async function planPurge(q: Queryable, o: PurgeOptions): Promise<PurgePlan> {
  const before = cutoffOf(o);
  const { rows } = await q.query<CandidateRow>(`${CANDIDATES} ORDER BY c.updated_at, c.id LIMIT $2`, [before, o.limit ?? 1_000_000]);
  const cases = rows.map((r) => ({ ref: r.ref, closedSince: isoMs(r.updated_at), reports: r.reports, media: r.media, texts: r.texts }));
  const sum = (k: 'reports' | 'media' | 'texts') => cases.reduce((n, c) => n + c[k], 0);
  return { before, cases, reports: sum('reports'), media: sum('media'), texts: sum('texts') };
}

const idsParam = (ids: readonly (string | number)[]) => JSON.stringify(ids.map(String));

/** Purges one case, if it still qualifies under its row lock; null when it no longer does. */
async function purgeOne(db: Db, caseId: number, before: string, actor: string) {
  return db.transaction(async (tx) => {
    const { rows: still } = await tx.query<{ id: number }>(
      `SELECT id FROM cases WHERE id = $1 AND status = 'closed' AND updated_at < $2::timestamptz FOR UPDATE`,
      [caseId, before],
    );
    if (!still.length) return null;
    const { rows: reports } = await tx.query<{ id: string; informant: string }>('SELECT id, informant FROM reports WHERE case_id = $1', [caseId]);
    const ids = reports.map((r) => r.id);
    const { rows: shaRows } = await tx.query<{ sha256: string }>(
      `SELECT DISTINCT sha256 FROM report_media WHERE sha256 IS NOT NULL AND report_id IN (SELECT jsonb_array_elements_text($1::jsonb))`,
      [idsParam(ids)],
    );
    if (ids.length) {
      await tx.query('DELETE FROM report_bands WHERE report_id IN (SELECT jsonb_array_elements_text($1::jsonb))', [idsParam(ids)]);
      await tx.query('DELETE FROM report_media WHERE report_id IN (SELECT jsonb_array_elements_text($1::jsonb))', [idsParam(ids)]);
      await tx.query('DELETE FROM reports WHERE case_id = $1', [caseId]);
    }
    await tx.query('DELETE FROM case_informants WHERE case_id = $1', [caseId]);
    await tx.query('DELETE FROM outbox WHERE case_id = $1', [caseId]);
    // What we sent on the case: its platform ids (a wamid names the recipient) and their statuses.
    await tx.query('DELETE FROM deliveries d USING sent_messages s WHERE s.case_id = $1 AND d.channel = s.channel AND d.sent_id = s.sent_id', [caseId]);
    await tx.query('DELETE FROM sent_messages WHERE case_id = $1', [caseId]);
    const { rows: texts } = await tx.query('UPDATE case_texts SET text_sealed = NULL WHERE case_id = $1 AND text_sealed IS NOT NULL RETURNING id', [caseId]);
    // Media no other report uses: its row, its perceptual-hash bands, then (after commit) its file.
    const { rows: unused } = await tx.query<{ sha256: string }>(
      `SELECT s AS sha256 FROM jsonb_array_elements_text($1::jsonb) AS s
        WHERE NOT EXISTS (SELECT 1 FROM report_media m WHERE m.sha256 = s)`,
      [idsParam(shaRows.map((r) => r.sha256))],
    );
    const gone = unused.map((r) => r.sha256);
    if (gone.length) {
      await tx.query('DELETE FROM media_bands WHERE sha256 IN (SELECT jsonb_array_elements_text($1::jsonb))', [idsParam(gone)]);
      await tx.query('DELETE FROM media WHERE sha256 IN (SELECT jsonb_array_elements_text($1::jsonb))', [idsParam(gone)]);
    }
    // An informant with no report left anywhere keeps its pseudonym and log, not its address; a
    // new message from them brings the address back (intake fills a missing one).
    const informants = [...new Set(reports.map((r) => r.informant))];
    if (informants.length) {
      await tx.query(
        `UPDATE informants i SET address_sealed = NULL
          WHERE i.pseudonym IN (SELECT jsonb_array_elements_text($1::jsonb))
            AND NOT EXISTS (SELECT 1 FROM reports r WHERE r.informant = i.pseudonym)
            AND NOT EXISTS (SELECT 1 FROM outbox o WHERE o.pseudonym = i.pseudonym AND o.enqueued_at IS NULL)`,
        [idsParam(informants)],
      );
      // With the address goes the full id of anything we sent them outside a case (welcome, help).
      await tx.query(
        `UPDATE sent_messages s SET ref_sealed = NULL FROM informants i
          WHERE i.pseudonym = s.pseudonym AND i.address_sealed IS NULL AND s.ref_sealed IS NOT NULL AND s.pseudonym IN (SELECT jsonb_array_elements_text($1::jsonb))`,
        [idsParam(informants)],
      );
    }
    await tx.query(
      `UPDATE cases SET report_count = 0, informant_count = 0, channels = '{}', tags = '{}', places = '{}', related = '{}' WHERE id = $1`,
      [caseId],
    );
    await appendCaseEvent(tx, caseId, 'case.purged', actor, { reports: ids.length, texts: texts.length, media: gone.length, before });
    return { ids, texts: texts.length, gone };
  });
}

/**
 * Purges what `planPurge` lists. `removeFile` unlinks a media file (null: the files stay, for a
 * process that does not hold the media store).
 */
export async function purgeCases(db: Db, o: PurgeOptions, removeFile: RemoveMediaFile | null): Promise<PurgeSummary> {
  const before = cutoffOf(o);
  const actor = o.actor ?? 'retention';
  const { rows } = await db.query<CandidateRow>(`${CANDIDATES} ORDER BY c.updated_at, c.id LIMIT $2`, [before, o.limit ?? 1_000_000]);
  let cases = 0;
  let texts = 0;
  let media = 0;
  let files = 0;
  const reportIds: string[] = [];
  for (const c of rows) {
    const done = await purgeOne(db, c.id, before, actor);
    if (!done) continue;
    cases++;
    texts += done.texts;
    media += done.gone.length;
    reportIds.push(...done.ids);
    if (removeFile && done.gone.length) {
      // A report written since may have stored the same bytes again: keep the file then.
      const { rows: back } = await db.query<{ sha256: string }>('SELECT sha256 FROM media WHERE sha256 IN (SELECT jsonb_array_elements_text($1::jsonb))', [
        idsParam(done.gone),
      ]);
      const kept = new Set(back.map((r) => r.sha256));
      for (const sha of done.gone) if (!kept.has(sha) && removeFile(sha)) files++;
    }
  }
  return { before, cases, reports: reportIds.length, texts, media, files, reportIds };
}

export function formatPurgePlan(p: PurgePlan): string {
  if (!p.cases.length) return `purge: nothing to purge (no closed case unchanged since ${p.before})`;
  const lines = p.cases.map((c) => `  ${c.ref}  closed, unchanged since ${c.closedSince}: ${c.reports} report(s), ${c.media} media, ${c.texts} text(s)`);
  return [`purge --dry-run: ${p.cases.length} case(s) unchanged since before ${p.before} would be purged (${p.reports} reports, ${p.media} media, ${p.texts} texts):`, ...lines].join('\n');
}
