import * as fs from 'node:fs';
import * as net from 'node:net';
import * as path from 'node:path';
import * as tls from 'node:tls';
import { Redis } from 'ioredis';
import type { RedisOptions } from 'bullmq';

/**
 * A redis://… URL (credentials in it, from REDIS_URL), or the absolute path of a Unix socket. A
 * socket's password is not in the target: it sits in a file beside the socket, so a target can be
 * logged or sent to another process and say nothing secret.
 */
export type RedisTarget = string;

/** Where the password of the Redis on a Unix socket is kept (a private redis-server writes it). */
export function redisPasswordFile(socket: string): string {
  return path.join(path.dirname(socket), 'redis.password');
}

function socketPassword(socket: string): string | undefined {
  try {
    return fs.readFileSync(redisPasswordFile(socket), 'utf8').trim() || undefined;
  } catch {
    return undefined; // a socket without a password file: a Redis without a password
  }
}

/**
 * Connection options for BullMQ (which then owns, and closes, its connections). Workers and
 * blocking clients want maxRetriesPerRequest: null; a producer keeps a bound so that a dead Redis
 * surfaces as an error the sink can wait out.
 */
export function redisOptions(target: RedisTarget, opts: { forWorker?: boolean } = {}): RedisOptions {
  const common: RedisOptions = { maxRetriesPerRequest: opts.forWorker ? null : 3, enableReadyCheck: true };
  if (target.startsWith('/')) return { ...common, path: target, password: socketPassword(target) };
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

const resp = (...args: string[]) => `*${args.length}\r\n` + args.map((a) => `$${Buffer.byteLength(a)}\r\n${a}\r\n`).join('');

/**
 * Answers PING (after AUTH when the URL has a password) within `timeoutMs`, or false. A bare
 * socket rather than an ioredis client: a probe must leave no reconnect timer behind.
 */
export function redisAnswers(target: RedisTarget, timeoutMs = 800): Promise<boolean> {
  const o = redisOptions(target);
  return new Promise<boolean>((resolve) => {
    const onConnect = () => {
      const auth = o.password ? (o.username ? resp('AUTH', o.username, o.password) : resp('AUTH', o.password)) : '';
      sock.write(auth + resp('PING'));
    };
    const sock: net.Socket = o.path
      ? net.connect(o.path as string, onConnect)
      : o.tls
        ? tls.connect({ host: o.host, port: o.port, servername: o.host }, onConnect)
        : net.connect({ host: o.host, port: o.port ?? 6379 }, onConnect);
    let buf = '';
    const finish = (ok: boolean) => {
      clearTimeout(timer);
      sock.destroy();
      resolve(ok);
    };
    const timer = setTimeout(() => finish(false), timeoutMs);
    sock.on('data', (d: Buffer) => {
      buf += d.toString('latin1');
      if (buf.startsWith('-')) finish(false);
      else if (buf.includes('+PONG')) finish(true);
    });
    sock.on('error', () => finish(false));
    sock.on('close', () => finish(false));
  });
}

/** Deletes every key under one BullMQ prefix, and nothing else (tests, benchmarks). */
export async function deleteKeysWithPrefix(target: RedisTarget, prefix: string): Promise<void> {
  const r = connectRedis(target);
  try {
    let cursor = '0';
    do {
      const [next, keys] = await r.scan(cursor, 'MATCH', `${prefix}:*`, 'COUNT', 1000);
      cursor = next;
      if (keys.length) await r.del(...keys);
    } while (cursor !== '0');
  } finally {
    r.disconnect();
  }
}

/**
 * The key of a per-informant counter (flood, outbound rate, status rate). It holds a keyed hash of
 * the pseudonym under its own label, not the pseudonym: a Redis dump cannot be joined to the case
 * log's informants without the secret.
 */
export function informantCounterKey(ids: { messageId(channel: string, parts: readonly (string | number)[]): string }, prefix: string, kind: string, pseudonym: string): string {
  return `${prefix}:${kind}:${ids.messageId(`counter/${kind}`, [pseudonym])}`;
}

/**
 * Counts an event in a window that starts with the first event (no clock boundary splits a
 * burst). Returns the count including this one. The key must hold no identifying value.
 */
export async function countInWindow(client: Redis, key: string, windowSeconds: number): Promise<number> {
  const res = (await client.multi().incr(key).expire(key, windowSeconds, 'NX').exec()) as [Error | null, unknown][] | null;
  return Number(res?.[0]?.[1] ?? 0);
}
