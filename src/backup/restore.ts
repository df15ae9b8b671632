/**
 * Restoring a backup into an empty place: a data directory that holds nothing (but perhaps the
 * key file), and on PostgreSQL a schema without tables. Everything is built aside first: the
 * media and an embedded case log in a temporary folder beside the data directory, the PostgreSQL
 * rows in one transaction. Only when the archive's last chunk has been authenticated and its
 * manifest matches what was read does the transaction commit and the folder take the data
 * directory's name; on any error nothing is left behind.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { createHash, randomBytes } from 'node:crypto';
import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import * as tar from 'tar-stream';
import { openPglite, openPostgres, type Db, type Queryable } from '../caselog/db';
import { migrations, migrate } from '../caselog/migrations';
import { Keyring } from '../crypto/keyring';
import { KEY_FILE } from '../crypto/secret-file';
import { describeForeignError, TiphubError } from '../errors';
import { MediaStore } from '../media/store';
import { BACKUP_FORMAT, ident, listSequences, listTables, SHA256_RE, type BackupHead, type BackupManifest } from './archive';
import { decryptArchive, type ArchiveSecret } from './format';

/** Rows per INSERT while loading a table. */
const INSERT_ROWS = 500;

export interface RestoreTarget {
  readonly dataDir: string;
  /** PostgreSQL (the owner's connection, which may drop and add constraints); else embedded PGlite under `<dataDir>/caselog`. */
  readonly databaseUrl: string | null;
  /** Written as the restored data directory's key file (the secret the archive was made under, from a file). */
  readonly keyFile?: string | null;
}

export interface RestoreSummary {
  readonly schemaVersion: number;
  readonly createdAt: string;
  readonly rows: Readonly<Record<string, number>>;
  readonly mediaFiles: number;
  readonly mediaBytes: number;
  /** Files the backup already lacked (missing or damaged when it was made). */
  readonly mediaAbsent: number;
}

const corrupt = (why: string) => new TiphubError('TIPHUB_BACKUP_CORRUPT', `the backup archive is damaged or altered: ${why}`);

/** Entries of a data directory that do not make it "in use": only the key file. */
function dataDirInUse(dataDir: string): string[] {
  if (!fs.existsSync(dataDir)) return [];
  return fs.readdirSync(dataDir).filter((e) => e !== KEY_FILE);
}

async function schemaTables(db: Db): Promise<number> {
  const { rows } = await db.query<{ n: number }>(`SELECT count(*)::int AS n FROM pg_class WHERE relnamespace = current_schema()::regnamespace AND relkind IN ('r', 'p', 'S', 'v', 'm')`);
  return rows[0]!.n;
}

/** Drops what a failed restore created in a schema that was empty before it. */
async function emptySchema(db: Db): Promise<void> {
  for (const t of await listTables(db)) await db.query(`DROP TABLE IF EXISTS ${ident(t.name)} CASCADE`);
  const { rows } = await db.query<{ f: string }>(`SELECT p.oid::regprocedure::text AS f FROM pg_proc p WHERE p.pronamespace = current_schema()::regnamespace AND p.proname LIKE 'tiphub\\_%'`);
  for (const r of rows) await db.query(`DROP FUNCTION IF EXISTS ${r.f} CASCADE`);
}

async function readAll(entry: AsyncIterable<Buffer>, max: number): Promise<Buffer> {
  const parts: Buffer[] = [];
  let n = 0;
  for await (const c of entry) {
    n += c.length;
    if (n > max) throw corrupt('an entry is larger than allowed');
    parts.push(c);
  }
  return Buffer.concat(parts);
}

function parseJson<T>(b: Buffer, what: string): T {
  try {
    return JSON.parse(b.toString('utf8')) as T;
  } catch {
    throw corrupt(`${what} is not readable`);
  }
}

