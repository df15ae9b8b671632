/**
 * The hub's control socket (issue 10, item 10): born closed to others in a 0700 directory, every
 * request needs the token of the hub now running, and the hello carries no secret.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { setup, TEST_REDIS_URL, type TestSetup } from '../helpers/env';
import { runCli, startCli, type Background } from '../helpers/cli';
import { callHub, callHubWith, controlDir, controlSocketPath, controlTokenPath, openHubStream, type HubHello } from '../../app/hub/control';

// The test Redis has no password; its `default` user accepts any with AUTH, so a URL can carry one.
const PASSWORD = 'MARKERPASSWORD0fRedis';

const mode = (p: string) => fs.statSync(p).mode & 0o777;

describe('the control socket of a running hub', () => {
  let s: TestSetup;
  let hub: Background | null = null;
  beforeAll(async () => {
    s = await setup('pglite');
    const u = new URL(TEST_REDIS_URL);
    u.username = 'default';
    u.password = PASSWORD;
    s.env.REDIS_URL = u.toString();
    s.env.TIPHUB_LOG_LEVEL = 'info';
    // A permissive umask, as a shell or service manager may give: the hub must not depend on it.
    const umask = process.umask(0);
    try {
      hub = startCli(['start'], s.env);
    } finally {
      process.umask(umask);
    }
    await hub.waitForOutput(/"msg":"hub ready"/);
  });
  afterAll(async () => {
    await hub?.stop('SIGKILL');
    await s.cleanup();
  });

  test('socket in a 0700 directory, closed to group and others; token file 0600', () => {
    expect(mode(controlDir(s.dataDir)).toString(8)).toBe('700');
    expect(fs.statSync(controlSocketPath(s.dataDir)).isSocket()).toBe(true);
    expect(mode(controlSocketPath(s.dataDir)) & 0o077).toBe(0);
    expect(mode(controlTokenPath(s.dataDir)).toString(8)).toBe('600');
    expect(fs.existsSync(path.join(s.dataDir, 'hub.sock'))).toBe(false);
  });

  test('a request without the token, or with a wrong one, is refused', async () => {
    const refused = { code: 'TIPHUB_HUB_PROTOCOL', retryable: false, message: expect.stringContaining('no valid token') };
    await expect(callHubWith(s.dataDir, null, 'hello')).rejects.toMatchObject(refused);
    await expect(callHubWith(s.dataDir, 'f'.repeat(64), 'hello')).rejects.toMatchObject(refused);
    await expect(callHubWith(s.dataDir, null, 'verify')).rejects.toMatchObject(refused);
    const token = fs.readFileSync(controlTokenPath(s.dataDir), 'utf8').trim();
    await expect(callHubWith(s.dataDir, token.slice(0, -1), 'export', { format: 'json' })).rejects.toMatchObject(refused);
    // With the token of the running hub the same request is answered.
    await expect(callHub<HubHello>(s.dataDir, 'hello')).resolves.toMatchObject({ pid: hub!.child.pid });
  });

  test('the hello sends no Redis URL nor password; commands still work through the hub', async () => {
    const token = fs.readFileSync(controlTokenPath(s.dataDir), 'utf8').trim();
    const wire = await callHubWith<Record<string, unknown>>(s.dataDir, token, 'hello');
    const text = JSON.stringify(wire);
    expect(text).not.toContain(PASSWORD);
    expect(text).not.toContain('redis://');
    expect(wire.pid).toBe(hub!.child.pid);
    // A hub on a Redis URL names no Redis: the command uses its own REDIS_URL.
    expect((await callHub<HubHello>(s.dataDir, 'hello')).redis).toBeNull();

    const file = path.join(s.dataDir, 'tips.jsonl');
    fs.writeFileSync(file, [1, 2, 3].map((i) => JSON.stringify({ id: `c${i}`, from: `sender-${i}`, text: `checkpoint on the north road #${i}` })).join('\n'));
    const ingest = await runCli(['ingest', file], s.env);
    expect(ingest.stdout).toContain('3 accepted');
    const verify = await runCli(['verify'], s.env);
    expect(verify.code).toBe(0);
    expect(hub!.output()).not.toContain(PASSWORD);
  });

  test('a connection left open (a chat session) does not hold the hub up when it stops: exit 0', async () => {
    const chunks: string[] = [];
    const stream = await openHubStream(s.dataDir, 'chat', { address: '+9647700000777', name: null }, (c) => void chunks.push(c));
    stream.send({ text: 'Checkpoint closed near the old bridge since Monday evening' });
    // Stopped with the session still open: before, the hub waited for it until its 30 s limit (exit 1).
    expect(await hub!.stop('SIGTERM')).toBe(0);
    hub = null;
    expect(await stream.done).toBeDefined();
  });
});
