import * as fs from 'node:fs';
import * as net from 'node:net';
import { provideRedis } from '../../app/hub/redis-provision';
import { redisAnswers, redisPasswordFile } from '../../src/queue/redis';
import { capturingLogger, setup, type TestSetup } from '../helpers/env';

describe('Redis for the embedded hub', () => {
  let s: TestSetup;
  beforeEach(async () => {
    s = await setup('pglite');
  });
  afterEach(async () => {
    await s.cleanup();
  });

  test('with nothing answering, a private redis-server starts on a socket in the data directory and stops', async () => {
    const { log } = capturingLogger();
    const cfg = { ...s.cfg, redisUrl: null };
    const r = await provideRedis(cfg, log, { defaultTarget: 'redis://127.0.0.1:1' });
    try {
      expect(r.private).toBe(true);
      expect(r.target).toBe(`${s.dataDir}/redis/redis.sock`);
      expect((fs.statSync(r.target).mode & 0o777).toString(8)).toBe('700');
      expect(await redisAnswers(r.target)).toBe(true);
    } finally {
      await r.stop();
    }
    expect(await redisAnswers(r.target)).toBe(false);
  });

  test('the private redis-server wants a password, kept 0600 beside its socket and never on a command line', async () => {
    const { log } = capturingLogger();
    const r = await provideRedis({ ...s.cfg, redisUrl: null }, log, { defaultTarget: 'redis://127.0.0.1:1' });
    try {
      const file = redisPasswordFile(r.target);
      expect((fs.statSync(file).mode & 0o777).toString(8)).toBe('600');
      const password = fs.readFileSync(file, 'utf8').trim();
      expect(password).toMatch(/^[0-9a-f]{64}$/);
      // A client of the socket without the password is refused.
      const reply = await new Promise<string>((resolve, reject) => {
        const sock = net.connect(r.target, () => sock.write('*1\r\n$4\r\nPING\r\n'));
        sock.once('data', (d) => {
          resolve(d.toString('latin1'));
          sock.destroy();
        });
        sock.once('error', reject);
      });
      expect(reply).toMatch(/^-NOAUTH/);
      // Our own clients read it from the file.
      expect(await redisAnswers(r.target)).toBe(true);
      // No process shows it in its arguments (/proc/<pid>/cmdline is readable by every local user).
      for (const pid of fs.readdirSync('/proc').filter((d) => /^\d+$/.test(d))) {
        let cmdline = '';
        try {
          cmdline = fs.readFileSync(`/proc/${pid}/cmdline`, 'latin1');
        } catch {
          continue; // ended meanwhile
        }
        expect(cmdline).not.toContain(password);
      }
      expect(fs.readdirSync(`${s.dataDir}/redis`).every((f) => (fs.statSync(`${s.dataDir}/redis/${f}`).mode & 0o077) === 0)).toBe(true);
    } finally {
      await r.stop();
    }
  });

  test('REDIS_URL that does not answer is a clear, retryable error', async () => {
    const { log } = capturingLogger();
    await expect(provideRedis({ ...s.cfg, redisUrl: 'redis://127.0.0.1:1' }, log)).rejects.toMatchObject({
      code: 'TIPHUB_REDIS_UNAVAILABLE',
      retryable: true,
    });
  });
});
