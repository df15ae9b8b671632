/**
 * Opening the case log in this process: PostgreSQL when DATABASE_URL is set, else the embedded
 * PGlite folder under the lock. Migrations run, then the secret is checked against the key-check
 * value the log keeps, so a wrong key is a clear error at start, never garbage.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { randomBytes } from 'node:crypto';
import { Client } from 'pg';
import type { Config } from '../config';
import { Keyring } from '../crypto/keyring';
import { createKeyFile, keyFilePath, nextKeyFilePath, readKeyFile } from '../crypto/secret-file';
import { isTiphubError, TiphubError } from '../errors';
import type { Logger } from '../log';
import { openPglite, openPostgres, withKeys, type Db, type Queryable } from './db';
import { type HeldLock } from './lock';
import { migrate } from './migrations';
import { grantRuntimeRole } from './roles';

export interface OpenCaseLog {
  readonly db: Db;
  readonly keyring: Keyring;
  /** Random, fixed when the case log is created: keeps job ids of two case logs on one Redis apart. */
  readonly instance: string;
  close(): Promise<void>;
}

export function pgliteDir(dataDir: string): string {
  return path.join(dataDir, 'caselog');
}

async function readMeta(q: Queryable, key: string): Promise<string | null> {
  const { rows } = await q.query<{ value: string }>(`SELECT value FROM meta WHERE key = $1`, [key]);
  return rows[0]?.value ?? null;
}

export function readKeyCheck(q: Queryable): Promise<string | null> {
  return readMeta(q, 'key_check');
}

/** The case log's key set as stored (sealed under the secret), or null before it has one. */
export function readStoredKeys(q: Queryable): Promise<string | null> {
  return readMeta(q, 'keys');
}

/**
 * The keyring of the case log `q` reaches: the secret checked against the key-check value, then
 * the stored key set opened with it. A new log gets a key-check value and a random key set; a log
 * made before key sets existed stores the keys it always had (derived from its secret), so its
 * pseudonyms and message ids stay what they were. Two first starters at once agree on one set.
 */
export async function resolveKeyring(q: Queryable, cfg: Pick<Config, 'secret' | 'dataDir'>): Promise<Keyring> {
  const storedCheck = await readKeyCheck(q);
  let base = keyringFor(cfg, storedCheck, true);
  if (!storedCheck) {
    await q.query(`INSERT INTO meta (key, value) VALUES ('key_check', $1) ON CONFLICT (key) DO NOTHING`, [base.checkValue]);
    base = keyringFor(cfg, await readKeyCheck(q), false);
  }
  let stored = await readStoredKeys(q);
  if (!stored) {
    const keys = storedCheck ? base.keySet : Keyring.generateKeys();
    await q.query(`INSERT INTO meta (key, value) VALUES ('keys', $1) ON CONFLICT (key) DO NOTHING`, [base.sealKeySet(keys)]);
    stored = (await readStoredKeys(q))!;
  }
  return base.withStoredKeys(stored);
}

/** The secret this process uses: TIPHUB_SECRET, else the key file; null when there is neither. */
export function configuredSecret(cfg: Pick<Config, 'secret' | 'dataDir'>): string | null {
  return cfg.secret ?? readKeyFile(cfg.dataDir);
}

export function keyringFor(cfg: Pick<Config, 'secret' | 'dataDir'>, storedCheck: string | null, allowCreate: boolean): Keyring {
  let secret = configuredSecret(cfg);
  if (!secret) {
    if (storedCheck || !allowCreate) {
      throw new TiphubError(
        'TIPHUB_SECRET_MISSING',
        `no secret: set TIPHUB_SECRET, or restore ${keyFilePath(cfg.dataDir)} (the case log was sealed with it)`,
      );
    }
    secret = createKeyFile(cfg.dataDir);
  }
  const keyring = new Keyring(secret);
  if (storedCheck && !keyring.matchesCheckValue(storedCheck)) {
    const interrupted = !cfg.secret && fs.existsSync(nextKeyFilePath(cfg.dataDir));
    throw new TiphubError(
      'TIPHUB_SECRET_MISMATCH',
      interrupted
        ? `the key file does not match this case log, and a key rotation left ${nextKeyFilePath(cfg.dataDir)}: run \`tiphub keys rotate\` to finish it`
        : 'the secret does not match this case log (its key-check value differs): use the TIPHUB_SECRET or key file it was created with (after a key rotation: the new one)',
    );
  }
  return keyring;
}

/**
 * On PostgreSQL every process that opens the case log holds a shared advisory lock (per schema)
 * on a connection of its own for as long as it has it open; a key rotation takes it exclusively.
 * So a rotation never runs beside a process that would go on sealing with the old key, and no
 * process starts in the middle of one.
 */
const ROTATION_LOCK_CLASS = 72026120;

async function lockGuard(url: string, schema: string, exclusive: boolean): Promise<Client> {
  const client = new Client({ connectionString: url });
  await client.connect();
  try {
    const fn = exclusive ? 'pg_try_advisory_lock' : 'pg_try_advisory_lock_shared';
    const { rows } = await client.query<{ ok: boolean }>(`SELECT ${fn}($1, hashtext($2)) AS ok`, [ROTATION_LOCK_CLASS, schema]);
    if (!rows[0]!.ok) {
      throw exclusive
        ? new TiphubError('TIPHUB_CASELOG_LOCKED', 'other tiphub processes have this case log open: stop the hub, its workers and adapters first')
        : new TiphubError('TIPHUB_CASELOG_LOCKED', 'a key rotation is running on this case log; start again when it has finished', { retryable: true });
    }
    return client;
  } catch (err) {
    await client.end().catch(() => undefined);
    throw err;
  }
}

