/**
 * `tiphub whatsapp link` and `tiphub start` on a terminal (app/cli/link.ts): each new pairing code
 * the channel waits with is printed as a QR code, once; the watcher ends when the channel says it
 * is connected (or goes on, for `start`), and gives up after its time. States are written by the
 * function the adapters' ports use, in the real Redis under this test's prefix.
 */
import { PassThrough } from 'node:stream';
import type { Redis } from 'ioredis';
import { watchLogin, terminalQr } from '../../app/cli/link';
import { writeChannelState } from '../../src/channels/state';
import { connectRedis } from '../../src/queue/redis';
import { dropPrefix, newPrefix, TEST_REDIS_URL } from '../helpers/env';

let redis: Redis;
let prefix: string;
beforeEach(() => {
  redis = connectRedis(TEST_REDIS_URL);
  prefix = newPrefix();
});
afterEach(async () => {
  redis.disconnect();
  await dropPrefix(prefix);
});

const collect = () => {
  const out = new PassThrough();
  let text = '';
  out.on('data', (d: Buffer) => (text += d.toString('utf8')));
  return { out, text: () => text };
};

test('each new code printed once, as a QR code; done when connected', async () => {
  const { out, text } = collect();
  await writeChannelState(redis, prefix, 'whatsapp', { state: 'needs-login', mode: 'web', qr: 'first-code' }, 'p1');
  const watching = watchLogin(TEST_REDIS_URL, prefix, 'whatsapp', { out, timeoutMs: 10_000, pollMs: 20 });
  await new Promise((r) => setTimeout(r, 200));
  await writeChannelState(redis, prefix, 'whatsapp', { state: 'needs-login', mode: 'web', qr: 'second-code' }, 'p1');
  await new Promise((r) => setTimeout(r, 200));
  await writeChannelState(redis, prefix, 'whatsapp', { state: 'connected', mode: 'web' }, 'p1');
  await expect(watching).resolves.toBe(true);
  const first = await terminalQr('first-code');
  const second = await terminalQr('second-code');
  expect(first).not.toBe(second);
  expect(text().split(first).length - 1).toBe(1);
  expect(text().split(second).length - 1).toBe(1);
  expect(text()).toContain('Linked devices');
  expect(text()).toMatch(/whatsapp: linked and connected\.\n$/);
  // The code is drawn, never written as text.
  expect(text()).not.toContain('first-code');
});

test('gives up after its time when nothing comes; `start` keeps watching after a login', async () => {
  const { out, text } = collect();
  await expect(watchLogin(TEST_REDIS_URL, prefix, 'whatsapp', { out, timeoutMs: 300, pollMs: 20 })).resolves.toBe(false);
  expect(text()).toContain('whatsapp: not running; waiting for a QR code');

  let stop = false;
  const { out: out2, text: text2 } = collect();
  await writeChannelState(redis, prefix, 'whatsapp', { state: 'connected', mode: 'web' }, 'p1');
  const watching = watchLogin(TEST_REDIS_URL, prefix, 'whatsapp', { out: out2, timeoutMs: 10_000, pollMs: 20, keepWatching: true, stopped: () => stop });
  await new Promise((r) => setTimeout(r, 150));
  // Logged out later: a new code is shown.
  await writeChannelState(redis, prefix, 'whatsapp', { state: 'needs-login', detail: 'logged out', mode: 'web', qr: 'after-logout' }, 'p1');
  await new Promise((r) => setTimeout(r, 200));
  stop = true;
  await expect(watching).resolves.toBe(false);
  expect(text2()).toContain(await terminalQr('after-logout'));
});
