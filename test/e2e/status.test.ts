/**
 * `tiphub status` (issue 12's channels, issue 14's one screen): each channel's state through the
 * contract's events port, the queues, the case log (through the running hub, or opened here), the
 * outbox, media and disk — as a person reads it and as JSON — with exit status 1 while something
 * needs a person: a channel stopped, a job that failed for real (the Bot API stand-in refusing a
 * send for good). The real program against the Bot API stand-in and the real Redis.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { Queue } from 'bullmq';
import { setup, TEST_REDIS_URL, waitFor, type TestSetup } from '../helpers/env';
import { runCli, startCli, type Background } from '../helpers/cli';
import { BotApiStandin, textUpdate } from '../helpers/bot-api-standin';
import { redisOptions } from '../../src/queue/redis';

jest.setTimeout(300_000);

interface Row { channel: string; enabled: boolean; state: string | null; mode: string | null; since: string | null; lastMessageAt: string | null; needsPerson: boolean; reconnects: number; disconnectedSeconds: number }
interface QueueRow { name: string; waiting: number; active: number; delayed: number; failed: number; oldestWaitingAt: string | null }
interface Report {
  redis: 'answers' | null;
  channels: Row[];
  queues: QueueRow[] | null;
  caseLog: { via: string; reports: number; cases: number; openCases: number; lastCommitAt: string | null; quarantined: number } | null;
  caseLogError: { code: string; busy: boolean } | null;
  outbox: { pending: number; oldestPendingAt: string | null; failed: number } | null;
  media: { pending: number; missing: number } | null;
  disk: { dataDirBytes: number; freeBytes: number; totalBytes: number } | null;
  needsPerson: string[];
}

const SENDERS = [424242001, 424242002];
const TEXTS = ['Checkpoint shut on the north road', 'Water truck seen near the old mill', 'Another convoy heading east at dawn'];

describe('tiphub status', () => {
  let s: TestSetup;
  let api: BotApiStandin;
  let env: Record<string, string>;
  let hub: Background | null = null;
  beforeAll(async () => {
    s = await setup('pglite', { channels: { telegram: { pollTimeoutSeconds: 1 } } });
    api = new BotApiStandin();
    await api.start();
    env = { ...s.env, TIPHUB_TELEGRAM_TOKEN: api.token, TIPHUB_TELEGRAM_API_ROOT: api.apiRoot };
  });
  afterAll(async () => {
    await hub?.stop('SIGKILL');
    await api.stop();
    await s.cleanup();
  });
  const status = async () => {
    const r = await runCli(['status', '--json'], env);
    const report = JSON.parse(r.stdout) as Report;
    return { code: r.code, rows: report.channels, report, text: r.stdout };
  };
  const queue = (r: Report, name: string) => r.queues!.find((q) => q.name === name)!;
  /** Nothing identifying: no sender id, no token, no word of a tip. */
  const noIdentifier = (out: string) => {
    for (const id of SENDERS) expect(out).not.toContain(String(id));
    expect(out).not.toContain(api.token.split(':')[1]!);
    for (const t of TEXTS) for (const w of t.split(' ').filter((x) => x.length > 4)) expect(out).not.toContain(w);
  };

  test('nothing running: each enabled channel needs a person (exit 1); a channel without credentials is only "no"', async () => {
    const r = await runCli(['status'], env);
    expect(r.code).toBe(1);
    expect(r.stdout).toMatch(/^channel\s+enabled\s+state\s+since\s+mode\s+last message\s+reconnects\s+down\s+detail$/m);
    expect(r.stdout).toMatch(/^telegram\s+yes\s+not running\s+-\s+-\s+-\s+-\s+-\s+NEEDS A PERSON$/m);
    // Not a terminal: no colour.
    expect(r.stdout).not.toContain('\u001b[');
    // The case log is opened here (no hub holds it), and empty; the queues are there and empty.
    expect(r.stdout).toMatch(/^case log \(opened here\): 0 reports, 0 cases \(0 open\), last commit -$/m);
    expect(r.stdout).toMatch(/^intake\s+0\s+0\s+0\s+0\s+-$/m);
    const without = await runCli(['status'], s.env);
    expect(without.stdout).toMatch(/^telegram\s+no\s+-/m);
    // No Redis at all: said so, channels unknown, the case log still shown.
    const noRedis = await runCli(['status', '--json'], { ...env, REDIS_URL: 'redis://127.0.0.1:1' });
    expect(noRedis.code).toBe(1);
    const nr = JSON.parse(noRedis.stdout) as Report;
    expect(nr).toMatchObject({ redis: null, queues: null, caseLog: { via: 'local', reports: 0 }, outbox: { pending: 0, failed: 0 }, media: { pending: 0, missing: 0 } });
    expect(nr.needsPerson).toEqual(['channel simulator: not running', 'channel telegram: not running']);
    expect(nr.disk!.dataDirBytes).toBeGreaterThan(0);
    expect(nr.disk!.freeBytes).toBeLessThanOrEqual(nr.disk!.totalBytes);
    expect((await runCli(['status'], { ...env, REDIS_URL: 'redis://127.0.0.1:1' })).stdout).toMatch(/^no Redis answers/m);
  });

  test('the hub running: all connected (exit 0); a send refused for good is a failed job (exit 1); counts as written, through the hub and opened here; then stopped; queue counts as put in', async () => {
    hub = startCli(['start'], env);
    await hub.waitForOutput(/tiphub is running/);
    const up = await waitFor(async () => {
      const r = await status();
      return r.rows.filter((c) => c.enabled).every((c) => c.state === 'connected') ? r : null;
    }, 30_000, 200);
    expect(up.code).toBe(0);
    // WhatsApp and Signal are not configured here: listed, not enabled, never run, and needing no one.
    expect(up.rows.map((c) => [c.channel, c.enabled, c.mode, c.needsPerson])).toEqual([
      ['simulator', true, 'local', false],
      ['telegram', true, 'polling', false],
      ['whatsapp', false, null, false],
      ['signal', false, null, false],
    ]);
    expect(up.rows.find((c) => c.channel === 'telegram')!.lastMessageAt).toBeNull();

    // The first send is refused for good (the informant blocked the bot): its job fails, for real.
    api.sendFailures.push({ error_code: 403, description: 'Forbidden: bot was blocked by the user' });
    const before = Date.now();
    api.push(textUpdate(SENDERS[0]!, 1, TEXTS[0]!));
    api.push(textUpdate(SENDERS[1]!, 1, TEXTS[1]!));
    api.push(textUpdate(SENDERS[0]!, 2, TEXTS[2]!));
    const got = await waitFor(async () => {
      const r = await status();
      const t = r.rows.find((c) => c.channel === 'telegram')!;
      return t.lastMessageAt && r.report.caseLog?.reports === TEXTS.length && queue(r.report, 'outbound-telegram').failed === 1 && api.sent.length > 0 ? r : null;
    }, 60_000, 500);
    const t = got.rows.find((c) => c.channel === 'telegram')!;
    expect(Date.parse(t.lastMessageAt!)).toBeGreaterThanOrEqual(before - 1000);
    expect(t).toMatchObject({ state: 'connected', reconnects: 0, disconnectedSeconds: 0, needsPerson: false });
    // A failed job needs a person although every channel is fine.
    expect(got.code).toBe(1);
    expect(got.report.needsPerson).toEqual(['queue outbound-telegram: 1 failed job']);
    // The embedded case log is the hub's: reached through its control socket, counts as written.
    const c = got.report.caseLog!;
    expect(c).toMatchObject({ via: 'hub', reports: TEXTS.length, quarantined: 0 });
    expect(c.cases).toBeGreaterThanOrEqual(1);
    expect(c.cases).toBeLessThanOrEqual(TEXTS.length);
    expect(c.openCases).toBe(c.cases);
    expect(Date.parse(c.lastCommitAt!)).toBeGreaterThanOrEqual(before - 1000);
    expect(got.report.outbox).toMatchObject({ failed: 1 });
    expect(got.report.media).toEqual({ pending: 0, missing: 0 });
    const shown = await runCli(['status'], env);
    expect(shown.code).toBe(1);
    expect(shown.stdout).toMatch(/^telegram\s+yes\s+connected\s+\d+ s ago\s+polling\s+\d+ s ago\s+0\s+0 s$/m);
    expect(shown.stdout).toMatch(/^outbound-telegram\s+\d+\s+\d+\s+\d+\s+1\s+/m);
    expect(shown.stdout).toMatch(new RegExp(`^case log \\(through the running hub\\): ${TEXTS.length} reports, ${c.cases} cases \\(${c.openCases} open\\), last commit \\d+ s ago$`, 'm'));
    expect(shown.stdout).toMatch(/^NEEDS A PERSON:\n {2}- queue outbound-telegram: 1 failed job$/m);
    for (const out of [shown.stdout, shown.stderr, up.text, got.text]) noIdentifier(out);

    expect(await hub.stop('SIGTERM')).toBe(0);
    hub = null;
    const down = await status();
    expect(down.code).toBe(1);
    expect(down.rows.map((c) => [c.channel, c.state, c.needsPerson])).toEqual([['simulator', 'stopped', true], ['telegram', 'stopped', true], ['whatsapp', null, false], ['signal', null, false]]);
    expect(down.report.needsPerson).toEqual(['channel simulator: stopped', 'channel telegram: stopped', 'queue outbound-telegram: 1 failed job']);
    // The hub gone, the same case log opened here says the same.
    expect(down.report.caseLog).toEqual({ ...c, via: 'local' });
    noIdentifier(down.text);

    // Jobs put in while no worker runs: the counts are what was put in, the oldest waiting is the first.
    const opts = { connection: redisOptions(TEST_REDIS_URL), prefix: s.prefix };
    const media = new Queue('media-telegram', opts);
    const outbound = new Queue('outbound-telegram', opts);
    try {
      const first = await media.add('media', { v: 1, sealed: 'x' });
      await new Promise((r) => setTimeout(r, 20));
      await media.addBulk([0, 1].map(() => ({ name: 'media', data: { v: 1, sealed: 'x' } })));
      // An acknowledgement the hub had delayed (to gather a burst) may still wait there: counted before.
      const delayedBefore = queue(down.report, 'outbound-telegram').delayed;
      await outbound.addBulk([0, 1].map(() => ({ name: 'send', data: { v: 1, sealed: 'x' }, opts: { delay: 3_600_000 } })));
      const r = (await status()).report;
      expect(queue(r, 'media-telegram')).toEqual({ name: 'media-telegram', waiting: 3, active: 0, delayed: 0, failed: 0, oldestWaitingAt: new Date(first.timestamp).toISOString() });
      expect(queue(r, 'outbound-telegram')).toMatchObject({ waiting: 0, active: 0, delayed: delayedBefore + 2, failed: 1, oldestWaitingAt: null });
      expect(queue(r, 'intake')).toMatchObject({ waiting: 0, active: 0, delayed: 0, failed: 0 });
      expect(r.queues!.map((q) => q.name)).toEqual(['intake', 'outbound-simulator', 'media-simulator', 'outbound-telegram', 'media-telegram', 'outbound-whatsapp', 'media-whatsapp', 'outbound-signal', 'media-signal']);
    } finally {
      await media.obliterate({ force: true });
      await media.close();
      await outbound.close();
    }

    // A line ingest cannot read is quarantined: that needs a person too, said without what it held.
    const file = path.join(s.dataDir, 'bad.jsonl');
    fs.writeFileSync(file, JSON.stringify({ id: 'q1', from: '+9647700123987', name: 'Abu Quarantined', text: 42 }) + '\n');
    await runCli(['ingest', file], env);
    const q = await status();
    expect(q.code).toBe(1);
    expect(q.report.caseLog!.quarantined).toBe(1);
    expect(q.report.needsPerson).toContain('quarantine: 1 message kept aside');
    expect(q.text).not.toContain('9647700123987');
    expect(q.text).not.toContain('Quarantined');
  });
});
