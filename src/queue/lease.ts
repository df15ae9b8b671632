/**
 * A lease in Redis: where only one receiver may run at a time (Telegram long polling, a WhatsApp
 * Web session, a Signal websocket), the holder renews it; when the holder dies it expires and the
 * next candidate takes over. The key names the bot by id, never by token.
 */
import { randomUUID } from 'node:crypto';
import type { Redis } from 'ioredis';

const RENEW = `if redis.call('get', KEYS[1]) == ARGV[1] then return redis.call('pexpire', KEYS[1], ARGV[2]) else return 0 end`;
const RELEASE = `if redis.call('get', KEYS[1]) == ARGV[1] then return redis.call('del', KEYS[1]) else return 0 end`;

export class Lease {
  private readonly token = randomUUID();
  private timer: NodeJS.Timeout | null = null;
  held = false;

  constructor(
    private readonly redis: Redis,
    readonly key: string,
    private readonly ttlMs: number,
    private readonly onLost: () => void = () => undefined,
  ) {}

  async tryAcquire(): Promise<boolean> {
    this.held = (await this.redis.set(this.key, this.token, 'PX', this.ttlMs, 'NX')) === 'OK';
    if (this.held) this.keepAlive();
    return this.held;
  }

  /** Waits until the lease is ours (or `stopped()` says to give up). */
  async acquire(stopped: () => boolean, pollMs = Math.max(200, Math.floor(this.ttlMs / 6))): Promise<boolean> {
    while (!stopped()) {
      if (await this.tryAcquire().catch(() => false)) return true;
      await new Promise((r) => setTimeout(r, pollMs));
    }
    return false;
  }

  private keepAlive(): void {
    this.timer = setInterval(async () => {
      const ok = await this.redis.eval(RENEW, 1, this.key, this.token, String(this.ttlMs)).catch(() => 0);
      if (ok !== 1 && this.held) {
        this.held = false;
        this.stopTimer();
        this.onLost();
      }
    }, Math.floor(this.ttlMs / 3));
  }

  private stopTimer(): void {
    if (this.timer) clearInterval(this.timer);
    this.timer = null;
  }

  async release(): Promise<void> {
    this.stopTimer();
    if (this.held) await this.redis.eval(RELEASE, 1, this.key, this.token).catch(() => undefined);
    this.held = false;
  }
}
