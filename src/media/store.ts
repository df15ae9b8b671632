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

  /** Unlinks a stored file (retention); false when it was not there. */
  remove(sha256: string): boolean {
    if (!/^[0-9a-f]{64}$/.test(sha256)) return false;
    try {
      fs.unlinkSync(this.pathOf(sha256));
      return true;
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'ENOENT') return false;
      throw err;
    }
  }

  /**
   * Stores a stream. A failure to write on our side (the media folder replaced by a file, a full
   * or read-only disk) is TIPHUB_MEDIA_STORE_FAILED, retryable: the media is fetched again later,
   * never marked missing for it.
   */
  async put(source: Readable, maxBytes: number): Promise<StoredMedia> {
    const tmpDir = path.join(this.root, 'tmp');
    ours(() => fs.mkdirSync(tmpDir, { recursive: true, mode: 0o700 }));
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
    const out = fs.createWriteStream(tmp, { mode: 0o600 });
    let outFailed: unknown = null;
    out.once('error', (e) => (outFailed ??= e));
    try {
      await pipeline(source, meter, out);
    } catch (err) {
      fs.rmSync(tmp, { force: true });
      throw err === outFailed ? storeFailed(err) : err;
    }
    const sha256 = hash.digest('hex');
    const dest = this.pathOf(sha256);
    ours(() => {
      fs.mkdirSync(path.dirname(dest), { recursive: true, mode: 0o700 });
      if (fs.existsSync(dest)) fs.rmSync(tmp, { force: true });
      else fs.renameSync(tmp, dest);
    });
    return { sha256, size, mime: sniffMime(head), path: dest };
  }

  /**
   * Copies a local file into the store. With `confineTo`, only a regular file whose real path
   * (symlinks resolved) lies inside that folder is taken: a message must not be able to name
   * /proc/self/environ, a key file or a symlink pointing out of the import folder.
   */
  async putFile(file: string, maxBytes: number, opts: { confineTo?: string } = {}): Promise<StoredMedia> {
    const target = opts.confineTo ? confinedPath(file, opts.confineTo) : file;
    let fd: number;
    try {
      // O_NOFOLLOW: the checked path cannot be swapped for a symlink before it is opened;
      // O_NONBLOCK: a FIFO does not hang the import before it is refused below.
      fd = fs.openSync(target, fs.constants.O_RDONLY | fs.constants.O_NONBLOCK | (opts.confineTo ? fs.constants.O_NOFOLLOW : 0));
    } catch (err) {
      const code = (err as NodeJS.ErrnoException).code;
      if (code === 'ENOENT' || code === 'ENOTDIR') throw new TiphubError('TIPHUB_MEDIA_UNREADABLE', 'media file does not exist');
      if (code === 'ELOOP') throw new TiphubError('TIPHUB_MEDIA_UNREADABLE', 'media path is a symbolic link that leads outside the folder of the input file');
      throw new TiphubError('TIPHUB_MEDIA_UNREADABLE', `media file cannot be opened (${code ?? 'error'})`);
    }
    let handedOver = false;
    try {
      const st = fs.fstatSync(fd);
      if (!st.isFile()) throw new TiphubError('TIPHUB_MEDIA_UNREADABLE', opts.confineTo ? 'media path is not a regular file' : 'media path is not a file');
      if (opts.confineTo) {
        // The folders above may have changed between the check and the open: check again.
        const again = confinedPath(file, opts.confineTo);
        const now = fs.statSync(again);
        if (now.dev !== st.dev || now.ino !== st.ino) throw new TiphubError('TIPHUB_MEDIA_UNREADABLE', 'media file changed while it was being opened', { retryable: true });
      }
      if (st.size > maxBytes) throw new TiphubError('TIPHUB_MEDIA_TOO_LARGE', `media larger than the limit of ${maxBytes} bytes`);
      handedOver = true;
      return await this.put(fs.createReadStream('', { fd, autoClose: true }), maxBytes);
    } finally {
      if (!handedOver) fs.closeSync(fd);
    }
  }
}

function storeFailed(err: unknown): TiphubError {
  const code = (err as NodeJS.ErrnoException)?.code;
  return new TiphubError('TIPHUB_MEDIA_STORE_FAILED', `the media store cannot be written (${code ?? 'error'})`, { cause: err });
}

/** A step writing to the store: its failure is ours, not the media's. */
function ours<T>(fn: () => T): T {
  try {
    return fn();
  } catch (err) {
    throw storeFailed(err);
  }
}

/**
 * The real path of `file` when it lies inside `dir` (both with symlinks resolved), else a refusal
 * that names no path (the path comes from the input file).
 */
export function confinedPath(file: string, dir: string): string {
  const base = fs.realpathSync(dir);
  const inside = (p: string, root: string) => p.startsWith(root.endsWith(path.sep) ? root : root + path.sep);
  const lexical = path.resolve(dir, file);
  if (!inside(lexical, path.resolve(dir)) && !inside(lexical, base)) {
    throw new TiphubError('TIPHUB_MEDIA_UNREADABLE', 'media path leads outside the folder of the input file');
  }
  let real: string;
  try {
    real = fs.realpathSync(lexical);
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    if (code === 'ENOENT' || code === 'ENOTDIR') throw new TiphubError('TIPHUB_MEDIA_UNREADABLE', 'media file does not exist');
    if (code === 'ELOOP') throw new TiphubError('TIPHUB_MEDIA_UNREADABLE', 'media path is a symbolic link loop');
    throw new TiphubError('TIPHUB_MEDIA_UNREADABLE', `media file cannot be opened (${code ?? 'error'})`);
  }
  if (!inside(real, base)) throw new TiphubError('TIPHUB_MEDIA_UNREADABLE', 'media path is a symbolic link that leads outside the folder of the input file');
  return real;
}
