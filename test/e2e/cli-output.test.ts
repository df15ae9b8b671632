/**
 * Issue 14, item 1: the command line as a person meets it, on a pseudo-terminal (util-linux
 * `script`) and on a pipe. On a terminal: readable lines, no JSON, progress drawn; during a CLI
 * command only warnings and errors; `start` off a terminal logs JSON; a reader that goes away
 * (`| head -1`, a closed pipe) ends the command with status 0 and nothing on stderr, with and
 * without a running hub; `--version`.
 */
import { spawn } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { setup, waitFor, type TestSetup } from '../helpers/env';
import { BIN, runCli, startCli, type Background } from '../helpers/cli';
import { callHub, callHubWith, type HubHello } from '../../app/hub/control';
import { migrations } from '../../src/caselog/migrations';

jest.setTimeout(300_000);

const quote = (a: string) => `'${a.replace(/'/g, `'\\''`)}'`;

/** The real program on a pseudo-terminal: stdout and stderr are the terminal, as in a shell. */
function runInPty(args: string[], env: Record<string, string>, timeoutMs = 90_000): Promise<{ code: number | null; out: string }> {
  return new Promise((resolve, reject) => {
    const cmd = [process.execPath, BIN, ...args].map(quote).join(' ');
    const child = spawn('/usr/bin/script', ['-qfec', cmd, '/dev/null'], { env: { PATH: process.env.PATH ?? '', TERM: 'xterm', ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    child.stdout.on('data', (d: Buffer) => (out += d.toString('utf8')));
    child.stderr.on('data', (d: Buffer) => (out += d.toString('utf8')));
    const timer = setTimeout(() => child.kill('SIGKILL'), timeoutMs);
    child.on('error', reject);
    child.on('close', (code) => {
      clearTimeout(timer);
      resolve({ code, out });
    });
  });
}

/** Through bash, as a user types it: `set -o pipefail`, so the status is tiphub's, not head's. */
function runShell(pipeline: string, env: Record<string, string>): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve, reject) => {
    // No stdin: on a socket bash would read ~/.bashrc as for a remote shell.
    const child = spawn('/bin/bash', ['--norc', '--noprofile', '-c', `set -o pipefail; ${pipeline}`], { env: { PATH: process.env.PATH ?? '', ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d: Buffer) => (stdout += d.toString('utf8')));
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString('utf8')));
    child.on('error', reject);
    child.on('close', (code) => resolve({ code, stdout, stderr }));
  });
}

/** The program with its stdout pipe closed by the reader before it writes a byte. */
function runWithClosedStdout(args: string[], env: Record<string, string>): Promise<{ code: number | null; stderr: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [BIN, ...args], { env: { PATH: process.env.PATH ?? '', ...env } });
    child.stdout.destroy();
    let stderr = '';
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString('utf8')));
    child.on('error', reject);
    child.on('close', (code) => resolve({ code, stderr }));
  });
}

/** Each 2.4 kB: the export (~200 kB) is far larger than a pipe's buffer. */
const TIPS = 80;
const cli = `${quote(process.execPath)} ${quote(BIN)}`;
const jsonLines = (text: string) =>
  text.split(/\r?\n/).filter((l) => {
    try {
      return typeof (JSON.parse(l) as { level?: unknown }).level === 'number';
    } catch {
      return false;
    }
  });
/** What a terminal shows of a cli-progress line: the text between its cursor moves. */
const ESC = '\u001b';
const plain = (text: string) => text.replace(new RegExp(`${ESC}\\[[0-9;?]*[A-Za-z]|${ESC}[78]`, 'g'), '');
/** A readable log line as the terminal gets it: time, the coloured level, the message and its fields. */
const ttyLine = (colour: number, level: string, rest: string) => new RegExp(`^\\d\\d:\\d\\d:\\d\\d ${ESC}\\[${colour}m${level} ${ESC}\\[0m ${rest}`, 'm');

describe('tiphub output on a terminal and on a pipe (embedded case log)', () => {
  let s: TestSetup;
  let env: Record<string, string>;
  let hub: Background | null = null;
  let tips: string;
  let ref: string;
  beforeAll(async () => {
    // A loaded machine must not make the one worker's jobs stall and run twice: not what is tested here.
    s = await setup('pglite', { worker: { lockDurationMs: 60_000, stalledIntervalMs: 30_000 } });
    // The configured level would show info lines: a CLI command must still show none.
    env = { ...s.env, TIPHUB_LOG_LEVEL: 'info' };
    tips = path.join(s.dataDir, 'tips.jsonl');
    // Enough that the export is far larger than a pipe's buffer (64 KiB): `head -1` closes it mid-way.
    const lines = Array.from({ length: TIPS }, (_, i) =>
      JSON.stringify({ id: `o${i}`, from: `sender-${i % 20}`, text: `Report ${i} of the convoy on the river road ${'and more detail '.repeat(150)}` }),
    );
    fs.writeFileSync(tips, lines.join('\n') + '\n');
    const ingest = await runCli(['ingest', tips], env, { timeoutMs: 170_000 });
    expect(ingest.stdout).toContain(`${TIPS} accepted`);
    // On a pipe: no progress drawn and no log line at all (the level is info).
    expect(ingest.stderr).toBe('');
    const first = JSON.parse((await runCli(['export'], env)).stdout.split('\n')[0]!) as { ref: string };
    ref = first.ref;
  });
  afterAll(async () => {
    await hub?.stop('SIGKILL');
    await s.cleanup();
  });

  test('--version and -V: the package version and the case log schema this program expects', async () => {
    const pkg = JSON.parse(fs.readFileSync(path.resolve(__dirname, '../../package.json'), 'utf8')) as { version: string };
    const schema = Math.max(...migrations.map((m) => m.id));
    for (const flag of ['--version', '-V']) {
      const r = await runCli([flag], {});
      expect(r.code).toBe(0);
      expect(r.stdout).toBe(`tiphub ${pkg.version} (case log schema ${schema}, Node ${process.versions.node})\n`);
    }
  });

  test('a command does not load the WhatsApp Web library (puppeteer, ~600 modules): only a live session does', async () => {
    const main = path.resolve(__dirname, '../../dist/app/cli/main.js');
    const probe = `require(${JSON.stringify(main)}); const loaded = Object.keys(require.cache); process.stdout.write(JSON.stringify({ n: loaded.length, wweb: loaded.filter((k) => k.includes('/node_modules/puppeteer-core/') || k.endsWith('/whatsapp-web.js/src/Client.js')).length }))`;
    const out = await new Promise<string>((resolve, reject) => {
      const child = spawn(process.execPath, ['-e', probe], { env: { PATH: process.env.PATH ?? '' } });
      let text = '';
      let err = '';
      child.stdout.on('data', (d: Buffer) => (text += d.toString('utf8')));
      child.stderr.on('data', (d: Buffer) => (err += d.toString('utf8')));
      child.on('error', reject);
      child.on('close', () => (err ? reject(new Error(err)) : resolve(text)));
    });
    const r = JSON.parse(out) as { n: number; wweb: number };
    expect(r.wweb).toBe(0);
    expect(r.n).toBeGreaterThan(100); // the probe did load the program
  });

  test('on a pipe, a CLI command logs nothing below a warning; --log-level brings the JSON lines back', async () => {
    const quiet = await runCli(['verify'], env);
    expect(quiet.code).toBe(0);
    expect(quiet.stdout).toMatch(new RegExp(`^verify: intact: \\d+ cases, ${TIPS} reports`));
    expect(quiet.stderr).toBe('');
    // The same command does log at info: the quiet above is the rule, not an absence of lines.
    const loud = await runCli(['--log-level', 'info', 'verify'], env);
    const logged = jsonLines(loud.stderr).map((l) => JSON.parse(l) as { level: number; msg: string });
    expect(logged.length).toBeGreaterThan(0);
    expect(logged.some((l) => l.level === 30)).toBe(true);
  });

  test('on a terminal: no JSON line, readable lines when asked for, and progress drawn for ingest, export and verify', async () => {
    const exp = await runInPty(['export', '--out', path.join(s.dataDir, 'out.jsonl')], env);
    expect(exp.code).toBe(0);
    expect(jsonLines(exp.out)).toEqual([]);
    expect(exp.out).not.toMatch(/INFO/);
    expect(plain(exp.out)).toMatch(/export: \d+ cases \(\d+s\)/); // the progress line
    expect(exp.out).toMatch(new RegExp(`export: \\d+ cases, ${TIPS} reports`));

    const loud = await runInPty(['--log-level', 'info', 'verify'], env);
    expect(loud.code).toBe(0);
    expect(jsonLines(loud.out)).toEqual([]);
    expect(loud.out).toMatch(ttyLine(32, 'INFO', 'case log opened {2}backend=pglite'));
    expect(plain(loud.out)).toContain('verify: checking every chain, report and counter (');

    const json = await runInPty(['--log-format', 'json', '--log-level', 'info', 'verify'], env);
    expect(jsonLines(json.out).length).toBeGreaterThan(0);

    const few = path.join(s.dataDir, 'few.jsonl');
    fs.writeFileSync(few, fs.readFileSync(tips, 'utf8').split('\n').slice(0, 5).join('\n') + '\n');
    const ingest = await runInPty(['ingest', few], env);
    expect(ingest.code).toBe(0);
    expect(plain(ingest.out)).toMatch(/ingest \[[= ]+\] \d\/5 lines/);
    expect(ingest.out).toContain('0 accepted, 5 already present');
  });

  test('a closed pipe ends export, case show and quarantine list with status 0 and nothing on stderr', async () => {
    const head = await runShell(`${cli} export | head -1`, env);
    expect(head.code).toBe(0);
    expect(head.stderr).toBe('');
    expect(JSON.parse(head.stdout)).toMatchObject({ ref });
    const csv = await runShell(`${cli} export --format csv | head -c 100 >/dev/null`, env);
    expect(csv).toMatchObject({ code: 0, stderr: '' });
    // The reader gone before the first byte: the export stops at its first write (no summary).
    for (const args of [['export'], ['case', 'show', ref], ['quarantine', 'list']]) {
      const r = await runWithClosedStdout(args, env);
      expect({ args, code: r.code, stderr: r.stderr }).toEqual({ args, code: 0, stderr: '' });
    }
    // Without the pipe closed, the same export prints its summary: the stop above is the pipe's doing.
    expect((await runCli(['export'], env)).stderr).toMatch(new RegExp(`^export: \\d+ cases, ${TIPS} reports\n$`));
  });

  test('start on a pipe logs JSON; through its control socket a closed pipe ends export quietly too', async () => {
    hub = startCli(['start'], env);
    await hub.waitForOutput(/"msg":"hub ready"/);
    const ready = jsonLines(hub.output()).map((l) => JSON.parse(l) as { msg: string; level: number; time: string });
    expect(ready.find((l) => l.msg === 'hub ready')).toMatchObject({ level: 30, time: expect.stringMatching(/^\d{4}-\d\d-\d\dT/) });

    const head = await runShell(`${cli} export | head -1`, env);
    expect(head).toMatchObject({ code: 0, stderr: '' });
    expect(JSON.parse(head.stdout)).toMatchObject({ ref });
    const closed = await runWithClosedStdout(['export'], env);
    expect(closed).toEqual({ code: 0, stderr: '' });
    // The hub went on serving: the next export is whole.
    const whole = await runCli(['export'], env);
    expect(whole.stderr).toMatch(new RegExp(`^export: \\d+ cases, ${TIPS} reports\n$`));
    expect(await hub.stop('SIGTERM')).toBe(0);
    hub = null;
  });

  test('start on a terminal: readable info lines and a readable warning, no JSON', async () => {
    const pty = runInPty(['start'], env, 240_000);
    // Until the hub answers on its control socket; then a caller with a wrong token draws a warning.
    const hello = await waitFor(() => callHub<HubHello>(s.dataDir, 'hello').catch(() => null), 90_000, 200);
    await expect(callHubWith(s.dataDir, 'f'.repeat(64), 'verify')).rejects.toMatchObject({ code: expect.stringMatching(/^TIPHUB_/) });
    await new Promise((r) => setTimeout(r, 300));
    // Stop it the way a person does: a signal to the hub (the child of `script`).
    process.kill(hello.pid, 'SIGTERM');
    const r = await pty;
    expect({ code: r.code, out: r.code === 0 ? '' : r.out }).toEqual({ code: 0, out: '' });
    expect(jsonLines(r.out)).toEqual([]);
    expect(r.out).toMatch(ttyLine(32, 'INFO', 'hub ready {2}backend=pglite'));
    expect(r.out).toMatch(ttyLine(33, 'WARN', 'control request refused: no valid token {2}op=verify'));
  });
});
