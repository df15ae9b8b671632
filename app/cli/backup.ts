/**
 * `tiphub backup FILE` and `tiphub restore FILE`: one encrypted archive of the case log and the
 * media store (src/backup/*). Under a key derived from the hub secret by default, so a nightly
 * job needs nothing typed; with `--passphrase`, under a passphrase read from standard input.
 *
 * The case log is read in one snapshot while the workers go on: on PostgreSQL directly; on the
 * embedded case log by this process when no hub runs, else by the running hub, which streams the
 * archive's plain tar over its control socket. It is encrypted here, so the secret or passphrase
 * never reaches the hub.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { randomBytes } from 'node:crypto';
import type { Command } from 'commander';
import type { Config } from '../../src/config';
import { TiphubError } from '../../src/errors';
import type { Logger } from '../../src/log';
import { openCaseLogAccess } from '../hub/access';
import { configuredSecret } from '../../src/caselog/open';
import { formatVerify } from '../../src/caselog/verify';
import { readSecretFile } from '../../src/crypto/secret-file';
import { PASSPHRASE_MIN_CHARS, type ArchiveSecret } from '../../src/backup/format';
import { sealBackup, type ArchiveSink, type BackupSummary } from '../../src/backup/write';
import { restoreBackup, type RestoreSummary } from '../../src/backup/restore';

type Input = NodeJS.ReadableStream & { isTTY?: boolean; setRawMode?: (raw: boolean) => unknown };

/** One line typed at the terminal without echo. */
function promptHidden(input: Input, err: NodeJS.WritableStream, question: string): Promise<string> {
  err.write(question);
  return new Promise((resolve, reject) => {
    let text = '';
    input.setRawMode?.(true);
    input.resume();
    const onData = (b: Buffer) => {
      for (const ch of b.toString('utf8')) {
        if (ch === '\r' || ch === '\n') return finish(null);
        if (ch === '\u0003') return finish(new TiphubError('TIPHUB_CONFIG_INVALID', 'no passphrase given (interrupted)'));
        if (ch === '\u007f') text = text.slice(0, -1);
        else text += ch;
      }
    };
    const finish = (e: TiphubError | null) => {
      input.removeListener('data', onData);
      input.setRawMode?.(false);
      input.pause();
      err.write('\n');
      if (e) reject(e);
      else resolve(text);
    };
    input.on('data', onData);
  });
}

/**
 * The passphrase: its first line on a pipe (`tiphub backup F --passphrase < file`), else typed
 * without echo (twice for a new archive).
 */
export async function readPassphrase(input: Input, err: NodeJS.WritableStream, confirm: boolean): Promise<string> {
  let pass: string;
  if (input.isTTY) {
    pass = await promptHidden(input, err, 'passphrase: ');
    if (confirm && (await promptHidden(input, err, 'again: ')) !== pass) throw new TiphubError('TIPHUB_CONFIG_INVALID', 'the two passphrases differ');
  } else {
    const parts: Buffer[] = [];
    for await (const c of input) parts.push(Buffer.from(c as Buffer));
    pass = Buffer.concat(parts).toString('utf8').split(/\r?\n/)[0] ?? '';
  }
  if ([...pass].length < PASSPHRASE_MIN_CHARS) throw new TiphubError('TIPHUB_CONFIG_INVALID', `the passphrase must be at least ${PASSPHRASE_MIN_CHARS} characters`);
  return pass;
}

function describeRows(rows: Readonly<Record<string, number>>, media: number, bytes: number): string {
  return `${rows.cases ?? 0} cases, ${rows.reports ?? 0} reports, ${rows.events ?? 0} events, ${media} media file(s) (${bytes} bytes)`;
}

/** Writes the archive to FILE (whole or not at all: a temporary name, renamed at the end) or to standard output (`-`). */
export async function runBackup(cfg: Readonly<Config>, log: Logger, file: string, secret: ArchiveSecret | null): Promise<BackupSummary> {
  const key: ArchiveSecret = secret ?? { kind: 'secret', secret: configuredSecret(cfg)! };
  const access = await openCaseLogAccess(cfg, log, { role: 'backup' });
  try {
    const produce = (sink: ArchiveSink) => access.service.backupArchive(sink);
    if (file === '-') return await sealBackup(key, process.stdout, produce);
    const target = path.resolve(file);
    const tmp = path.join(path.dirname(target), `.${path.basename(target)}.partial-${randomBytes(4).toString('hex')}`);
    try {
      const summary = await sealBackup(key, fs.createWriteStream(tmp, { mode: 0o600, flags: 'wx' }), produce);
      fs.renameSync(tmp, target);
      return summary;
    } finally {
      fs.rmSync(tmp, { force: true });
    }
  } finally {
    await access.close();
  }
}

