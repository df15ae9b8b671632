/**
 * One informant by pseudonym (issue 11, item 8): GET /informants/:pseudonym and its JSON under
 * /api ('read'), with block and unblock ('block': supervisors and admins) through setBlocked, the
 * service function `tiphub informant block|unblock` uses, which writes the informant-log entry
 * with the operator as actor. Pseudonyms only: the address is never read here.
 */
import type { FastifyPluginAsync } from 'fastify';
import { informantView, type InformantView } from '../../caselog/informants';
import { setBlocked } from '../../conversation/operator';
import { appendAudit } from '../../operators/audit';
import { DashboardRefusal } from '../case-actions';
import { firstWordsOf } from '../case-list';
import { html, page } from '../html';
import { stringsFor } from '../i18n';
import { informantsStrings } from '../i18n/informants';
import { caseUrl, pageOpts, statusName } from '../page-parts';
import { can } from '../roles';
import { apiErrors, htmlResponses, noQuery } from '../schemas';

const pseudonymParams = {
  type: 'object',
  required: ['pseudonym'],
  properties: { pseudonym: { type: 'string', pattern: '^[0-9a-f]{8,64}$' } },
} as const;

const csrfBody = { type: 'object', properties: { _csrf: { type: 'string' } } } as const;

const nullableString = { type: ['string', 'null'] } as const;
const informantResponse = {
  200: {
    type: 'object',
    properties: {
      pseudonym: { type: 'string' },
      channel: { type: 'string' },
      language: nullableString,
      firstSeen: { type: 'string' },
      lastSeen: { type: 'string' },
      blocked: { type: 'boolean' },
      flooded: { type: 'boolean' },
      floodedReports: { type: 'integer' },
      flags: { type: 'array', items: { type: 'string' } },
      stopped: { type: 'boolean' },
      unreachable: { type: 'boolean' },
      reportCount: { type: 'integer' },
      cases: {
        type: 'array',
        items: { type: 'object', properties: { ref: { type: 'string' }, status: { type: 'string' }, reports: { type: 'integer' }, lastReportAt: { type: 'string' } } },
      },
      reports: {
        type: 'array',
        items: {
          type: 'object',
          properties: { id: { type: 'string' }, caseRef: { type: 'string' }, sentAt: { type: 'string' }, text: nullableString, flooded: { type: 'boolean' }, blocked: { type: 'boolean' } },
        },
      },
      log: {
        type: 'array',
        items: { type: 'object', properties: { seq: { type: ['integer', 'null'] }, at: { type: 'string' }, kind: { type: 'string' }, actor: { type: 'string' } } },
      },
    },
  },
  ...apiErrors,
} as const;

const blockResponse = {
  200: { type: 'object', required: ['pseudonym', 'blocked'], properties: { pseudonym: { type: 'string' }, blocked: { type: 'boolean' } } },
  ...apiErrors,
} as const;

export const informantUrl = (pseudonym: string) => `/informants/${encodeURIComponent(pseudonym)}`;

