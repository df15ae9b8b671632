/**
 * Issue 10, item 12, as docker-compose.yml runs Redis: a real redis-server with --requirepass and
 * --protected-mode yes (the compose command itself), the hub's connection code given a REDIS_URL
 * with the password, and the password kept out of the configuration description and of errors.
 */
import { execFile, spawn, type ChildProcess } from 'node:child_process';
import { randomBytes, randomUUID } from 'node:crypto';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { promisify } from 'node:util';
import { Queue } from 'bullmq';
import { parse } from 'yaml';
import { capturingLogger, freePort, tmpDir } from '../helpers/env';
import { describeConfig, loadConfig } from '../../app/config';
import { isTiphubError } from '../../src/errors';
import { provideRedis } from '../../app/hub/redis-provision';
import { connectRedis, redisAnswers, redisOptions } from '../../src/queue/redis';

const run = promisify(execFile);
const ROOT = path.resolve(__dirname, '../..');

interface ComposeService {
  command: string[];
  environment: Record<string, string>;
  healthcheck: { test: string[] };
}
const compose = parse(fs.readFileSync(path.join(ROOT, 'docker-compose.yml'), 'utf8'), { merge: true }) as { services: Record<string, ComposeService> };
const redisService = compose.services.redis!;

/** What compose makes of `${REDIS_PASSWORD:?…}` once REDIS_PASSWORD is set. */
const interpolate = (v: string, password: string) => v.replace(/\$\{REDIS_PASSWORD:\?[^}]*\}/g, password);

