/**
 * The case list (GET /), the queue: urgent first, then the most recent report, with its filters
 * (words in the reports, last report's dates, campaign flag among them) and keyset paging
 * (src/dashboard/case-list.ts). Every tip text is escaped and marked dir="auto".
 *
 * The table sits in one form with the bulk actions (routes/bulk.ts): a checkbox per row named
 * refs, and the buttons of what the operator's role may do, each posting to its own route. It all
 * works without the script; client/list.ts adds the keys.
 */
import type { FastifyPluginAsync } from 'fastify';
import fp from 'fastify-plugin';
import { CASE_STATUSES, CLOSE_REASONS } from '../../caselog/actions';
import { PRIORITIES } from '../../tagging/vocabulary';
import { isTiphubError } from '../../errors';
import { listCases, searchWords, type CaseListFilter, type CaseListPage } from '../case-list';
import { html, page, type Raw } from '../html';
import { stringsFor } from '../i18n';
import { listStrings } from '../i18n/list';
import { ageOf, caseUrl, list, pageOpts, priorityName, select, statusName } from '../page-parts';
import { can } from '../roles';
import { caseListQuery, htmlResponses } from '../schemas';

/** The filters a next-page link keeps. */
const KEPT = ['q', 'status', 'priority', 'tag', 'channel', 'assignee', 'place', 'language', 'flag', 'from', 'to'] as const;
const DAY = /^\d{4}-\d{2}-\d{2}$/;
const validDay = (v: string) => {
  const d = DAY.test(v) ? new Date(`${v}T00:00:00Z`) : null;
  return !!d && !Number.isNaN(d.getTime()) && d.toISOString().slice(0, 10) === v;
};

