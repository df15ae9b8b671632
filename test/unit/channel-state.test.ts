/**
 * A channel's state in Redis (src/channels/state.ts), as `tiphub status` reads it: a standby's
 * "connecting" or "stopped" does not hide what the live process receiving says, a process that
 * stopped rewriting (crashed, killed) reads as stale, and "since" moves only when the state does.
 */
import { connectRedis } from '../../src/queue/redis';
import { readChannelStates, STALE_MS, writeChannelState } from '../../src/channels/state';
import { dropPrefix, newPrefix, TEST_REDIS_URL } from '../helpers/env';

const redis = connectRedis(TEST_REDIS_URL);
const prefix = newPrefix();
afterAll(async () => {
  await dropPrefix(prefix);
  redis.disconnect();
});

const state = async (now: number) => (await readChannelStates(redis, prefix, ['telegram'], now))[0]!;

test('the live owner keeps its word against a standby; a silent owner goes stale and yields', async () => {
  const t0 = 1_800_000_000_000;
  expect(await writeChannelState(redis, prefix, 'telegram', { state: 'connected', mode: 'polling' }, 'A', t0)).toBe(true);
  // B waits for the lease, then leaves: neither replaces A's "connected" while A is alive.
  expect(await writeChannelState(redis, prefix, 'telegram', { state: 'connecting', mode: 'polling' }, 'B', t0 + 1000)).toBe(false);
  expect(await writeChannelState(redis, prefix, 'telegram', { state: 'stopped', mode: 'polling' }, 'B', t0 + 2000)).toBe(false);
  expect(await state(t0 + 3000)).toMatchObject({ state: 'connected', since: new Date(t0).toISOString(), stale: false });
  // A's own repeat keeps "since"; a real change by anyone is written.
  await writeChannelState(redis, prefix, 'telegram', { state: 'connected', mode: 'polling' }, 'A', t0 + 30_000);
  expect(await state(t0 + 31_000)).toMatchObject({ since: new Date(t0).toISOString(), updatedAt: new Date(t0 + 30_000).toISOString() });
  // A is killed: nothing rewrites it. Past STALE_MS it reads stale, and B's word is taken.
  expect(await state(t0 + 30_000 + STALE_MS + 1)).toMatchObject({ state: 'connected', stale: true });
  expect(await writeChannelState(redis, prefix, 'telegram', { state: 'connecting', mode: 'polling' }, 'B', t0 + 30_000 + STALE_MS + 1)).toBe(true);
  expect(await state(t0 + 30_000 + STALE_MS + 2)).toMatchObject({ state: 'connecting', since: new Date(t0 + 30_000 + STALE_MS + 1).toISOString(), stale: false });
  // A stopped channel is not stale, however old: it said it stopped.
  await writeChannelState(redis, prefix, 'telegram', { state: 'stopped', mode: 'polling' }, 'B', t0 + 200_000);
  expect(await state(t0 + 10 * STALE_MS)).toMatchObject({ state: 'stopped', stale: false });
  // Only words, times and counts are kept.
  expect(Object.keys(await redis.hgetall(`${prefix}:channel:telegram`)).sort()).toEqual(['detail', 'disconnectedMs', 'mode', 'owner', 'reconnects', 'since', 'state', 'updatedAt']);
});

test('the core counts each lost connection and adds up the time down, whatever the channel', async () => {
  const ch = 'whatsapp';
  const at = async (now: number) => (await readChannelStates(redis, prefix, [ch], now))[0]!;
  const w = (st: 'connected' | 'connecting' | 'disconnected' | 'needs-login' | 'stopped', now: number) => writeChannelState(redis, prefix, ch, { state: st }, 'A', now);
  const t0 = 1_900_000_000_000;
  // A start's first "connecting" is neither a reconnect nor time down.
  await w('connecting', t0);
  await w('connected', t0 + 2000);
  expect(await at(t0 + 3000)).toMatchObject({ reconnects: 0, disconnectedSeconds: 0 });
  // Lost: one reconnect; down 10 s so far, counted while it lasts, the state's own repeat changes nothing.
  await w('disconnected', t0 + 10_000);
  await w('disconnected', t0 + 15_000);
  expect(await at(t0 + 20_000)).toMatchObject({ state: 'disconnected', reconnects: 1, disconnectedSeconds: 10 });
  await w('connecting', t0 + 25_000);
  await w('connected', t0 + 40_000);
  expect(await at(t0 + 100_000)).toMatchObject({ reconnects: 1, disconnectedSeconds: 30 });
  // connected -> connecting is a reconnect too; a logout is time down until it is connected again.
  await w('connecting', t0 + 110_000);
  await w('needs-login', t0 + 115_000);
  await w('connected', t0 + 130_000);
  expect(await at(t0 + 140_000)).toMatchObject({ reconnects: 2, disconnectedSeconds: 50 });
  // A stop is not a reconnect, and stopped time is not time down.
  await w('stopped', t0 + 150_000);
  await w('connecting', t0 + 500_000);
  await w('connected', t0 + 501_000);
  expect(await at(t0 + 600_000)).toMatchObject({ reconnects: 2, disconnectedSeconds: 50 });
  // A start that cannot connect is time down from when it said so, until stopped.
  await w('stopped', t0 + 610_000);
  await w('disconnected', t0 + 620_000);
  await w('stopped', t0 + 625_000);
  expect(await at(t0 + 700_000)).toMatchObject({ reconnects: 2, disconnectedSeconds: 55 });
});
