/**
 * The operators' audit log: account changes, logins refused, and (later) what operators viewed and
 * exported. One chain for the whole table, like a case's events: each entry's keyed hash covers the
 * one before it, so a row altered or removed in the middle shows. The head (last seq and hash) is
 * kept in `meta` under its own keyed hash, so removing the last entries shows too.
 */
import { canonicalJson, isoMs } from '../caselog/chain';
import { keysOf, type Queryable } from '../caselog/db';
import type { AuditKey } from '../crypto/keyring';

const HEAD_KEY = 'operator_audit_head';
/** Serialises writers on PostgreSQL (a second process appending at once would fork the chain). */
const AUDIT_LOCK = 'SELECT pg_advisory_xact_lock(7202612110)';

export interface AuditEntryBody {
  readonly seq: number;
  readonly at: string;
  readonly operator: string;
  readonly action: string;
  readonly data: unknown;
}

export function operatorAuditHash(audit: AuditKey, prev: string | null, e: AuditEntryBody): string {
  return audit.mac(`operator-audit\n${canonicalJson({ seq: e.seq, at: e.at, operator: e.operator, action: e.action, data: e.data, prev })}`);
}

function headMac(audit: AuditKey, seq: number, hash: string): string {
  return audit.mac(`operator-audit-head\n${seq}\n${hash}`);
}

async function readHead(q: Queryable): Promise<{ seq: number; hash: string; mac: string } | null> {
  const { rows } = await q.query<{ value: string }>('SELECT value FROM meta WHERE key = $1', [HEAD_KEY]);
  if (!rows[0]) return null;
  const [seq, hash, mac] = rows[0].value.split(' ');
  return { seq: Number(seq), hash: hash ?? '', mac: mac ?? '' };
}

/**
 * Appends one entry. Call it inside the transaction that makes the change it records, so that the
 * change and its record commit together.
 */
export async function appendAudit(q: Queryable, operator: string, action: string, data: Record<string, unknown> = {}): Promise<{ seq: number; hash: string }> {
  const keys = keysOf(q);
  await q.query(AUDIT_LOCK);
  const { rows } = await q.query<{ seq: number; hash: string }>('SELECT seq, hash FROM operator_audit ORDER BY seq DESC LIMIT 1');
  const prev = rows[0] ?? null;
  const seq = (prev?.seq ?? 0) + 1;
  const at = isoMs(new Date());
  const hash = operatorAuditHash(keys, prev?.hash ?? null, { seq, at, operator, action, data });
  await q.query('INSERT INTO operator_audit (seq, at, operator, action, data, prev_hash, hash) VALUES ($1, $2, $3, $4, $5::jsonb, $6, $7)', [
    seq,
    at,
    operator,
    action,
    JSON.stringify(data),
    prev?.hash ?? null,
    hash,
  ]);
  await q.query('INSERT INTO meta (key, value) VALUES ($1, $2) ON CONFLICT (key) DO UPDATE SET value = EXCLUDED.value', [HEAD_KEY, `${seq} ${hash} ${headMac(keys, seq, hash)}`]);
  return { seq, hash };
}

export interface OperatorAuditEntry {
  readonly seq: number;
  readonly at: string;
  readonly operator: string;
  readonly action: string;
  readonly data: Record<string, unknown>;
}

export interface OperatorAuditQuery {
  readonly operator?: string;
  readonly action?: string;
  /** Keyset paging: entries before this seq (the `next` of the page before). */
  readonly beforeSeq?: number;
  readonly limit?: number;
}

/** Entries, newest first, optionally of one operator or one action (the dashboard's audit page). */
export async function listOperatorAudit(q: Queryable, opts: OperatorAuditQuery = {}): Promise<OperatorAuditEntry[]> {
  const { rows } = await q.query<{ seq: number; at: Date; operator: string; action: string; data: Record<string, unknown> }>(
    `SELECT seq, at, operator, action, data FROM operator_audit
     WHERE ($1::text IS NULL OR operator = $1) AND ($2::text IS NULL OR action = $2) AND ($3::integer IS NULL OR seq < $3)
     ORDER BY seq DESC LIMIT $4`,
    [opts.operator ?? null, opts.action ?? null, opts.beforeSeq ?? null, Math.min(Math.max(opts.limit ?? 100, 1), 1000)],
  );
  return rows.map((r) => ({ seq: Number(r.seq), at: isoMs(r.at), operator: r.operator, action: r.action, data: r.data }));
}

