/**
 * The media store: content-addressed files under `<dataDir>/media/ab/cd/<sha256>`. Bytes are
 * streamed through sha256 into a temporary file with a size cap, then renamed into place, so a
 * file in the store is always whole and named by its content.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { createHash, randomUUID } from 'node:crypto';
import { Transform, type Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { TiphubError } from '../errors';
import { sniffMime } from './sniff';

export interface StoredMedia {
  readonly sha256: string;
  readonly size: number;
  readonly mime: string | null;
  readonly path: string;
}

export class MediaStore {
  constructor(readonly root: string) {}

  pathOf(sha256: string): string {
    return path.join(this.root, sha256.slice(0, 2), sha256.slice(2, 4), sha256);
  }

  async put(source: Readable, maxBytes: number): Promise<StoredMedia> {
    const tmpDir = path.join(this.root, 'tmp');
    fs.mkdirSync(tmpDir, { recursive: true, mode: 0o700 });
    const tmp = path.join(tmpDir, randomUUID());
    const hash = createHash('sha256');
    let size = 0;
    let head = Buffer.alloc(0);
    const meter = new Transform({
      transform(chunk: Buffer, _enc, cb) {
        size += chunk.length;
        if (size > maxBytes) return cb(new TiphubError('TIPHUB_MEDIA_TOO_LARGE', `media larger than the limit of ${maxBytes} bytes`));
        if (head.length < 64) head = Buffer.concat([head, chunk.subarray(0, 64 - head.length)]);
        hash.update(chunk);
        cb(null, chunk);
      },
    });
    try {
      await pipeline(source, meter, fs.createWriteStream(tmp, { mode: 0o600 }));
    } catch (err) {
      fs.rmSync(tmp, { force: true });
      throw err;
    }
    const sha256 = hash.digest('hex');
    const dest = this.pathOf(sha256);
    fs.mkdirSync(path.dirname(dest), { recursive: true, mode: 0o700 });
    if (fs.existsSync(dest)) fs.rmSync(tmp, { force: true });
    else fs.renameSync(tmp, dest);
    return { sha256, size, mime: sniffMime(head), path: dest };
  }

  async putFile(file: string, maxBytes: number): Promise<StoredMedia> {
    let st: fs.Stats;
    try {
      st = fs.statSync(file);
    } catch {
      throw new TiphubError('TIPHUB_MEDIA_UNREADABLE', 'media file does not exist');
    }
    if (!st.isFile()) throw new TiphubError('TIPHUB_MEDIA_UNREADABLE', 'media path is not a file');
    if (st.size > maxBytes) throw new TiphubError('TIPHUB_MEDIA_TOO_LARGE', `media larger than the limit of ${maxBytes} bytes`);
    return this.put(fs.createReadStream(file), maxBytes);
  }
}
