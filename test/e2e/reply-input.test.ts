/**
 * Issue 10, item 15: `tiphub reply REF` takes its text from standard input or an editor, so that it
 * lands neither in shell history nor in process lists. The text still reaches the case log, sealed.
 */
import { spawn, spawnSync } from 'node:child_process';
import { Readable } from 'node:stream';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { capturingLogger, setup, tmpDir, type TestSetup } from '../helpers/env';
import { BIN, runCli, type CliResult } from '../helpers/cli';
import { openCaseLogAccess } from '../../app/hub/access';
import type { Db } from '../../src/caselog/db';
import type { Keyring } from '../../src/crypto/keyring';
import { sealRow } from '../../src/crypto/keyring';
import { readFromEditor, readMessageText, stripTemplate } from '../../app/cli/text-input';

const hasScript = spawnSync('script', ['--version']).status === 0;

/** The CLI with `input` on its standard input, written only after its arguments can be read. */
function runWithStdin(args: string[], env: Record<string, string>, input: string | Buffer): Promise<CliResult & { cmdline: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [BIN, ...args], { env: { PATH: process.env.PATH ?? '', ...env } });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d: Buffer) => (stdout += d.toString('utf8')));
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString('utf8')));
    child.stdin.on('error', () => undefined); // EPIPE when the CLI stops reading (over the cap)
    // What `ps` shows of it: its command line.
    let cmdline = '';
    try {
      cmdline = fs.readFileSync(`/proc/${child.pid}/cmdline`, 'utf8').replace(/\0/g, ' ');
    } catch {
      /* not Linux */
    }
    child.stdin.end(input);
    const timer = setTimeout(() => child.kill('SIGKILL'), 90_000);
    child.on('error', reject);
    child.on('close', (code, signal) => {
      clearTimeout(timer);
      resolve({ code, signal, stdout, stderr, cmdline });
    });
  });
}

/** The CLI on a pseudo-terminal (util-linux `script`), as an operator at a terminal runs it. */
function runOnTerminal(args: string[], env: Record<string, string>): Promise<CliResult> {
  const quote = (a: string) => `'${a.replace(/'/g, `'\\''`)}'`;
  return new Promise((resolve, reject) => {
    const child = spawn('script', ['-qec', [process.execPath, BIN, ...args].map(quote).join(' '), '/dev/null'], { env: { PATH: process.env.PATH ?? '', ...env } });
    let stdout = '';
    child.stdout.on('data', (d: Buffer) => (stdout += d.toString('utf8')));
    child.stderr.on('data', (d: Buffer) => (stdout += d.toString('utf8')));
    const timer = setTimeout(() => child.kill('SIGKILL'), 90_000);
    child.on('error', reject);
    child.on('close', (code, signal) => {
      clearTimeout(timer);
      resolve({ code, signal, stdout, stderr: '' });
    });
  });
}

/** An editor that writes `text` into the file it is given and notes the file's and folder's modes. */
function fakeEditor(dir: string, text: string, exit = 0): { editor: string; notes: string } {
  const notes = path.join(dir, 'editor-notes');
  const editor = path.join(dir, `editor-${Math.random().toString(36).slice(2, 8)}.sh`);
  fs.writeFileSync(
    editor,
    [
      '#!/bin/sh',
      `{ stat -c '%a' "$1"; stat -c '%a' "$(dirname "$1")"; echo "$1"; grep -c '^#' "$1"; } > '${notes}'`,
      `printf '%s' '${text.replace(/'/g, `'\\''`)}' > "$1"`,
      `exit ${exit}`,
    ].join('\n'),
    { mode: 0o700 },
  );
  return { editor, notes };
}

