/**
 * `tiphub keys rotate`: a new secret for the case log, every sealed value re-sealed under a new
 * key (see src/caselog/rotate.ts). With the key file, the new secret is made here and kept in
 * `secret.key.next` until the rotation is done; then it becomes `secret.key` and the old one is
 * kept beside it as `secret.key.old-<time>` (it opens backups made before). With TIPHUB_SECRET,
 * the new secret comes from a file the operator made, and the operator sets it afterwards.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import type { Config } from '../../src/config';
import { isTiphubError, TiphubError } from '../../src/errors';
import type { Logger } from '../../src/log';
import { openCaseLogAccess } from '../hub/access';
import { rotateKeys, type RotationProgress } from '../../src/caselog/rotate';
import { keyFilePath, nextKeyFilePath, readSecretFile, writeNewSecretFile } from '../../src/crypto/secret-file';
import { progress, type ProgressStream } from './output';

export interface RotateIo {
  readonly out: NodeJS.WritableStream;
  /** Progress goes here when it is a terminal. */
  readonly err: ProgressStream;
}

function stamp(): string {
  return new Date().toISOString().replace(/[-:]/g, '').replace(/\.\d+Z$/, 'Z');
}

/** Puts the new key file in place, keeping the old one beside it. */
function swapKeyFiles(dataDir: string): string {
  const old = `${keyFilePath(dataDir)}.old-${stamp()}`;
  fs.renameSync(keyFilePath(dataDir), old);
  fs.renameSync(nextKeyFilePath(dataDir), keyFilePath(dataDir));
  const dir = fs.openSync(dataDir, 'r');
  try {
    fs.fsyncSync(dir);
  } finally {
    fs.closeSync(dir);
  }
  return old;
}

/** One bar per sealed column, on a terminal only. */
function progressPrinter(err: RotateIo['err']): { onProgress?: (p: RotationProgress) => void; stop(): void } {
  let column: string | null = null;
  let bar: ReturnType<typeof progress> = null;
  return {
    onProgress: err.isTTY
      ? (p) => {
          if (p.column !== column) {
            bar?.stop();
            column = p.column;
            bar = p.total > 0 ? progress(err, 'keys rotate', { total: p.total, what: p.column }) : null;
          }
          bar?.update(p.done, p.total);
        }
      : undefined,
    stop: () => bar?.stop(),
  };
}

export async function runKeysRotate(cfg: Readonly<Config>, log: Logger, opts: { newSecretFile?: string }, io: RotateIo): Promise<void> {
  const fromEnv = cfg.secret !== null && cfg.secret !== undefined;
  const nextFile = nextKeyFilePath(cfg.dataDir);
  let newSecret: string;
  if (opts.newSecretFile) {
    const s = readSecretFile(path.resolve(opts.newSecretFile));
    if (!s) throw new TiphubError('TIPHUB_CONFIG_INVALID', `${opts.newSecretFile} does not exist`);
    newSecret = s;
    if (!fromEnv) {
      const pending = readSecretFile(nextFile);
      if (pending !== null && pending !== s) throw new TiphubError('TIPHUB_CONFIG_INVALID', `a rotation to another secret is in progress (${nextFile}): finish it first`);
      if (pending === null) fs.writeFileSync(nextFile, s + '\n', { mode: 0o600, flag: 'wx' });
    }
  } else if (fromEnv) {
    throw new TiphubError(
      'TIPHUB_CONFIG_INVALID',
      'TIPHUB_SECRET is set: write the new secret (64 hex digits, e.g. `openssl rand -hex 32`) to a file only you can read and pass --new-secret-file FILE',
    );
  } else {
    const pending = readSecretFile(nextFile);
    newSecret = pending ?? writeNewSecretFile(nextFile);
  }

  let access;
  try {
    access = await openCaseLogAccess(cfg, log, { role: 'keys rotate', allowHub: false, exclusive: true });
  } catch (err) {
    // Interrupted after the case log took the new secret, before the key file moved: finish that.
    if (!fromEnv && isTiphubError(err, 'TIPHUB_SECRET_MISMATCH') && fs.existsSync(nextFile)) {
      const probe = await openCaseLogAccess({ ...cfg, secret: newSecret }, log, { role: 'keys rotate', allowHub: false, exclusive: true });
      await probe.close();
      const old = swapKeyFiles(cfg.dataDir);
      io.out.write(`keys rotate: finished an interrupted rotation: ${keyFilePath(cfg.dataDir)} holds the new secret; the old one is ${old}\n`);
      return;
    }
    throw err;
  }
  let summary;
  const shown = progressPrinter(io.err);
  try {
    summary = await rotateKeys(access.local!.db, access.keyring, newSecret, { onProgress: shown.onProgress });
  } finally {
    shown.stop();
    await access.close();
  }
  const n = Object.values(summary.resealed).reduce((a, b) => a + b, 0);
  const bad = Object.entries(summary.unreadable).filter(([, v]) => v > 0);
  io.out.write(`keys rotate: ${summary.started ? 'done' : 'resumed and done'}: ${n} sealed value(s) re-sealed under key ${summary.keyId}; pseudonyms unchanged\n`);
  if (bad.length) io.out.write(`keys rotate: left as they were, no key opens them: ${bad.map(([k, v]) => `${v} in ${k}`).join(', ')}\n`);
  if (fromEnv) {
    io.out.write(`keys rotate: the case log now opens only with the new secret: set TIPHUB_SECRET to the contents of ${opts.newSecretFile} wherever tiphub runs, then start it\n`);
  } else {
    const old = swapKeyFiles(cfg.dataDir);
    io.out.write(`keys rotate: ${keyFilePath(cfg.dataDir)} holds the new secret; the old one is ${old} (it opens backups made before: move it offline)\n`);
  }
}
