/**
 * Channel alerts (src/alerts/channel-alerts.ts) on the real Redis, driving src/channels/state.ts
 * as two processes (owners A and B) would: a down that lasts past the debounce is alerted once
 * however many processes check, a shorter one (a flap) not at all, the way back once; an owner
 * that stops rewriting (killed) is alerted as stale; a decision a crash left unenqueued is
 * enqueued by the next check, once. Then the same through the sender to a real HTTP receiver.
 */

import { loadConfig } from '../../src/config';
import { connectRedis } from '../../src/queue/redis';
import { STALE_MS, writeChannelState } from '../../src/channels/state';
import { ChannelAlerts } from '../../src/alerts/channel-alerts';
import { createAlertsQueue } from '../../src/alerts/queue';
import { startAlertSender } from '../../src/alerts/sender';
import { capturingLogger, dropPrefix, newPrefix, TEST_REDIS_URL, waitFor } from '../helpers/env';
import { startReceiver } from './alerts-receiver';

const prefix = newPrefix();
const redisA = connectRedis(TEST_REDIS_URL);
const redisB = connectRedis(TEST_REDIS_URL);
const cfg = loadConfig({ env: {}, cwd: '/', overrides: { queue: { prefix }, alerts: { webhookUrl: 'http://127.0.0.1:9/hook', channelDownAfterSeconds: 30, backoffMs: 50 } } });
const queue = createAlertsQueue(TEST_REDIS_URL, cfg);
const { log } = capturingLogger('warn');
const a = new ChannelAlerts(redisA, queue, cfg, log);
const b = new ChannelAlerts(redisB, queue, cfg, log);

afterAll(async () => {
  await a.close();
  await b.close();
  await queue.obliterate({ force: true });
  await queue.close();
  await dropPrefix(prefix);
  redisA.disconnect();
  redisB.disconnect();
});

const jobs = async (channel: string) => (await queue.getJobs(['waiting', 'delayed', 'completed', 'failed', 'active'])).filter((j) => j.data.kind !== 'case.high-priority' && j.data.channel === channel);
const both = async (channel: string, now: number) => Promise.all([a.check(channel, now), b.check(channel, now)]);

test('down past the debounce: one alert from two checking processes; back: one up; a flap: nothing', async () => {
  const ch = 'telegram';
  const t0 = 1_900_000_000_000;
  await writeChannelState(redisA, prefix, ch, { state: 'connected', mode: 'polling' }, 'A', t0);
  expect((await both(ch, t0 + 1000)).filter(Boolean)).toHaveLength(0);
  await writeChannelState(redisA, prefix, ch, { state: 'disconnected', detail: 'token rejected', mode: 'polling' }, 'A', t0 + 2000);
  // Within the debounce: nothing yet.
  expect((await both(ch, t0 + 2000 + 29_000)).filter(Boolean)).toHaveLength(0);
  // Another down state (still down): the debounce runs from the first.
  // A captcha's detail carries the platform's challenge token: for tiphub status, never for the webhook.
  await writeChannelState(redisA, prefix, ch, { state: 'needs-captcha', detail: 'answer the captcha: tiphub signal challenge 5f3a9c1e-token CAPTCHA', mode: 'polling' }, 'A', t0 + 20_000);
  const down = (await both(ch, t0 + 2000 + 30_000)).filter(Boolean);
  expect(down).toEqual([
    {
      kind: 'channel.down', channel: ch, state: 'needs-captcha', detail: 'the platform asks for a captcha: tiphub status says how to answer it',
      since: new Date(t0 + 2000).toISOString(), at: new Date(t0 + 32_000).toISOString(),
    },
  ]);
  expect(JSON.stringify(down)).not.toContain('5f3a9c1e');
  expect((await both(ch, t0 + 60_000)).filter(Boolean)).toHaveLength(0);
  // A standby's "connecting" is neither down nor up.
  await writeChannelState(redisB, prefix, ch, { state: 'connecting', mode: 'polling' }, 'B', t0 + 61_000);
  expect((await both(ch, t0 + 62_000)).filter(Boolean)).toHaveLength(0);
  await writeChannelState(redisB, prefix, ch, { state: 'connected', mode: 'polling' }, 'B', t0 + 70_000);
  const up = (await both(ch, t0 + 70_500)).filter(Boolean);
  expect(up).toEqual([{ kind: 'channel.up', channel: ch, state: 'connected', detail: null, since: new Date(t0 + 70_000).toISOString(), at: new Date(t0 + 70_500).toISOString() }]);
  expect((await both(ch, t0 + 71_000)).filter(Boolean)).toHaveLength(0);
  // A flap shorter than the debounce: nothing, now or later.
  await writeChannelState(redisB, prefix, ch, { state: 'disconnected', detail: 'network', mode: 'polling' }, 'B', t0 + 80_000);
  expect((await both(ch, t0 + 85_000)).filter(Boolean)).toHaveLength(0);
  await writeChannelState(redisB, prefix, ch, { state: 'connected', mode: 'polling' }, 'B', t0 + 90_000);
  expect((await both(ch, t0 + 150_000)).filter(Boolean)).toHaveLength(0);
  // A stop on purpose is not a down.
  await writeChannelState(redisB, prefix, ch, { state: 'stopped', mode: 'polling' }, 'B', t0 + 210_000);
  expect((await both(ch, t0 + 10 * STALE_MS)).filter(Boolean)).toHaveLength(0);
  expect((await jobs(ch)).map((j) => j.data.kind).sort()).toEqual(['channel.down', 'channel.up']);
});

