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
  // Only words and times are kept.
  expect(Object.keys(await redis.hgetall(`${prefix}:channel:telegram`)).sort()).toEqual(['detail', 'mode', 'owner', 'since', 'state', 'updatedAt']);
});
