/**
 * How much disk the data directory takes and how much its filesystem has left, for `tiphub
 * status` and the metrics (a disk filling up stops the case log and the media store alike). The
 * size is what the files occupy on disk (allocated blocks), summed over the whole tree; a file
 * that disappears during the walk (a temporary file of the embedded database) is skipped.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';

export interface DiskUsage {
  /** Bytes the data directory's files occupy. */
  readonly dataDirBytes: number;
  /** Bytes free for an unprivileged process on its filesystem. */
  readonly freeBytes: number;
  /** The filesystem's size in bytes. */
  readonly totalBytes: number;
}

/** Below either, the disk needs a person: 5 % of the filesystem, or 1 GiB. */
export const LOW_DISK = { fraction: 0.05, bytes: 1024 ** 3 } as const;

export function diskIsLow(d: Pick<DiskUsage, 'freeBytes' | 'totalBytes'>): boolean {
  return d.freeBytes < LOW_DISK.bytes || d.freeBytes < LOW_DISK.fraction * d.totalBytes;
}

async function treeBytes(dir: string): Promise<number> {
  let entries: fs.Dirent[];
  try {
    entries = await fs.promises.readdir(dir, { withFileTypes: true });
  } catch {
    return 0;
  }
  let sum = 0;
  for (const e of entries) {
    const p = path.join(dir, e.name);
    if (e.isDirectory()) sum += await treeBytes(p);
    else {
      try {
        const st = await fs.promises.lstat(p);
        sum += st.blocks !== undefined ? st.blocks * 512 : st.size;
      } catch {
        /* gone meanwhile */
      }
    }
  }
  return sum;
}

export async function diskUsage(dir: string): Promise<DiskUsage> {
  const [bytes, fsStat] = await Promise.all([treeBytes(dir), fs.promises.statfs(dir)]);
  return { dataDirBytes: bytes, freeBytes: fsStat.bavail * fsStat.bsize, totalBytes: fsStat.blocks * fsStat.bsize };
}
