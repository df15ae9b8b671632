/** Reading cases and their reports in pages, for export and verify. */
import type { Queryable } from './db';
import { isoMs, sealedDigest, type LegacyReportContent, type ReportContent } from './chain';
import { sealRow, type Keyring, type SealRow } from '../crypto/keyring';

export interface CaseRow {
  id: number;
  ref: string;
  status: string;
  priority: string;
  flags: string[];
  tags: string[];
  places: string[];
  language: string | null;
  report_count: number;
  informant_count: number;
  channels: string[];
  first_report_at: Date | null;
  last_report_at: Date | null;
  event_seq: number;
  head_hash: string | null;
  merged_into: number | null;
  merged_into_ref: string | null;
  assignee: string | null;
}

export interface ReportRow {
  id: string;
  case_id: number;
  informant: string;
  channel: string;
  account: string;
  native_id: string;
  origin: string;
  sent_at: Date;
  received_at: Date;
  text: string | null;
  language: string | null;
  tags: string[];
  places: string[];
  duplicate_of: string | null;
  duplicate_kind: string | null;
  location: unknown;
  contact: unknown;
  reply_to: string | null;
  forwarded: boolean;
  edited: boolean;
  group_key: string | null;
  raw_sealed: string;
  entities: { phones: string[]; urls: string[]; emails: string[]; wallets: string[] } | null;
  priority: string;
  noise: boolean;
  topic_break: boolean;
  blocked: boolean;
  flooded: boolean;
  fingerprint: string | null;
  contact_sealed: string | null;
  media: MediaRow[];
}

export interface MediaRow {
  idx: number;
  kind: string;
  declared_mime: string | null;
  declared_size: number | null;
  filename: string | null;
  sha256: string | null;
  mime: string | null;
  size: number | null;
  state: string;
}

const CASE_COLUMNS = `id, ref, status, priority, flags, tags, places, language, report_count, informant_count, channels,
  first_report_at, last_report_at, event_seq, head_hash, merged_into, assignee,
  (SELECT m.ref FROM cases m WHERE m.id = cases.merged_into) AS merged_into_ref`;

/** Cases oldest first (by first report), `pageSize` at a time. */
export async function* casePages(q: Queryable, pageSize: number, order: 'first-report' | 'id'): AsyncGenerator<CaseRow[]> {
  let after: { t: string | null; id: number } | null = null;
  for (;;) {
    let rows: CaseRow[];
    if (order === 'id') {
      rows = (await q.query<CaseRow>(`SELECT ${CASE_COLUMNS} FROM cases WHERE id > $1 ORDER BY id LIMIT $2`, [after?.id ?? 0, pageSize])).rows;
    } else {
      // Cases without reports (none in practice) sort last.
      rows = (
        await q.query<CaseRow>(
          `SELECT ${CASE_COLUMNS} FROM cases
            WHERE $1::boolean OR (COALESCE(first_report_at, 'infinity'), id) > (COALESCE($2::timestamptz, 'infinity'), $3)
            ORDER BY COALESCE(first_report_at, 'infinity'), id LIMIT $4`,
          [after === null, after?.t ?? null, after?.id ?? 0, pageSize],
        )
      ).rows;
    }
    if (!rows.length) return;
    yield rows;
    const last = rows[rows.length - 1]!;
    after = { t: last.first_report_at ? isoMs(last.first_report_at) : null, id: last.id };
  }
}

export async function reportsOfCases(q: Queryable, caseIds: number[]): Promise<Map<number, ReportRow[]>> {
  const { rows } = await q.query<ReportRow>(
    `SELECT r.id, r.case_id, r.informant, r.channel, r.account, r.native_id, r.origin, r.sent_at, r.received_at, r.text,
            r.language, r.tags, r.places, r.duplicate_of, r.duplicate_kind, r.location, r.contact, r.reply_to, r.forwarded,
            r.edited, r.group_key, r.raw_sealed, r.entities, r.priority, r.noise, r.topic_break, r.blocked, r.flooded,
            r.fingerprint, r.contact_sealed,
            COALESCE((SELECT json_agg(json_build_object('idx', rm.idx, 'kind', rm.kind, 'declared_mime', rm.declared_mime,
                        'declared_size', rm.declared_size, 'filename', rm.filename, 'sha256', rm.sha256, 'mime', m.mime,
                        'size', m.size, 'state', rm.state) ORDER BY rm.idx)
                        FROM report_media rm LEFT JOIN media m ON m.sha256 = rm.sha256 WHERE rm.report_id = r.id), '[]') AS media
       FROM reports r
      WHERE r.case_id IN (SELECT (jsonb_array_elements_text($1::jsonb))::int)
      ORDER BY r.case_id, r.sent_at, r.id`,
    [JSON.stringify(caseIds)],
  );
  const out = new Map<number, ReportRow[]>(caseIds.map((id) => [id, []]));
  for (const r of rows) {
    if (typeof r.media === 'string') r.media = JSON.parse(r.media) as MediaRow[];
    out.get(r.case_id)!.push(r);
  }
  return out;
}

/** A sealed value's digest, or a value no digest equals when it does not open (altered). */
function digestOf(keys: Keyring, column: 'raw' | 'contact', id: string, sealed: string, ctx: SealRow): string {
  try {
    return sealedDigest(keys, column, id, keys.unseal(sealed, ctx));
  } catch {
    return `unreadable ${sealed.slice(0, 16)}`;
  }
}

/** What the chain records of a report row (its subject is `reportHash` of this). */
export function contentOfRow(r: ReportRow, keys: Keyring): ReportContent {
  const { rawSealed, contactSealed, ...rest } = legacyContentOfRow(r);
  return {
    ...rest,
    raw: digestOf(keys, 'raw', r.id, rawSealed, sealRow.raw(r.id)),
    contactDetails: contactSealed === null ? null : digestOf(keys, 'contact', r.id, contactSealed, sealRow.contact(r.id)),
  };
}

/** The row as subjects were made before `sealedDigest` (see `legacyReportHash`). */
export function legacyContentOfRow(r: ReportRow): LegacyReportContent {
  return {
    id: r.id,
    informant: r.informant,
    channel: r.channel,
    account: r.account,
    nativeId: r.native_id,
    origin: r.origin,
    sentAt: isoMs(r.sent_at),
    receivedAt: isoMs(r.received_at),
    text: r.text,
    location: r.location ?? null,
    contact: r.contact ?? null,
    replyTo: r.reply_to,
    forwarded: r.forwarded,
    edited: r.edited,
    groupKey: r.group_key,
    rawSealed: r.raw_sealed,
    contactSealed: r.contact_sealed ?? null,
    language: r.language,
    tags: [...r.tags].sort(),
    places: [...r.places].sort(),
    entities: r.entities ?? null,
    priority: r.priority,
    noise: r.noise,
    topicBreak: r.topic_break,
    blocked: r.blocked,
    flooded: r.flooded,
    fingerprint: r.fingerprint,
    media: r.media.map((m) => ({
      idx: m.idx,
      kind: m.kind,
      declaredMime: m.declared_mime,
      declaredSize: m.declared_size === null ? null : Number(m.declared_size),
      filename: m.filename,
    })),
  };
}
