/**
 * Channel alerts with the real program: `tiphub start` polling the Telegram Bot API stand-in;
 * the token revoked (every call answers 401) → one channel.down (detail "token rejected") from
 * the hub whose state write changed it; the hub stopped (on purpose: no alert), the token valid
 * again and the hub started → one channel.up. Nothing of the token in any body.
 */
import { BotApiStandin } from '../helpers/bot-api-standin';
import { setup, TEST_REDIS_URL, waitFor, type TestSetup } from '../helpers/env';
import { startCli, type Background } from '../helpers/cli';
import { connectRedis } from '../../src/queue/redis';
import { startReceiver, type Receiver } from '../unit/alerts-receiver';

describe('channel alerts from tiphub start', () => {
  let s: TestSetup;
  let api: BotApiStandin;
  let receiver: Receiver;
  let hub: Background | null = null;
  const redis = connectRedis(TEST_REDIS_URL);
  beforeEach(async () => {
    receiver = await startReceiver('/hook');
    api = new BotApiStandin();
    await api.start();
    s = await setup('pglite', { alerts: { webhookUrl: receiver.url, channelDownAfterSeconds: 0, backoffMs: 100 }, channels: { telegram: { leaseMs: 1500, pollTimeoutSeconds: 1 } } });
  });
  afterEach(async () => {
    await hub?.stop('SIGKILL');
    await api.stop();
    await receiver.close();
    await s.cleanup();
  });
  afterAll(() => redis.disconnect());

  test('token revoked: one channel.down; fixed and restarted: one channel.up', async () => {
    const token = api.token;
    const env = { ...s.env, TIPHUB_TELEGRAM_TOKEN: token, TIPHUB_TELEGRAM_API_ROOT: api.apiRoot, TIPHUB_LOG_LEVEL: 'info' };
    const state = `${s.prefix}:channel:telegram`;
    hub = startCli(['start'], env);
    await hub.waitForOutput(/"msg":"hub ready"/, 120_000);
    await waitFor(async () => (await redis.hget(state, 'state')) === 'connected', 30_000);

    Object.assign(api, { token: `${api.botId}:AArevokedrevokedrevokedrevokedrevoked0` });
    await waitFor(async () => receiver.got.length >= 1, 30_000);
    await hub.waitForOutput(/"msg":"channel alert"/);
    expect(await hub.stop('SIGTERM')).toBe(0);
    hub = null;
    expect(await redis.hget(state, 'state')).toBe('stopped');

    Object.assign(api, { token });
    hub = startCli(['start'], env);
    await hub.waitForOutput(/"msg":"hub ready"/, 120_000);
    await waitFor(async () => receiver.got.length >= 2, 30_000);
    await new Promise((r) => setTimeout(r, 1000)); // nothing more comes

    const bodies = receiver.got.map((g) => JSON.parse(g.body) as Record<string, unknown>);
    expect(bodies).toEqual([
      { kind: 'channel.down', channel: 'telegram', state: 'disconnected', detail: 'token rejected', since: expect.any(String), at: expect.any(String) },
      { kind: 'channel.up', channel: 'telegram', state: 'connected', detail: null, since: expect.any(String), at: expect.any(String) },
    ]);
    expect(Date.parse(String(bodies[1]!.since))).toBeGreaterThan(Date.parse(String(bodies[0]!.since)));
    const all = receiver.got.map((g) => g.body).join('\n');
    expect(all).not.toContain(token.split(':')[1]!);
    expect(all).not.toContain(String(api.botId));
  }, 300_000); // two hubs' starts (or PGlite) on a loaded machine: more than the default 120 s
});