export interface OperatorAuditPage {
  readonly entries: OperatorAuditEntry[];
  /** The `beforeSeq` of the next (older) page, null on the last. */
  readonly next: number | null;
}

/** One page of entries, newest first, and where the next one starts (keyset on seq, unique). */
export async function operatorAuditPage(q: Queryable, opts: OperatorAuditQuery = {}): Promise<OperatorAuditPage> {
  const limit = Math.min(Math.max(opts.limit ?? 50, 1), 500);
  const rows = await listOperatorAudit(q, { ...opts, limit: limit + 1 });
  const entries = rows.slice(0, limit);
  return { entries, next: rows.length > limit ? entries[entries.length - 1]!.seq : null };
}

export type OperatorAuditProblemKind = 'rewritten' | 'truncated';

export interface OperatorAuditProblem {
  readonly kind: OperatorAuditProblemKind;
  /** The entry's seq, or null for the chain as a whole. */
  readonly seq: number | null;
  readonly what: string;
}

export interface OperatorAuditResult {
  readonly ok: boolean;
  readonly entries: number;
  readonly problems: OperatorAuditProblem[];
}

/** Checks the chain from its first entry to the head recorded in `meta`. */
export async function verifyOperatorAudit(q: Queryable, opts: { maxProblems?: number; pageSize?: number } = {}): Promise<OperatorAuditResult> {
  const keys = keysOf(q);
  const max = opts.maxProblems ?? 100;
  const problems: OperatorAuditProblem[] = [];
  const add = (p: OperatorAuditProblem) => {
    if (problems.length < max) problems.push(p);
  };
  // In pages of seq (the table only grows: a views-heavy log need not fit in memory at once).
  const pageSize = Math.max(opts.pageSize ?? 2000, 1);
  let prev: string | null = null;
  let expected = 1;
  let entries = 0;
  let last: { seq: number; hash: string } | undefined;
  for (;;) {
    const { rows } = await q.query<{ seq: number; at: Date; operator: string; action: string; data: unknown; prev_hash: string | null; hash: string }>(
      'SELECT seq, at, operator, action, data, prev_hash, hash FROM operator_audit WHERE seq > $1 ORDER BY seq LIMIT $2',
      [last ? last.seq : -2147483648, pageSize],
    );
    for (const r of rows) {
      const seq = Number(r.seq);
      entries++;
      if (seq !== expected) add({ kind: 'truncated', seq, what: `entries ${expected}..${seq - 1} are missing` });
      if (r.prev_hash !== prev) add({ kind: 'rewritten', seq, what: 'does not follow the entry before it' });
      if (operatorAuditHash(keys, r.prev_hash, { seq, at: isoMs(r.at), operator: r.operator, action: r.action, data: r.data }) !== r.hash) {
        add({ kind: 'rewritten', seq, what: 'its content does not match its hash' });
      }
      prev = r.hash;
      expected = seq + 1;
      last = { seq, hash: r.hash };
    }
    if (rows.length < pageSize) break;
  }
  const head = await readHead(q);
  if (head) {
    if (headMac(keys, head.seq, head.hash) !== head.mac) add({ kind: 'rewritten', seq: null, what: 'the recorded head was not written with this case log’s audit key' });
    else if (!last || last.seq < head.seq) add({ kind: 'truncated', seq: null, what: `the chain ends at ${last ? last.seq : 0}, its head was ${head.seq}` });
    else if (last.seq === head.seq && last.hash !== head.hash) add({ kind: 'rewritten', seq: head.seq, what: 'the last entry is not the recorded head' });
    else if (last.seq > head.seq) add({ kind: 'rewritten', seq: head.seq + 1, what: 'entries after the recorded head' });
  } else if (last) {
    add({ kind: 'rewritten', seq: null, what: 'entries without a recorded head' });
  }
  return { ok: problems.length === 0, entries, problems };
}

export function formatOperatorAudit(r: OperatorAuditResult): string {
  if (r.ok) return `operator audit: ok (${r.entries} entries)`;
  return `operator audit: FAILED: ${r.problems.length} problem(s) in ${r.entries} entries\n${r.problems.map((p) => `[${p.kind}]${p.seq !== null ? ` entry ${p.seq}` : ''}: ${p.what}`).join('\n')}`;
}
