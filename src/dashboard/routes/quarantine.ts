/**
 * The quarantine page, for admins (issue 14, item 4): the entries (when, channel, code, reason),
 * one entry's detail with its payload's shape (unsealed only to describe it: keys, types, lengths,
 * never a value, as `tiphub quarantine show`), and its retry and drop buttons. Listing reads the
 * case log; what needs the keys or the queues (shape, retry, drop) is the `quarantine` port the
 * hub passes (app/hub/quarantine-retry.ts), so the page lists entries only without it. A drop is
 * recorded in the operators' audit chain under the admin's name.
 */
import type { FastifyPluginAsync } from 'fastify';
import fp from 'fastify-plugin';
import { formatShape, listQuarantine, type QuarantineDetail } from '../../caselog/quarantine';
import { html, page, type Raw } from '../html';
import { stringsFor } from '../i18n';
import { quarantineStrings } from '../i18n/quarantine';
import { pageOpts } from '../page-parts';
import { htmlResponses } from '../schemas';
import { refuse } from '../plugins/auth';

/** What the page does with an entry where the keys are. */
export interface DashboardQuarantine {
  show(id: number): Promise<QuarantineDetail | null>;
  /** Null when there is no such entry. */
  retry(id: number): Promise<{ readonly outcome: 'queued' | 'present' | 'refused'; readonly code?: string; readonly reason?: string } | null>;
  drop(id: number, actor: string): Promise<boolean>;
}

const idParams = { type: 'object', required: ['id'], properties: { id: { type: 'integer', minimum: 1, maximum: Number.MAX_SAFE_INTEGER } }, additionalProperties: false } as const;
const csrfBody = { type: 'object', properties: { _csrf: { type: 'string' } } } as const;
// After a refused retry: the page says so, with the reason the entry now carries (never text from the URL).
const detailQuery = { type: 'object', properties: { refused: { type: 'string', enum: ['1'] } }, additionalProperties: false } as const;
const listQuery = { type: 'object', properties: { done: { type: 'string', enum: ['retried', 'dropped'] }, id: { type: 'integer', minimum: 1 } }, additionalProperties: false } as const;
const admin = { permission: 'operators' as const };
const minute = (iso: string) => iso.slice(0, 16).replace('T', ' ');

