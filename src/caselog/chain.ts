/**
 * The hash chain of a case's events, and the content hashes of the rows they record. An event's
 * hash covers the previous hash and the event; a `report.added` event carries the hash of the
 * report's content, so `verify` notices an altered report, not only an altered event. Every hash
 * is keyed (HMAC with the case log's audit key): whoever can write to the database but does not
 * hold the secret cannot recompute a chain after editing it.
 */
import { createHash } from 'node:crypto';
import type { AuditKey } from '../crypto/keyring';

export type { AuditKey };

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

export function eventHash(audit: AuditKey, prevHash: string | null, e: EventBody): string {
  return audit.mac(`event\n${prevHash ?? ''}\n${canonicalJson({ case: e.caseRef, seq: e.seq, at: e.at, kind: e.kind, actor: e.actor, data: e.data })}`);
}

/**
 * The recorded content of a report: every column fixed when it was written. Its case, its
 * duplicate link and its media's state change later, each by an event, and verify follows them.
 */
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
  /** The keyed digest of the sealed raw payload's content (`sealedDigest`): a rotation re-seals it, the digest stays. */
  raw: string;
  /** The digest of a third party's contact card, kept sealed; null when there is none. */
  contactDetails: string | null;
  language: string | null;
  tags: string[];
  places: string[];
  entities: unknown;
  priority: string;
  noise: boolean;
  topicBreak: boolean;
  blocked: boolean;
  flooded: boolean;
  fingerprint: string | null;
  media: { idx: number; kind: string; declaredMime: string | null; declaredSize: number | null; filename: string | null }[];
}

export function reportHash(audit: AuditKey, r: ReportContent): string {
  return audit.mac(`report\n${canonicalJson(r)}`);
}

/** A sealed column's content as the chain covers it: a keyed digest of the value, not of its ciphertext. */
export function sealedDigest(audit: AuditKey, column: 'raw' | 'contact', id: string, value: unknown): string {
  return audit.mac(`sealed\n${column}\n${id}\n${canonicalJson(value ?? null)}`);
}

/**
 * How report subjects were made before `sealedDigest`: over the ciphertexts. Still accepted by
 * verify for reports recorded so; a key rotation records a `report.resealed` event with the new
 * subject before it re-seals them.
 */
export interface LegacyReportContent extends Omit<ReportContent, 'raw' | 'contactDetails'> {
  rawSealed: string;
  contactSealed: string | null;
}

export function legacyReportHash(audit: AuditKey, r: LegacyReportContent): string {
  return audit.mac(`report\n${canonicalJson(r)}`);
}

/** The keyed hash of a text kept sealed in `case_texts` (a reply, a note): events carry this, not the text. */
export function textHash(audit: AuditKey, textId: string, text: string): string {
  return audit.mac(`text\n${textId}\n${text}`);
}

/** One case's contribution to the anchor root: its chain head and report count when anchored. */
export function anchorTerm(audit: AuditKey, a: { caseId: number; seq: number; hash: string; reportCount: number }): Buffer {
  return Buffer.from(audit.mac(`anchor\n${a.caseId}\n${a.seq}\n${a.hash}\n${a.reportCount}`), 'hex');
}

/** The mac of an anchor row, over its root and the number of cases it covers. */
export function anchorMac(audit: AuditKey, a: { root: string; cases: number; at: string }): string {
  return audit.mac(`anchors\n${a.root}\n${a.cases}\n${a.at}`);
}

export function xorInto(acc: Buffer, term: Buffer): void {
  for (let i = 0; i < acc.length; i++) acc[i] = acc[i]! ^ term[i]!;
}

/** Times as stored by PostgreSQL (microseconds) are written with millisecond precision by us. */
export function isoMs(t: Date | string): string {
  return (t instanceof Date ? t : new Date(t)).toISOString();
}

/** RFC 3339 in UTC, with milliseconds only when there are any (as exports show times). */
export function rfc3339(t: Date | string): string {
  return isoMs(t).replace('.000Z', 'Z');
}

/** The hash of an informant-log entry, chained per informant like a case's events. */
export function informantLogHash(
  audit: AuditKey,
  prev: string | null,
  e: { pseudonym: string; seq: number; kind: string; actor: string; data: unknown; messageId: string | null },
): string {
  return audit.mac(`informant-log\n${prev ?? ''}\n${canonicalJson({ p: e.pseudonym, seq: e.seq, kind: e.kind, actor: e.actor, data: e.data, message: e.messageId })}`);
}
