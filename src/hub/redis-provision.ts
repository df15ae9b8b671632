/**
 * Redis for `tiphub start` and the commands: REDIS_URL; else 127.0.0.1:6379 when it answers; else a
 * private redis-server from PATH, on a Unix socket under the data directory, stopped on exit.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import type { Config } from '../config';
import { TiphubError } from '../errors';
import type { Logger } from '../log';
import { redisAnswers, type RedisTarget } from '../queue/redis';

export const DEFAULT_REDIS = 'redis://127.0.0.1:6379';

export interface ProvidedRedis {
  readonly target: RedisTarget;
  readonly private: boolean;
  stop(): Promise<void>;
}

const HOW = 'set REDIS_URL, start Redis on 127.0.0.1:6379, or install redis-server (Debian: apt-get install redis-server) so tiphub can start its own';

export async function provideRedis(cfg: Readonly<Config>, log: Logger, opts: { defaultTarget?: string } = {}): Promise<ProvidedRedis> {
  const none = async () => undefined;
  if (cfg.redisUrl) {
    if (!(await redisAnswers(cfg.redisUrl, 3000))) throw new TiphubError('TIPHUB_REDIS_UNAVAILABLE', 'REDIS_URL does not answer');
    return { target: cfg.redisUrl, private: false, stop: none };
  }
  const fallback = opts.defaultTarget ?? DEFAULT_REDIS;
  if (await redisAnswers(fallback)) return { target: fallback, private: false, stop: none };

  const dir = path.join(cfg.dataDir, 'redis');
  fs.mkdirSync(dir, { recursive: true, mode: 0o700 });
  const socket = path.join(dir, 'redis.sock');
  if (await redisAnswers(socket)) return { target: socket, private: false, stop: none }; // another command's private Redis
  const child: ChildProcess = spawn(
    'redis-server',
    ['--port', '0', '--unixsocket', socket, '--unixsocketperm', '700', '--dir', dir, '--appendonly', 'yes', '--save', '',
      '--maxmemory-policy', 'noeviction', '--daemonize', 'no', '--logfile', path.join(dir, 'redis.log')],
    { stdio: 'ignore' },
  );
  const spawnError = new Promise<Error>((resolve) => child.once('error', resolve));
  const deadline = Date.now() + 10_000;
  while (Date.now() < deadline) {
    const failed = await Promise.race([spawnError, new Promise<null>((r) => setTimeout(() => r(null), 100))]);
    if (failed) {
      throw new TiphubError('TIPHUB_REDIS_UNAVAILABLE', `no Redis: ${HOW}`);
    }
    if (child.exitCode !== null) break;
    if (await redisAnswers(socket)) {
      log.info({ redis: 'private' }, 'started a private redis-server');
      return {
        target: socket,
        private: true,
        stop: () =>
          new Promise<void>((resolve) => {
            if (child.exitCode !== null) return resolve();
            child.once('exit', () => resolve());
            child.kill('SIGTERM');
          }),
      };
    }
  }
  child.kill('SIGKILL');
  throw new TiphubError('TIPHUB_REDIS_UNAVAILABLE', `redis-server did not start (see ${path.join(dir, 'redis.log')}); ${HOW}`);
}
