/**
 * Group commit: jobs processed concurrently hand their item here and wait; items are written in
 * batches, one transaction each, with at most `writers` transactions at once (so the database
 * works on one batch while this process prepares the next). A batch that fails is retried item by
 * item, so one bad message fails only its own job.
 */
export interface BatcherOptions<I, R> {
  readonly maxSize: number;
  readonly maxWaitMs: number;
  readonly writers?: number;
  readonly write: (items: I[]) => Promise<R[]>;
  readonly onWritten?: (items: I[], results: R[], ms: number) => void;
}

interface Pending<I, R> {
  item: I;
  resolve: (r: R) => void;
  reject: (e: unknown) => void;
}

export class Batcher<I, R> {
  private queue: Pending<I, R>[] = [];
  private timer: NodeJS.Timeout | null = null;
  private running = new Set<Promise<void>>();

  constructor(private readonly opts: BatcherOptions<I, R>) {}

  private get writers(): number {
    return this.opts.writers ?? 1;
  }

  submit(item: I): Promise<R> {
    return new Promise<R>((resolve, reject) => {
      this.queue.push({ item, resolve, reject });
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
    const batch = this.queue.splice(0, this.opts.maxSize);
    const p: Promise<void> = this.run(batch).finally(() => {
      this.running.delete(p);
      if (this.queue.length) this.schedule();
    });
    this.running.add(p);
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
