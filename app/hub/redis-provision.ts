/**
 * Redis for `tiphub start` and the commands: REDIS_URL; else 127.0.0.1:6379 when it answers; else a
 * private redis-server from PATH, on a Unix socket under the data directory, stopped on exit.
 *
 * The private redis-server gets a random password, made at each start and kept in a 0600 file
 * beside its socket (`redisPasswordFile`), where every client of that socket reads it
 * (`redisOptions`). It is given through a 0600 config file, not the command line, which any local
 * user can read in /proc.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import type { Config } from '../../src/config';
import { TiphubError } from '../../src/errors';
import type { Logger } from '../../src/log';
import { redisAnswers, redisPasswordFile, type RedisTarget } from '../../src/queue/redis';

export const DEFAULT_REDIS = 'redis://127.0.0.1:6379';

export interface ProvidedRedis {
  readonly target: RedisTarget;
  readonly private: boolean;
  stop(): Promise<void>;
}

const HOW = 'set REDIS_URL, start Redis on 127.0.0.1:6379, or install redis-server (Debian: apt-get install redis-server) so tiphub can start its own';

/** The first wait between two tries of a Redis that does not answer, doubled up to the last. */
export const REDIS_WAIT_FIRST_MS = 500;
export const REDIS_WAIT_MAX_MS = 15_000;

/**
 * Waits until `target` answers, trying again after 0.5 s, 1 s, 2 s… up to 15 s between tries, for
 * as long as it takes (a long-running process started before its Redis, or during a restart).
 * One line per try, counting them and saying the next wait; never the URL (it may hold a password).
 */
export async function waitForRedis(target: RedisTarget, log: Logger, opts: { firstMs?: number; maxMs?: number; signal?: AbortSignal } = {}): Promise<void> {
  let wait = opts.firstMs ?? REDIS_WAIT_FIRST_MS;
  const max = opts.maxMs ?? REDIS_WAIT_MAX_MS;
  const stopped = () => new TiphubError('TIPHUB_START_STOPPED', 'asked to stop while waiting for Redis');
  for (let attempt = 1; !(await redisAnswers(target, 3000)); attempt++) {
    if (opts.signal?.aborted) throw stopped();
    log.warn({ code: 'TIPHUB_REDIS_UNAVAILABLE', attempt, retryInMs: wait }, 'Redis does not answer; waiting for it');
    await sleep(wait, undefined, { signal: opts.signal }).catch(() => {
      throw stopped();
    });
    wait = Math.min(max, wait * 2);
  }
}

/**
 * Finds or starts Redis. With `wait` (the long-running commands: start, worker, adapter) a
 * REDIS_URL that does not answer is waited for (waitForRedis) instead of failing the start.
 */
export async function provideRedis(cfg: Readonly<Config>, log: Logger, opts: { defaultTarget?: string; wait?: boolean; signal?: AbortSignal } = {}): Promise<ProvidedRedis> {
  const none = async () => undefined;
  if (cfg.redisUrl) {
    if (opts.wait) await waitForRedis(cfg.redisUrl, log, { signal: opts.signal });
    else if (!(await redisAnswers(cfg.redisUrl, 3000))) throw new TiphubError('TIPHUB_REDIS_UNAVAILABLE', 'REDIS_URL does not answer');
    return { target: cfg.redisUrl, private: false, stop: none };
  }
  const fallback = opts.defaultTarget ?? DEFAULT_REDIS;
  if (await redisAnswers(fallback)) return { target: fallback, private: false, stop: none };

  const dir = path.join(cfg.dataDir, 'redis');
  fs.mkdirSync(dir, { recursive: true, mode: 0o700 });
  if ((fs.statSync(dir).mode & 0o077) !== 0) fs.chmodSync(dir, 0o700); // made by an older version
  const socket = path.join(dir, 'redis.sock');
  if (await redisAnswers(socket)) return { target: socket, private: false, stop: none }; // another command's private Redis
  const conf = writePrivateConfig(dir, socket);
  // Its log and append-only files are for us alone, whatever umask this process was given.
  const umask = process.umask(0o077);
  let child: ChildProcess;
  try {
    child = spawn('redis-server', [conf], { stdio: 'ignore' });
  } finally {
    process.umask(umask);
  }
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
  fs.rmSync(conf, { force: true });
  throw new TiphubError('TIPHUB_REDIS_UNAVAILABLE', `redis-server did not start (see ${path.join(dir, 'redis.log')}); ${HOW}`);
}

/**
 * The Redis a running hub uses, found the way provideRedis finds it but never started: REDIS_URL,
 * 127.0.0.1:6379, or a private one's socket under the data directory. Null when none answers.
 */
export async function findRedis(cfg: Readonly<Config>): Promise<RedisTarget | null> {
  if (cfg.redisUrl) return (await redisAnswers(cfg.redisUrl, 3000)) ? cfg.redisUrl : null;
  if (await redisAnswers(DEFAULT_REDIS)) return DEFAULT_REDIS;
  const socket = path.join(cfg.dataDir, 'redis', 'redis.sock');
  return fs.existsSync(socket) && (await redisAnswers(socket)) ? socket : null;
}

/** A new password and the config file that sets it, both 0600 (created so: no window open to others). */
function writePrivateConfig(dir: string, socket: string): string {
  const password = randomBytes(32).toString('hex');
  const write = (file: string, text: string) => {
    fs.rmSync(file, { force: true });
    fs.writeFileSync(file, text, { mode: 0o600, flag: 'wx' });
  };
  write(redisPasswordFile(socket), password + '\n');
  const conf = path.join(dir, 'redis.conf');
  // Quoted values: a data directory may have spaces in its path.
  const q = (v: string) => JSON.stringify(v);
  write(
    conf,
    [
      'port 0', // no TCP at all: only the socket, in a 0700 directory
      'protected-mode yes',
      `unixsocket ${q(socket)}`,
      'unixsocketperm 700',
      `dir ${q(dir)}`,
      'appendonly yes',
      'save ""',
      'maxmemory-policy noeviction',
      'daemonize no',
      `logfile ${q(path.join(dir, 'redis.log'))}`,
      `requirepass ${password}`,
      '',
    ].join('\n'),
  );
  return conf;
}
