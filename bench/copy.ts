/**
 * `COPY … FROM STDIN` on a `pg` client. pg 8.23 has no public copy-in stream, but it does route the
 * protocol's CopyInResponse to the active query's `handleCopyInResponse(connection)` and its
 * Connection has `sendCopyFromChunk` / `endCopyFrom` / `sendCopyFail` (what pg-copy-streams is
 * built on): a small custom submittable over those, with no extra dependency.
 */
import type { Client } from 'pg';

export interface CopySink {
  /** Resolves when the chunk is handed to the socket without exceeding its buffer (backpressure). */
  write(chunk: string | Buffer): Promise<void>;
  /** Ends the COPY; resolves with the rows PostgreSQL counted. */
  end(): Promise<number>;
}

export function copyImplementation(): string {
  return 'internal (pg submittable)';
}

export function copyIn(client: Client, sql: string): Promise<CopySink> {
  return copyInInternal(client, sql);
}

interface PgConnection {
  query(text: string): void;
  sendCopyFromChunk(chunk: Buffer): void;
  endCopyFrom(): void;
  sendCopyFail(msg: string): void;
  stream: NodeJS.WritableStream & { writableNeedDrain?: boolean; once(ev: 'drain', fn: () => void): unknown };
}

class CopyFromStdin {
  callback?: (err: Error | null) => void;
  connection: PgConnection | null = null;
  rowCount = 0;
  error: Error | null = null;
  private onReady!: (c: PgConnection) => void;
  private onReadyFail!: (err: Error) => void;
  private onDone!: (n: number) => void;
  private onDoneFail!: (err: Error) => void;
  readonly ready = new Promise<PgConnection>((res, rej) => ((this.onReady = res), (this.onReadyFail = rej)));
  readonly done = new Promise<number>((res, rej) => ((this.onDone = res), (this.onDoneFail = rej)));

  constructor(readonly text: string) {
    this.ready.catch(() => undefined);
    this.done.catch(() => undefined);
  }

  submit(connection: PgConnection) {
    connection.query(this.text);
  }
  handleCopyInResponse(connection: PgConnection) {
    this.connection = connection;
    this.onReady(connection);
  }
  handleCommandComplete(msg: { text?: string }) {
    const m = /^COPY (\d+)/.exec(msg.text ?? '');
    this.rowCount = m ? Number(m[1]) : 0;
  }
  handleReadyForQuery() {
    if (this.error) return;
    this.onDone(this.rowCount);
    this.callback?.(null);
  }
  handleError(err: Error) {
    this.error = err;
    this.onReadyFail(err);
    this.onDoneFail(err);
    this.callback?.(err);
  }
  handleRowDescription() {}
  handleDataRow() {}
  handleEmptyQuery() {}
  handlePortalSuspended() {}
  handleCopyData() {}
}

async function copyInInternal(client: Client, sql: string): Promise<CopySink> {
  const q = new CopyFromStdin(sql);
  (client as unknown as { query(s: unknown): unknown }).query(q);
  const conn = await q.ready;
  return {
    async write(chunk) {
      if (q.error) throw q.error;
      conn.sendCopyFromChunk(typeof chunk === 'string' ? Buffer.from(chunk) : chunk);
      if (conn.stream.writableNeedDrain) await new Promise<void>((r) => conn.stream.once('drain', () => r()));
    },
    async end() {
      if (q.error) throw q.error;
      conn.endCopyFrom();
      return q.done;
    },
  };
}

/** COPY text format: one value, escaped (NULL as \N). */
export function copyValue(v: string | number | boolean | null | undefined): string {
  if (v === null || v === undefined) return '\\N';
  if (typeof v !== 'string') return String(v);
  return /[\\\t\n\r]/.test(v) ? v.replace(/\\/g, '\\\\').replace(/\t/g, '\\t').replace(/\n/g, '\\n').replace(/\r/g, '\\r') : v;
}

/** A PostgreSQL array literal of text (before COPY escaping). */
export function pgTextArray(items: readonly string[]): string {
  return '{' + items.map((s) => '"' + s.replace(/\\/g, '\\\\').replace(/"/g, '\\"') + '"').join(',') + '}';
}

export function copyLine(values: (string | number | boolean | null | undefined)[]): string {
  return values.map(copyValue).join('\t') + '\n';
}