const informantRoutes: FastifyPluginAsync = async (app) => {
  const db = app.caselog;

  async function view(operator: string, language: string | null | undefined, pseudonym: string): Promise<InformantView> {
    const v = await informantView(db, pseudonym);
    if (!v) throw new DashboardRefusal(404, 'TIPHUB_INFORMANT_NOT_FOUND', informantsStrings(language).notFound);
    await db.transaction((tx) => appendAudit(tx, operator, 'informant.view', { pseudonym }));
    return v;
  }

  async function block(operator: string, language: string | null | undefined, pseudonym: string, blocked: boolean): Promise<void> {
    const { rows } = await db.query('SELECT 1 FROM informants WHERE pseudonym = $1', [pseudonym]);
    if (!rows.length) throw new DashboardRefusal(404, 'TIPHUB_INFORMANT_NOT_FOUND', informantsStrings(language).notFound);
    await setBlocked(db, pseudonym, blocked, operator);
    await db.transaction((tx) => appendAudit(tx, operator, blocked ? 'informant.block' : 'informant.unblock', { pseudonym }));
  }

  app.get<{ Params: { pseudonym: string } }>(
    '/api/informants/:pseudonym',
    { config: { permission: 'read' }, schema: { params: pseudonymParams, querystring: noQuery, response: informantResponse } },
    async (req) => {
      const o = req.operatorSession!.operator;
      return view(o.name, o.language, req.params.pseudonym);
    },
  );

  app.get<{ Params: { pseudonym: string } }>(
    '/informants/:pseudonym',
    { config: { permission: 'read' }, schema: { params: pseudonymParams, querystring: noQuery, response: htmlResponses } },
    async (req, reply) => {
      const session = req.operatorSession!;
      const s = stringsFor(session.operator.language);
      const t = informantsStrings(session.operator.language);
      const v = await view(session.operator.name, session.operator.language, req.params.pseudonym);
      const csrf = html`<input type="hidden" name="_csrf" value="${session.csrf}">`;
      const contact = [v.stopped ? t.stopped : null, v.unreachable ? t.unreachable : null].filter((x): x is string => x !== null);
      const header = html`<h1>${t.informantTitle} ${v.pseudonym}</h1>
<dl class="informant">
<dt>${t.pseudonym}</dt><dd>${v.pseudonym}</dd>
<dt>${t.channel}</dt><dd>${v.channel}</dd>
<dt>${t.language}</dt><dd>${v.language ?? '-'}</dd>
<dt>${t.firstSeen}</dt><dd>${v.firstSeen}</dd>
<dt>${t.lastSeen}</dt><dd>${v.lastSeen}</dd>
<dt>${t.blocked}</dt><dd class="blocked">${v.blocked ? t.isBlocked : t.notBlocked}</dd>
<dt>${t.flood}</dt><dd class="flood">${v.flooded ? html`${t.flooded} (${v.floodedReports} ${t.floodedReports})` : t.notFlooded}</dd>
<dt>${t.contact}</dt><dd>${contact.length ? contact.join(', ') : t.reachable}</dd>
<dt>${t.reports}</dt><dd>${v.reportCount}</dd>
</dl>`;
      const action = can(session.operator.role, 'block')
        ? v.blocked
          ? html`<form method="post" action="${informantUrl(v.pseudonym)}/unblock" data-confirm="${t.confirmUnblock}">${csrf}<button type="submit">${t.unblock}</button></form>`
          : html`<form method="post" action="${informantUrl(v.pseudonym)}/block" data-confirm="${t.confirmBlock}">${csrf}<button type="submit">${t.block}</button></form>`
        : '';
      const cases = html`<h2>${t.cases}</h2><table class="informant-cases"><thead><tr><th>${t.case}</th><th>${t.status}</th><th>${t.reports}</th><th>${t.lastReport}</th></tr></thead><tbody>${v.cases.map(
        (c) => html`<tr><td><a href="${caseUrl(c.ref)}">${c.ref}</a></td><td>${statusName(s, c.status)}</td><td>${c.reports}</td><td>${c.lastReportAt}</td></tr>`,
      )}</tbody></table>`;
      const reports = html`<h2>${t.reports}</h2>${v.reports.length < v.reportCount ? html`<p class="meta">${t.showingLatest}: ${v.reports.length} ${t.of} ${v.reportCount}</p>` : ''}
<table class="informant-reports"><thead><tr><th>${t.sent}</th><th>${t.case}</th><th>${t.text}</th><th>${t.flood}</th></tr></thead><tbody>${v.reports.map(
        (r) => html`<tr><td>${r.sentAt}</td><td><a href="${caseUrl(r.caseRef)}#r-${r.id}">${r.caseRef}</a></td><td dir="auto" class="first-words">${firstWordsOf(r.text) ?? t.noText}</td><td>${r.flooded ? t.flooded : ''}${r.blocked ? html` ${t.blocked}` : ''}</td></tr>`,
      )}</tbody></table>`;
      const log = html`<h2>${t.log}</h2><table class="informant-log"><thead><tr><th>#</th><th>${t.time}</th><th>${t.kind}</th><th>${t.actor}</th></tr></thead><tbody>${v.log.map(
        (e) => html`<tr class="log-entry" data-kind="${e.kind}"><td>${e.seq ?? ''}</td><td>${e.at}</td><td>${e.kind}</td><td>${e.actor}</td></tr>`,
      )}</tbody></table>`;
      return reply.type('text/html; charset=utf-8').send(page(s, `${t.informantTitle} ${v.pseudonym}`, html`<p><a href="/">${s.back}</a></p>${header}${action}${cases}${reports}${log}`, pageOpts(req)));
    },
  );

  for (const [what, blocked] of [['block', true], ['unblock', false]] as const) {
    app.post<{ Params: { pseudonym: string } }>(
      `/informants/:pseudonym/${what}`,
      { config: { permission: 'block' }, schema: { params: pseudonymParams, body: csrfBody, response: htmlResponses } },
      async (req, reply) => {
        const o = req.operatorSession!.operator;
        await block(o.name, o.language, req.params.pseudonym, blocked);
        return reply.redirect(informantUrl(req.params.pseudonym), 303);
      },
    );
    app.post<{ Params: { pseudonym: string } }>(
      `/api/informants/:pseudonym/${what}`,
      { config: { permission: 'block' }, schema: { params: pseudonymParams, body: { type: 'object', properties: {} }, response: blockResponse } },
      async (req) => {
        const o = req.operatorSession!.operator;
        await block(o.name, o.language, req.params.pseudonym, blocked);
        return { pseudonym: req.params.pseudonym, blocked };
      },
    );
  }
};

export default informantRoutes;
