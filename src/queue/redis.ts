import { Redis } from 'ioredis';
import type { RedisOptions } from 'bullmq';

export type RedisTarget = string; // redis://… URL, or the absolute path of a Unix socket

/**
 * Connection options for BullMQ (which then owns, and closes, its connections). Workers and
 * blocking clients want maxRetriesPerRequest: null; a producer keeps a bound so that a dead Redis
 * surfaces as an error the sink can wait out.
 */
export function redisOptions(target: RedisTarget, opts: { forWorker?: boolean } = {}): RedisOptions {
  const common: RedisOptions = { maxRetriesPerRequest: opts.forWorker ? null : 3, enableReadyCheck: true };
  if (target.startsWith('/')) return { ...common, path: target };
  const u = new URL(target);
  return {
    ...common,
    host: u.hostname.replace(/^\[|\]$/g, ''),
    port: u.port ? Number(u.port) : 6379,
    username: u.username ? decodeURIComponent(u.username) : undefined,
    password: u.password ? decodeURIComponent(u.password) : undefined,
    db: u.pathname.length > 1 ? Number(u.pathname.slice(1)) : 0,
    tls: u.protocol === 'rediss:' ? {} : undefined,
  };
}

/** A connection of our own (not handed to BullMQ); the caller disconnects it. */
export function connectRedis(target: RedisTarget, opts: { forWorker?: boolean } = {}): Redis {
  const r = new Redis(redisOptions(target, opts) as import('ioredis').RedisOptions);
  r.on('error', () => undefined); // reconnects on its own; callers see failed commands
  return r;
}

/** Answers PING within `timeoutMs`, or false. */
export async function redisAnswers(target: RedisTarget, timeoutMs = 800): Promise<boolean> {
  const r = new Redis({ ...(redisOptions(target) as import('ioredis').RedisOptions), lazyConnect: true, maxRetriesPerRequest: 0, retryStrategy: () => null, connectTimeout: timeoutMs });
  r.on('error', () => undefined);
  try {
    await r.connect();
    return (await r.ping()) === 'PONG';
  } catch {
    return false;
  } finally {
    r.disconnect();
  }
}