const listPagePlugin: FastifyPluginAsync = async (app) => {
  const db = app.caselog;

  app.get<{ Querystring: CaseListFilter }>('/', { config: { permission: 'read' }, schema: { querystring: caseListQuery, response: htmlResponses } }, async (req, reply) => {
    const session = req.operatorSession!;
    const s = stringsFor(session.operator.language);
    const l = listStrings(session.operator.language);
    const role = session.operator.role;
    const f = req.query;

    // Refused filters are said next to the form, in the operator's language, with no rows.
    let problem: string | null = null;
    if (f.q) {
      try {
        searchWords(f.q);
      } catch (err) {
        if (!isTiphubError(err, 'TIPHUB_CONFIG_INVALID')) throw err;
        problem = l.searchTooShort;
      }
    }
    if ((f.from && !validDay(f.from)) || (f.to && !validDay(f.to))) problem = l.dateInvalid;
    const result: CaseListPage = problem ? { cases: [], next: null } : await listCases(db, f);
    const now = Date.now();

    const filters = html`<form method="get" action="/" class="filters" role="search">
<label class="search">${l.search} <input type="search" name="q" id="list-search" value="${f.q ?? ''}" maxlength="200" size="28" dir="auto" placeholder="${l.searchHint}"></label>
<label>${s.status} ${select('status', CASE_STATUSES, (v) => statusName(s, v), f.status, s.any)}</label>
<label>${s.priority} ${select('priority', PRIORITIES, (v) => priorityName(s, v), f.priority, s.any)}</label>
<label>${s.tag} <input name="tag" value="${f.tag ?? ''}" maxlength="40" size="12"></label>
<label>${s.channel} <input name="channel" value="${f.channel ?? ''}" maxlength="32" size="10"></label>
<label>${s.assignee} <input name="assignee" value="${f.assignee ?? ''}" maxlength="64" size="10"></label>
<label>${s.place} <input name="place" value="${f.place ?? ''}" maxlength="80" size="10"></label>
<label>${s.language} <input name="language" value="${f.language ?? ''}" maxlength="16" size="4"></label>
<label>${l.from} <input type="date" name="from" value="${f.from ?? ''}"></label>
<label>${l.to} <input type="date" name="to" value="${f.to ?? ''}"></label>
<label><input type="checkbox" name="flag" value="campaign"${f.flag === 'campaign' ? html` checked` : ''}> ${l.campaignOnly}</label>
<button type="submit">${s.filter}</button></form>
${problem ? html`<p class="error" role="alert">${problem}</p>` : ''}`;

    const rows = result.cases.map(
      (c) => html`<tr class="case" data-ref="${c.ref}">
<td class="pick"><input type="checkbox" name="refs" value="${c.ref}" aria-label="${l.selectRow} ${c.ref}"></td>
<td><a href="${caseUrl(c.ref)}">${c.ref}</a>${c.flags.includes('campaign') ? html` <span class="flag-campaign">${l.campaign}</span>` : ''}</td>
<td class="prio-${c.priority}">${priorityName(s, c.priority)}</td>
<td>${statusName(s, c.status)}</td>
<td dir="auto" class="first-words">${c.firstWords ?? s.noText}</td>
<td>${c.reportCount}</td><td>${c.informantCount}</td><td>${list(c.channels)}</td>
<td>${c.tags.length ? c.tags.map((t) => html`<a href="/?tag=${encodeURIComponent(t)}">${t}</a> `) : '-'}</td>
<td>${list(c.places)}</td><td>${c.assignee ?? '-'}</td>
<td title="${c.firstReportAt ?? ''}">${ageOf(c.firstReportAt, now, s)}</td></tr>`,
    );
    const next = result.next
      ? (() => {
          const q = new URLSearchParams();
          for (const k of KEPT) if (f[k]) q.set(k, f[k]);
          q.set('cursor', result.next);
          return html`<p><a rel="next" class="next" href="/?${q.toString()}">${s.nextPage}</a></p>`;
        })()
      : html``;
    const table = result.cases.length
      ? html`<table><thead><tr><th class="pick"></th><th>${s.caseRef}</th><th>${s.priority}</th><th>${s.status}</th><th>${s.firstWords}</th><th>${s.reports}</th><th>${s.informants}</th><th>${s.channels}</th><th>${s.tags}</th><th>${s.places}</th><th>${s.assignee}</th><th>${s.age}</th></tr></thead>
<tbody>${rows}</tbody></table>`
      : html`<p>${s.noCases}</p>`;

    // Only what this role may do; the routes refuse the rest anyway.
    const back = req.url.length <= 1000 && /^\/(\?.*)?$/.test(req.url) ? req.url : '/';
    const actions: Raw[] = [];
    if (can(role, 'status')) {
      const statuses = can(role, 'close') ? CASE_STATUSES : CASE_STATUSES.filter((x) => x !== 'closed');
      actions.push(html`<span class="bulk-status"><label>${s.status} ${select('status', statuses, (v) => statusName(s, v), undefined)}</label>
${can(role, 'close') ? html`<label>${l.closeReason} ${select('reason', CLOSE_REASONS, (v) => v, undefined, '-')}</label>` : ''}
<button type="submit" formaction="/bulk/status">${l.setStatus}</button></span>`);
    }
    if (can(role, 'tag')) {
      actions.push(html`<span class="bulk-tag"><label>${l.tagToAdd} <input name="tag" maxlength="40" size="12"></label> <button type="submit" formaction="/bulk/tags">${l.addTag}</button></span>`);
    }
    if (can(role, 'assign')) {
      actions.push(html`<span class="bulk-assign"><label>${l.assignTo} <input name="to" maxlength="64" size="10"></label> <button type="submit" formaction="/bulk/assign">${l.assign}</button>
<button type="submit" formaction="/bulk/assign" name="me" value="1">${l.assignToMe}</button></span>`);
    }
    const bulk = html`<form method="post" action="/bulk/status" id="bulk" class="bulk"><input type="hidden" name="_csrf" value="${session.csrf}"><input type="hidden" name="back" value="${back}">
${result.cases.length && actions.length ? html`<fieldset class="bulk-bar"><legend>${l.selectedCases}</legend>${actions}</fieldset>` : ''}
<div id="case-rows" data-live="/events">${table}${next}</div></form>
<p class="keys-hint">${l.keysHint}</p>`;
    return reply
      .code(problem ? 400 : 200)
      .type('text/html; charset=utf-8')
      .send(page(s, s.cases, html`<h1>${s.cases}</h1>${filters}${bulk}`, pageOpts(req)));
  });
};

export default fp(listPagePlugin, { name: 'tiphub-list-page', fastify: '5.x', dependencies: ['tiphub-caselog', 'tiphub-auth'] });
