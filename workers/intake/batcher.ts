/**
 * Group commit: jobs processed concurrently hand their item here and wait; items are written in
 * batches, one transaction each, with at most `writers` transactions at once (so the database
 * works on one batch while this process prepares the next). A batch that fails is retried item by
 * item, so one bad message fails only its own job.
 *
 * With `keys` (an item's lock keys: its informant, its text, its message), two batches written at
 * once never share a key: an item whose key a running batch holds waits for the next batch, and so
 * does every later item with one of its keys (their order kept). The writers of one process then
 * never wait on each other's advisory locks in the database, which would serialise them.
 */
export interface BatcherOptions<I, R> {
  readonly maxSize: number;
  readonly maxWaitMs: number;
  readonly writers?: number;
  readonly write: (items: I[]) => Promise<R[]>;
  readonly keys?: (item: I) => Iterable<string>;
  readonly onWritten?: (items: I[], results: R[], ms: number) => void;
}

interface Pending<I, R> {
  item: I;
  /** Its lock keys, read once when it is submitted (only with `keys`). */
  keys: readonly string[];
  resolve: (r: R) => void;
  reject: (e: unknown) => void;
}

export class Batcher<I, R> {
  private queue: Pending<I, R>[] = [];
  private timer: NodeJS.Timeout | null = null;
  private running = new Set<Promise<void>>();
  /** The keys of the batches being written (only with `keys`). */
  private held = new Map<Promise<void>, Set<string>>();

  constructor(private readonly opts: BatcherOptions<I, R>) {}

  private get writers(): number {
    return this.opts.writers ?? 1;
  }

  submit(item: I): Promise<R> {
    return new Promise<R>((resolve, reject) => {
      this.queue.push({ item, keys: this.opts.keys ? [...this.opts.keys(item)] : [], resolve, reject });
      this.schedule();
    });
  }

  /** Resolves when everything submitted so far is written (or failed). */
  async drain(): Promise<void> {
    while (this.queue.length || this.running.size) {
      if (this.queue.length && this.running.size < this.writers) this.flush();
      await Promise.race(this.running);
    }
  }

  private schedule(): void {
    if (this.running.size >= this.writers) return; // a write that ends picks the queue up
    if (this.queue.length >= this.opts.maxSize) this.flush();
    else if (!this.timer) this.timer = setTimeout(() => this.flush(), this.opts.maxWaitMs);
  }

  private flush(): void {
    if (this.timer) {
      clearTimeout(this.timer);
      this.timer = null;
    }
    if (this.running.size >= this.writers || this.queue.length === 0) return;
    const { batch, keys } = this.take();
    if (!batch.length) return; // every waiting item shares a key with a running batch: its end picks them up
    const p: Promise<void> = this.run(batch).finally(() => {
      this.running.delete(p);
      this.held.delete(p);
      if (this.queue.length) this.schedule();
    });
    this.running.add(p);
    if (keys) this.held.set(p, keys);
  }

  /** The next batch: the first maxSize items, or with `keys` the first ones free of the running batches' keys. */
  private take(): { batch: Pending<I, R>[]; keys: Set<string> | null } {
    if (!this.opts.keys || this.held.size === 0) {
      const batch = this.queue.splice(0, this.opts.maxSize);
      return { batch, keys: this.opts.keys ? new Set(batch.flatMap((p) => p.keys)) : null };
    }
    const busy = new Set<string>();
    for (const ks of this.held.values()) for (const k of ks) busy.add(k);
    const batch: Pending<I, R>[] = [];
    const keys = new Set<string>();
    const rest: Pending<I, R>[] = [];
    for (const p of this.queue) {
      if (batch.length >= this.opts.maxSize || p.keys.some((k) => busy.has(k))) {
        // Waits; so does any later item with one of its keys (written in the order they came).
        for (const k of p.keys) busy.add(k);
        rest.push(p);
      } else {
        for (const k of p.keys) keys.add(k);
        batch.push(p);
      }
    }
    this.queue = rest;
    return { batch, keys };
  }

  private async run(batch: Pending<I, R>[]): Promise<void> {
    const started = performance.now();
    try {
      const results = await this.opts.write(batch.map((p) => p.item));
      this.opts.onWritten?.(batch.map((p) => p.item), results, performance.now() - started);
      batch.forEach((p, i) => p.resolve(results[i]!));
    } catch (err) {
      if (batch.length === 1) {
        batch[0]!.reject(err);
        return;
      }
      for (const p of batch) {
        try {
          const [r] = await this.opts.write([p.item]);
          this.opts.onWritten?.([p.item], [r!], 0);
          p.resolve(r!);
        } catch (e) {
          p.reject(e);
        }
      }
    }
  }
}
