/**
 * `export`: one case per line (JSONL), oldest first, or one row per report (CSV, UTF-8 with BOM,
 * RFC 4180). Informants appear by pseudonym only. Fields not computed yet are empty, never invented.
 */
import type { Queryable } from './db';
import { rfc3339 } from './chain';
import { casePages, reportsOfCases, type CaseRow, type ReportRow } from './read';

export type ExportFormat = 'jsonl' | 'csv';

export interface ExportSummary {
  readonly cases: number;
  readonly reports: number;
}

export interface ExportedReport {
  id: string;
  nativeId: string;
  channel: string;
  informant: string;
  sentAt: string;
  text: string | null;
  language: string | null;
  tags: string[];
  places: string[];
  entities: { phones: string[]; urls: string[]; emails: string[]; wallets: string[] } | null;
  priority: string;
  duplicate: { of: string; kind: string } | null;
  media: { sha256: string | null; mime: string | null; size: number | null; kind: string; state: string }[];
}

export interface ExportedCase {
  ref: string;
  status: string;
  priority: string;
  flags: string[];
  tags: string[];
  places: string[];
  language: string | null;
  reportCount: number;
  informantCount: number;
  channels: string[];
  createdAt: string | null;
  updatedAt: string | null;
  reports: ExportedReport[];
}

function exportedReport(r: ReportRow): ExportedReport {
  return {
    id: r.id,
    nativeId: r.native_id,
    channel: r.channel,
    informant: r.informant,
    sentAt: rfc3339(r.sent_at),
    text: r.text,
    language: r.language,
    tags: r.tags,
    places: r.places,
    entities: r.entities,
    priority: r.priority,
    duplicate: r.duplicate_of && r.duplicate_kind ? { of: r.duplicate_of, kind: r.duplicate_kind } : null,
    media: r.media.map((m) => ({
      sha256: m.sha256,
      mime: m.mime ?? m.declared_mime,
      size: m.size === null ? (m.declared_size === null ? null : Number(m.declared_size)) : Number(m.size),
      kind: m.kind,
      state: m.state,
    })),
  };
}

export function exportedCase(c: CaseRow, reports: ReportRow[]): ExportedCase {
  return {
    ref: c.ref,
    status: c.status,
    priority: c.priority,
    flags: c.flags,
    tags: c.tags,
    places: c.places,
    language: c.language,
    reportCount: c.report_count,
    informantCount: c.informant_count,
    channels: c.channels,
    createdAt: c.first_report_at ? rfc3339(c.first_report_at) : null,
    updatedAt: c.last_report_at ? rfc3339(c.last_report_at) : null,
    reports: reports.map(exportedReport),
  };
}

const CSV_HEADER = [
  'ref', 'status', 'priority', 'flags', 'tags', 'places', 'language', 'reportCount', 'informantCount', 'channels', 'createdAt',
  'updatedAt', 'reportId', 'nativeId', 'channel', 'informant', 'sentAt', 'text', 'reportLanguage', 'reportTags', 'reportPlaces',
  'duplicateOf', 'duplicateKind', 'media',
];

/**
 * A cell a spreadsheet would run as a formula. Spreadsheets skip leading blanks (and invisible
 * characters) before a formula, and some read the full-width and small forms of = + - @ (which
 * NFKC folds to them) as the ASCII ones, so those count too.
 */
const FORMULA_START = /^[\s\u200B-\u200D\u2060\uFEFF]*[=+\-@\uFF1D\uFF0B\uFF0D\uFF20\uFE66\uFE62\uFE63\uFE6B\u2212]|^[\t\r]/;

/** RFC 4180 quoting; a cell a spreadsheet would run as a formula gets a leading apostrophe. */
export function csvCell(v: unknown): string {
  let s = v === null || v === undefined ? '' : String(v);
  if (FORMULA_START.test(s)) s = `'${s}`;
  return /[",\r\n]/.test(s) ? `"${s.replace(/"/g, '""')}"` : s;
}

function csvRows(c: ExportedCase): string {
  const caseCells = [c.ref, c.status, c.priority, c.flags.join('|'), c.tags.join('|'), c.places.join('|'), c.language, c.reportCount,
    c.informantCount, c.channels.join('|'), c.createdAt, c.updatedAt];
  return c.reports
    .map((r) =>
      [...caseCells, r.id, r.nativeId, r.channel, r.informant, r.sentAt, r.text, r.language, r.tags.join('|'), r.places.join('|'),
        r.duplicate?.of ?? '', r.duplicate?.kind ?? '', r.media.map((m) => `${m.kind}:${m.state}:${m.sha256 ?? ''}`).join('|')]
        .map(csvCell)
        .join(','),
    )
    .map((line) => line + '\r\n')
    .join('');
}

export async function exportCaseLog(
  q: Queryable,
  format: ExportFormat,
  write: (chunk: string) => void | Promise<void>,
  opts: { pageSize?: number } = {},
): Promise<ExportSummary> {
  let cases = 0;
  let reports = 0;
  if (format === 'csv') await write('\uFEFF' + CSV_HEADER.join(',') + '\r\n');
  for await (const page of casePages(q, opts.pageSize ?? 200, 'first-report')) {
    const byCase = await reportsOfCases(q, page.map((c) => c.id));
    let chunk = '';
    for (const c of page) {
      const e = exportedCase(c, byCase.get(c.id)!);
      cases++;
      reports += e.reports.length;
      chunk += format === 'jsonl' ? JSON.stringify(e) + '\n' : csvRows(e);
    }
    await write(chunk);
  }
  return { cases, reports };
}
