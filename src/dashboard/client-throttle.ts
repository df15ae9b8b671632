/**
 * Login throttling per client address, beside the per-account lock of verifyPassword: one address
 * trying many names (none of which locks) is held back too. In this process's memory: failures
 * within a window, at most `limit`, then 429 until the oldest leaves the window.
 */
export const CLIENT_FAILURES = 20;
export const CLIENT_WINDOW_MS = 15 * 60_000;
const MAX_CLIENTS = 10_000;

export class ClientThrottle {
  private readonly failures = new Map<string, number[]>();

  constructor(
    private readonly limit = CLIENT_FAILURES,
    private readonly windowMs = CLIENT_WINDOW_MS,
  ) {}

  private recent(client: string, now: number): number[] {
    const list = (this.failures.get(client) ?? []).filter((t) => t > now - this.windowMs);
    if (list.length) this.failures.set(client, list);
    else this.failures.delete(client);
    return list;
  }

  /** Whether the address may try now. */
  allowed(client: string, now = Date.now()): boolean {
    return this.recent(client, now).length < this.limit;
  }

  fail(client: string, now = Date.now()): void {
    const list = this.recent(client, now);
    if (!this.failures.has(client) && this.failures.size >= MAX_CLIENTS) this.failures.delete(this.failures.keys().next().value!);
    list.push(now);
    this.failures.set(client, list.slice(-this.limit));
  }
}
