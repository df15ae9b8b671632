/**
 * Long polling against a local Bot API stand-in that honours `offset`: an update is confirmed only
 * after its job is in Redis, so killing the adapter mid-batch loses nothing; one poller per bot.
 */
import { setup, waitFor, type TestSetup } from '../helpers/env';
import { startCli, type Background } from '../helpers/cli';
import { BotApiStandin, textUpdate } from '../helpers/bot-api-standin';
import { createIntakeQueue, type IntakeQueue } from '../../src/queue/intake-queue';
import { openPostgres } from '../../src/caselog/db';
import { connectRedis } from '../../src/queue/redis';

describe('telegram long polling', () => {
  let s: TestSetup;
  let api: BotApiStandin;
  let queue: IntakeQueue;
  let env: Record<string, string>;
  const procs: Background[] = [];
  beforeEach(async () => {
    s = await setup('postgres', { channels: { telegram: { leaseMs: 1500, pollTimeoutSeconds: 1 } } });
    api = new BotApiStandin();
    await api.start();
    queue = createIntakeQueue(s.env.REDIS_URL!, s.cfg);
    env = { ...s.env, TIPHUB_TELEGRAM_TOKEN: api.token, TIPHUB_TELEGRAM_API_ROOT: api.apiRoot, TIPHUB_LOG_LEVEL: 'info' };
  });
  afterEach(async () => {
    for (const p of procs.splice(0)) await p.stop('SIGKILL');
    await queue.close();
    await api.stop();
    await s.cleanup();
  });

  test('killing the adapter in the middle of a batch loses nothing and duplicates nothing', async () => {
    const N = 2000;
    for (let i = 0; i < N; i++) api.push(textUpdate(100000 + i, 1, `Report ${i}: armed men seen near checkpoint ${i % 17}`));
    const first = startCli(['adapter', 'telegram'], env);
    procs.push(first);
    await waitFor(async () => (await queue.getJobCounts("waiting")).waiting >= 500, 60_000, 2);
    first.child.kill('SIGKILL');
    await first.stop();
    const atKill = { jobs: (await queue.getJobCounts('waiting')).waiting, confirmed: api.confirmed };
    expect(atKill.jobs).toBeLessThan(N); // it died mid-way
    expect(atKill.confirmed).toBeLessThanOrEqual(atKill.jobs + 1); // nothing confirmed that was not enqueued

    const second = startCli(['adapter', 'telegram'], env);
    procs.push(second);
    const worker = startCli(['worker'], env);
    procs.push(worker);
    const db = await openPostgres({ url: s.env.DATABASE_URL! });
    try {
      await waitFor(async () => (await db.query<{ n: number }>('SELECT count(*)::int AS n FROM reports')).rows[0]!.n >= N, 90_000, 100);
      await waitFor(async () => api.confirmed === N + 1, 30_000);
      const { rows } = await db.query<{ n: number; d: number }>('SELECT count(*)::int AS n, count(DISTINCT native_id || informant)::int AS d FROM reports');
      expect(rows[0]).toEqual({ n: N, d: N });
    } finally {
      await db.close();
    }
    console.log(`telegram kill test: at the kill ${atKill.jobs} jobs stored, offset confirmed to ${atKill.confirmed}; after takeover all ${N} reports, each once`);
  });

  test('two adapters on one bot: one polls; kill it and the other takes over', async () => {
    const a = startCli(['adapter', 'telegram'], env);
    const b = startCli(['adapter', 'telegram'], env);
    procs.push(a, b);
    await waitFor(async () => /polling lease taken/.test(a.output()) || /polling lease taken/.test(b.output()), 30_000);
    await new Promise((r) => setTimeout(r, 2000));
    const [holder, other] = /polling lease taken/.test(a.output()) ? [a, b] : [b, a];
    expect(other.output()).not.toMatch(/polling lease taken/);
    expect(other.output()).toMatch(/waiting for the polling lease/);
    holder.child.kill('SIGKILL');
    await holder.stop();
    await other.waitForOutput(/polling lease taken/, 15_000);
    api.push(textUpdate(555, 9, 'Smoke rising from the refinery'));
    await waitFor(async () => (await queue.getJobCounts('waiting')).waiting >= 1, 15_000);
    expect(api.pending()).toBeLessThanOrEqual(1);
  });

  test('a token Telegram rejects stops the Telegram channel with a clear error; the hub runs on; ignored updates are counted', async () => {
    const hub = startCli(['start'], { ...env, TIPHUB_TELEGRAM_TOKEN: '7000000001:AAwrongwrongwrongwrongwrongwrongwrong0' });
    procs.push(hub);
    await hub.waitForOutput(/"channels":\["simulator"\],"msg":"hub ready"/);
    expect(hub.output()).toMatch(/"code":"TIPHUB_CONFIG_INVALID".*Telegram rejected TIPHUB_TELEGRAM_TOKEN \(getMe answered 401\).*"channel":"telegram","msg":"channel not started"/);
    expect(await hub.stop('SIGTERM')).toBe(0);

    const good = startCli(['adapter', 'telegram'], env);
    procs.push(good);
    api.push({ message: { message_id: 1, from: { id: 9, is_bot: false, first_name: 'G' }, chat: { id: -100123, type: 'group', title: 'G' }, date: 1781068331, text: 'hi all' } });
    api.push({ channel_post: { message_id: 2, chat: { id: -100777, type: 'channel', title: 'C' }, date: 1781068331, text: 'news' } });
    const r = connectRedis(s.env.REDIS_URL!);
    try {
      await waitFor(async () => Object.keys(await r.hgetall(`${s.prefix}:ignored:telegram`)).length === 2, 20_000);
      expect(await r.hgetall(`${s.prefix}:ignored:telegram`)).toEqual({ group: '1', channel_post: '1' });
    } finally {
      r.disconnect();
    }
    expect((await queue.getJobCounts('waiting')).waiting).toBe(0);
  });
});
