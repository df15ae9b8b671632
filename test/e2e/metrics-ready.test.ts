/**
 * Issue 14, item 3: the operations listener of the real program (`tiphub start`). /healthz
 * answers while the process lives; /readyz says 200 only while Redis and the case log answer and
 * the receivers are connected, and 503 naming the part that is not (here Redis, reached through
 * a relay the test cuts, so the port then has nothing behind it). A taken port stops the start
 * with a clear error.
 */
import * as net from 'node:net';
import { freePort, setup, TEST_REDIS_URL, waitFor, type TestSetup } from '../helpers/env';
import { runCli, startCli, type Background } from '../helpers/cli';

/** A TCP relay to the test Redis on a port of its own, that the test can cut and restore. */
async function redisRelay(port: number) {
  const upstream = new URL(TEST_REDIS_URL);
  const sockets = new Set<net.Socket>();
  let server: net.Server | null = null;
  const open = () =>
    new Promise<void>((resolve, reject) => {
      server = net.createServer((client) => {
        const up = net.connect(Number(upstream.port || 6379), upstream.hostname);
        for (const s of [client, up]) {
          sockets.add(s);
          s.on('error', () => undefined);
          s.on('close', () => sockets.delete(s));
        }
        client.pipe(up).pipe(client);
      });
      server.once('error', reject);
      server.listen(port, '127.0.0.1', () => resolve());
    });
  await open();
  return {
    open,
    cut: () =>
      new Promise<void>((resolve) => {
        for (const s of sockets) s.destroy();
        server!.close(() => resolve());
      }),
  };
}

const get = async (url: string) => {
  const res = await fetch(url, { signal: AbortSignal.timeout(10_000) });
  return { status: res.status, body: await res.text() };
};

describe('/healthz and /readyz of tiphub start', () => {
  let s: TestSetup;
  let hub: Background | null = null;
  beforeEach(async () => {
    s = await setup('pglite', { dashboard: { enabled: false } });
  });
  afterEach(async () => {
    await hub?.stop('SIGKILL');
    hub = null;
    await s.cleanup();
  });

  test('ready while all answers; 503 naming Redis while Redis is gone (alive all the while); ready again once it is back', async () => {
    const relayPort = await freePort();
    const relay = await redisRelay(relayPort);
    const opsPort = await freePort();
    const base = `http://127.0.0.1:${opsPort}`;
    hub = startCli(['start'], { ...s.env, REDIS_URL: `redis://127.0.0.1:${relayPort}`, TIPHUB_OPS_LISTEN: `127.0.0.1:${opsPort}`, TIPHUB_LOG_LEVEL: 'info' });
    await hub.waitForOutput(/"msg":"hub ready"/);
    expect(hub.output()).toContain(`"ops":"${base}/"`);

    const ready = await waitFor(async () => {
      const r = await get(`${base}/readyz`);
      return r.status === 200 ? r : null;
    }, 20_000, 200);
    expect(JSON.parse(ready.body)).toEqual({ ready: true, redis: 'ok', caselog: 'ok', channels: { simulator: 'ok' } });
    expect(await get(`${base}/healthz`)).toEqual({ status: 200, body: 'ok\n' });

    await relay.cut();
    const down = await waitFor(async () => {
      const r = await get(`${base}/readyz`);
      return r.status === 503 ? r : null;
    }, 20_000, 200);
    const body = JSON.parse(down.body) as { ready: boolean; redis: string; caselog: string };
    expect(body.ready).toBe(false);
    expect(body.redis).toBe('not answering');
    expect(body.caselog).toBe('ok');
    expect((await get(`${base}/healthz`)).status).toBe(200);
    // /metrics still answers, saying which sources did not.
    const metrics = await get(`${base}/metrics`);
    expect(metrics.status).toBe(200);
    expect(metrics.body).toMatch(/^tiphub_source_up\{source="queues"\} 0$/m);

    await relay.open();
    await waitFor(async () => (await get(`${base}/readyz`)).status === 200, 30_000, 250);
    await relay.cut();
  });

  test('a taken operations port stops the start with a clear error', async () => {
    const port = await freePort();
    const taken = net.createServer().listen(port, '127.0.0.1');
    await new Promise((r) => taken.once('listening', r));
    try {
      const r = await runCli(['start'], { ...s.env, TIPHUB_OPS_LISTEN: `127.0.0.1:${port}` });
      expect(r.code).not.toBe(0);
      expect(r.stderr).toContain('TIPHUB_CONFIG_INVALID');
      expect(r.stderr).toContain(`the operations listener cannot listen on 127.0.0.1:${port}: the port is taken`);
      expect(r.stderr).toContain('TIPHUB_OPS_LISTEN');
    } finally {
      taken.close();
    }
  });
});
