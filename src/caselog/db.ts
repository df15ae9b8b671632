/**
 * The two back ends of the case log behind one small interface: PostgreSQL through a pg pool, and
 * embedded PGlite (one process only; see lock.ts).
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { Pool, types as pgTypes, type PoolClient } from 'pg';
import { describeForeignError, TiphubError } from '../errors';
import type { Keyring } from '../crypto/keyring';
import type { Extension } from '@electric-sql/pglite';

// int8 (counts, sums) as numbers: our counters stay far below 2^53.
pgTypes.setTypeParser(20, (v) => Number(v));

export interface Queryable {
  query<T = Record<string, unknown>>(sql: string, params?: unknown[]): Promise<{ rows: T[] }>;
  /**
   * The case log's keys (audit key for the chains' keyed hashes, sealing for the texts events
   * refer to): set on a case log opened with them, and on its transactions.
   */
  readonly keys?: Keyring;
}

/** The keys of a connection or transaction; writing to a chain without them is a bug. */
export function keysOf(q: Queryable): Keyring {
  if (!q.keys) throw new TiphubError('TIPHUB_CASELOG_WRITE_FAILED', 'the case log was opened without its keys');
  return q.keys;
}

/** The same database, its connections and transactions carrying the case log's keys. */
export function withKeys(db: Db, keys: Keyring): Db {
  return {
    backend: db.backend,
    keys,
    query: <T>(sql: string, params?: unknown[]) => db.query<T>(sql, params),
    transaction: <T>(fn: (tx: Queryable) => Promise<T>) =>
      db.transaction((tx) => fn({ query: <R>(sql: string, params?: unknown[]) => tx.query<R>(sql, params), keys })),
    close: () => db.close(),
  };
}

export interface Db extends Queryable {
  readonly backend: 'postgres' | 'pglite';
  transaction<T>(fn: (tx: Queryable) => Promise<T>): Promise<T>;
  close(): Promise<void>;
}

function wrapConnectError(err: unknown): TiphubError {
  const code = (err as { code?: string })?.code;
  return new TiphubError('TIPHUB_CASELOG_UNAVAILABLE', `cannot reach PostgreSQL${code ? ` (${code})` : ''}`, { cause: err });
}

/**
 * The connection itself failed (the server ended it, a failover, the network), not the statement:
 * class 08 (connection exception), 57P01–57P03 (administrator shutdown, crash, cannot connect
 * now), a socket's reset, or pg's own "Connection terminated" errors, which carry no SQLSTATE.
 */
export function isConnectionLost(err: unknown): boolean {
  const e = err as { code?: unknown; message?: unknown } | null;
  const code = typeof e?.code === 'string' ? e.code : '';
  if (code.startsWith('08') || /^57P0[123]$/.test(code) || /^(ECONNRESET|ECONNREFUSED|EPIPE|ETIMEDOUT)$/.test(code)) return true;
  return !code && typeof e?.message === 'string' && /^Connection terminated|connection (is )?closed|Client has encountered a connection error/i.test(e.message);
}

export interface PostgresOptions {
  url: string;
  /** A schema to work in (tests isolate themselves this way); created if missing. */
  schema?: string;
  max?: number;
}

