/**
 * An operator drops a quarantined message: the entry is deleted and the operators' audit chain
 * says who did, in one transaction. It lives with the audit, above the case log's quarantine table.
 */
import type { Db } from '../caselog/db';
import { appendAudit } from './audit';

/** Deletes one entry and records who did, in the same transaction; false when there is no such entry. */
export async function dropQuarantine(db: Db, id: number, actor: string): Promise<boolean> {
  if (!Number.isSafeInteger(id) || id < 1) return false;
  return db.transaction(async (tx) => {
    const { rows } = await tx.query<{ channel: string; code: string }>('DELETE FROM quarantine WHERE id = $1 RETURNING channel, code', [id]);
    if (!rows[0]) return false;
    await appendAudit(tx, actor, 'quarantine.drop', { id, channel: rows[0].channel, code: rows[0].code });
    return true;
  });
}
