/**
 * Exports (issue 11, item 7; permission 'export': supervisors and admins), as pages and under /api:
 *  - the filtered case list (the list's own filters and query schema) as CSV or JSON lines,
 *    streamed page by page across the whole list, as an attachment (the query's `limit` only sets
 *    the rows read per page; `cursor` is ignored);
 *  - a case's evidence bundle (src/dashboard/evidence.ts), with chosen reports left out, from the
 *    form on GET /cases/:ref/export.
 * Each export is recorded in the operators' audit (what was asked and how much went out, never a
 * tip's content). This plugin also registers the audit page and the informant view (one plugin
 * for the records areas).
 */
import { Readable } from 'node:stream';
import type { FastifyPluginAsync, FastifyReply, FastifyRequest } from 'fastify';
import fp from 'fastify-plugin';
import { csvCell } from '../../caselog/export';
import { appendAudit } from '../../operators/audit';
import { MediaStore } from '../../media/store';
import { firstWordsOf, listCases, type CaseListFilter, type CaseListPage, type CaseListRow } from '../case-list';
import { buildEvidenceBundle } from '../evidence';
import { casePage } from '../case-view';
import { caseRecord } from '../case-history';
import { html, page } from '../html';
import { stringsFor } from '../i18n';
import { exportsStrings } from '../i18n/exports';
import { caseUrl, pageOpts } from '../page-parts';
import { apiErrors, caseListQuery, htmlResponses, noQuery, refParams } from '../schemas';
import auditRoutes from './audit';
import informantRoutes from './informants';

export interface RecordsOptions {
  /** The media store's folder (`<dataDir>/media`) the evidence bundle reads files from; without it media are listed, not included. */
  readonly mediaRoot?: string;
}

/** Rows per query while streaming the list (the list's own page limit). */
const EXPORT_PAGE = 200;

const CSV_COLUMNS = ['ref', 'status', 'priority', 'assignee', 'reportCount', 'informantCount', 'channels', 'tags', 'places', 'firstReportAt', 'lastReportAt', 'firstWords'] as const;

function csvLine(r: CaseListRow): string {
  const v = r as unknown as Record<string, unknown>;
  return CSV_COLUMNS.map((k) => csvCell(Array.isArray(v[k]) ? (v[k] as unknown[]).join('|') : v[k])).join(',') + '\r\n';
}

/** The filters of a list query as given (no paging): what the export and its audit entry name. */
function filtersOf(query: CaseListFilter): CaseListFilter {
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(query)) if (k !== 'cursor' && k !== 'limit' && v !== undefined && v !== '') out[k] = v;
  return out as CaseListFilter;
}

const fileResponses = (type: string, api: boolean) => ({
  200: { content: { [type]: { schema: { type: 'string' } } } },
  ...(api ? apiErrors : htmlResponses),
});

const bundleQuery = {
  type: 'object',
  properties: { omit: { type: 'array', items: { type: 'string', minLength: 1, maxLength: 200 }, maxItems: 5000 } },
  additionalProperties: false,
} as const;

