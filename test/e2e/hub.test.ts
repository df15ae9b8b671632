import * as fs from 'node:fs';
import * as path from 'node:path';
import { setup, type TestSetup } from '../helpers/env';
import { runCli, startCli, type Background } from '../helpers/cli';
import { readLock } from '../../src/caselog/lock';

describe('tiphub start on the embedded case log', () => {
  let s: TestSetup;
  let hub: Background | null = null;
  beforeEach(async () => {
    s = await setup('pglite');
    s.env.TIPHUB_LOG_LEVEL = 'info';
  });
  afterEach(async () => {
    await hub?.stop('SIGKILL');
    await s.cleanup();
  });

  test('ingest, export and verify work at the same time through the hub; the PGlite folder is opened once', async () => {
    hub = startCli(['start'], s.env);
    await hub.waitForOutput(/"msg":"hub ready"/);
    expect(readLock(s.dataDir)?.pid).toBe(hub.child.pid);

    const file = path.join(s.dataDir, 'tips.jsonl');
    const texts = ['Drone over the bridge', 'طائرة مسيرة فوق الجسر', 'فڕۆکەیەکی بێفڕۆکەوان لە سەر پردەکە', 'Un drone au-dessus du pont'];
    fs.writeFileSync(
      file,
      Array.from({ length: 200 }, (_, i) => JSON.stringify({ id: `h${i}`, from: `sender-${i % 50}`, text: `${texts[i % 4]} #${i}`, sentAt: new Date(Date.parse('2026-06-10T05:00:00Z') + i * 60_000).toISOString() })).join('\n'),
    );
    // At info (a CLI command otherwise logs warnings only): the lines would show a case log opened here.
    const [ingest, exp, verify] = await Promise.all([
      runCli(['--log-level', 'info', 'ingest', file], s.env),
      runCli(['--log-level', 'info', 'export', '--format', 'csv'], s.env),
      runCli(['--log-level', 'info', 'verify'], s.env),
    ]);
    expect(ingest.stdout).toContain('ingest: 200 lines: 200 accepted, 0 already present, 0 rejected');
    expect(ingest.code).toBe(0);
    expect(exp.code).toBe(0);
    expect(exp.stdout.startsWith('\uFEFFref,status,priority')).toBe(true);
    expect(verify.code).toBe(0);

    const after = await runCli(['--log-level', 'info', 'export', '--format', 'jsonl'], s.env);
    const reports = after.stdout.trim().split('\n').flatMap((l) => (JSON.parse(l) as { reports: unknown[] }).reports);
    expect(reports).toHaveLength(200);
    expect((await runCli(['verify'], s.env)).stdout).toMatch(/^verify: intact: \d+ cases, 200 reports/);

    // Only the hub opened the case log; the commands went through its control socket.
    for (const r of [ingest, exp, verify, after]) expect(r.stderr).not.toContain('case log opened');
    expect(hub.output().match(/"msg":"case log opened"/g)).toHaveLength(1);
    expect(readLock(s.dataDir)?.pid).toBe(hub.child.pid);

    expect(await hub.stop('SIGTERM')).toBe(0);
    hub = null;
    expect(readLock(s.dataDir)).toBeNull();
    // With no hub running, a command opens the case log itself, under the lock.
    const alone = await runCli(['--log-level', 'info', 'verify'], s.env);
    expect(alone.stdout).toMatch(/^verify: intact: \d+ cases, 200 reports/);
    expect(alone.stderr).toContain('case log opened');
  });

  test('stopped while it waits for Redis: it closes the case log it opened and ends with status 0', async () => {
    // Nothing listens on port 1: the start waits for Redis, with the embedded case log already open.
    hub = startCli(['start'], { ...s.env, REDIS_URL: 'redis://127.0.0.1:1' });
    await hub.waitForOutput(/Redis does not answer; waiting for it/);
    expect(readLock(s.dataDir)?.pid).toBe(hub.child.pid);
    // Before, no handler was installed yet: the signal ended the process (no status) with the folder open.
    expect(await hub.stop('SIGTERM')).toBe(0);
    expect(hub.output()).toMatch(/"msg":"stopped before it was running"/);
    expect(hub.output()).not.toContain('tiphub is running');
    hub = null;
    // The folder was closed properly and its lock released: a command opens it at once.
    expect(readLock(s.dataDir)).toBeNull();
    expect((await runCli(['verify'], s.env)).stdout).toMatch(/^verify: intact: 0 cases, 0 reports/);
  });
});
