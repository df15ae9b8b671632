/**
 * Issue 12 (WhatsApp Web): the session's failure modes, on a fake whatsapp-web.js Client. start()
 * resolves at once; the watchdog restarts a browser whose page hangs or throws "detached Frame",
 * with exponential backoff and jitter; `ready` that never comes restarts it too; a QR code is the
 * channel's state (never a log line); the phone logging out asks for a new QR; a standby waits for
 * the lease; stop() closes the browser.
 */
import { createWebAdapter, type WebAdapter } from '../../adapters/whatsapp/web/adapter';
import { disconnectDetail, launchDetail, PAGE_FAILED } from '../../adapters/whatsapp/web/session';
import { FakeClient, FakeLease, fakePorts, recordingSink, waitFor, type StartMode, type StateMode } from './whatsapp-web-fakes';

type Env = ReturnType<typeof fakePorts>;
let adapter: WebAdapter | null = null;
let env: Env | null = null;
afterEach(async () => {
  await adapter?.stop();
  adapter = null;
  env?.cleanup();
  env = null;
});

/** An adapter whose clients start and answer as the list says (the last one repeats). */
function make(plan: [StartMode, StateMode?][], opts: Parameters<typeof fakePorts>[0] = {}, random = () => 1) {
  env = fakePorts(opts);
  const clients: FakeClient[] = [];
  adapter = createWebAdapter(env.ports, {
    random,
    closeTimeoutMs: 200,
    makeClient: () => {
      const [start, state] = plan[Math.min(clients.length, plan.length - 1)]!;
      const c = new FakeClient(start, state ?? 'ok');
      clients.push(c);
      return c;
    },
  });
  return { adapter, env, clients };
}

const details = (e: Env) => e.states.map((s) => `${s.state}${s.detail ? ` (${s.detail})` : ''}`);

test('start() resolves at once while the browser is still coming up', async () => {
  const { adapter, env, clients } = make([['hang']]);
  const t0 = Date.now();
  await adapter.start(recordingSink().sink);
  expect(Date.now() - t0).toBeLessThan(100);
  await waitFor(() => clients.length === 1);
  expect(adapter.session.ready).toBe(false);
  expect(details(env)).toEqual(['connecting', 'connecting (starting the browser)']);
});

test('a ready session is connected; the watchdog asks getState() again and again', async () => {
  const { adapter, env, clients } = make([['ready', 'ok']]);
  await adapter.start(recordingSink().sink);
  await waitFor(() => adapter.session.ready, 2000, 'ready');
  expect(env.states.at(-1)).toEqual({ state: 'connected', mode: 'web' });
  await waitFor(() => clients[0]!.stateCalls >= 3, 2000, 'watchdog ticks');
  expect(clients).toHaveLength(1);
});

test('watchdog: getState() hangs → the browser is destroyed and started again, backing off exponentially', async () => {
  const { adapter, env, clients } = make([['ready', 'hang']]);
  await adapter.start(recordingSink().sink);
  await waitFor(() => clients.length >= 4, 5000, 'three restarts');
  expect(clients[0]!.destroyed).toBeGreaterThanOrEqual(1);
  expect(details(env)).toContain('disconnected (browser not answering)');
  // random() = 1: the full step each time, doubling from restartBackoffMs up to the maximum.
  const waits = env.lines.map((l) => JSON.parse(l) as { restartInMs?: number }).filter((l) => l.restartInMs !== undefined).map((l) => l.restartInMs);
  expect(waits.slice(0, 3)).toEqual([20, 40, 80]);
  expect(env.lines.join('\n')).toMatch(/"reason":"watchdog timeout"/);
});

test('watchdog: getState() throws "detached Frame" → restart, backing off', async () => {
  const { adapter, env, clients } = make([['ready', 'detached']], {}, () => 0);
  await adapter.start(recordingSink().sink);
  await waitFor(() => clients.length >= 3, 5000, 'two restarts');
  expect(details(env)).toContain('disconnected (browser page failed)');
  expect(clients[0]!.destroyed).toBeGreaterThanOrEqual(1);
  // random() = 0: half a step each time (a session that never answered the watchdog does not reset it).
  const waits = env.lines.map((l) => JSON.parse(l) as { restartInMs?: number }).filter((l) => l.restartInMs !== undefined).map((l) => l.restartInMs);
  expect(waits.slice(0, 2)).toEqual([10, 20]);
  // The page's own words are not logged.
  expect(env.lines.join('\n')).not.toContain('A1B2C3');
});

