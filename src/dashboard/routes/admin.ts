/**
 * The admins' pages and API (issue 11, item 4): operator accounts (add, disable, enable, reset,
 * role) and live sessions (end one, end all of an operator). Permission 'operators' on every route.
 * Accounts change through the functions `tiphub operator …` uses (src/operators/accounts.ts), each
 * recorded in the operators' audit with the admin as actor. A one-time password is shown once, on
 * the page that answers the form (or in the API's answer). Sessions are named by a handle derived
 * from their token hash: neither the token nor its hash reaches a page.
 */
import type { FastifyPluginAsync, FastifyReply, FastifyRequest } from 'fastify';
import fp from 'fastify-plugin';
import type { Db } from '../../caselog/db';
import {
  addOperator,
  disableOperator,
  enabledAdminsBesides,
  enableOperator,
  listOperators,
  OPERATOR_ROLES,
  resetOperator,
  setOperatorRole,
  type NewCredentials,
  type OperatorListing,
  type OperatorRole,
} from '../../operators/accounts';
import { listLiveSessions, revokeOperatorSessions, revokeSessionByHandle, type LiveSession } from '../../operators/sessions';
import { DashboardRefusal, refusalOf } from '../case-actions';
import { html, page, type Raw } from '../html';
import { stringsFor } from '../i18n';
import { adminStrings, type AdminStrings } from '../i18n/admin';
import { pageOpts, select } from '../page-parts';
import { apiErrors, htmlResponses, noQuery } from '../schemas';

const PERMISSION = { permission: 'operators' as const };
const nameString = { type: 'string', minLength: 1, maxLength: 64, pattern: '^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$' } as const;
const roleString = { type: 'string', enum: [...OPERATOR_ROLES] } as const;
const nullableString = { type: ['string', 'null'] } as const;
const csrfOnly = { type: 'object', properties: { _csrf: { type: 'string', maxLength: 128 } } } as const;
const nameParams = { type: 'object', required: ['name'], properties: { name: nameString } } as const;
const handleParams = { type: 'object', required: ['handle'], properties: { handle: { type: 'string', pattern: '^[0-9a-f]{32}$' } } } as const;
const addBody = { type: 'object', required: ['name'], properties: { name: nameString, role: roleString, _csrf: { type: 'string', maxLength: 128 } } } as const;
const roleBody = { type: 'object', required: ['role'], properties: { role: roleString, _csrf: { type: 'string', maxLength: 128 } } } as const;
const sessionsQuery = { type: 'object', properties: { operator: nameString }, additionalProperties: false } as const;

const operatorItem = {
  type: 'object',
  properties: {
    name: { type: 'string' },
    role: { type: 'string' },
    language: { type: 'string' },
    enabled: { type: 'boolean' },
    totpEnrolled: { type: 'boolean' },
    mustChangePassword: { type: 'boolean' },
    lockedUntil: nullableString,
    lastLogin: nullableString,
    createdAt: { type: 'string' },
    liveSessions: { type: 'integer' },
  },
} as const;
const sessionItem = {
  type: 'object',
  properties: {
    handle: { type: 'string' },
    operator: { type: 'string' },
    client: nullableString,
    createdAt: { type: 'string' },
    lastSeenAt: { type: 'string' },
    expiresAt: { type: 'string' },
    current: { type: 'boolean' },
  },
} as const;
const credentialsResponse = {
  200: {
    type: 'object',
    required: ['name', 'role', 'password'],
    properties: { name: { type: 'string' }, role: { type: 'string' }, password: { type: 'string' }, sessionsRevoked: { type: 'integer' } },
  },
  ...apiErrors,
} as const;
const changeResponse = {
  200: {
    type: 'object',
    required: ['name', 'changed'],
    properties: { name: { type: 'string' }, changed: { type: 'boolean' }, role: { type: 'string' }, from: { type: 'string' }, sessionsRevoked: { type: 'integer' } },
  },
  ...apiErrors,
} as const;

export type OperatorRow = OperatorListing & { readonly liveSessions: number };

/** The account changes an admin makes, with the guards the pages and the API share. */
class AdminActions {
  constructor(
    private readonly db: Db,
    private readonly idleMs: number,
    private readonly endLiveStreams: (tokenHash: string) => void,
  ) {}

