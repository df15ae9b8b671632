/**
 * The case list (GET /), the queue: urgent first, then the most recent report, with its filters
 * and keyset paging (src/dashboard/case-list.ts). Every tip text is escaped and marked dir="auto".
 */
import type { FastifyPluginAsync } from 'fastify';
import fp from 'fastify-plugin';
import { CASE_STATUSES } from '../../caselog/actions';
import { PRIORITIES } from '../../tagging/vocabulary';
import { listCases, type CaseListFilter } from '../case-list';
import { html, page } from '../html';
import { stringsFor } from '../i18n';
import { ageOf, caseUrl, list, pageOpts, priorityName, select, statusName } from '../page-parts';
import { caseListQuery, htmlResponses } from '../schemas';

const listPagePlugin: FastifyPluginAsync = async (app) => {
  const db = app.caselog;

  app.get<{ Querystring: CaseListFilter }>('/', { config: { permission: 'read' }, schema: { querystring: caseListQuery, response: htmlResponses } }, async (req, reply) => {
    const s = stringsFor(req.operatorSession!.operator.language);
    const f = req.query;
    const result = await listCases(db, f);
    const now = Date.now();
    const filters = html`<form method="get" action="/" class="filters">
<label>${s.status} ${select('status', CASE_STATUSES, (v) => statusName(s, v), f.status, s.any)}</label>
<label>${s.priority} ${select('priority', PRIORITIES, (v) => priorityName(s, v), f.priority, s.any)}</label>
<label>${s.tag} <input name="tag" value="${f.tag ?? ''}" maxlength="40" size="12"></label>
<label>${s.channel} <input name="channel" value="${f.channel ?? ''}" maxlength="32" size="10"></label>
<label>${s.assignee} <input name="assignee" value="${f.assignee ?? ''}" maxlength="64" size="10"></label>
<label>${s.place} <input name="place" value="${f.place ?? ''}" maxlength="80" size="10"></label>
<label>${s.language} <input name="language" value="${f.language ?? ''}" maxlength="16" size="4"></label>
<button type="submit">${s.filter}</button></form>`;
    const rows = result.cases.map(
      (c) => html`<tr class="case" data-ref="${c.ref}">
<td><a href="${caseUrl(c.ref)}">${c.ref}</a></td>
<td class="prio-${c.priority}">${priorityName(s, c.priority)}</td>
<td>${statusName(s, c.status)}</td>
<td dir="auto" class="first-words">${c.firstWords ?? s.noText}</td>
<td>${c.reportCount}</td><td>${c.informantCount}</td><td>${list(c.channels)}</td>
<td>${c.tags.length ? c.tags.map((t) => html`<a href="/?tag=${encodeURIComponent(t)}">${t}</a> `) : '-'}</td>
<td>${list(c.places)}</td><td>${c.assignee ?? '-'}</td>
<td title="${c.firstReportAt ?? ''}">${ageOf(c.firstReportAt, now)}</td></tr>`,
    );
    const next = result.next
      ? (() => {
          const q = new URLSearchParams();
          for (const k of ['status', 'priority', 'tag', 'channel', 'assignee', 'place', 'language', 'flag'] as const) if (f[k]) q.set(k, f[k]);
          q.set('cursor', result.next);
          return html`<p><a rel="next" class="next" href="/?${q.toString()}">${s.nextPage}</a></p>`;
        })()
      : html``;
    const table = result.cases.length
      ? html`<table><thead><tr><th>${s.caseRef}</th><th>${s.priority}</th><th>${s.status}</th><th>${s.firstWords}</th><th>${s.reports}</th><th>${s.informants}</th><th>${s.channels}</th><th>${s.tags}</th><th>${s.places}</th><th>${s.assignee}</th><th>${s.age}</th></tr></thead>
<tbody>${rows}</tbody></table>`
      : html`<p>${s.noCases}</p>`;
    return reply.type('text/html; charset=utf-8').send(page(s, s.cases, html`<h1>${s.cases}</h1>${filters}<div id="case-rows" data-live="/events">${table}${next}</div>`, pageOpts(req)));
  });
};

export default fp(listPagePlugin, { name: 'tiphub-list-page', fastify: '5.x', dependencies: ['tiphub-caselog', 'tiphub-auth'] });