test('backoff grows to the maximum with jitter in [half, whole] of each step', async () => {
  const draws = [0.25, 0.9, 0.5, 0.1, 0.75, 0.3];
  let i = 0;
  const { adapter, env, clients } = make([[{ fail: new Error('Failed to launch the browser process! spawn /nope ENOENT') }]], {}, () => draws[i++ % draws.length]!);
  await adapter.start(recordingSink().sink);
  await waitFor(() => clients.length >= 6, 5000, 'five restarts');
  const waits = env.lines.map((l) => JSON.parse(l) as { restartInMs?: number }).filter((l) => l.restartInMs !== undefined).map((l) => l.restartInMs!);
  const steps = [20, 40, 80, 160, 160];
  for (const [k, step] of steps.entries()) {
    expect(waits[k]).toBeGreaterThanOrEqual(step / 2);
    expect(waits[k]).toBeLessThanOrEqual(step);
  }
  expect(waits[0]).toBe(Math.round(10 + 0.25 * 10));
  expect(details(env)).toContain('disconnected (browser failed to start)');
});

test('the page failing after a navigation (the guarded re-injection) → restart', async () => {
  const { adapter, env, clients } = make([['ready'], ['ready']]);
  await adapter.start(recordingSink().sink);
  await waitFor(() => adapter.session.ready, 2000, 'ready');
  clients[0]!.emit(PAGE_FAILED, new Error('Execution context was destroyed, most likely because of a navigation.'));
  await waitFor(() => clients.length === 2 && adapter.session.ready, 3000, 'a new session');
  expect(details(env)).toContain('disconnected (browser page failed)');
});

test('ready never comes after a restored login → restart after readyTimeoutMs', async () => {
  const { adapter, env, clients } = make([['no-ready']]);
  await adapter.start(recordingSink().sink);
  await waitFor(() => clients.length >= 2, 3000, 'a restart');
  expect(details(env)).toContain('disconnected (WhatsApp Web did not become ready)');
  expect(clients[0]!.destroyed).toBeGreaterThanOrEqual(1);
});

test('a QR code is the state needs-login (never logged); no ready timeout while it waits for a scan', async () => {
  const { adapter, env, clients } = make([['qr']]);
  await adapter.start(recordingSink().sink);
  await waitFor(() => env.states.some((s) => s.state === 'needs-login'), 2000, 'needs-login');
  expect(env.states.find((s) => s.state === 'needs-login')).toEqual({ state: 'needs-login', qr: '2@FAKEQRREF,staticKeyB64,identityKeyB64,advSecret,1', mode: 'web' });
  await new Promise((r) => setTimeout(r, 700)); // longer than readyTimeoutMs
  expect(clients).toHaveLength(1);
  expect(env.lines.join('\n')).not.toContain('FAKEQRREF');
  // Scanned: authenticated, then ready.
  clients[0]!.emit('authenticated');
  clients[0]!.emit('ready');
  expect(env.states.at(-1)).toEqual({ state: 'connected', mode: 'web' });
});

test('the phone logs the session out: needs-login again, a fresh QR becomes the state; nothing removed by us', async () => {
  const { adapter, env, clients } = make([['ready']]);
  await adapter.start(recordingSink().sink);
  await waitFor(() => adapter.session.ready, 2000, 'ready');
  clients[0]!.emit('disconnected', 'LOGOUT');
  expect(env.states.at(-1)).toEqual({ state: 'needs-login', detail: 'logged out', mode: 'web' });
  expect(adapter.session.ready).toBe(false);
  clients[0]!.emit('qr', '2@FRESHQR,a,b,c,1');
  expect(env.states.at(-1)).toEqual({ state: 'needs-login', qr: '2@FRESHQR,a,b,c,1', mode: 'web' });
  expect(clients).toHaveLength(1);
  expect(clients[0]!.destroyed).toBe(0);
});