describe('Redis with a password, as docker-compose.yml runs it', () => {
  // Hex, as the compose header makes it; and long, so a match in a message is no accident.
  const password = randomBytes(24).toString('hex');
  const dir = tmpDir('tiphub-redis');
  let port: number;
  let server: ChildProcess;
  let url: string;
  const bare = () => `redis://127.0.0.1:${port}`;
  const cfgWith = (redisUrl: string) => loadConfig({ env: { REDIS_URL: redisUrl, TIPHUB_DATA_DIR: dir, TIPHUB_LOG_LEVEL: 'warn' }, cwd: dir });

  beforeAll(async () => {
    port = await freePort();
    url = `redis://:${password}@127.0.0.1:${port}`;
    // The compose command, then what a test needs: its own port and folder, nothing written to disk.
    const [cmd, ...args] = redisService.command.map((a) => interpolate(a, password));
    expect(cmd).toBe('redis-server');
    server = spawn(cmd!, [...args, '--port', String(port), '--bind', '127.0.0.1', '--dir', dir, '--save', '', '--appendonly', 'no', '--daemonize', 'no'], {
      stdio: 'ignore',
    });
    const deadline = Date.now() + 10_000;
    while (!(await redisAnswers(url, 300))) {
      if (server.exitCode !== null || Date.now() > deadline) throw new Error('redis-server did not start');
      await new Promise((r) => setTimeout(r, 50));
    }
  });
  afterAll(async () => {
    if (server && server.exitCode === null) {
      const exited = new Promise((r) => server.once('exit', r));
      server.kill('SIGTERM');
      await exited;
    }
    fs.rmSync(dir, { recursive: true, force: true });
  });

  test('the compose file: a password from ${REDIS_PASSWORD:?…}, protected mode, and a REDIS_URL that carries it', () => {
    const c = redisService.command;
    expect(c[c.indexOf('--requirepass') + 1]).toMatch(/^\$\{REDIS_PASSWORD:\?[^}]+\}$/);
    expect(c[c.indexOf('--protected-mode') + 1]).toBe('yes');
    expect(redisService.environment.REDISCLI_AUTH).toMatch(/^\$\{REDIS_PASSWORD:\?[^}]+\}$/);
    for (const s of ['hub', 'worker']) expect(compose.services[s]!.environment.REDIS_URL).toMatch(/^redis:\/\/:\$\{REDIS_PASSWORD:\?[^}]+\}@redis:6379$/);
  });

  test('the server refuses commands without the password', async () => {
    const r = connectRedis(bare());
    try {
      await expect(r.ping()).rejects.toThrow(/NOAUTH/);
    } finally {
      r.disconnect();
    }
  });

  test('the compose healthcheck is healthy with REDISCLI_AUTH, unhealthy without or with a wrong one', async () => {
    const [kind, script] = redisService.healthcheck.test;
    expect(kind).toBe('CMD-SHELL');
    const local = script!.replace(/\bredis-cli\b/g, `redis-cli -h 127.0.0.1 -p ${port}`);
    const check = (auth: string | undefined) => run('sh', ['-c', local!], { env: { ...process.env, REDISCLI_AUTH: auth } });
    await expect(check(interpolate(redisService.environment.REDISCLI_AUTH!, password))).resolves.toBeDefined();
    await expect(check(undefined)).rejects.toMatchObject({ code: 1 });
    await expect(check('wrong')).rejects.toMatchObject({ code: 1 });
  });

  test('the hub connects with the URL that carries the password: start-up probe, own connections, BullMQ', async () => {
    const cfg = cfgWith(url);
    const { log, lines } = capturingLogger();
    const redis = await provideRedis(cfg, log);
    expect(redis).toMatchObject({ target: url, private: false });
    const r = connectRedis(redis.target);
    try {
      expect(await r.ping()).toBe('PONG');
    } finally {
      r.disconnect();
    }
    const prefix = `test-${randomUUID().slice(0, 12)}`;
    const q = new Queue('intake', { connection: redisOptions(redis.target), prefix });
    try {
      await q.add('probe', { n: 1 });
      expect(await q.count()).toBe(1);
      await q.obliterate({ force: true });
    } finally {
      await q.close();
    }
    await redis.stop();
    expect(lines.join('')).not.toContain(password);
  });

  test('without the password, or with a wrong one, start-up fails with TIPHUB_REDIS_UNAVAILABLE', async () => {
    for (const target of [bare(), `redis://:wrong${password.slice(0, 8)}@127.0.0.1:${port}`]) {
      const err = await provideRedis(cfgWith(target), capturingLogger().log).then(
        () => null,
        (e: unknown) => e,
      );
      expect(isTiphubError(err, 'TIPHUB_REDIS_UNAVAILABLE')).toBe(true);
      expect((err as Error).message).toMatch(/REDIS_URL does not answer/);
    }
  });

  test('the password appears in no configuration description and no error', async () => {
    const cfg = cfgWith(url);
    const described = describeConfig(cfg);
    expect(described.redisUrl).toBe(`redis://***@127.0.0.1:${port}`);
    expect(JSON.stringify(described)).not.toContain(password);

    // What reaches an operator: the text of each error, and each error logged the hub's way. (An
    // ioredis AUTH error also keeps the password in its `command.args`; the log serializer drops it.)
    const texts: string[] = [];
    const { log, lines } = capturingLogger();
    const keep = (e: unknown) => {
      const x = e as Error;
      texts.push(String(x), x.message, x.stack ?? '');
      log.error({ err: x }, 'failed');
    };
    // A wrong password that shares a prefix with the right one, and the right one used on a refusing command.
    const wrong = `redis://:${password.slice(0, 16)}x@127.0.0.1:${port}`;
    await provideRedis(cfgWith(wrong), capturingLogger().log).catch(keep);
    const r = connectRedis(wrong);
    await r.ping().catch(keep);
    r.disconnect();
    const ok = connectRedis(url);
    await ok.call('CONFIG', 'SET', 'no-such-option', 'x').catch(keep);
    ok.disconnect();
    // A REDIS_URL the configuration rejects: its message must not echo the value.
    try {
      loadConfig({ env: { REDIS_URL: `http://:${password}@127.0.0.1:${port}`, TIPHUB_DATA_DIR: dir }, cwd: dir });
    } catch (e) {
      keep(e);
    }
    expect(texts.length).toBe(4 * 3);
    texts.push(...lines);
    expect(lines).toHaveLength(4);
    for (const t of texts) expect(t).not.toContain(password);
    for (const t of texts) expect(t).not.toContain(password.slice(0, 16));
  });
});
