/**
 * Two PostgreSQL roles: the migration role owns the tables; the runtime role (DATABASE_URL) may
 * read and write the case log but never rewrite its history. The triggers of migration 5 refuse
 * changes to the history for every role; the grants keep the runtime role from even trying, and
 * from dropping the triggers (only an owner can).
 */
import type { Db } from './db';
import { TiphubError } from '../errors';

/** Tables that only grow. */
export const HISTORY_TABLES = ['events', 'informant_log', 'anchors', 'operator_audit'] as const;

const ident = (name: string) => {
  if (!/^[A-Za-z_][A-Za-z0-9_$-]{0,62}$/.test(name)) throw new TiphubError('TIPHUB_CONFIG_INVALID', 'a role or schema name has characters tiphub does not quote');
  return `"${name}"`;
};

export async function grantRuntimeRole(owner: Db, schema: string, runtimeRole: string): Promise<void> {
  const { rows } = await owner.query<{ user: string }>('SELECT current_user AS user');
  if (rows[0]!.user === runtimeRole) return; // one role for both: nothing to grant
  const s = ident(schema);
  const r = ident(runtimeRole);
  await owner.transaction(async (tx) => {
    // Several processes starting at once grant at once: PostgreSQL refuses concurrent updates of
    // one ACL ("tuple concurrently updated"), so they take the migrations' lock in turn.
    await tx.query('SELECT pg_advisory_xact_lock(7202611240)');
    await tx.query(`GRANT USAGE ON SCHEMA ${s} TO ${r}`);
    await tx.query(`REVOKE ALL ON ALL TABLES IN SCHEMA ${s} FROM ${r}`);
    await tx.query(`GRANT SELECT, INSERT, UPDATE, DELETE ON ALL TABLES IN SCHEMA ${s} TO ${r}`);
    for (const t of HISTORY_TABLES) await tx.query(`REVOKE UPDATE, DELETE, TRUNCATE ON ${s}.${ident(t)} FROM ${r}`);
    await tx.query(`REVOKE UPDATE, DELETE ON ${s}."schema_migrations" FROM ${r}`);
    await tx.query(`GRANT USAGE, SELECT ON ALL SEQUENCES IN SCHEMA ${s} TO ${r}`);
  });
}