test('logged out and no QR follows → a fresh browser asks; UNPAIRED seen by the watchdog → the same', async () => {
  const { adapter, env, clients } = make([['ready', 'ok'], ['ready', 'unpaired'], ['qr']]);
  await adapter.start(recordingSink().sink);
  await waitFor(() => adapter.session.ready, 2000, 'ready');
  clients[0]!.emit('disconnected', 'LOGOUT');
  await waitFor(() => clients.length >= 2, 3000, 'restart after the logout');
  await waitFor(() => clients.length >= 3, 3000, 'restart after UNPAIRED');
  await waitFor(() => env.states.at(-1)?.qr === '2@FAKEQRREF,staticKeyB64,identityKeyB64,advSecret,1', 2000, 'a new QR');
  expect(details(env)).toContain('needs-login (logged out)');
});

test('other disconnections and auth failures restart with a fixed-word detail', async () => {
  expect(['LOGOUT', 'CONFLICT', 'TOS_BLOCK', 'whatever 9647701234567'].map(disconnectDetail)).toEqual(['logged out', 'opened elsewhere', 'blocked by WhatsApp', 'disconnected']);
  expect(
    [new Error('Failed to launch the browser process!'), new Error('net::ERR_NAME_NOT_RESOLVED at https://web.whatsapp.com/'), 'auth timeout', new Error('Execution context was destroyed'), new Error('9647701234567')].map(launchDetail),
  ).toEqual(['browser failed to start', 'WhatsApp Web not reachable', 'WhatsApp Web did not load', 'browser page failed', 'browser failed']);
  const { adapter, env, clients } = make([['ready'], ['ready']]);
  await adapter.start(recordingSink().sink);
  await waitFor(() => adapter.session.ready, 2000, 'ready');
  await waitFor(() => clients[0]!.stateCalls >= 2, 2000, 'the watchdog answered');
  clients[0]!.emit('disconnected', 'CONFLICT');
  await waitFor(() => clients.length === 2 && adapter.session.ready, 3000, 'a new session');
  // It had been up and answering: the backoff starts over.
  expect(adapter.session.lastBackoffMs).toBe(20);
  clients[1]!.emit('auth_failure', 'whatever');
  await waitFor(() => clients.length === 3, 3000, 'another');
  expect(details(env)).toEqual(expect.arrayContaining(['disconnected (opened elsewhere)', 'disconnected (authentication failed)']));
});

test('one session per clientId: a standby waits for the lease, then starts; stop() releases it', async () => {
  const lease = new FakeLease(false);
  const { adapter, env, clients } = make([['ready']], { lease });
  await adapter.start(recordingSink().sink);
  await new Promise((r) => setTimeout(r, 100));
  expect(clients).toHaveLength(0);
  expect(details(env)).toContain('connecting (waiting for the session lease)');
  lease.handOver();
  await waitFor(() => adapter.session.ready, 2000, 'ready');
  await adapter.stop();
  expect(clients[0]!.destroyed).toBeGreaterThanOrEqual(1);
  expect(lease.released).toBe(1);
  expect(env.states.at(-1)).toEqual({ state: 'stopped', mode: 'web' });
});

test('a lost lease closes the browser and waits for the lease again', async () => {
  const lease = new FakeLease(true);
  const { adapter, env, clients } = make([['ready']], { lease });
  await adapter.start(recordingSink().sink);
  await waitFor(() => adapter.session.ready, 2000, 'ready');
  lease.takeOver();
  env.loseLease();
  await waitFor(() => clients[0]!.destroyed >= 1, 2000, 'closed');
  await waitFor(() => details(env).includes('connecting (waiting for the session lease)'), 2000, 'waiting');
  expect(clients).toHaveLength(1);
});

test('stop() during a hanging start closes that browser and ends the loop', async () => {
  const { adapter, env, clients } = make([['hang']]);
  await adapter.start(recordingSink().sink);
  await waitFor(() => clients.length === 1);
  await adapter.stop();
  expect(clients[0]!.destroyed).toBeGreaterThanOrEqual(1);
  expect(env.states.at(-1)).toEqual({ state: 'stopped', mode: 'web' });
  await new Promise((r) => setTimeout(r, 100));
  expect(clients).toHaveLength(1);
});
