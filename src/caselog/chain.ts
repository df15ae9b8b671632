/**
 * The hash chain of a case's events, and the content hashes of the rows they record. An event's
 * hash covers the previous hash and the event; a `report.added` event carries the hash of the
 * report's content, so `verify` notices an altered report, not only an altered event.
 */
import { createHash } from 'node:crypto';

/** JSON with sorted keys and no whitespace: the same value always gives the same text. */
export function canonicalJson(value: unknown): string {
  if (value === null || typeof value !== 'object') return JSON.stringify(value ?? null);
  if (value instanceof Date) return JSON.stringify(value.toISOString());
  if (Array.isArray(value)) return '[' + value.map(canonicalJson).join(',') + ']';
  const entries = Object.entries(value as Record<string, unknown>)
    .filter(([, v]) => v !== undefined)
    .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
  return '{' + entries.map(([k, v]) => JSON.stringify(k) + ':' + canonicalJson(v)).join(',') + '}';
}

export function sha256Hex(text: string | Buffer): string {
  return createHash('sha256').update(text).digest('hex');
}

export interface EventBody {
  readonly caseRef: string;
  readonly seq: number;
  readonly at: string;
  readonly kind: string;
  readonly actor: string;
  readonly data: unknown;
}

export function eventHash(prevHash: string | null, e: EventBody): string {
  return sha256Hex(`${prevHash ?? ''}\n${canonicalJson({ case: e.caseRef, seq: e.seq, at: e.at, kind: e.kind, actor: e.actor, data: e.data })}`);
}

/** The recorded content of a report: every column but its case (moves are events) and bookkeeping. */
export interface ReportContent {
  id: string;
  informant: string;
  channel: string;
  account: string;
  nativeId: string;
  origin: string;
  sentAt: string;
  receivedAt: string;
  text: string | null;
  location: unknown;
  contact: unknown;
  replyTo: string | null;
  forwarded: boolean;
  edited: boolean;
  groupKey: string | null;
  rawSealed: string;
  media: { idx: number; kind: string; declaredMime: string | null; declaredSize: number | null; filename: string | null }[];
}

export function reportHash(r: ReportContent): string {
  return sha256Hex(canonicalJson(r));
}

/** Times as stored by PostgreSQL (microseconds) are written with millisecond precision by us. */
export function isoMs(t: Date | string): string {
  return (t instanceof Date ? t : new Date(t)).toISOString();
}

/** RFC 3339 in UTC, with milliseconds only when there are any (as exports show times). */
export function rfc3339(t: Date | string): string {
  return isoMs(t).replace('.000Z', 'Z');
}
