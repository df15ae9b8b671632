/**
 * Opening the case log in this process: PostgreSQL when DATABASE_URL is set, else the embedded
 * PGlite folder under the lock. Migrations run, then the secret is checked against the key-check
 * value the log keeps, so a wrong key is a clear error at start, never garbage.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { randomBytes } from 'node:crypto';
import type { Config } from '../config';
import { Keyring } from '../crypto/keyring';
import { createKeyFile, keyFilePath, readKeyFile } from '../crypto/secret-file';
import { TiphubError } from '../errors';
import type { Logger } from '../log';
import { openPglite, openPostgres, type Db, type Queryable } from './db';
import { type HeldLock } from './lock';
import { migrate } from './migrations';

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

export async function readKeyCheck(q: Queryable): Promise<string | null> {
  const { rows } = await q.query<{ value: string }>(`SELECT value FROM meta WHERE key = 'key_check'`);
  return rows[0]?.value ?? null;
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
    throw new TiphubError(
      'TIPHUB_SECRET_MISMATCH',
      'the secret does not match this case log (its key-check value differs): use the TIPHUB_SECRET or key file it was created with',
    );
  }
  return keyring;
}

export interface OpenOptions {
  readonly log: Logger;
  /** PostgreSQL schema (tests). */
  readonly schema?: string;
  /** The PGlite lock, already taken by the caller. */
  readonly lock?: HeldLock;
  readonly poolSize?: number;
}

export async function openCaseLogHere(cfg: Readonly<Config>, opts: OpenOptions): Promise<OpenCaseLog> {
  let db: Db;
  if (cfg.databaseUrl) {
    db = await openPostgres({ url: cfg.databaseUrl, schema: opts.schema, max: opts.poolSize });
  } else {
    if (!opts.lock) throw new Error('the embedded case log is opened only under its lock');
    const dir = pgliteDir(cfg.dataDir);
    fs.mkdirSync(dir, { recursive: true, mode: 0o700 });
    db = await openPglite(dir);
  }
  try {
    const applied = await migrate(db);
    const stored = await readKeyCheck(db);
    const keyring = keyringFor(cfg, stored, true);
    if (!stored) {
      await db.query(`INSERT INTO meta (key, value) VALUES ('key_check', $1) ON CONFLICT (key) DO NOTHING`, [keyring.checkValue]);
      // Two first starters at once: the one that lost must match the winner.
      keyringFor(cfg, await readKeyCheck(db), false);
    }
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
          opts.lock?.release();
        })()),
    };
  } catch (err) {
    await db.close().catch(() => undefined);
    opts.lock?.release();
    throw err;
  }
}