const quarantinePlugin: FastifyPluginAsync<{ quarantine?: DashboardQuarantine }> = async (app, opts) => {
  const send = (req: Parameters<typeof pageOpts>[0], reply: import('fastify').FastifyReply, title: string, body: Raw) =>
    reply
      .type('text/html; charset=utf-8')
      .header('Cache-Control', 'no-store')
      .send(page(stringsFor(req.operatorSession!.operator.language), title, body, pageOpts(req)));

  app.get('/admin/quarantine', { config: admin, schema: { querystring: listQuery, response: htmlResponses } }, async (req, reply) => {
    const t = quarantineStrings(req.operatorSession!.operator.language);
    const q = req.query as { done?: 'retried' | 'dropped'; id?: number };
    const rows = await listQuarantine(app.caselog, { limit: 500 });
    const notice = q.done === 'retried' ? html`<p class="notice" role="status">${t.retried}</p>` : q.done === 'dropped' ? html`<p class="notice" role="status">${t.dropped.replace('{id}', String(q.id ?? ''))}</p>` : '';
    const table = rows.length
      ? html`<table class="quarantine"><thead><tr><th>${t.id}</th><th>${t.at}</th><th>${t.channel}</th><th>${t.code}</th><th>${t.reason}</th></tr></thead><tbody>${rows.map(
          (r) => html`<tr class="quarantined" data-id="${String(r.id)}"><td><a href="/admin/quarantine/${String(r.id)}">${String(r.id)}</a></td><td>${minute(r.at)}</td><td>${r.channel}</td><td>${r.code}</td><td>${r.reason}</td></tr>`,
        )}</tbody></table>`
      : html`<p class="note">${t.empty}</p>`;
    return send(req, reply, t.title, html`<h1>${t.title}</h1><p>${t.intro}</p><p>${t.seeAlso}: <a href="/admin/channels">${t.channels}</a> · <a href="/admin/queues">${t.queues}</a></p>${notice}${table}`);
  });

  app.get('/admin/quarantine/:id', { config: admin, schema: { params: idParams, querystring: detailQuery, response: htmlResponses } }, async (req, reply) => {
    const session = req.operatorSession!;
    const t = quarantineStrings(session.operator.language);
    const id = (req.params as { id: number }).id;
    const refused = (req.query as { refused?: '1' }).refused === '1';
    const d = opts.quarantine ? await opts.quarantine.show(id) : ((await listQuarantine(app.caselog, { limit: 10_000 })).find((r) => r.id === id) ?? null);
    if (!d) return refuse(req, reply, 404, 'TIPHUB_DASHBOARD_NOT_FOUND', stringsFor(session.operator.language).notFound);
    const detail = d as Partial<QuarantineDetail> & typeof d;
    const payload: Raw =
      d.sealedBytes === null
        ? html`${t.noPayload}`
        : detail.shape
          ? html`${t.sealedBytes.replace('{n}', String(d.sealedBytes))}<h2>${t.shape}</h2><pre class="shape">${formatShape(detail.shape).join('\n')}</pre>`
          : html`${t.sealedBytes.replace('{n}', String(d.sealedBytes))}${detail.unsealError ? html`; ${detail.unsealError}` : ''}`;
    const csrf = html`<input type="hidden" name="_csrf" value="${session.csrf}">`;
    const actions = opts.quarantine
      ? html`<div class="actions"><form method="post" action="/admin/quarantine/${String(id)}/retry" class="inline">${csrf}<button type="submit" name="retry">${t.retry}</button></form>
<form method="post" action="/admin/quarantine/${String(id)}/drop" class="inline" data-confirm="${t.dropConfirm}">${csrf}<button type="submit" name="drop">${t.drop}</button></form></div>`
      : html`<p class="note">${t.unavailable}</p>`;
    return send(
      req,
      reply,
      `${t.title} ${id}`,
      html`<h1>${t.title} ${String(id)}</h1>${refused ? html`<p class="error" role="alert">${t.stillRefused}: ${d.code}: ${d.reason}</p>` : ''}<dl class="quarantine-entry">
<dt>${t.at}</dt><dd>${minute(d.at)}</dd><dt>${t.channel}</dt><dd>${d.channel}</dd><dt>${t.source}</dt><dd>${d.source}</dd><dt>${t.code}</dt><dd class="code">${d.code}</dd><dt>${t.reason}</dt><dd class="reason">${d.reason}</dd>${detail.field ? html`<dt>${t.field}</dt><dd>${detail.field}</dd>` : ''}<dt>${t.payload}</dt><dd>${payload}</dd></dl>${actions}<p><a href="/admin/quarantine">${t.back}</a></p>`,
    );
  });

  app.post('/admin/quarantine/:id/retry', { config: admin, schema: { params: idParams, body: csrfBody, response: htmlResponses } }, async (req, reply) => {
    const id = (req.params as { id: number }).id;
    const r = opts.quarantine ? await opts.quarantine.retry(id) : null;
    if (!r) return refuse(req, reply, 404, 'TIPHUB_DASHBOARD_NOT_FOUND', stringsFor(req.operatorSession!.operator.language).notFound);
    if (r.outcome === 'refused') return reply.redirect(`/admin/quarantine/${id}?refused=1`, 303);
    return reply.redirect('/admin/quarantine?done=retried', 303);
  });

  app.post('/admin/quarantine/:id/drop', { config: admin, schema: { params: idParams, body: csrfBody, response: htmlResponses } }, async (req, reply) => {
    const id = (req.params as { id: number }).id;
    const dropped = opts.quarantine ? await opts.quarantine.drop(id, req.operatorSession!.operator.name) : false;
    if (!dropped) return refuse(req, reply, 404, 'TIPHUB_DASHBOARD_NOT_FOUND', stringsFor(req.operatorSession!.operator.language).notFound);
    return reply.redirect(`/admin/quarantine?done=dropped&id=${id}`, 303);
  });
};

export default fp(quarantinePlugin, { name: 'tiphub-quarantine', fastify: '5.x', dependencies: ['tiphub-auth'] });