/** Writes one media entry into the store, hashing it; false when it does not match its name. */
async function restoreMedia(store: MediaStore, sha256: string, entry: Readable, size: number): Promise<boolean> {
  const dest = store.pathOf(sha256);
  fs.mkdirSync(path.dirname(dest), { recursive: true, mode: 0o700 });
  const hash = createHash('sha256');
  let n = 0;
  const tmp = `${dest}.part`;
  await pipeline(
    entry,
    async function* (src: AsyncIterable<Buffer>) {
      for await (const c of src) {
        hash.update(c);
        n += c.length;
        yield c;
      }
    },
    fs.createWriteStream(tmp, { mode: 0o600, flags: 'wx' }),
  );
  if (n !== size || hash.digest('hex') !== sha256) {
    fs.rmSync(tmp, { force: true });
    return false;
  }
  fs.renameSync(tmp, dest);
  return true;
}

/** Loads one piece of a table's rows (JSONL of to_jsonb) through jsonb_populate_recordset. */
async function loadPiece(tx: Queryable, table: string, columns: readonly string[], body: Buffer): Promise<number> {
  const lines = body.toString('utf8').split('\n').filter(Boolean);
  const cols = columns.map(ident).join(', ');
  for (let i = 0; i < lines.length; i += INSERT_ROWS) {
    const batch = lines.slice(i, i + INSERT_ROWS);
    await tx.query(`INSERT INTO ${ident(table)} (${cols}) SELECT ${cols} FROM jsonb_populate_recordset(NULL::${ident(table)}, $1::jsonb)`, [`[${batch.join(',')}]`]);
  }
  return lines.length;
}


/**
 * The restored folder `work` takes the data directory's place. A data directory that does not exist
 * is the folder renamed; one that exists (holding only its key file, or a mount point, which cannot
 * be replaced) receives the folder's entries one by one and keeps its own key file. `keyFile` (the
 * secret given with --secret-file) is copied in when the data directory has none. When a move fails,
 * nothing is removed: what is not moved yet stays in `work`, and the error says where.
 */
export function placeRestored(work: string, dataDir: string, keyFile: string | null): void {
  try {
    if (keyFile && !fs.existsSync(path.join(dataDir, KEY_FILE))) fs.copyFileSync(keyFile, path.join(work, KEY_FILE), fs.constants.COPYFILE_EXCL);
    if (!fs.existsSync(dataDir)) {
      try {
        fs.renameSync(work, dataDir);
        return;
      } catch {
        fs.mkdirSync(dataDir, { mode: 0o700 });
      }
    }
    for (const name of fs.readdirSync(work)) {
      if (name === KEY_FILE && fs.existsSync(path.join(dataDir, KEY_FILE))) continue; // the data directory's own stays
      fs.renameSync(path.join(work, name), path.join(dataDir, name));
    }
    fs.rmSync(work, { recursive: true, force: true });
  } catch (err) {
    throw new TiphubError(
      'TIPHUB_BACKUP_PLACE_FAILED',
      `the case log is restored, but its files could not all be moved into ${dataDir} (${describeForeignError(err)}): what is left is in ${work}; move it there by hand`,
      { cause: err },
    );
  }
}

/**
 * Restores the archive read from `input` (opened with `secret`) into `target`. Refuses a data
 * directory in use and a PostgreSQL schema that holds tables, before reading anything.
 */