test('an owner that stops rewriting (killed) is alerted stale, once; a new owner connecting brings the up', async () => {
  const ch = 'whatsapp';
  const t0 = 1_900_100_000_000;
  await writeChannelState(redisA, prefix, ch, { state: 'connected', mode: 'web' }, 'A', t0);
  expect((await both(ch, t0 + STALE_MS)).filter(Boolean)).toHaveLength(0);
  const stale = (await both(ch, t0 + STALE_MS + 30_001)).filter(Boolean);
  expect(stale).toEqual([expect.objectContaining({ kind: 'channel.down', state: 'stale', detail: 'no process reports it', since: new Date(t0).toISOString() })]);
  await writeChannelState(redisB, prefix, ch, { state: 'connected', mode: 'web' }, 'B', t0 + STALE_MS + 40_000);
  expect((await both(ch, t0 + STALE_MS + 40_001)).filter(Boolean)).toEqual([expect.objectContaining({ kind: 'channel.up', since: new Date(t0 + STALE_MS + 40_000).toISOString() })]);
  expect(await jobs(ch)).toHaveLength(2);
});

test('a decision a crash left before its enqueue is enqueued by the next check, as one job', async () => {
  const ch = 'signal';
  const t0 = 1_900_200_000_000;
  await writeChannelState(redisA, prefix, ch, { state: 'connected', mode: 'websocket' }, 'A', t0);
  await writeChannelState(redisA, prefix, ch, { state: 'disconnected', detail: 'server unreachable', mode: 'websocket' }, 'A', t0 + 1000);
  // What the script leaves when the process dies right after deciding: the decision in the hash.
  const pending = JSON.stringify({ kind: 'channel.down', state: 'disconnected', detail: 'server unreachable', since: t0 + 1000, at: t0 + 40_000 });
  await redisA.hset(`${prefix}:channel:${ch}`, 'alerted', 'down', 'alertPending', pending);
  expect(await b.check(ch, t0 + 50_000)).toMatchObject({ kind: 'channel.down', detail: 'server unreachable', at: new Date(t0 + 40_000).toISOString() });
  expect(await redisA.hget(`${prefix}:channel:${ch}`, 'alertPending')).toBeNull();
  // Enqueued twice (the crash came after the enqueue, before the clear): still one job.
  await redisA.hset(`${prefix}:channel:${ch}`, 'alertPending', pending);
  await a.check(ch, t0 + 60_000);
  expect(await jobs(ch)).toHaveLength(1);
});

test('through the sender: the receiver gets one channel.down, then one channel.up', async () => {
  const receiver = await startReceiver('/hook');
  const p2 = newPrefix();
  const c2 = loadConfig({ env: {}, cwd: '/', overrides: { queue: { prefix: p2 }, alerts: { webhookUrl: receiver.url, channelDownAfterSeconds: 0, backoffMs: 50 } } });
  const q2 = createAlertsQueue(TEST_REDIS_URL, c2);
  const x = new ChannelAlerts(redisA, q2, c2, log);
  const y = new ChannelAlerts(redisB, q2, c2, log);
  const sender = startAlertSender({ cfg: c2, redis: TEST_REDIS_URL, key: Buffer.from('k'.repeat(32)), log });
  try {
    await writeChannelState(redisA, p2, 'telegram', { state: 'connected', mode: 'polling' }, 'A');
    x.afterWrite('telegram');
    await writeChannelState(redisA, p2, 'telegram', { state: 'disconnected', detail: 'token rejected', mode: 'polling' }, 'A');
    x.afterWrite('telegram');
    y.afterWrite('telegram');
    await waitFor(async () => receiver.got.length >= 1);
    await writeChannelState(redisA, p2, 'telegram', { state: 'connected', mode: 'polling' }, 'A');
    y.afterWrite('telegram');
    x.afterWrite('telegram');
    await waitFor(async () => receiver.got.length >= 2);
    await new Promise((r) => setTimeout(r, 500));
    const bodies = receiver.got.map((g) => JSON.parse(g.body) as { kind: string; channel: string; state: string; detail: string | null });
    expect(bodies.map((m) => [m.kind, m.channel, m.state, m.detail])).toEqual([
      ['channel.down', 'telegram', 'disconnected', 'token rejected'],
      ['channel.up', 'telegram', 'connected', null],
    ]);
  } finally {
    await x.close();
    await y.close();
    await sender.close();
    await q2.obliterate({ force: true });
    await q2.close();
    await dropPrefix(p2);
    await receiver.close();
  }
});
