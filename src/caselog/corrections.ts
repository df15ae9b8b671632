/**
 * Operator corrections of the grouping (the dashboard will call the same functions): merge one
 * case into another, split a report out into a case of its own. Each is a set of events in the
 * chains involved, so `verify` still proves the log.
 */
import type { Db } from './db';
import { appendCaseEvent, resolveCase } from './events';
import { moveReport } from './move';
import { newCaseRef, parseCaseRef } from './refs';
import { TiphubError } from '../errors';

function ref(input: string): string {
  const r = parseCaseRef(input);
  if (!r) throw new TiphubError('TIPHUB_CASE_NOT_FOUND', `"${input.slice(0, 20)}" is not a case reference (like K7Q-4M2P)`);
  return r;
}

/** Moves every report of `fromRef` into `intoRef`; `fromRef` is closed and points to it (its reference still answers /status). */
export async function mergeCases(db: Db, intoRef: string, fromRef: string, actor: string): Promise<{ into: string; from: string; moved: number }> {
  return db.transaction(async (tx) => {
    const into = await resolveCase(tx, ref(intoRef));
    const from = await resolveCase(tx, ref(fromRef));
    if (!into) throw new TiphubError('TIPHUB_CASE_NOT_FOUND', `no case ${ref(intoRef)}`);
    if (!from) throw new TiphubError('TIPHUB_CASE_NOT_FOUND', `no case ${ref(fromRef)}`);
    if (into.id === from.id) throw new TiphubError('TIPHUB_CASE_NOT_FOUND', `${from.ref} is already ${into.ref} (or merged into it)`);
    const { rows } = await tx.query<{ id: string }>('SELECT id FROM reports WHERE case_id = $1 ORDER BY sent_at, id', [from.id]);
    await appendCaseEvent(tx, from.id, 'case.merging', actor, { into: into.ref, reports: rows.length });
    for (const r of rows) await moveReport(tx, r.id, from.id, into.id, 'keep', actor);
    await tx.query(`UPDATE cases SET merged_into = $2, status = 'closed', updated_at = now() WHERE id = $1`, [from.id, into.id]);
    await appendCaseEvent(tx, from.id, 'case.status', actor, { status: 'closed', reason: `merged into ${into.ref}` });
    await appendCaseEvent(tx, into.id, 'case.merged', actor, { from: from.ref, reports: rows.length });
    return { into: into.ref, from: from.ref, moved: rows.length };
  });
}

/** Moves one report out of its case into a new case of its own. */
export async function splitReport(db: Db, caseRef: string, reportId: string, actor: string): Promise<{ from: string; to: string }> {
  return db.transaction(async (tx) => {
    const c = await resolveCase(tx, ref(caseRef));
    if (!c) throw new TiphubError('TIPHUB_CASE_NOT_FOUND', `no case ${ref(caseRef)}`);
    const { rows } = await tx.query<{ id: string }>('SELECT id FROM reports WHERE case_id = $1', [c.id]);
    if (!rows.some((r) => r.id === reportId)) throw new TiphubError('TIPHUB_CASE_NOT_FOUND', `case ${c.ref} has no report ${reportId.slice(0, 40)}`);
    if (rows.length === 1) throw new TiphubError('TIPHUB_CASE_NOT_FOUND', `report ${reportId} is the only one in ${c.ref}: nothing to split`);
    let created: { id: number; ref: string } | undefined;
    while (!created) {
      ({ rows: [created] } = await tx.query<{ id: number; ref: string }>(`INSERT INTO cases (ref) VALUES ($1) ON CONFLICT (ref) DO NOTHING RETURNING id, ref`, [newCaseRef()]));
    }
    await appendCaseEvent(tx, created.id, 'case.opened', actor, { ref: created.ref, status: 'new', priority: 'normal', splitFrom: c.ref });
    await moveReport(tx, reportId, c.id, created.id, null, actor);
    return { from: c.ref, to: created.ref };
  });
}