  async operators(): Promise<OperatorRow[]> {
    const [ops, live] = await Promise.all([listOperators(this.db), this.sessions()]);
    const count = new Map<string, number>();
    for (const s of live) count.set(s.operator, (count.get(s.operator) ?? 0) + 1);
    return ops.map((o) => ({ ...o, liveSessions: count.get(o.name) ?? 0 }));
  }

  sessions(operator?: string) {
    return listLiveSessions(this.db, { idleMs: this.idleMs, ...(operator ? { operator } : {}) });
  }

  private async existing(t: AdminStrings, name: string): Promise<{ role: OperatorRole; enabled: boolean }> {
    const { rows } = await this.db.query<{ role: OperatorRole; disabled_at: Date | null }>('SELECT role, disabled_at FROM operators WHERE name = $1', [name]);
    if (!rows[0]) throw new DashboardRefusal(404, 'TIPHUB_DASHBOARD_NOT_FOUND', t.operatorNotFound);
    return { role: rows[0].role, enabled: rows[0].disabled_at === null };
  }

  /** Ends the live streams of sessions that just ended (the SSE stream would notice at its next heartbeat). */
  private async ending<T>(name: string, fn: () => Promise<T>): Promise<T> {
    const before = await listLiveSessions(this.db, { operator: name, idleMs: this.idleMs });
    const r = await fn();
    for (const s of before) this.endLiveStreams(s.tokenHash);
    return r;
  }

  add(actor: string, name: string, role: OperatorRole): Promise<NewCredentials> {
    return addOperator(this.db, name, role, { actor });
  }

  async disable(actor: string, t: AdminStrings, name: string) {
    if (name === actor) throw new DashboardRefusal(409, 'TIPHUB_DASHBOARD_SELF', t.selfDisable);
    const o = await this.existing(t, name);
    if (o.role === 'admin' && o.enabled && (await enabledAdminsBesides(this.db, name)) === 0) throw new DashboardRefusal(409, 'TIPHUB_DASHBOARD_LAST_ADMIN', t.lastAdmin);
    return this.ending(name, () => disableOperator(this.db, name, { actor }));
  }

  async enable(actor: string, t: AdminStrings, name: string) {
    await this.existing(t, name);
    return enableOperator(this.db, name, { actor });
  }

  async reset(actor: string, t: AdminStrings, name: string) {
    if (name === actor) throw new DashboardRefusal(409, 'TIPHUB_DASHBOARD_SELF', t.selfReset);
    await this.existing(t, name);
    return this.ending(name, () => resetOperator(this.db, name, undefined, { actor }));
  }

  async role(actor: string, t: AdminStrings, name: string, role: OperatorRole) {
    if (name === actor) throw new DashboardRefusal(409, 'TIPHUB_DASHBOARD_SELF', t.selfRole);
    const o = await this.existing(t, name);
    if (o.role === 'admin' && role !== 'admin' && o.enabled && (await enabledAdminsBesides(this.db, name)) === 0) throw new DashboardRefusal(409, 'TIPHUB_DASHBOARD_LAST_ADMIN', t.lastAdmin);
    return setOperatorRole(this.db, name, role, { actor });
  }

  async revoke(actor: string, t: AdminStrings, handle: string) {
    const r = await revokeSessionByHandle(this.db, handle, actor);
    if (!r) throw new DashboardRefusal(404, 'TIPHUB_DASHBOARD_NOT_FOUND', t.sessionNotFound);
    this.endLiveStreams(r.tokenHash);
    return { operator: r.operator };
  }

  async revokeAll(actor: string, t: AdminStrings, name: string) {
    await this.existing(t, name);
    const ended = await revokeOperatorSessions(this.db, name, actor);
    for (const h of ended) this.endLiveStreams(h);
    return { name, sessionsRevoked: ended.length };
  }
}

const minute = (iso: string | null) => (iso ? iso.slice(0, 16).replace('T', ' ') : null);
const when = (iso: string | null, none: string): Raw => (iso ? html`<time datetime="${iso}">${minute(iso)}</time>` : html`${none}`);
const roleName = (t: AdminStrings, r: string) => (t as Record<string, string>)[`role_${r}`] ?? r;

