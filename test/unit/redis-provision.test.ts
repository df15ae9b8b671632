import * as fs from 'node:fs';
import { provideRedis } from '../../src/hub/redis-provision';
import { redisAnswers } from '../../src/queue/redis';
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

  test('REDIS_URL that does not answer is a clear, retryable error', async () => {
    const { log } = capturingLogger();
    await expect(provideRedis({ ...s.cfg, redisUrl: 'redis://127.0.0.1:1' }, log)).rejects.toMatchObject({
      code: 'TIPHUB_REDIS_UNAVAILABLE',
      retryable: true,
    });
  });
});
