/**
 * Writing a backup: the case log's tables read in one REPEATABLE READ, read-only transaction (one
 * snapshot, while workers go on writing), then the media files that snapshot names. Media are
 * stored before the row that names them commits, so every file the snapshot names is already in
 * the store; files added later are simply not in this backup. Each file is hashed as it is copied
 * and checked against its name and recorded size.
 */
import * as fs from 'node:fs';
import { createHash } from 'node:crypto';
import { Transform, type Writable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import * as tar from 'tar-stream';
import type { Db } from '../caselog/db';
import { MediaStore } from '../media/store';
import { BACKUP_FORMAT, ident, listSequences, listTables, mediaEntryName, SHA256_RE, type BackupHead, type BackupManifest, type MediaEntry } from './archive';
import { encryptStream, newArchiveKey, type ArchiveSecret } from './format';

/** Rows per FETCH, and the size a db/<table>/<n>.jsonl piece grows to before it is written. */
const FETCH_ROWS = 1000;
const PIECE_BYTES = 4 << 20;

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
 * Writes the archive of the case log `db` and the media store under `mediaRoot` to `out`,
 * encrypted under `secret`. Nothing is kept in memory beyond one piece of rows or one chunk.
 */
export async function writeBackup(db: Db, mediaRoot: string, secret: ArchiveSecret, out: Writable): Promise<BackupSummary> {
  const pack = tar.pack();
  const sealed = pipeline(pack, encryptStream(await newArchiveKey(secret)), out);
  sealed.catch(() => undefined); // awaited below; a failure also fails the writes above it
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
