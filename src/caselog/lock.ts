/**
 * PGlite is single-process: two processes opening one folder corrupt it (electric-sql/pglite#1106).
 * A lock file beside the folder says which process holds it; a lock whose process is gone is stale.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';

export interface LockInfo {
  readonly pid: number;
  readonly role: string;
  readonly since: string;
}

export interface HeldLock {
  readonly file: string;
  release(): void;
}

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
}

export function lockFile(dataDir: string): string {
  return path.join(dataDir, 'caselog.lock');
}

export function readLock(dataDir: string): LockInfo | null {
  try {
    const info = JSON.parse(fs.readFileSync(lockFile(dataDir), 'utf8')) as LockInfo;
    return typeof info.pid === 'number' ? info : null;
  } catch {
    return null;
  }
}

/**
 * The data directory holds the case log, media and keys: a folder made by an older version (or
 * under a loose umask) is closed to group and others, which closes everything inside it too.
 * Only a folder of our own is changed.
 */
function closeToOthers(dataDir: string): void {
  const st = fs.statSync(dataDir);
  if ((st.mode & 0o077) !== 0 && st.uid === process.getuid?.()) fs.chmodSync(dataDir, st.mode & 0o700);
}

/** Takes the lock, or returns who holds it. */
export function tryLock(dataDir: string, role: string): HeldLock | LockInfo {
  fs.mkdirSync(dataDir, { recursive: true, mode: 0o700 });
  closeToOthers(dataDir);
  const file = lockFile(dataDir);
  for (let attempt = 0; attempt < 3; attempt++) {
    try {
      const fd = fs.openSync(file, 'wx', 0o600);
      fs.writeSync(fd, JSON.stringify({ pid: process.pid, role, since: new Date().toISOString() }));
      fs.closeSync(fd);
      let released = false;
      const release = () => {
        if (released) return;
        released = true;
        process.removeListener('exit', release);
        const held = readLock(dataDir);
        if (held?.pid === process.pid) fs.rmSync(file, { force: true });
      };
      process.on('exit', release);
      return { file, release };
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err;
      const info = readLock(dataDir);
      if (info && alive(info.pid) && info.pid !== process.pid) return info;
      if (info && info.pid === process.pid) return info;
      // Stale (its process is gone) or half-written: remove it and try again.
      if (!info) {
        const age = Date.now() - fs.statSync(file).mtimeMs;
        if (age < 2000) return { pid: 0, role: 'starting', since: new Date().toISOString() };
      }
      fs.rmSync(file, { force: true });
    }
  }
  return readLock(dataDir) ?? { pid: 0, role: 'unknown', since: new Date().toISOString() };
}

export function isHeld(l: HeldLock | LockInfo): l is HeldLock {
  return typeof (l as HeldLock).release === 'function';
}
