/**
 * Transaction-scoped advisory locks of the case log's writers, by kind and value (`m` a message id,
 * `p` a pseudonym, `f` a fingerprint): two transactions touching the same one run one after the
 * other. The intake path takes them first; a retraction takes its sender's, so it either sees the
 * report committed or is seen by the intake that writes it.
 */
import { createHash } from 'node:crypto';
import type { Queryable } from './db';

/** A 64-bit advisory lock key for a value, as text (PostgreSQL bigint). */
export function advisoryKey(kind: string, value: string): string {
  const h = createHash('sha256').update(kind + '\u0000' + value).digest();
  return h.readBigInt64BE(0).toString();
}

/** Takes the keys' locks until the transaction ends, in a fixed order (no deadlock between two takers). */
export async function lockAdvisory(tx: Queryable, keys: Iterable<string>): Promise<void> {
  await tx.query(`SELECT count(pg_advisory_xact_lock(k)) FROM (SELECT k FROM unnest($1::bigint[]) AS k ORDER BY 1) s`, [[...new Set(keys)]]);
}
