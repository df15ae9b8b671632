/** Appending an event to a case's hash chain, outside the intake batch (sends, operators). */
import { randomBytes } from 'node:crypto';
import { keysOf, type Queryable } from './db';
import { eventHash, informantLogHash, isoMs, textHash } from './chain';
import { sealRow } from '../crypto/keyring';
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
  const hash = eventHash(keysOf(tx), c.head_hash, { caseRef: c.ref, seq, at, kind, actor, data });
  await tx.query(
    `INSERT INTO events (case_id, seq, at, kind, actor, data, prev_hash, hash) VALUES ($1, $2, $3, $4, $5, $6::jsonb, $7, $8)`,
    [caseId, seq, at, kind, actor, JSON.stringify(data), c.head_hash, hash],
  );
  await tx.query('UPDATE cases SET event_seq = $2, head_hash = $3, updated_at = now() WHERE id = $1', [caseId, seq, hash]);
  return { seq, hash };
}

/**
 * A text written or sent on a case (a reply, a note): sealed in `case_texts`, bound to its row.
 * Events name it by id and keyed hash, so a purge can remove the text and the chain still verifies.
 */
export async function addCaseText(tx: Queryable, caseId: number, kind: string, text: string): Promise<{ text: string; textHash: string }> {
  const keys = keysOf(tx);
  // The case row first, as appendCaseEvent will lock it: the text's foreign key alone takes a
  // share lock, and two writers each holding one and then asking for the row lock deadlock.
  await tx.query('SELECT 1 FROM cases WHERE id = $1 FOR UPDATE', [caseId]);
  const id = 't' + randomBytes(12).toString('hex');
  await tx.query('INSERT INTO case_texts (id, case_id, kind, text_sealed) VALUES ($1, $2, $3, $4)', [id, caseId, kind, keys.seal(text, sealRow.text(id))]);
  return { text: id, textHash: textHash(keys, id, text) };
}

/**
 * An entry in an informant's log (welcome, help, language, stop, block): not on any case, but
 * chained per informant, so a block or an unblock cannot be removed or rewritten unseen.
 */
export async function logInformant(
  tx: Queryable,
  pseudonym: string,
  kind: string,
  actor: string,
  data: Record<string, unknown>,
  messageId: string | null = null,
): Promise<boolean> {
  if (messageId) {
    const { rows: seen } = await tx.query('SELECT 1 FROM informant_log WHERE message_id = $1', [messageId]);
    if (seen.length) return false;
  }
  const { rows: inf } = await tx.query<{ log_seq: number; log_head: string | null }>(
    'SELECT log_seq, log_head FROM informants WHERE pseudonym = $1 FOR UPDATE',
    [pseudonym],
  );
  if (!inf[0]) throw new TiphubError('TIPHUB_INFORMANT_NOT_FOUND', 'no such informant');
  const seq = inf[0].log_seq + 1;
  const hash = informantLogHash(keysOf(tx), inf[0].log_head, { pseudonym, seq, kind, actor, data, messageId });
  const { rows } = await tx.query(
    `INSERT INTO informant_log (pseudonym, kind, actor, data, message_id, seq, prev_hash, hash) VALUES ($1, $2, $3, $4::jsonb, $5, $6, $7, $8)
     ON CONFLICT (message_id) DO NOTHING RETURNING id`,
    [pseudonym, kind, actor, JSON.stringify(data), messageId, seq, inf[0].log_head, hash],
  );
  if (rows.length) await tx.query('UPDATE informants SET log_seq = $2, log_head = $3 WHERE pseudonym = $1', [pseudonym, seq, hash]);
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
