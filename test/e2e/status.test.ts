/**
 * Issue 12, first step: each channel's state through the contract's events port, and a first
 * `tiphub status` printing it per channel — as a person reads it and as JSON — with exit status 1
 * while an enabled channel needs a person. The real program against the Bot API stand-in.
 */
import { setup, waitFor, type TestSetup } from '../helpers/env';
import { runCli, startCli, type Background } from '../helpers/cli';
import { BotApiStandin, textUpdate } from '../helpers/bot-api-standin';

jest.setTimeout(90_000);

interface Row { channel: string; enabled: boolean; state: string | null; mode: string | null; since: string | null; lastMessageAt: string | null; needsPerson: boolean }

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
    return { code: r.code, rows: (JSON.parse(r.stdout) as { channels: Row[] }).channels, text: r.stdout };
  };

  test('nothing running: each enabled channel needs a person (exit 1); a channel without credentials is only "no"', async () => {
    const r = await runCli(['status'], env);
    expect(r.code).toBe(1);
    expect(r.stdout).toMatch(/^channel\s+enabled\s+state\s+since\s+mode\s+last message\s+detail$/m);
    expect(r.stdout).toMatch(/^telegram\s+yes\s+not running\s+-\s+-\s+-\s+NEEDS A PERSON$/m);
    const without = await runCli(['status'], s.env);
    expect(without.stdout).toMatch(/^telegram\s+no\s+-/m);
  });

  test('the hub running: every channel connected (exit 0), a message\'s age once one came in, then stopped', async () => {
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

    const before = Date.now();
    api.push(textUpdate(424242001, 1, 'Checkpoint closed on the north road'));
    const got = await waitFor(async () => {
      const r = await status();
      const t = r.rows.find((c) => c.channel === 'telegram')!;
      return t.lastMessageAt ? t : null;
    }, 30_000, 200);
    expect(Date.parse(got.lastMessageAt!)).toBeGreaterThanOrEqual(before - 1000);
    const shown = await runCli(['status'], env);
    expect(shown.stdout).toMatch(/^telegram\s+yes\s+connected\s+\d+ s ago\s+polling\s+\d+ s ago$/m);
    // No identifier in it: not the sender's id, not the token.
    for (const out of [shown.stdout, up.text]) {
      expect(out).not.toContain('424242001');
      expect(out).not.toContain(api.token.split(':')[1]!);
    }

    expect(await hub.stop('SIGTERM')).toBe(0);
    hub = null;
    const down = await status();
    expect(down.code).toBe(1);
    expect(down.rows.map((c) => [c.channel, c.state, c.needsPerson])).toEqual([['simulator', 'stopped', true], ['telegram', 'stopped', true], ['whatsapp', null, false], ['signal', null, false]]);
  });
});