const adminPlugin: FastifyPluginAsync = async (app) => {
  const actions = new AdminActions(app.caselog, app.dashboardAuth.idleMs, (h) => app.endLiveStreams(h));
  const who = (req: FastifyRequest) => {
    const session = req.operatorSession!;
    return { session, actor: session.operator.name, s: stringsFor(session.operator.language), t: adminStrings(session.operator.language) };
  };
  const csrfField = (req: FastifyRequest) => html`<input type="hidden" name="_csrf" value="${req.operatorSession!.csrf}">`;
  const send = (reply: FastifyReply, status: number, body: string) => reply.code(status).type('text/html; charset=utf-8').send(body);

  /** A refused admin form: its reason, and the way back to the admin page it came from. */
  async function formOf(req: FastifyRequest, reply: FastifyReply, back: string, fn: () => Promise<FastifyReply | string>) {
    try {
      const r = await fn();
      return typeof r === 'string' ? reply.redirect(r, 303) : r;
    } catch (err) {
      const r = refusalOf(err);
      if (!r) throw err;
      const { s, t } = who(req);
      return send(
        reply,
        r.status,
        page(s, s.error, html`<p class="error" role="alert" data-code="${r.code}">${r.message}</p><p><a href="${back}">${back.startsWith('/admin/sessions') ? t.sessionsTitle : t.backToOperators}</a></p>`, pageOpts(req)),
      );
    }
  }

  function credentialsPage(req: FastifyRequest, reply: FastifyReply, c: NewCredentials & { sessionsRevoked?: number }, title: string) {
    const { s, t } = who(req);
    const body = html`<h1>${title}</h1>
<dl class="credentials"><dt>${t.name}</dt><dd class="operator-name">${c.name}</dd><dt>${t.role}</dt><dd>${roleName(t, c.role)}</dd>
<dt>${t.oneTimePassword}</dt><dd><code class="one-time" id="one-time-password">${c.password}</code></dd>${
      c.sessionsRevoked !== undefined ? html`<dt>${t.sessionsEnded}</dt><dd>${c.sessionsRevoked}</dd>` : ''
    }</dl>
<p>${t.shownOnce}</p><p><a href="/admin/operators">${t.backToOperators}</a></p>`;
    return send(reply, 200, page(s, title, body, pageOpts(req)));
  }

  // --- Pages ------------------------------------------------------------------------------

  app.get('/admin/operators', { config: PERMISSION, schema: { querystring: noQuery, response: htmlResponses } }, async (req, reply) => {
    const { s, t, actor } = who(req);
    const rows = await actions.operators();
    const csrf = csrfField(req);
    const base = (name: string) => `/admin/operators/${encodeURIComponent(name)}`;
    const state = (o: OperatorRow): Raw =>
      !o.enabled
        ? html`<span class="state-disabled">${t.disabled}</span>`
        : o.lockedUntil
          ? html`<span class="state-locked">${t.lockedUntil} ${when(o.lockedUntil, '')}</span>`
          : o.mustChangePassword
            ? html`<span class="state-due">${t.passwordDue}</span>`
            : html`<span class="state-enabled">${t.enabled}</span>`;
    const forms = (o: OperatorRow): Raw => {
      if (o.name === actor) return html`${t.you}`;
      const toggle = o.enabled
        ? html`<form method="post" action="${base(o.name)}/disable" data-confirm="${t.confirmDisable}">${csrf}<button type="submit">${t.disable}</button></form>`
        : html`<form method="post" action="${base(o.name)}/enable">${csrf}<button type="submit">${t.enable}</button></form>`;
      return html`${toggle}<form method="post" action="${base(o.name)}/reset" data-confirm="${t.confirmReset}">${csrf}<button type="submit">${t.reset}</button></form><form method="post" action="${base(o.name)}/role">${csrf}<label>${t.role} ${select(
        'role',
        OPERATOR_ROLES,
        (v) => roleName(t, v),
        o.role,
      )}</label> <button type="submit">${t.changeRole}</button></form>`;
    };
    const table = html`<table class="operators"><thead><tr><th>${t.name}</th><th>${t.role}</th><th>${t.language}</th><th>${t.secondFactor}</th><th>${t.state}</th><th>${t.lastLogin}</th><th>${t.liveSessions}</th><th>${t.actions}</th></tr></thead><tbody>${rows.map(
      (o) => html`<tr class="operator${o.enabled ? '' : ' disabled'}" data-name="${o.name}"><td class="name">${o.name}</td><td class="role">${roleName(t, o.role)}</td><td>${o.language}</td>
<td class="totp">${o.totpEnrolled ? t.enrolled : t.notEnrolled}</td><td class="state">${state(o)}</td><td>${when(o.lastLogin, t.never)}</td>
<td class="sessions"><a href="/admin/sessions?operator=${encodeURIComponent(o.name)}">${o.liveSessions}</a></td><td class="forms">${forms(o)}</td></tr>`,
    )}</tbody></table>`;
    const add = html`<form method="post" action="/admin/operators" class="add-operator">${csrf}<h2>${t.addOperator}</h2><label>${t.name} <input name="name" required maxlength="64" pattern="[A-Za-z0-9][A-Za-z0-9._\\-]{0,63}" autocomplete="off"></label>
<label>${t.role} ${select('role', OPERATOR_ROLES, (v) => roleName(t, v), 'analyst')}</label> <button type="submit">${t.add}</button></form>`;
    return send(reply, 200, page(s, t.operatorsTitle, html`<h1>${t.operatorsTitle}</h1><p><a href="/admin/sessions">${t.sessionsTitle}</a></p>${table}${add}`, pageOpts(req)));
  });

  app.post<{ Body: { name: string; role?: OperatorRole } }>('/admin/operators', { config: PERMISSION, schema: { body: addBody, response: htmlResponses } }, async (req, reply) =>
    formOf(req, reply, '/admin/operators', async () => {
      const { actor, t } = who(req);
      return credentialsPage(req, reply, await actions.add(actor, req.body.name, req.body.role ?? 'analyst'), t.addedTitle);
    }),
  );

  const operatorForm = <B>(what: string, body: object, fn: (req: FastifyRequest<{ Params: { name: string }; Body: B }>, reply: FastifyReply) => Promise<FastifyReply | string>) =>
    app.post<{ Params: { name: string }; Body: B }>(`/admin/operators/:name/${what}`, { config: PERMISSION, schema: { params: nameParams, body, response: htmlResponses } }, async (req, reply) =>
      formOf(req, reply, '/admin/operators', () => fn(req, reply)),
    );
  operatorForm('disable', csrfOnly, async (req) => {
    const { actor, t } = who(req);
    await actions.disable(actor, t, req.params.name);
    return '/admin/operators';
  });
  operatorForm('enable', csrfOnly, async (req) => {
    const { actor, t } = who(req);
    await actions.enable(actor, t, req.params.name);
    return '/admin/operators';
  });
  operatorForm('reset', csrfOnly, async (req, reply) => {
    const { actor, t } = who(req);
    return credentialsPage(req, reply, await actions.reset(actor, t, req.params.name), t.resetTitle);
  });
  operatorForm<{ role: OperatorRole }>('role', roleBody, async (req) => {
    const { actor, t } = who(req);
    await actions.role(actor, t, req.params.name, req.body.role);
    return '/admin/operators';
  });
  operatorForm('sessions/revoke', csrfOnly, async (req) => {
    const { actor, t } = who(req);
    await actions.revokeAll(actor, t, req.params.name);
    return '/admin/sessions';
  });

  app.get<{ Querystring: { operator?: string } }>('/admin/sessions', { config: PERMISSION, schema: { querystring: sessionsQuery, response: htmlResponses } }, async (req, reply) => {
    const { s, t, session } = who(req);
    const live = await actions.sessions(req.query.operator);
    const csrf = csrfField(req);
    const byOperator = new Map<string, (LiveSession & { tokenHash: string })[]>();
    for (const x of live) byOperator.set(x.operator, [...(byOperator.get(x.operator) ?? []), x]);
    const sections = [...byOperator.entries()]
      .sort(([a], [b]) => a.localeCompare(b))
      .map(
        ([name, list]) => html`<section class="operator-sessions" data-operator="${name}"><h2>${name}</h2>
<table class="sessions"><thead><tr><th>${t.created}</th><th>${t.lastSeen}</th><th>${t.expires}</th><th>${t.client}</th><th>${t.actions}</th></tr></thead><tbody>${list.map((x) => {
          const current = x.tokenHash === session.tokenHash;
          return html`<tr class="session${current ? ' current' : ''}" data-handle="${x.handle}"><td>${when(x.createdAt, '-')}</td><td>${when(x.lastSeenAt, '-')}</td><td>${when(x.expiresAt, '-')}</td><td>${x.client ?? '-'}</td>
<td>${current ? html`${t.thisSession} ` : ''}<form method="post" action="/admin/sessions/${x.handle}/revoke" class="inline" data-confirm="${t.confirmRevoke}">${csrf}<button type="submit">${t.revoke}</button></form></td></tr>`;
        })}</tbody></table>
<form method="post" action="/admin/operators/${encodeURIComponent(name)}/sessions/revoke" data-confirm="${t.confirmRevokeAll}">${csrf}<button type="submit">${t.revokeAll}</button></form></section>`,
      );
    const filter = html`<form method="get" action="/admin/sessions" class="filters"><label>${t.operator} <input name="operator" value="${req.query.operator ?? ''}" maxlength="64" size="12" placeholder="${t.allOperators}"></label> <button type="submit">${t.show}</button></form>`;
    return send(
      reply,
      200,
      page(s, t.sessionsTitle, html`<h1>${t.sessionsTitle}</h1><p><a href="/admin/operators">${t.backToOperators}</a></p>${filter}${sections.length ? sections : html`<p>${t.noSessions}</p>`}`, pageOpts(req)),
    );
  });

  app.post<{ Params: { handle: string } }>('/admin/sessions/:handle/revoke', { config: PERMISSION, schema: { params: handleParams, body: csrfOnly, response: htmlResponses } }, async (req, reply) =>
    formOf(req, reply, '/admin/sessions', async () => {
      const { actor, t } = who(req);
      await actions.revoke(actor, t, req.params.handle);
      return '/admin/sessions';
    }),
  );

  // --- API --------------------------------------------------------------------------------

  app.get('/api/admin/operators', { config: PERMISSION, schema: { querystring: noQuery, response: { 200: { type: 'object', properties: { operators: { type: 'array', items: operatorItem } } }, ...apiErrors } } }, async () => ({
    operators: await actions.operators(),
  }));

  app.post<{ Body: { name: string; role?: OperatorRole } }>('/api/admin/operators', { config: PERMISSION, schema: { body: addBody, response: credentialsResponse } }, async (req) => {
    const { actor } = who(req);
    return actions.add(actor, req.body.name, req.body.role ?? 'analyst');
  });

  const operatorApi = <B>(what: string, body: object, response: object, fn: (req: FastifyRequest<{ Params: { name: string }; Body: B }>) => Promise<unknown>) =>
    app.post<{ Params: { name: string }; Body: B }>(`/api/admin/operators/:name/${what}`, { config: PERMISSION, schema: { params: nameParams, body, response } }, async (req) => fn(req));
  operatorApi('disable', csrfOnly, changeResponse, (req) => {
    const { actor, t } = who(req);
    return actions.disable(actor, t, req.params.name);
  });
  operatorApi('enable', csrfOnly, changeResponse, (req) => {
    const { actor, t } = who(req);
    return actions.enable(actor, t, req.params.name);
  });
  operatorApi('reset', csrfOnly, credentialsResponse, (req) => {
    const { actor, t } = who(req);
    return actions.reset(actor, t, req.params.name);
  });
  operatorApi<{ role: OperatorRole }>('role', roleBody, changeResponse, (req) => {
    const { actor, t } = who(req);
    return actions.role(actor, t, req.params.name, req.body.role);
  });
  operatorApi('sessions/revoke', csrfOnly, changeResponse, async (req) => {
    const { actor, t } = who(req);
    const r = await actions.revokeAll(actor, t, req.params.name);
    return { ...r, changed: r.sessionsRevoked > 0 };
  });

  app.get<{ Querystring: { operator?: string } }>(
    '/api/admin/sessions',
    { config: PERMISSION, schema: { querystring: sessionsQuery, response: { 200: { type: 'object', properties: { sessions: { type: 'array', items: sessionItem } } }, ...apiErrors } } },
    async (req) => {
      const { session } = who(req);
      const live = await actions.sessions(req.query.operator);
      // The token hash stays here: the answer's schema has no field for it, and it is left out besides.
      return { sessions: live.map(({ tokenHash, ...x }) => ({ ...x, current: tokenHash === session.tokenHash })) };
    },
  );

  app.post<{ Params: { handle: string } }>(
    '/api/admin/sessions/:handle/revoke',
    {
      config: PERMISSION,
      schema: { params: handleParams, body: csrfOnly, response: { 200: { type: 'object', required: ['operator'], properties: { operator: { type: 'string' } } }, ...apiErrors } },
    },
    async (req) => {
      const { actor, t } = who(req);
      return actions.revoke(actor, t, req.params.handle);
    },
  );
};

export default fp(adminPlugin, { name: 'tiphub-admin', fastify: '5.x', dependencies: ['tiphub-caselog', 'tiphub-auth', 'tiphub-events'] });
