/**
 * The operators' audit log for admins (issue 11, item 7): GET /admin/audit and GET /api/admin/audit,
 * newest first with keyset paging on seq, filtered by operator and action, with the audit chain's
 * check (src/operators/audit.ts). Looking at it is recorded in it too ('audit.view').
 */
import type { FastifyPluginAsync } from 'fastify';
import { appendAudit, operatorAuditPage, verifyOperatorAudit, type OperatorAuditQuery } from '../../operators/audit';
import { html, page } from '../html';
import { stringsFor } from '../i18n';
import { auditStrings } from '../i18n/audit';
import { pageOpts } from '../page-parts';
import { apiErrors, htmlResponses } from '../schemas';

interface AuditQuery {
  readonly operator?: string;
  readonly action?: string;
  readonly before?: number;
  readonly limit?: number;
}

const auditQuery = {
  type: 'object',
  properties: {
    operator: { type: 'string', minLength: 1, maxLength: 64 },
    action: { type: 'string', minLength: 1, maxLength: 64 },
    before: { type: 'integer', minimum: 1 },
    limit: { type: 'integer', minimum: 1, maximum: 500 },
  },
  additionalProperties: false,
} as const;

const auditResponse = {
  200: {
    type: 'object',
    required: ['entries', 'next', 'chain'],
    properties: {
      entries: {
        type: 'array',
        items: {
          type: 'object',
          properties: { seq: { type: 'integer' }, at: { type: 'string' }, operator: { type: 'string' }, action: { type: 'string' }, data: { type: 'object', additionalProperties: true } },
        },
      },
      next: { type: ['integer', 'null'] },
      chain: {
        type: 'object',
        properties: {
          ok: { type: 'boolean' },
          entries: { type: 'integer' },
          problems: { type: 'array', items: { type: 'object', properties: { kind: { type: 'string' }, seq: { type: ['integer', 'null'] }, what: { type: 'string' } } } },
        },
      },
    },
  },
  ...apiErrors,
} as const;

const auditRoutes: FastifyPluginAsync = async (app) => {
  const db = app.caselog;

  /** Records the look first, so the page shows it and the check covers it. */
  async function read(operator: string, q: AuditQuery) {
    const filter: OperatorAuditQuery = { operator: q.operator?.trim() || undefined, action: q.action?.trim() || undefined, beforeSeq: q.before, limit: q.limit };
    await db.transaction((tx) => appendAudit(tx, operator, 'audit.view', { ...(filter.operator ? { operator: filter.operator } : {}), ...(filter.action ? { action: filter.action } : {}) }));
    const [pageOf, chain] = await Promise.all([operatorAuditPage(db, filter), verifyOperatorAudit(db)]);
    return { ...pageOf, chain, filter };
  }

  app.get<{ Querystring: AuditQuery }>('/api/admin/audit', { config: { permission: 'operators' }, schema: { querystring: auditQuery, response: auditResponse } }, async (req) => {
    const { entries, next, chain } = await read(req.operatorSession!.operator.name, req.query);
    return { entries, next, chain };
  });

  app.get<{ Querystring: AuditQuery }>('/admin/audit', { config: { permission: 'operators' }, schema: { querystring: auditQuery, response: htmlResponses } }, async (req, reply) => {
    const language = req.operatorSession!.operator.language;
    const s = stringsFor(language);
    const a = auditStrings(language);
    const { entries, next, chain, filter } = await read(req.operatorSession!.operator.name, req.query);
    const status = chain.ok
      ? html`<p class="chain ok">${a.chainOk} (${chain.entries} ${a.entries})</p>`
      : html`<div class="chain broken" role="alert"><p>${a.chainBroken} (${chain.entries} ${a.entries})</p><ul>${chain.problems.map(
        (p) => html`<li>[${p.kind}]${p.seq !== null ? html` ${a.entry} ${p.seq}` : ''}: ${p.what}</li>`,
      )}</ul></div>`;
    const form = html`<form method="get" action="/admin/audit" class="filters">
<label>${a.operator} <input name="operator" value="${filter.operator ?? ''}" maxlength="64" size="12"></label>
<label>${a.action} <input name="action" value="${filter.action ?? ''}" maxlength="64" size="16"></label>
<button type="submit">${a.filter}</button></form>`;
    const rows = entries.map(
      (e) => html`<tr class="audit-entry" data-seq="${e.seq}"><td>${e.seq}</td><td>${e.at}</td><td>${e.operator}</td><td>${e.action}</td><td dir="auto"><code>${JSON.stringify(e.data)}</code></td></tr>`,
    );
    const keep = new URLSearchParams();
    if (filter.operator) keep.set('operator', filter.operator);
    if (filter.action) keep.set('action', filter.action);
    if (req.query.limit) keep.set('limit', String(req.query.limit));
    const older = next !== null ? (() => {
      const q = new URLSearchParams(keep);
      q.set('before', String(next));
      return html`<a rel="next" class="next" href="/admin/audit?${q.toString()}">${a.olderEntries}</a>`;
    })() : '';
    const newest = req.query.before ? html` <a href="/admin/audit${keep.size ? `?${keep.toString()}` : ''}">${a.newestEntries}</a>` : '';
    const table = entries.length
      ? html`<table class="audit"><thead><tr><th>#</th><th>${a.time}</th><th>${a.operator}</th><th>${a.action}</th><th>${a.details}</th></tr></thead><tbody>${rows}</tbody></table>`
      : html`<p>${a.noEntries}</p>`;
    const body = html`<h1>${a.auditTitle}</h1>${status}${form}${table}<p>${older}${newest}</p><p class="meta">${a.viewRecorded}</p>`;
    return reply.type('text/html; charset=utf-8').send(page(s, a.auditTitle, body, pageOpts(req)));
  });
};

export default auditRoutes;
