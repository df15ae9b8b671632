/** Appending an event to a case's hash chain, outside the intake batch (sends, operators). */
import type { Queryable } from './db';
import { eventHash, isoMs } from './chain';
import { TiphubError } from '../errors';

export async function appendCaseEvent(
  tx: Queryable,
  caseId: number,
  kind: string,
  actor: string,
  data: Record<string, unknown>,
): Promise<{ seq: number; hash: string }> {
  const { rows } = await tx.query<{ ref: string; event_seq: number; head_hash: string | null }>(
    'SELECT ref, event_seq, head_hash FROM cases WHERE id = $1 FOR UPDATE',
    [caseId],
  );
  const c = rows[0];
  if (!c) throw new TiphubError('TIPHUB_CASE_NOT_FOUND', `case ${caseId} does not exist`);
  const seq = c.event_seq + 1;
  const at = isoMs(new Date());
  const hash = eventHash(c.head_hash, { caseRef: c.ref, seq, at, kind, actor, data });
  await tx.query(
    `INSERT INTO events (case_id, seq, at, kind, actor, data, prev_hash, hash) VALUES ($1, $2, $3, $4, $5, $6::jsonb, $7, $8)`,
    [caseId, seq, at, kind, actor, JSON.stringify(data), c.head_hash, hash],
  );
  await tx.query('UPDATE cases SET event_seq = $2, head_hash = $3, updated_at = now() WHERE id = $1', [caseId, seq, hash]);
  return { seq, hash };
}

/** An entry in an informant's log (welcome, help, language, stop, block): not on any case. */
export async function logInformant(
  tx: Queryable,
  pseudonym: string,
  kind: string,
  actor: string,
  data: Record<string, unknown>,
  messageId: string | null = null,
): Promise<boolean> {
  const { rows } = await tx.query(
    `INSERT INTO informant_log (pseudonym, kind, actor, data, message_id) VALUES ($1, $2, $3, $4::jsonb, $5)
     ON CONFLICT (message_id) DO NOTHING RETURNING id`,
    [pseudonym, kind, actor, JSON.stringify(data), messageId],
  );
  return rows.length > 0;
}

/** Follows merges: the case a reference names now. */
export async function resolveCase(q: Queryable, ref: string): Promise<{ id: number; ref: string; status: string } | null> {
  let { rows } = await q.query<{ id: number; ref: string; status: string; merged_into: number | null }>(
    'SELECT id, ref, status, merged_into FROM cases WHERE ref = $1',
    [ref],
  );
  for (let depth = 0; rows[0]?.merged_into && depth < 20; depth++) {
    ({ rows } = await q.query('SELECT id, ref, status, merged_into FROM cases WHERE id = $1', [rows[0].merged_into]));
  }
  const c = rows[0];
  return c ? { id: c.id, ref: c.ref, status: c.status } : null;
}