describe('tiphub reply: the text from standard input or an editor', () => {
  let s: TestSetup;
  let ref: string;
  beforeAll(async () => {
    s = await setup('postgres');
    const file = path.join(s.dataDir, 'tips.jsonl');
    fs.writeFileSync(file, JSON.stringify({ id: 'r1', from: '+9647700000015', text: 'Armed men at the checkpoint near the old bridge' }) + '\n');
    const ingest = await runCli(['ingest', file], s.env);
    expect(ingest.stdout).toContain('1 accepted');
    ref = await withCaseLog(async (db) => (await db.query<{ ref: string }>('SELECT ref FROM cases')).rows[0]!.ref);
  });
  afterAll(async () => {
    await s.cleanup();
  });

  async function withCaseLog<T>(fn: (db: Db, keyring: Keyring) => Promise<T>): Promise<T> {
    const access = await openCaseLogAccess(s.cfg, capturingLogger().log, { role: 'test' });
    try {
      return await fn(access.local!.db, access.local!.keyring);
    } finally {
      await access.close();
    }
  }

  /** The reply texts of the case, opened with the keyring, and how many messages wait to go. */
  const state = () =>
    withCaseLog(async (db, keyring) => {
      const { rows } = await db.query<{ id: string; text_sealed: string }>(`SELECT id, text_sealed FROM case_texts WHERE kind = 'reply' ORDER BY id`);
      const outbox = (await db.query<{ n: number }>('SELECT count(*)::int AS n FROM outbox')).rows[0]!.n;
      const queued = (await db.query<{ n: number }>(`SELECT count(*)::int AS n FROM events WHERE kind = 'reply.queued'`)).rows[0]!.n;
      return { texts: rows.map((r) => keyring.unseal<string>(r.text_sealed, sealRow.text(r.id))).sort(), outbox, queued };
    });

  test('--help says the argument is visible and how else to give the text', async () => {
    const help = await runCli(['reply', '--help'], s.env);
    expect(help.stdout).toContain('[text]');
    expect(help.stdout).toMatch(/visible\s+in shell history and process lists/);
    expect(help.stdout).toContain('< answer.txt');
    expect(help.stdout).toContain('$EDITOR');
  });

  test('piped on standard input: queued, sealed in the case log, never in the process arguments', async () => {
    const text = 'Thank you. Can you tell us when the men arrived? STDINMARKER71';
    const before = await state();
    const r = await runWithStdin(['reply', ref, '--as', 'amina'], s.env, text + '\n');
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(new RegExp(`^reply: queued to [0-9a-f]{32} on simulator \\(case ${ref}\\)`));
    if (r.cmdline) {
      expect(r.cmdline).toContain('reply');
      expect(r.cmdline).not.toContain('STDINMARKER71');
    }
    const after = await state();
    // The trailing newline is dropped; the text is exactly what was written.
    expect(after.texts).toEqual([...before.texts, text].sort());
    expect(after.queued).toBe(before.queued + 1);
  });

  test('an empty standard input, or one too large, is refused and nothing is queued', async () => {
    const before = await state();
    for (const input of ['', '\n', '   \n\n']) {
      const r = await runWithStdin(['reply', ref], s.env, input);
      expect(r.code).toBe(1);
      expect(r.stderr).toMatch(/^tiphub: TIPHUB_CONFIG_INVALID: the reply to case .* is empty \(standard input\); nothing was sent/);
    }
    const big = await runWithStdin(['reply', ref], s.env, Buffer.alloc(70 * 1024, 'a'));
    expect(big.code).toBe(1);
    expect(big.stderr).toContain('longer than 65536 bytes');
    const notUtf8 = await runWithStdin(['reply', ref], s.env, Buffer.from([0x61, 0xff, 0xfe, 0x62]));
    expect(notUtf8.stderr).toContain('is not UTF-8 text');
    expect(await state()).toEqual(before);
  });

  test('the text on the command line still works', async () => {
    const before = await state();
    const r = await runCli(['reply', ref, 'Argument reply ARGMARKER'], s.env);
    expect(r.code).toBe(0);
    expect((await state()).texts).toEqual([...before.texts, 'Argument reply ARGMARKER'].sort());
  });

  (hasScript ? test : test.skip)('at a terminal: $EDITOR on a 0600 file in a 0700 folder, # lines dropped, the file removed afterwards', async () => {
    const dir = tmpDir('editor');
    try {
      const tmp = path.join(dir, 'tmp');
      fs.mkdirSync(tmp);
      const { editor, notes } = fakeEditor(dir, '\nWe will call you back. EDITORMARKER33\n# a comment the operator left\n\n');
      const before = await state();
      const r = await runOnTerminal(['reply', ref], { ...s.env, EDITOR: editor, TMPDIR: tmp });
      expect(r.stdout).toMatch(new RegExp(`reply: queued to [0-9a-f]{32} on simulator \\(case ${ref}\\)`));
      expect(r.code).toBe(0);
      const [fileMode, dirMode, file, templateComments] = fs.readFileSync(notes, 'utf8').trim().split('\n');
      expect(fileMode).toBe('600');
      expect(dirMode).toBe('700');
      expect(file!.startsWith(tmp + path.sep)).toBe(true);
      expect(Number(templateComments)).toBeGreaterThan(0); // it was offered the template
      expect(fs.existsSync(file!)).toBe(false);
      expect(fs.readdirSync(tmp)).toEqual([]);
      expect((await state()).texts).toEqual([...before.texts, 'We will call you back. EDITORMARKER33'].sort());

      // Only comments left, or an editor that fails: refused, nothing queued, nothing left behind.
      const mid = await state();
      for (const [text, exit] of [['# nothing\n', 0], ['A half-written reply', 1]] as const) {
        const e = fakeEditor(dir, text, exit);
        const refused = await runOnTerminal(['reply', ref], { ...s.env, EDITOR: e.editor, TMPDIR: tmp });
        expect(refused.code).toBe(1);
        expect(refused.stdout).toMatch(exit ? /exited with status 1; nothing was sent/ : /is empty \(the editor\); nothing was sent/);
        expect(fs.readdirSync(tmp)).toEqual([]);
      }
      expect(await state()).toEqual(mid);
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });
});

describe('readMessageText without a terminal of its own', () => {
  test('a terminal (told) opens the editor; its folder is removed even when the editor fails', async () => {
    const dir = tmpDir('editor-unit');
    try {
      const tmp = path.join(dir, 'tmp');
      fs.mkdirSync(tmp);
      const ok = fakeEditor(dir, 'Line one\n#dropped\nLine two\n');
      await expect(readMessageText({ what: 'note', isTTY: true, stdin: Readable.from([]), editor: ok.editor, tmpDir: tmp })).resolves.toBe('Line one\nLine two');
      expect(fs.readFileSync(ok.notes, 'utf8').split('\n').slice(0, 2)).toEqual(['600', '700']);
      expect(fs.readdirSync(tmp)).toEqual([]);
      const bad = fakeEditor(dir, 'x', 3);
      await expect(readFromEditor({ what: 'note', editor: bad.editor, tmpDir: tmp })).rejects.toMatchObject({ message: expect.stringContaining('exited with status 3') });
      await expect(readFromEditor({ what: 'note', editor: path.join(dir, 'no-such-editor'), tmpDir: tmp })).rejects.toMatchObject({ code: 'TIPHUB_CONFIG_INVALID' });
      expect(fs.readdirSync(tmp)).toEqual([]);
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });

  test('piped input: one trailing newline dropped, the rest kept', async () => {
    await expect(readMessageText({ what: 'reply', isTTY: false, stdin: Readable.from([Buffer.from('two lines\n\nend\n')]) })).resolves.toBe('two lines\n\nend');
    await expect(readMessageText({ what: 'reply', isTTY: false, stdin: Readable.from([Buffer.from('\u0627\u0644\u0622\u0646\r\n')]) })).resolves.toBe('\u0627\u0644\u0622\u0646');
    expect(stripTemplate('# a\n\n  body  \n# b\n')).toBe('  body');
  });
});
