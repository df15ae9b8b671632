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

/** A value of a COPY row, before escaping (null and undefined are NULL). */
export type CopyCell = string | number | boolean | null | undefined;

/** COPY text format: one value, escaped (NULL as \N). */
export function copyValue(v: CopyCell): string {
  if (v === null || v === undefined) return '\\N';
  if (typeof v !== 'string') return String(v);
  return /[\\\t\n\r]/.test(v) ? v.replace(/\\/g, '\\\\').replace(/\t/g, '\\t').replace(/\n/g, '\\n').replace(/\r/g, '\\r') : v;
}

/** A PostgreSQL array literal of text (before COPY escaping). */
export function pgTextArray(items: readonly string[]): string {
  return '{' + items.map((s) => '"' + s.replace(/\\/g, '\\\\').replace(/"/g, '\\"') + '"').join(',') + '}';
}

export function copyLine(values: CopyCell[]): string {
  return values.map(copyValue).join('\t') + '\n';
}

// --- table shapes from the migrated schema's own catalog ---------------------------------------

/** A row to COPY: a value for each column the generator fills, by name. */
export type CopyRow<K extends string> = Readonly<Record<K, CopyCell>>;

interface CatalogColumn {
  table: string;
  name: string;
  notNull: boolean;
  hasDefault: boolean;
  /** `GENERATED ALWAYS … STORED` (attgenerated 's'): never written. */
  generated: boolean;
  /** An identity column ('a' always, 'd' by default): it has its sequence as default. */
  identity: boolean;
}

/** The columns of `tables` in `schema`, in their order (pg_attribute: what COPY without a column list would expect). */
async function catalogColumns(c: Client, schema: string, tables: readonly string[]): Promise<Map<string, CatalogColumn[]>> {
  const { rows } = await c.query<CatalogColumn>(
    `SELECT cl.relname AS table, a.attname AS name, a.attnotnull AS "notNull", a.atthasdef AS "hasDefault",
            a.attgenerated <> '' AS generated, a.attidentity <> '' AS identity
       FROM pg_attribute a JOIN pg_class cl ON cl.oid = a.attrelid
      WHERE cl.relnamespace = to_regnamespace($1) AND cl.relname = ANY($2) AND cl.relkind IN ('r', 'p') AND a.attnum > 0 AND NOT a.attisdropped
      ORDER BY cl.relname, a.attnum`,
    [schema, tables],
  );
  const byTable = new Map<string, CatalogColumn[]>();
  for (const r of rows) byTable.set(r.table, [...(byTable.get(r.table) ?? []), r]);
  return byTable;
}

const ident = (name: string) => '"' + name.replace(/"/g, '""') + '"';

/**
 * One table's COPY shape: the columns the generator fills, in the order of the migrated schema's
 * catalog (resolved once), and the COPY lines built by index in that order. Plain data (table and
 * column names): it crosses to worker threads as `{ table, columns }` and is rebuilt there.
 */
export class CopyTable<K extends string> {
  readonly sql: string;
  constructor(
    readonly table: string,
    readonly columns: readonly K[],
  ) {
    this.sql = `COPY ${ident(table)} (${columns.map(ident).join(', ')}) FROM STDIN`;
  }

  /** The COPY line of a row. */
  line(row: CopyRow<K>): string {
    const cols = this.columns;
    let s = copyValue(row[cols[0]!]);
    for (let j = 1; j < cols.length; j++) s += '\t' + copyValue(row[cols[j]!]);
    return s + '\n';
  }

  /**
   * A line made in two steps: `pieces` of a row without the `late` columns (in a worker thread),
   * then `finish` with their values (in the order `late` names them) where they come in the line.
   */
  split<L extends K>(late: readonly L[]): SplitLine<Exclude<K, L>> {
    const at = late.map((l) => this.columns.indexOf(l));
    const missing = late.filter((_, n) => at[n]! < 0);
    if (missing.length) throw new Error(`COPY ${this.table}: ${missing.join(', ')} not among its columns`);
    const isLate = new Set<string>(late);
    // late[n] is the order[n]-th late column in the line.
    const byPos = at.map((p, n) => ({ p, n })).sort((a, b) => a.p - b.p);
    const order = late.map((_, n) => byPos.findIndex((x) => x.n === n));
    const cols = this.columns;
    return {
      pieces(row) {
        const out: string[] = [];
        let s = '';
        for (let j = 0; j < cols.length; j++) {
          if (j) s += '\t';
          const c = cols[j]!;
          if (isLate.has(c)) {
            out.push(s);
            s = '';
          } else s += copyValue((row as Record<string, CopyCell>)[c]);
        }
        out.push(s + '\n');
        return out;
      },
      finish(pieces, values) {
        const v: string[] = new Array(values.length);
        for (let n = 0; n < values.length; n++) v[order[n]!] = copyValue(values[n]);
        let s = pieces[0]!;
        for (let n = 0; n < v.length; n++) s += v[n]! + pieces[n + 1]!;
        return s;
      },
    };
  }
}

export interface SplitLine<E extends string> {
  /** The line without the late columns: the pieces around them. */
  pieces(row: CopyRow<E>): string[];
  /** The whole line: `values` are the late columns' in the order `split` was given them. */
  finish(pieces: readonly string[], values: readonly CopyCell[]): string;
}

/**
 * The COPY shapes of `fills` (per table, the columns the generator fills) in `schema` as migrated:
 * the column lists and their order come from its catalog; generated columns are left out (the
 * database computes them; `note` says so when the generator has a value for one). Checked once,
 * before anything is written: a column the generator fills that the table does not have, and a
 * column it does not fill that is NOT NULL without a default, fail with the table and column
 * named, instead of writing rows of a wrong shape.
 */
export async function copyTables<F extends Record<string, readonly string[]>>(
  c: Client,
  schema: string,
  fills: F,
  note: (line: string) => void = () => undefined,
): Promise<{ [T in keyof F]: CopyTable<F[T][number]> }> {
  const catalog = await catalogColumns(c, schema, Object.keys(fills));
  const problems: string[] = [];
  const out: Record<string, CopyTable<string>> = {};
  for (const [table, filled] of Object.entries(fills)) {
    const cols = catalog.get(table);
    if (!cols) {
      problems.push(`table ${schema}.${table} does not exist`);
      continue;
    }
    const known = new Map(cols.map((col) => [col.name, col]));
    for (const name of filled) {
      const col = known.get(name);
      if (!col) problems.push(`${table}.${name} is filled by the generator but the migrated table has no such column`);
      else if (col.generated) note(`${table}.${name} is a generated column: the generator's value for it is left out`);
    }
    const fill = new Set(filled);
    for (const col of cols) {
      if (!fill.has(col.name) && !col.generated && !col.identity && col.notNull && !col.hasDefault)
        problems.push(`${table}.${col.name} is NOT NULL without a default and the generator does not fill it`);
    }
    out[table] = new CopyTable(table, cols.filter((col) => fill.has(col.name) && !col.generated).map((col) => col.name));
  }
  if (problems.length) throw new Error(`the bulk generator does not match the migrated schema ${schema}:\n  ${problems.join('\n  ')}`);
  return out as { [T in keyof F]: CopyTable<F[T][number]> };
}
