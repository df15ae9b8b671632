/**
 * What a backup archive holds, inside its encryption (format.ts): a tar of
 *   backup.json                first: format, schema version, each table's columns
 *   db/<table>/<n>.jsonl       the table's rows (to_jsonb of each), in pieces of a few MiB
 *   media/<sha256>             each media file the case log's snapshot names
 *   manifest.json              last: row counts, sequences, every media file's sha256 and size
 *
 * A logical export of the project's own tables, the same on PostgreSQL and PGlite, so a backup of
 * either restores into either, whatever pg_dump is installed (or not) beside the server.
 */
import type { Queryable } from '../caselog/db';

export const BACKUP_FORMAT = 1;

export interface TableInfo {
  readonly name: string;
  /** The columns written (generated columns are left out: the restore computes them again). */
  readonly columns: readonly string[];
}

export interface BackupHead {
  readonly format: number;
  readonly createdAt: string;
  readonly backend: 'postgres' | 'pglite';
  /** The case log's schema version (the last migration applied, src/caselog/migrations.ts). */
  readonly schemaVersion: number;
  readonly tables: readonly TableInfo[];
}

export interface MediaEntry {
  readonly sha256: string;
  readonly size: number;
}

export interface BackupManifest {
  readonly format: number;
  readonly createdAt: string;
  readonly schemaVersion: number;
  readonly rows: Readonly<Record<string, number>>;
  readonly sequences: readonly { readonly name: string; readonly lastValue: number; readonly isCalled: boolean }[];
  readonly media: {
    readonly files: readonly MediaEntry[];
    /** Named by the case log but absent from the media store when the backup ran. */
    readonly missing: readonly string[];
    /** Present but not of their recorded size or content (left out of the archive). */
    readonly damaged: readonly string[];
  };
}

/** Quoted identifier; names come from the catalog, never from input, but quoting keeps any name safe. */
export const ident = (name: string) => `"${name.replace(/"/g, '""')}"`;

/** The schema's own tables and their writable columns, as the catalog lists them. */
export async function listTables(q: Queryable): Promise<TableInfo[]> {
  const { rows } = await q.query<{ name: string; columns: string[] }>(
    `SELECT c.relname AS name, array_agg(a.attname::text ORDER BY a.attnum) AS columns
       FROM pg_class c JOIN pg_attribute a ON a.attrelid = c.oid AND a.attnum > 0 AND NOT a.attisdropped AND a.attgenerated = ''
      WHERE c.relnamespace = current_schema()::regnamespace AND c.relkind IN ('r', 'p')
      GROUP BY c.relname ORDER BY c.relname`,
  );
  return rows.map((r) => ({ name: r.name, columns: r.columns }));
}

export async function listSequences(q: Queryable): Promise<string[]> {
  const { rows } = await q.query<{ name: string }>(`SELECT relname AS name FROM pg_class WHERE relnamespace = current_schema()::regnamespace AND relkind = 'S' ORDER BY relname`);
  return rows.map((r) => r.name);
}

export function mediaEntryName(sha256: string): string {
  return `media/${sha256}`;
}

export const SHA256_RE = /^[0-9a-f]{64}$/;
