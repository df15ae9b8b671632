/**
 * Measures the grouping (dedupe) step inside the real intake worker, whatever grouping function
 * the worker uses: `writeBatch` is wrapped at its module export (the worker calls it through
 * that), its transaction is watched, and the `group` option it receives is wrapped to count the
 * round trips (tx.query calls) it makes and the time it takes.
 *
 * Statements of one transaction run one after another, so the grouping's time starts when both it
 * was called and the statement issued before it (the informant upsert) has finished: the figure
 * is the grouping's own time, not its wait behind the upsert. Every statement of the batch
 * transaction is also timed the same way (its own execution), by its first words.
 */
import type { Db, Queryable } from '../src/caselog/db';
import type { GroupBatch } from '../src/grouping/group';

export interface DedupeStats {
  /** Batches and reports grouped, and the grouping's round trips. */
  batches: number;
  reports: number;
  queries: number;
  /** The grouping's own time and its wall time from the call (ms). */
  ms: number;
  wallMs: number;
  /** The grouping function's name, as the worker passed it. */
  fn: string;
  /** Each statement of the batch transactions: count and time (ms), by its first words. */
  sql: Record<string, [number, number]>;
}

export function emptyStats(): DedupeStats {
  return { batches: 0, reports: 0, queries: 0, ms: 0, wallMs: 0, fn: '', sql: {} };
}

const now = () => performance.now();
const label = (sql: string) => sql.replace(/--[^\n]*/g, ' ').replace(/\s+/g, ' ').trim().slice(0, 72);

interface Tracking extends Queryable {
  /** Resolves with the time the last statement issued so far settled. */
  lastSettled(): Promise<number>;
}

function track(tx: Queryable, stats: DedupeStats): Tracking {
  let last: Promise<number> = Promise.resolve(now());
  return {
    keys: tx.keys, // the chains' keyed hashes need them
    lastSettled: () => last,
    query<T>(sql: string, params?: unknown[]) {
      const issued = now();
      const prev = last;
      const p = tx.query<T>(sql, params);
      const settled = p.then(now, now);
      last = settled;
      void Promise.all([prev, settled]).then(([before, done]) => {
        const k = label(sql);
        const s = (stats.sql[k] ??= [0, 0]);
        s[0]++;
        s[1] += done - Math.max(issued, before);
      });
      return p;
    },
  };
}

/** BENCH_EXPLAIN_GROUPING=<n>: the plan of the grouping's statements in the n-th batch, printed (diagnosis only). */
const explainAt = Number(process.env.BENCH_EXPLAIN_GROUPING ?? 0);

function wrapGroup(group: GroupBatch, stats: DedupeStats): GroupBatch {
  const wrapped: GroupBatch = async (tx, items, rules) => {
    const t0 = now();
    const before = 'lastSettled' in tx ? (tx as Tracking).lastSettled() : Promise.resolve(t0);
    let n = 0;
    const explain = explainAt > 0 && stats.batches + 1 === explainAt;
    const counting: Queryable = {
      query: async (sql, params) => {
        n++;
        if (explain && /^\s*(SELECT|WITH)\b/i.test(sql)) {
          const plan = await tx.query<{ 'QUERY PLAN': string }>(`EXPLAIN (ANALYZE, BUFFERS) ${sql}`, params);
          console.log(`explain_grouping (batch ${explainAt}, ${items.length} reports, statement ${n}):\n${plan.rows.map((r) => '  ' + r['QUERY PLAN']).join('\n')}`);
        }
        return tx.query(sql, params);
      },
    };
    const decisions = await group(counting, items, rules);
    const t1 = now();
    const start = Math.max(t0, await before);
    stats.batches++;
    stats.reports += items.length;
    stats.queries += n;
    stats.ms += t1 - start;
    stats.wallMs += t1 - t0;
    return decisions;
  };
  return wrapped;
}

/**
 * Installs the probe on the intake's batch writer. Returns the stats it fills, or null when the
 * writer's module export cannot be replaced (then nothing is measured and the run says so).
 */
export function installDedupeProbe(): DedupeStats | null {
  const stats = emptyStats();
  // The module object itself, so its export can be wrapped in place.
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  const mod = require('../workers/intake/write-batch') as Record<string, unknown>;
  const real = mod.writeBatch as (db: Db, batch: unknown, opts: { group: GroupBatch }) => Promise<unknown>;
  if (typeof real !== 'function') return null;
  const wrapped = (db: Db, batch: unknown, opts: { group: GroupBatch }) => {
    stats.fn ||= opts.group.name || 'anonymous';
    const watched: Db = { ...db, transaction: (fn) => db.transaction((tx) => fn(track(tx, stats))) };
    return real(watched, batch, { ...opts, group: wrapGroup(opts.group, stats) });
  };
  try {
    mod.writeBatch = wrapped;
  } catch {
    return null;
  }
  return mod.writeBatch === wrapped ? stats : null;
}
