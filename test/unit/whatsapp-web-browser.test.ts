/**
 * Issue 12 (WhatsApp Web): the real wiring. The adapter launches Debian's Chromium through
 * whatsapp-web.js (LocalAuth under the data directory) on a machine where WhatsApp Web cannot be
 * reached: it must say so as its state (`disconnected`, with a clear detail) within 30 s while
 * start() has long returned, and stop() must leave no Chromium process behind. No real login is
 * possible here (no network, no phone); that part is covered with a fake client
 * (whatsapp-web-session.test.ts).
 */
import { execFileSync } from 'node:child_process';
import * as fs from 'node:fs';
import { createWebAdapter, type WebAdapter } from '../../adapters/whatsapp/web/adapter';
import { GuardedClient, makeWebClient, PAGE_FAILED } from '../../adapters/whatsapp/web/session';
import { fakePorts, recordingSink, waitFor } from './whatsapp-web-fakes';

const CHROMIUM = '/usr/bin/chromium';
const haveChromium = fs.existsSync(CHROMIUM);

/** Pids of Chromium processes started with this test's data directory (only ours). */
function browsersOf(dir: string): number[] {
  const out = execFileSync('ps', ['-eo', 'pid=,args='], { encoding: 'utf8' });
  return out
    .split('\n')
    .filter((l) => l.includes(dir) && /chrom/i.test(l))
    .map((l) => Number(l.trim().split(/\s+/)[0]))
    .filter((p) => p !== process.pid);
}

type Env = ReturnType<typeof fakePorts>;
let adapter: WebAdapter | null = null;
let env: Env | null = null;
afterEach(async () => {
  await adapter?.stop();
  adapter = null;
  if (env) {
    // Whatever happened, no browser of ours outlives the test.
    for (const pid of browsersOf(env.dataDir)) {
      try {
        process.kill(pid, 'SIGKILL');
      } catch {
        // gone
      }
    }
    env.cleanup();
  }
  env = null;
});

(haveChromium ? test : test.skip)(
  'Chromium launched with the network closed: disconnected with a clear detail within 30 s; stop() leaves no Chromium behind',
  async () => {
    env = fakePorts({ web: { chromiumPath: CHROMIUM, readyTimeoutMs: 25_000, watchdogIntervalMs: 60_000, watchdogTimeoutMs: 20_000, restartBackoffMs: 60_000, restartBackoffMaxMs: 300_000 } });
    adapter = createWebAdapter(env.ports);
    const seen = new Set<number>();
    const t0 = Date.now();
    await adapter.start(recordingSink().sink);
    expect(Date.now() - t0).toBeLessThan(1000);
    const e = env;
    await waitFor(
      () => {
        for (const p of browsersOf(e.dataDir)) seen.add(p);
        return e.states.some((s) => s.state === 'disconnected');
      },
      30_000,
      'the state disconnected',
    );
    const elapsed = Date.now() - t0;
    const down = env.states.find((s) => s.state === 'disconnected')!;
    expect(['WhatsApp Web not reachable', 'WhatsApp Web did not load', 'WhatsApp Web did not become ready']).toContain(down.detail);
    expect(down.mode).toBe('web');
    expect(elapsed).toBeLessThan(30_000);
    // The browser really ran, under LocalAuth's directory in ours.
    expect(seen.size).toBeGreaterThan(0);
    expect(fs.existsSync(`${env.dataDir}/whatsapp-web/session-test`)).toBe(true);
    await adapter.stop();
    await waitFor(() => browsersOf(e.dataDir).length === 0, 10_000, 'no Chromium left');
    expect(env.states.at(-1)).toEqual({ state: 'stopped', mode: 'web' });
    expect(adapter.session.restarts).toBe(0);
    process.stdout.write(`[whatsapp-web-browser] ${down.detail} after ${elapsed} ms; ${seen.size} Chromium process(es) seen, none left\n`);
  },
  60_000,
);

test('Chromium missing: disconnected "browser failed to start" at once, retried with backoff; start() still resolved', async () => {
  env = fakePorts({ web: { chromiumPath: '/nonexistent/chromium', restartBackoffMs: 100, restartBackoffMaxMs: 1000 } });
  adapter = createWebAdapter(env.ports);
  await adapter.start(recordingSink().sink);
  const e = env;
  await waitFor(() => e.states.filter((s) => s.state === 'disconnected').length >= 2, 10_000, 'two failed starts');
  expect(env.states.find((s) => s.state === 'disconnected')).toEqual({ state: 'disconnected', detail: 'browser failed to start', mode: 'web' });
  expect(adapter.session.restarts).toBeGreaterThanOrEqual(1);
  expect(env.lines.join('\n')).not.toContain('nonexistent');
});

test('the real client: a failed re-injection after start is an event, not an unhandled rejection', async () => {
  env = fakePorts();
  const client = makeWebClient({ clientId: 'guard', dataPath: `${env.dataDir}/whatsapp-web`, chromiumPath: '/nonexistent/chromium' });
  expect(client).toBeInstanceOf(GuardedClient());
  const inject = () => (client as unknown as { inject(): Promise<void> }).inject();
  // Before start, the library's own errors come through (initialize reports them).
  await expect(inject()).rejects.toBeDefined();
  await expect(client.initialize()).rejects.toBeDefined();
  const failures: unknown[] = [];
  client.on(PAGE_FAILED, (err: unknown) => void failures.push(err));
  // No page any more: the library's inject throws; the guard turns it into the event.
  await expect(inject()).resolves.toBeUndefined();
  expect(failures).toHaveLength(1);
  await client.destroy();
});