export async function restoreBackup(input: AsyncIterable<Buffer>, secret: ArchiveSecret, target: RestoreTarget): Promise<RestoreSummary> {
  const dataDir = path.resolve(target.dataDir);
  const inUse = dataDirInUse(dataDir);
  if (inUse.length) {
    throw new TiphubError('TIPHUB_BACKUP_TARGET_NOT_EMPTY', `the data directory ${dataDir} is not empty (${inUse.slice(0, 3).join(', ')}${inUse.length > 3 ? ', …' : ''}): restore into a new, empty one`);
  }
  if (target.keyFile && fs.existsSync(path.join(dataDir, KEY_FILE))) {
    throw new TiphubError('TIPHUB_BACKUP_TARGET_NOT_EMPTY', `the data directory ${dataDir} already has a key file: leave out --secret-file, or restore into a new, empty data directory`);
  }
  let db: Db | null = null;
  let pg: Db | null = null;
  if (target.databaseUrl) {
    pg = await openPostgres({ url: target.databaseUrl, max: 2 });
    const n = await schemaTables(pg).catch(async (err: unknown) => {
      await pg!.close();
      throw err;
    });
    if (n > 0) {
      await pg.close();
      throw new TiphubError('TIPHUB_BACKUP_TARGET_NOT_EMPTY', `the PostgreSQL schema already holds ${n} table(s) or sequence(s): restore into a new, empty schema`);
    }
  }
  fs.mkdirSync(path.dirname(dataDir), { recursive: true, mode: 0o700 });
  const work = path.join(path.dirname(dataDir), `.${path.basename(dataDir)}.restore-${randomBytes(4).toString('hex')}`);
  fs.mkdirSync(work, { mode: 0o700 });
  let committed = false;
  let extract: tar.Extract | null = null;
  let feeding: Promise<void> | null = null;
  try {
    extract = tar.extract();
    feeding = pipeline(Readable.from(decryptArchive(input, secret)), extract);
    feeding.catch(() => undefined); // awaited after the entries
    // The tar reader does not always pass an error of its input on to a reader waiting for it:
    // every wait below also ends when the envelope fails (a wrong key, a truncated file).
    const failed = new Promise<never>((_, reject) => feeding!.catch(reject));
    failed.catch(() => undefined);
    const race = <T>(p: Promise<T>) => Promise.race([p, failed]);
    const entries = (extract as unknown as AsyncIterable<Readable & { header: tar.Header }>)[Symbol.asyncIterator]();

    const first = await race(entries.next());
    if (first.done || first.value.header.name !== 'backup.json') {
      await feeding; // a key or envelope error is the one to report
      throw corrupt('it does not begin with backup.json');
    }
    const head = parseJson<BackupHead>(await race(readAll(first.value, 16 << 20)), 'backup.json');
    const latest = migrations[migrations.length - 1]!.id;
    if (head.format !== BACKUP_FORMAT || head.schemaVersion > latest) {
      throw new TiphubError('TIPHUB_BACKUP_VERSION', `the backup is of schema version ${head.schemaVersion} (format ${head.format}); this tiphub knows up to ${latest} (format ${BACKUP_FORMAT}): restore it with the version that made it, or a newer one`);
    }
    // Opened once the archive's key and head checked out (opening PGlite takes seconds).
    db = pg ?? (await openPglite(path.join(work, 'caselog')));
    // The schema as it was when the backup was made; later migrations run when it is opened.
    // No migration touches a row of an empty case log, so the keys given here are never used.
    await migrate(db, { keyring: async () => new Keyring(randomBytes(32)) }, { upTo: head.schemaVersion });
    const here = new Map((await listTables(db)).map((t) => [t.name, new Set(t.columns)]));
    const store = new MediaStore(path.join(work, 'media'));
    const loaded: Record<string, number> = {};
    const restoredMedia = new Map<string, number>();
    const rejectedMedia = new Set<string>();
    let manifest: BackupManifest | null = null;

    await db.transaction(async (tx) => {
      // Rows go in table by table: foreign keys are set aside and added again (and so checked) at the end.
      const { rows: fks } = await tx.query<{ tbl: string; name: string; def: string }>(
        `SELECT conrelid::regclass::text AS tbl, conname::text AS name, pg_get_constraintdef(oid) AS def FROM pg_constraint WHERE contype = 'f' AND connamespace = current_schema()::regnamespace ORDER BY conname`,
      );
      for (const f of fks) await tx.query(`ALTER TABLE ${f.tbl} DROP CONSTRAINT ${ident(f.name)}`);
      for (const t of head.tables) {
        if (!here.has(t.name)) throw corrupt(`it names a table (${t.name.slice(0, 40)}) the schema does not have`);
        await tx.query(`DELETE FROM ${ident(t.name)}`); // what the migrations above wrote (schema_migrations, meta)
        loaded[t.name] = 0;
      }
      const columnsOf = new Map(head.tables.map((t) => [t.name, t.columns.filter((c) => here.get(t.name)!.has(c))]));
      for (;;) {
        const next = await race(entries.next());
        if (next.done) break;
        const e = next.value;
        const name = e.header.name;
        if (manifest) throw corrupt('entries follow its manifest');
        const db_ = /^db\/([a-z_][a-z0-9_]*)\/\d{6}\.jsonl$/.exec(name);
        const media = /^media\/([0-9a-f]{64})$/.exec(name);
        if (db_) {
          const cols = columnsOf.get(db_[1]!);
          if (!cols) throw corrupt('it holds rows of a table its head does not name');
          loaded[db_[1]!]! += await loadPiece(tx, db_[1]!, cols, await race(readAll(e, 64 << 20)));
        } else if (media && SHA256_RE.test(media[1]!)) {
          const size = e.header.size ?? 0;
          if (await race(restoreMedia(store, media[1]!, e, size))) restoredMedia.set(media[1]!, size);
          else rejectedMedia.add(media[1]!);
        } else if (name === 'manifest.json') {
          manifest = parseJson<BackupManifest>(await race(readAll(e, 256 << 20)), 'manifest.json');
        } else {
          throw corrupt('it holds an entry of an unknown kind');
        }
      }
      await feeding; // the last chunk authenticated, nothing after it
      const m = manifest as BackupManifest | null;
      if (!m) throw corrupt('its manifest is missing');
      for (const [t, n] of Object.entries(m.rows)) if (loaded[t] !== n) throw corrupt(`table ${t.slice(0, 40)} has ${loaded[t] ?? 0} rows, its manifest says ${n}`);
      const want = new Set(m.media.files.map((f) => f.sha256));
      if (m.media.files.some((f) => restoredMedia.get(f.sha256) !== f.size) || restoredMedia.size !== want.size) throw corrupt('its media files differ from its manifest');
      if ([...rejectedMedia].some((s) => !m.media.damaged.includes(s))) throw corrupt('a media file does not match its sha256');
      const seqs = new Set(await listSequences(tx));
      for (const s of m.sequences) {
        if (seqs.has(s.name)) await tx.query(`SELECT setval($1::regclass, $2, $3)`, [ident(s.name), s.lastValue, s.isCalled]);
      }
      for (const f of fks) await tx.query(`ALTER TABLE ${f.tbl} ADD CONSTRAINT ${ident(f.name)} ${f.def}`);
      // A restored log is a new lineage: the outbox and alert job ids are made of the instance and
      // a row id its sequences hand out again, and Redis may still keep the jobs the original made
      // after the backup (BullMQ would silently ignore a reply or an alert with such an id).
      await tx.query(`INSERT INTO meta (key, value) VALUES ('instance', $1) ON CONFLICT (key) DO UPDATE SET value = EXCLUDED.value`, [randomBytes(6).toString('hex')]);
    });
    const m = manifest as unknown as BackupManifest;
    await db.close();
    db = null;
    committed = true;

    placeRestored(work, dataDir, target.keyFile ?? null);
    return {
      schemaVersion: head.schemaVersion,
      createdAt: head.createdAt,
      rows: loaded,
      mediaFiles: restoredMedia.size,
      mediaBytes: [...restoredMedia.values()].reduce((a, b) => a + b, 0),
      mediaAbsent: m.media.missing.length + m.media.damaged.length,
    };
  } catch (err) {
    // The envelope's own error (a wrong key, a truncated file) is the one to report, not the
    // premature end it caused in the tar reader.
    extract?.destroy();
    const envelope = feeding ? await feeding.then(() => null, (e: unknown) => e) : null;
    if (db && db !== pg) await db.close().catch(() => undefined);
    if (pg && !committed) await emptySchema(pg).catch(() => undefined);
    // Once committed, the folder holds the only copy of the restored media (and, on PGlite, the case log).
    if (committed) throw err;
    fs.rmSync(work, { recursive: true, force: true });
    throw envelope instanceof TiphubError && !(err instanceof TiphubError && err.code !== 'TIPHUB_BACKUP_CORRUPT') ? envelope : err;
  } finally {
    if (pg) await pg.close().catch(() => undefined);
  }
}