export function registerBackupCommands(program: Command, context: () => { cfg: Readonly<Config>; log: Logger }, setExitCode: (code: number) => void): void {
  program
    .command('backup')
    .description('write one encrypted archive of the case log and the media store (under a key derived from the secret, or --passphrase)')
    .argument('<file>', 'the archive to write (- for standard output)')
    .option('--passphrase', 'encrypt under a passphrase read from standard input (its first line) or typed at the terminal')
    .action(async (file: string, o: { passphrase?: boolean }) => {
      const { cfg, log } = context();
      const secret: ArchiveSecret | null = o.passphrase ? { kind: 'passphrase', passphrase: await readPassphrase(process.stdin, process.stderr, true) } : null;
      const s = await runBackup(cfg, log, file, secret);
      process.stderr.write(`backup: ${describeRows(s.rows, s.mediaFiles, s.mediaBytes)}, schema ${s.schemaVersion}${file === '-' ? '' : `, in ${file}`}\n`);
      if (s.missing || s.damaged) {
        process.stderr.write(`backup: ${s.missing} media file(s) the case log names are missing from the store and ${s.damaged} do not match their sha256: they are not in the archive\n`);
        setExitCode(1);
      }
    });

  program
    .command('restore')
    .description('restore an archive into an empty data directory (and, on PostgreSQL, an empty schema), then verify it')
    .argument('<file>', 'the archive (- for standard input)')
    .option('--passphrase', 'the archive was made with --passphrase: read it from standard input or the terminal')
    .option('--secret-file <file>', 'the secret the archive was made under (e.g. a secret.key.old-<time> kept by a key rotation); it becomes the restored key file unless TIPHUB_SECRET is set')
    .action(async (file: string, o: { passphrase?: boolean; secretFile?: string }) => {
      const { cfg, log } = context();
      if (file === '-' && o.passphrase) throw new TiphubError('TIPHUB_CONFIG_INVALID', 'with --passphrase, standard input carries the passphrase: give the archive as a file');
      const fromFile = o.secretFile ? readSecretFile(path.resolve(o.secretFile)) : null;
      if (o.secretFile && !fromFile) throw new TiphubError('TIPHUB_CONFIG_INVALID', `${o.secretFile} does not exist`);
      // The secret the restored case log opens with: the one given, else the configured one.
      const secret = fromFile ?? configuredSecret(cfg);
      const archiveKey: ArchiveSecret | null = o.passphrase ? { kind: 'passphrase', passphrase: await readPassphrase(process.stdin, process.stderr, false) } : secret ? { kind: 'secret', secret } : null;
      if (!archiveKey) throw new TiphubError('TIPHUB_SECRET_MISSING', 'no secret to open the archive: set TIPHUB_SECRET, or give --secret-file (the key file the backup was made under)');
      let input: AsyncIterable<Buffer>;
      if (file === '-') input = process.stdin as AsyncIterable<Buffer>;
      else {
        try {
          fs.accessSync(file, fs.constants.R_OK);
        } catch {
          throw new TiphubError('TIPHUB_CONFIG_INVALID', `${file} cannot be read`);
        }
        input = fs.createReadStream(file);
      }
      const r: RestoreSummary = await restoreBackup(input, archiveKey, {
        dataDir: cfg.dataDir,
        databaseUrl: cfg.migrateDatabaseUrl ?? cfg.databaseUrl,
        keyFile: fromFile && !cfg.secret ? path.resolve(o.secretFile!) : null,
      });
      process.stdout.write(`restore: ${describeRows(r.rows, r.mediaFiles, r.mediaBytes)} from the backup of ${r.createdAt} (schema ${r.schemaVersion}) into ${cfg.dataDir}\n`);
      if (r.mediaAbsent) process.stdout.write(`restore: ${r.mediaAbsent} media file(s) were already missing when the backup was made\n`);
      const opened = fromFile && cfg.secret && fromFile !== cfg.secret ? { ...cfg, secret: fromFile } : cfg;
      const access = await openCaseLogAccess(opened, log, { role: 'verify', allowHub: false });
      try {
        const v = await access.service.verify();
        (v.ok ? process.stdout : process.stderr).write(formatVerify(v) + '\n');
        if (!v.ok) setExitCode(2);
      } finally {
        await access.close();
      }
      if (opened !== cfg) process.stdout.write('restore: this case log opens with the secret from --secret-file: set TIPHUB_SECRET to it\n');
    });
}