const recordsPlugin: FastifyPluginAsync<RecordsOptions> = async (app, opts) => {
  const db = app.caselog;
  const media = opts.mediaRoot ? new MediaStore(opts.mediaRoot) : null;

  // ---- the filtered list ----------------------------------------------------------------------
  const exportList = (format: 'csv' | 'jsonl') => async (req: FastifyRequest<{ Querystring: CaseListFilter }>, reply: FastifyReply) => {
    const operator = req.operatorSession!.operator.name;
    const filters = filtersOf(req.query);
    // The whole list always; `limit` only sets how many rows each query reads.
    const pageSize = req.query.limit ?? EXPORT_PAGE;
    // The first page before answering: a refused filter is an error answer, not a broken download.
    const first = await listCases(db, { ...filters, limit: pageSize });
    let cases = 0;
    let reports = 0;
    let complete = false;
    async function* lines(): AsyncGenerator<string> {
      try {
        if (format === 'csv') yield '\uFEFF' + CSV_COLUMNS.join(',') + '\r\n';
        let page: CaseListPage = first;
        for (;;) {
          let chunk = '';
          for (const r of page.cases) {
            cases++;
            reports += r.reportCount;
            chunk += format === 'csv' ? csvLine(r) : JSON.stringify(r) + '\n';
          }
          if (chunk) yield chunk;
          if (!page.next) break;
          page = await listCases(db, { ...filters, cursor: page.next, limit: pageSize });
        }
        complete = true;
      } finally {
        // Also when the download was cut short: what went out is recorded either way.
        await db
          .transaction((tx) => appendAudit(tx, operator, 'export.cases', { format, filters, cases, reports, complete }))
          .catch((err: unknown) => req.log.error({ err }, 'recording an export failed'));
      }
    }
    const day = new Date().toISOString().slice(0, 10);
    return reply
      .type(format === 'csv' ? 'text/csv; charset=utf-8' : 'application/x-ndjson; charset=utf-8')
      .header('content-disposition', `attachment; filename="tiphub-cases-${day}.${format === 'csv' ? 'csv' : 'jsonl'}"`)
      .header('cache-control', 'no-store')
      .send(Readable.from(lines()));
  };
  for (const prefix of ['', '/api'] as const) {
    for (const format of ['csv', 'jsonl'] as const) {
      app.get<{ Querystring: CaseListFilter }>(
        `${prefix}/export/cases.${format}`,
        {
          config: { permission: 'export' },
          schema: { querystring: caseListQuery, response: fileResponses(format === 'csv' ? 'text/csv; charset=utf-8' : 'application/x-ndjson; charset=utf-8', prefix === '/api') },
        },
        exportList(format),
      );
    }
  }

  // The page the list's export link leads to: the filters in force, and the two formats.
  app.get<{ Querystring: CaseListFilter }>('/export', { config: { permission: 'export' }, schema: { querystring: caseListQuery, response: htmlResponses } }, async (req, reply) => {
    const language = req.operatorSession!.operator.language;
    const s = stringsFor(language);
    const x = exportsStrings(language);
    const filters = Object.entries(filtersOf(req.query)) as [string, unknown][];
    const q = new URLSearchParams(filters.map(([k, v]): [string, string] => [k, String(v)])).toString();
    const body = html`<h1>${x.exportTitle}</h1><p>${x.exportIntro}</p>
<h2>${x.filters}</h2>${filters.length ? html`<dl class="export-filters">${filters.map(([k, v]) => html`<dt>${k}</dt><dd dir="auto">${String(v)}</dd>`)}</dl>` : html`<p>${x.noFilters}</p>`}
<ul class="export-formats"><li><a href="/export/cases.csv${q ? `?${q}` : ''}" download>${x.csv}</a></li><li><a href="/export/cases.jsonl${q ? `?${q}` : ''}" download>${x.jsonl}</a></li></ul>
<p class="meta">${x.exportRecorded}</p><p><a href="/${q ? `?${q}` : ''}">${s.back}</a></p>`;
    return reply.type('text/html; charset=utf-8').send(page(s, x.exportTitle, body, pageOpts(req)));
  });

  // ---- a case's evidence bundle ---------------------------------------------------------------
  app.get<{ Params: { ref: string } }>(
    '/cases/:ref/export',
    { config: { permission: 'export' }, schema: { params: refParams, querystring: noQuery, response: htmlResponses } },
    async (req, reply) => {
      const language = req.operatorSession!.operator.language;
      const s = stringsFor(language);
      const x = exportsStrings(language);
      const c = await casePage(db, req.params.ref);
      const chain = (await caseRecord(db, c.ref)).chain;
      const rows = c.reports.map(
        (r) => html`<tr><td><input type="checkbox" name="omit" value="${r.id}" id="omit-${r.id}"></td>
<td><label for="omit-${r.id}">${r.sentAt}</label></td><td>${r.channel}</td><td><a href="/informants/${encodeURIComponent(r.pseudonym)}">${r.pseudonym}</a></td><td>${r.media}</td><td dir="auto" class="first-words">${firstWordsOf(r.text) ?? s.noText}</td></tr>`,
      );
      const body = html`<p><a href="${caseUrl(c.ref)}">${x.backToCase}</a></p><h1>${x.bundleTitle}: ${s.caseRef} ${c.ref}</h1><p>${x.bundleIntro}</p>
<p class="chain ${chain.ok ? 'ok' : 'broken'}">${x.chainState}: ${chain.ok ? s.chainIntact : s.chainBroken} (${chain.events} ${s.events})</p>
<form method="get" action="${caseUrl(c.ref)}/bundle.zip" class="bundle-form">${
        c.reports.length
          ? html`<table><thead><tr><th>${x.leaveOut}</th><th>${s.sent}</th><th>${s.channel}</th><th>${s.pseudonym}</th><th>${x.media}</th><th>${x.report}</th></tr></thead><tbody>${rows}</tbody></table>`
          : html`<p>${x.noReports}</p>`
      }
<p><button type="submit">${x.download}</button></p></form><p class="meta">${x.exportRecorded}</p>`;
      return reply.type('text/html; charset=utf-8').send(page(s, `${x.bundleTitle} ${c.ref}`, body, pageOpts(req)));
    },
  );

  for (const prefix of ['', '/api'] as const) {
    app.get<{ Params: { ref: string }; Querystring: { omit?: string[] } }>(
      `${prefix}/cases/:ref/bundle.zip`,
      { config: { permission: 'export' }, schema: { params: refParams, querystring: bundleQuery, response: fileResponses('application/zip', prefix === '/api') } },
      async (req, reply) => {
        const operator = req.operatorSession!.operator.name;
        const b = await buildEvidenceBundle(db, req.params.ref, { omit: req.query.omit ?? [], operator, media });
        const m = b.manifest;
        await db.transaction((tx) =>
          appendAudit(tx, operator, 'export.bundle', {
            ref: b.ref,
            reports: m.reports.included,
            omitted: m.reports.omitted.length,
            media: m.media.included,
            events: m.events,
            manifest: b.manifestSha256,
          }),
        );
        return reply
          .type('application/zip')
          .header('content-disposition', `attachment; filename="tiphub-${b.ref}-evidence.zip"`)
          .header('cache-control', 'no-store')
          .send(b.stream);
      },
    );
  }

  await app.register(auditRoutes);
  await app.register(informantRoutes);
};

export default fp(recordsPlugin, { name: 'tiphub-records', fastify: '5.x', dependencies: ['tiphub-caselog', 'tiphub-auth'] });
