import { spawn } from 'node:child_process';
import { setup, waitFor, type TestSetup } from '../helpers/env';
import { BIN, runCli, startCli, type Background } from '../helpers/cli';

describe('npm start, tiphub chat and tiphub reply at once on the embedded defaults', () => {
  let s: TestSetup;
  let hub: Background | null = null;
  beforeEach(async () => {
    s = await setup('pglite', { conversation: { ackDelayMs: 200 } });
  });
  afterEach(async () => {
    await hub?.stop('SIGKILL');
    await s.cleanup();
  });

  test('an informant sends a tip in Arabic, gets the reference, asks /status, and receives an operator reply', async () => {
    hub = startCli(['start'], { ...s.env, TIPHUB_LOG_LEVEL: 'info' });
    await hub.waitForOutput(/"msg":"hub ready"/);

    const chat = spawn(process.execPath, [BIN, 'chat', '--as', 'ali'], { env: { PATH: process.env.PATH ?? '', ...s.env } });
    let out = '';
    chat.stdout.on('data', (d: Buffer) => (out += d.toString('utf8')));
    chat.stderr.on('data', (d: Buffer) => (out += d.toString('utf8')));
    const exited = new Promise<number | null>((r) => chat.on('close', r));
    await waitFor(async () => out.includes('connected as chat:ali'), 20_000);
    chat.stdin.write('طائرة مسيرة تحلق فوق جسر الموصل الآن\n');
    await waitFor(async () => /رقم بلاغك: \u2068([2-9A-Z]{3}-[2-9A-Z]{4})\u2069/.test(out), 20_000);
    const ref = /رقم بلاغك: \u2068([2-9A-Z]{3}-[2-9A-Z]{4})\u2069/.exec(out)![1]!;
    expect(out).toContain('bot> هذا خط البلاغات'); // the welcome came first

    chat.stdin.write(`/status ${ref}\n`);
    await waitFor(async () => out.includes(`\u2068${ref}\u2069: تم الاستلام.`), 20_000);

    const reply = await runCli(['reply', ref, 'هل يمكنك إرسال صورة؟', '--as', 'amina'], s.env);
    expect(reply.stderr).toBe('');
    expect(reply.stdout).toMatch(new RegExp(`^reply: queued to [0-9a-f]{32} on simulator \\(case ${ref}\\)`));
    await waitFor(async () => out.includes('bot> هل يمكنك إرسال صورة؟'), 20_000);

    chat.stdin.end();
    expect(await exited).toBe(0);
    const verify = await runCli(['verify'], s.env);
    expect(verify.stdout).toMatch(/^verify: intact: 1 cases, 1 reports/);
    // Only the hub opened the case log.
    for (const r of [reply, verify]) expect(r.stderr).not.toContain('case log opened');
  });
});