export async function openPostgres(opts: PostgresOptions): Promise<Db> {
  const schema = opts.schema;
  if (schema && !/^[a-z_][a-z0-9_]{0,62}$/.test(schema)) throw new TiphubError('TIPHUB_CONFIG_INVALID', 'bad schema name');
  const pool = new Pool({
    connectionString: opts.url,
    max: opts.max ?? 8,
    // public stays on the path for extensions created there once.
    options: schema ? `-c search_path=${schema},public` : undefined,
    application_name: 'tiphub',
  });
  pool.on('error', () => {
    /* an idle client lost its connection; the next query reconnects */
  });
  // Every connection keeps a listener of its own for its whole life. The pool's idle listener is
  // removed the moment a client is handed over, and a transaction's own one is attached only once
  // its pool.connect() promise resolves, a microtask later: a server's FATAL (57P01, a failover)
  // parsed from the same socket read as the statement that freed the client fell in that gap, was
  // an unhandled 'error' and ended the hub. The statement in flight still fails with the error, and
  // a client that broke is no longer queryable, so the next one on it fails and it is destroyed.
  pool.on('connect', (client) => {
    client.on('error', () => undefined);
  });
  try {
    if (schema) {
      // Two processes creating it at once: the loser's "already exists" is success too.
      await pool.query(`CREATE SCHEMA IF NOT EXISTS ${schema}`).catch((err: { code?: string }) => {
        if (err.code !== '23505' && err.code !== '42P06') throw err;
      });
    } else await pool.query('SELECT 1');
  } catch (err) {
    await pool.end().catch(() => undefined);
    throw wrapConnectError(err);
  }
  const q = async <T>(c: Pool | PoolClient, sql: string, params?: unknown[]) => {
    const r = await c.query(sql, params as unknown[]);
    return { rows: r.rows as T[] };
  };
  return {
    backend: 'postgres',
    query: (sql, params) => q(pool, sql, params),
    async transaction(fn) {
      const client = await pool.connect().catch((err) => {
        throw wrapConnectError(err);
      });
      // A checked-out client has no listener of the pool's: without this one, a connection the
      // server ends (a failover's pg_terminate_backend, 57P01) emits an unhandled 'error' and
      // ends the process. The statement in flight fails with it; the transaction is retried.
      let broken: unknown = null;
      const onError = (err: unknown) => {
        broken ??= err;
      };
      client.on('error', onError);
      try {
        await client.query('BEGIN');
        // Statements issued together run one after another on this connection, in order
        // (pg no longer queues concurrent queries on one client itself).
        let last: Promise<unknown> = Promise.resolve();
        const result = await fn({
          query: <T>(sql: string, params?: unknown[]) => {
            const run = last.then(
              () => q<T>(client, sql, params),
              () => q<T>(client, sql, params),
            );
            last = run.catch(() => undefined);
            return run;
          },
        });
        await last;
        await client.query('COMMIT');
        return result;
      } catch (err) {
        if (!broken) await client.query('ROLLBACK').catch((e: unknown) => (broken = e));
        if (broken || isConnectionLost(err)) {
          broken ??= err;
          throw new TiphubError('TIPHUB_CASELOG_UNAVAILABLE', `the connection to PostgreSQL was lost during a transaction (${describeForeignError(err)})`, { cause: err });
        }
        throw err;
      } finally {
        // A broken connection is destroyed, not handed to the next transaction.
        client.release(broken ? (broken instanceof Error ? broken : new Error('connection lost')) : undefined);
        client.removeListener('error', onError);
      }
    },
    close: () => pool.end(),
  };
}

/**
 * PGlite copies its fresh cluster into the folder with explicit modes (0666, and 0644 for the
 * relation caches it rewrites at each start), whatever the umask: close the tree to our own user.
 * Files it creates later follow the umask (077 in the CLI) and sit in 0700 folders anyway.
 */
export function closeTree(dir: string): void {
  const walk = (p: string) => {
    let st: fs.Stats;
    try {
      st = fs.lstatSync(p);
    } catch {
      return; // gone while we walk (a temporary file)
    }
    if (st.isSymbolicLink()) return;
    const want = st.isDirectory() ? 0o700 : 0o600;
    if ((st.mode & 0o777 & ~want) !== 0) fs.chmodSync(p, st.mode & want);
    if (st.isDirectory()) for (const e of fs.readdirSync(p)) walk(path.join(p, e));
  };
  walk(dir);
}

export async function openPglite(dir: string): Promise<Db> {
  const { PGlite } = await import('@electric-sql/pglite');
  // Trigrams for the case list's search (migration 8 creates the extension). A subpath export,
  // which this project's moduleResolution does not read: named as a string, typed here.
  const trgm: string = '@electric-sql/pglite/contrib/pg_trgm';
  const { pg_trgm } = (await import(trgm)) as { pg_trgm: Extension };
  fs.mkdirSync(dir, { recursive: true, mode: 0o700 });
  const pg = await PGlite.create(dir, { extensions: { pg_trgm } });
  closeTree(dir);
  const parse = <T>(r: { rows: unknown[] }) => ({ rows: r.rows as T[] });
  return {
    backend: 'pglite',
    query: async (sql, params) => parse(await pg.query(sql, params)),
    transaction: (fn) => pg.transaction((tx) => fn({ query: async (sql, params) => parse(await tx.query(sql, params)) })),
    close: async () => {
      await pg.close();
      closeTree(dir);
    },
  };
}