/**
 * The guard's connection can be cut (a failover, pg_terminate_backend), and its lock goes with it:
 * a rotation could then start beside this process. The guard takes it again, on a new connection,
 * after 0.5 s, 1 s, 2 s… up to 15 s. If a rotation got in first, that is an error in the log and the
 * guard stops trying (this process holds the old key: it must be restarted once the rotation ended).
 */
async function holdRotationGuard(url: string, schema: string, exclusive: boolean, log: Logger): Promise<{ release(): Promise<void> }> {
  let client = await lockGuard(url, schema, exclusive);
  let released = false;
  let wait = 500;
  const watch = (c: Client) => {
    let lost = false;
    const onLost = () => {
      if (lost || released) return;
      lost = true;
      log.warn({ code: 'TIPHUB_CASELOG_UNAVAILABLE' }, 'the key-rotation guard lost its connection to PostgreSQL; taking it again');
      void retake();
    };
    c.on('error', onLost);
    c.on('end', onLost);
  };
  const retake = async (): Promise<void> => {
    while (!released) {
      await new Promise((r) => setTimeout(r, wait).unref());
      if (released) return;
      try {
        const next = await lockGuard(url, schema, exclusive);
        if (released) {
          await next.end().catch(() => undefined);
          return;
        }
        client = next;
        wait = 500;
        watch(next);
        log.info('the key-rotation guard holds its lock again');
        return;
      } catch (err) {
        if (isTiphubError(err, 'TIPHUB_CASELOG_LOCKED')) {
          log.error({ code: 'TIPHUB_CASELOG_LOCKED' }, 'a key rotation started while this process had lost its guard: restart this process when the rotation has finished (it holds the old key)');
          return;
        }
        wait = Math.min(15_000, wait * 2);
      }
    }
  };
  watch(client);
  return {
    release: async () => {
      released = true;
      await client.end().catch(() => undefined);
    },
  };
}

export interface OpenOptions {
  readonly log: Logger;
  /** PostgreSQL schema (tests). */
  readonly schema?: string;
  /** The PGlite lock, already taken by the caller. */
  readonly lock?: HeldLock;
  readonly poolSize?: number;
  /** No other process may have the case log open (a key rotation). */
  readonly exclusive?: boolean;
}

export async function openCaseLogHere(cfg: Readonly<Config>, opts: OpenOptions): Promise<OpenCaseLog> {
  let db: Db;
  let guard: { release(): Promise<void> } | null = null;
  if (cfg.databaseUrl) {
    db = await openPostgres({ url: cfg.databaseUrl, schema: opts.schema, max: opts.poolSize });
    try {
      const { rows } = await db.query<{ s: string }>('SELECT current_schema() AS s');
      guard = await holdRotationGuard(cfg.databaseUrl, opts.schema ?? rows[0]!.s, opts.exclusive === true, opts.log);
    } catch (err) {
      await db.close().catch(() => undefined);
      throw err;
    }
  } else {
    if (!opts.lock) throw new Error('the embedded case log is opened only under its lock');
    const dir = pgliteDir(cfg.dataDir);
    fs.mkdirSync(dir, { recursive: true, mode: 0o700 });
    db = await openPglite(dir);
  }
  try {
    // With a migration role (PostgreSQL), the tables belong to it and this process's role gets
    // only what it needs: no UPDATE, DELETE or TRUNCATE on the history.
    let applied: number[];
    if (cfg.databaseUrl && cfg.migrateDatabaseUrl) {
      const owner = await openPostgres({ url: cfg.migrateDatabaseUrl, schema: opts.schema, max: 1 });
      try {
        applied = await migrate(owner, { keyring: (tx) => resolveKeyring(tx, cfg) });
        // The schema as the owner sees it: the runtime role may not see it before the grant.
        const { rows: o } = await owner.query<{ schema: string }>('SELECT current_schema() AS schema');
        const { rows: r } = await db.query<{ user: string }>('SELECT current_user AS user');
        await grantRuntimeRole(owner, o[0]!.schema, r[0]!.user);
      } finally {
        await owner.close();
      }
    } else {
      applied = await migrate(db, { keyring: (tx) => resolveKeyring(tx, cfg) });
    }
    const keyring = await resolveKeyring(db, cfg);
    db = withKeys(db, keyring);
    await db.query(`INSERT INTO meta (key, value) VALUES ('instance', $1) ON CONFLICT (key) DO NOTHING`, [randomBytes(6).toString('hex')]);
    const instance = (await db.query<{ value: string }>(`SELECT value FROM meta WHERE key = 'instance'`)).rows[0]!.value;
    opts.log.info({ backend: db.backend, migrationsApplied: applied }, 'case log opened');
    let closed: Promise<void> | null = null;
    return {
      db,
      keyring,
      instance,
      close: () =>
        (closed ??= (async () => {
          await db.close();
          await guard?.release();
          opts.lock?.release();
        })()),
    };
  } catch (err) {
    await db.close().catch(() => undefined);
    await guard?.release();
    opts.lock?.release();
    throw err;
  }
}
