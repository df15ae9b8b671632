/**
 * Writing a backup: the case log's tables read in one REPEATABLE READ, read-only transaction (one
 * snapshot, while workers go on writing), then the media files that snapshot names. Media are
 * stored before the row that names them commits, so every file the snapshot names is already in
 * the store; files added later are simply not in this backup. Each file is hashed as it is copied
 * and checked against its name and recorded size.
 */
import * as fs from 'node:fs';
import { createHash } from 'node:crypto';
import { once } from 'node:events';
import { Transform, Writable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import * as tar from 'tar-stream';
import type { Db } from '../caselog/db';
import { MediaStore } from '../media/store';
import { BACKUP_FORMAT, ident, listSequences, listTables, mediaEntryName, SHA256_RE, type BackupHead, type BackupManifest, type MediaEntry } from './archive';
import { encryptStream, newArchiveKey, type ArchiveSecret } from './format';
import { describeForeignError, isTiphubError, TiphubError } from '../errors';

/** Rows per FETCH, and the size a db/<table>/<n>.jsonl piece grows to before it is written. */
const FETCH_ROWS = 1000;
const PIECE_BYTES = 4 << 20;
/** The largest piece of the archive handed to a sink at once (one control-socket line carries one). */
const SINK_CHUNK_BYTES = 256 << 10;

/** Where the archive's bytes go, piece by piece; the next piece waits until this one is taken. */
export type ArchiveSink = (chunk: Buffer) => Promise<void>;

export interface BackupSummary {
  readonly schemaVersion: number;
  readonly rows: Readonly<Record<string, number>>;
  readonly mediaFiles: number;
  readonly mediaBytes: number;
  readonly missing: number;
  readonly damaged: number;
}

function addEntry(pack: tar.Pack, name: string, body: Buffer): Promise<void> {
  return new Promise((resolve, reject) => pack.entry({ name, size: body.length, mode: 0o600 }, body, (err) => (err ? reject(err) : resolve())));
}

/** Copies one media file into the archive, hashing it; 'missing' or 'damaged' when it cannot stand for its row. */
async function addMedia(pack: tar.Pack, store: MediaStore, m: MediaEntry): Promise<'ok' | 'missing' | 'damaged'> {
  let fd: number;
  try {
    fd = fs.openSync(store.pathOf(m.sha256), fs.constants.O_RDONLY | fs.constants.O_NOFOLLOW);
  } catch {
    return 'missing';
  }
  const st = fs.fstatSync(fd);
  if (!st.isFile() || st.size !== m.size) {
    fs.closeSync(fd);
    return 'damaged';
  }
  const hash = createHash('sha256');
  const meter = new Transform({
    transform(chunk: Buffer, _enc, cb) {
      hash.update(chunk);
      cb(null, chunk);
    },
  });
  const entry = pack.entry({ name: mediaEntryName(m.sha256), size: m.size, mode: 0o600 });
  // A file whose bytes no longer match its name is still written (the entry's size is fixed):
  // the manifest marks it damaged and the restore leaves it out.
  await pipeline(fs.createReadStream('', { fd, autoClose: true, end: m.size - 1 }), meter, entry);
  return hash.digest('hex') === m.sha256 ? 'ok' : 'damaged';
}

/**
 * Encrypts under `secret` into `out` what `produce` writes: the archive's plain tar, made here
 * (writeBackupTar) or by the running hub that holds the embedded case log (its control socket).
 */
export async function sealBackup(secret: ArchiveSecret, out: Writable, produce: (sink: ArchiveSink) => Promise<BackupSummary>): Promise<BackupSummary> {
  const enc = encryptStream(await newArchiveKey(secret));
  const sealed = pipeline(enc, out);
  // The output's own failure (disk full, a closed pipe) says more than the broken write it causes.
  let outErr: unknown = null;
  sealed.catch((e: unknown) => (outErr ??= e));
  const writeFailed = (err: unknown) =>
    new TiphubError('TIPHUB_BACKUP_WRITE_FAILED', `the archive could not be written (${err ? describeForeignError(err) : 'its output closed'})`, { cause: err ?? undefined });
  const sink: ArchiveSink = async (chunk) => {
    if (enc.destroyed) throw writeFailed(outErr);
    if (!enc.write(chunk)) await once(enc, 'drain');
  };
  let summary: BackupSummary;
  try {
    summary = await produce(sink);
  } catch (err) {
    const cause = outErr;
    enc.destroy();
    await sealed.catch(() => undefined);
    throw cause && (!isTiphubError(err) || err.code === 'TIPHUB_BACKUP_WRITE_FAILED') ? writeFailed(cause) : err;
  }
  enc.end();
  await sealed.catch((err: unknown) => {
    throw writeFailed(err);
  });
  return summary;
}

/**
 * Writes the archive's plain tar of the case log `db` and the media store under `mediaRoot` to
 * `sink`. Nothing is kept in memory beyond one piece of rows or one chunk.
 */
export async function writeBackupTar(db: Db, mediaRoot: string, sink: ArchiveSink): Promise<BackupSummary> {
  const pack = tar.pack();
  const out = new Writable({
    write(chunk: Buffer, _enc, cb) {
      void (async () => {
        for (let at = 0; at < chunk.length; at += SINK_CHUNK_BYTES) await sink(chunk.subarray(at, at + SINK_CHUNK_BYTES));
      })().then(() => cb(), cb);
    },
  });
  const sealed = pipeline(pack, out);
  // A failing sink fails the writes into the pack ("tar entry destroyed"): its own error is the one to tell.
  let sinkErr: unknown = null;
  sealed.catch((e: unknown) => (sinkErr ??= e));
  try {
    return await packInto(db, mediaRoot, pack, sealed);
  } catch (err) {
    pack.destroy();
    throw sinkErr ?? err;
  }
}

async function packInto(db: Db, mediaRoot: string, pack: tar.Pack, sealed: Promise<void>): Promise<BackupSummary> {
  const createdAt = new Date().toISOString();
  const rows: Record<string, number> = {};
  const snapshot = await db.transaction(async (tx) => {
    if (db.backend === 'postgres') await tx.query('SET TRANSACTION ISOLATION LEVEL REPEATABLE READ, READ ONLY');
    const tables = await listTables(tx);
    const { rows: v } = await tx.query<{ v: number | null }>('SELECT max(id) AS v FROM schema_migrations');
    const head: BackupHead = { format: BACKUP_FORMAT, createdAt, backend: db.backend, schemaVersion: Number(v[0]?.v ?? 0), tables };
    await addEntry(pack, 'backup.json', Buffer.from(JSON.stringify(head)));
    for (const t of tables) {
      let count = 0;
      let piece: string[] = [];
      let pieceBytes = 0;
      let n = 0;
      const flush = async () => {
        if (!piece.length) return;
        await addEntry(pack, `db/${t.name}/${String(++n).padStart(6, '0')}.jsonl`, Buffer.from(piece.join('\n') + '\n'));
        piece = [];
        pieceBytes = 0;
      };
      await tx.query(`DECLARE tiphub_backup NO SCROLL CURSOR FOR SELECT to_jsonb(t)::text AS j FROM ${ident(t.name)} t`);
      for (;;) {
        const { rows: batch } = await tx.query<{ j: string }>(`FETCH ${FETCH_ROWS} FROM tiphub_backup`);
        for (const r of batch) {
          piece.push(r.j);
          pieceBytes += r.j.length;
          if (pieceBytes >= PIECE_BYTES) await flush();
        }
        count += batch.length;
        if (batch.length < FETCH_ROWS) break;
      }
      await tx.query('CLOSE tiphub_backup');
      await flush();
      rows[t.name] = count;
    }
    const sequences = [];
    for (const s of await listSequences(tx)) {
      const { rows: sv } = await tx.query<{ last_value: string | number; is_called: boolean }>(`SELECT last_value, is_called FROM ${ident(s)}`);
      sequences.push({ name: s, lastValue: Number(sv[0]!.last_value), isCalled: sv[0]!.is_called });
    }
    const media = tables.some((t) => t.name === 'media')
      ? (await tx.query<{ sha256: string; size: string | number }>('SELECT sha256, size FROM media ORDER BY sha256')).rows.map((m) => ({ sha256: m.sha256, size: Number(m.size) }))
      : [];
    return { schemaVersion: head.schemaVersion, sequences, media };
  });

  const store = new MediaStore(mediaRoot);
  const files: MediaEntry[] = [];
  const missing: string[] = [];
  const damaged: string[] = [];
  for (const m of snapshot.media) {
    const r = SHA256_RE.test(m.sha256) ? await addMedia(pack, store, m) : 'damaged';
    if (r === 'ok') files.push(m);
    else (r === 'missing' ? missing : damaged).push(m.sha256);
  }
  const manifest: BackupManifest = { format: BACKUP_FORMAT, createdAt, schemaVersion: snapshot.schemaVersion, rows, sequences: snapshot.sequences, media: { files, missing, damaged } };
  await addEntry(pack, 'manifest.json', Buffer.from(JSON.stringify(manifest)));
  pack.finalize();
  await sealed;
  return {
    schemaVersion: snapshot.schemaVersion,
    rows,
    mediaFiles: files.length,
    mediaBytes: files.reduce((a, f) => a + f.size, 0),
    missing: missing.length,
    damaged: damaged.length,
  };
}
