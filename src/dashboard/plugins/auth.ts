/**
 * Who is asking, and may they. Every route declares `config.permission` ('public' for the login
 * pages and static files; a route that declares nothing needs 'read', so forgetting fails closed).
 * Before validation, for every request:
 *  - a state-changing method must come from our own origin (Origin, else Referer, against Host);
 *  - a protected route needs a live server-side session (src/operators/sessions.ts) named by the
 *    httpOnly, SameSite=Strict cookie: anonymous pages redirect to /login, the API answers 401;
 *  - a state change on a session carries its CSRF token (header x-csrf-token or form field _csrf);
 *  - the operator's role has the route's permission (403 otherwise).
 */
import fp from 'fastify-plugin';
import type { FastifyPluginAsync, FastifyReply, FastifyRequest } from 'fastify';
import { csrfMatches, sessionOf, SESSION_IDLE_MS, type ActiveSession } from '../../operators/sessions';
import { can, type Permission } from '../roles';
import { stringsFor } from '../i18n';
import { html, page } from '../html';
import { clearCookie, cookiesOf, setCookie } from '../cookies';

declare module 'fastify' {
  interface FastifyContextConfig {
    permission?: Permission | 'public';
  }
  interface FastifyRequest {
    operatorSession: ActiveSession | null;
    /** The request's cookies (parsed once, on first use). */
    readonly cookies: Record<string, string>;
  }
  interface FastifyInstance {
    dashboardAuth: DashboardAuth;
  }
}

export interface AuthOptions {
  /** Secure cookies (and the __Host- prefix): set when the dashboard is served over TLS. */
  readonly secureCookies?: boolean;
  /** Origins besides the request's own Host that may post (a reverse proxy's public origin). */
  readonly trustedOrigins?: readonly string[];
  readonly idleMs?: number;
}

export interface DashboardAuth {
  readonly sessionCookie: string;
  readonly secureCookies: boolean;
  readonly idleMs: number;
  setSessionCookie(reply: FastifyReply, token: string): void;
  clearSessionCookie(reply: FastifyReply): void;
}

const SAFE_METHODS = new Set(['GET', 'HEAD', 'OPTIONS']);

export const isApi = (req: FastifyRequest) => req.url === '/api' || req.url.startsWith('/api/');

/** Whether a state-changing request comes from a page of ours. */
export function sameOrigin(req: FastifyRequest, trusted: readonly string[]): boolean {
  const given = req.headers.origin ?? req.headers.referer;
  const host = req.headers.host;
  // Our pages send no referrer (Referrer-Policy: no-referrer), so a browser posts their forms
  // with `Origin: null`. It also says where the request came from in Sec-Fetch-Site, a header no
  // page can set: same-origin there is as good as our own origin (the CSRF token is still needed).
  if ((given === undefined || given === 'null') && req.headers['sec-fetch-site'] === 'same-origin') return true;
  if (typeof given !== 'string' || !given || given === 'null' || !host) return false;
  let o: URL;
  try {
    o = new URL(given);
  } catch {
    return false;
  }
  if (o.protocol !== 'http:' && o.protocol !== 'https:') return false;
  if (trusted.includes(o.origin)) return true;
  try {
    return new URL(`${o.protocol}//${host}`).host === o.host;
  } catch {
    return false;
  }
}

/** Where a refused form goes back to: its case page, else the list. */
function backOf(req: FastifyRequest): string {
  const m = /^\/cases\/([A-Za-z0-9-]{1,20})(?:\/|$)/.exec(req.url);
  return m ? `/cases/${m[1]}` : '/';
}

/** A refusal in the form the client reads: JSON under /api, a short page elsewhere. */
export function refuse(req: FastifyRequest, reply: FastifyReply, status: number, error: string, message: string): FastifyReply {
  if (isApi(req)) return reply.code(status).type('application/json; charset=utf-8').send({ error, message });
  const s = stringsFor(req.operatorSession?.operator.language);
  return reply
    .code(status)
    .type('text/html; charset=utf-8')
    .send(page(s, s.error, html`<p class="error" role="alert">${message}</p><p><a href="${backOf(req)}">${s.back}</a></p>`, { operator: req.operatorSession?.operator.name, csrf: req.operatorSession?.csrf, admin: req.operatorSession?.operator.role === 'admin' }));
}

const authPlugin: FastifyPluginAsync<AuthOptions> = async (app, opts) => {
  const secure = opts.secureCookies === true;
  const auth: DashboardAuth = {
    sessionCookie: secure ? '__Host-tiphub' : 'tiphub',
    secureCookies: secure,
    idleMs: opts.idleMs ?? SESSION_IDLE_MS,
    setSessionCookie(reply, token) {
      setCookie(reply, this.sessionCookie, token, { secure });
    },
    clearSessionCookie(reply) {
      clearCookie(reply, this.sessionCookie, { secure });
    },
  };
  app.decorate('dashboardAuth', auth);
  app.decorateRequest('operatorSession', null);
  app.decorateRequest('cookies', {
    getter(this: FastifyRequest & { _cookies?: Record<string, string> }) {
      return (this._cookies ??= cookiesOf(this));
    },
  });
  const trusted = opts.trustedOrigins ?? [];

  app.addHook('preValidation', async (req, reply) => {
    const s = stringsFor(null);
    const unsafe = !SAFE_METHODS.has(req.method);
    if (unsafe && !sameOrigin(req, trusted)) return refuse(req, reply, 403, 'TIPHUB_DASHBOARD_ORIGIN', s.csrfRefused);
    const permission = req.routeOptions.config.permission ?? 'read';
    if (permission === 'public') return;
    const token = req.cookies[auth.sessionCookie];
    // The live list's own fetches say so (x-tiphub-live): they read, but only a person's request keeps the session alive.
    const background = !unsafe && req.headers['x-tiphub-live'] === '1';
    const session = token ? await sessionOf(app.caselog, token, { idleMs: auth.idleMs, touch: !background }) : null;
    if (!session) {
      if (token) auth.clearSessionCookie(reply);
      if (isApi(req)) return refuse(req, reply, 401, 'TIPHUB_DASHBOARD_LOGIN', 'log in first');
      return reply.redirect('/login', 302);
    }
    req.operatorSession = session;
    if (unsafe) {
      const body = req.body as Record<string, unknown> | undefined;
      const given = req.headers['x-csrf-token'] ?? (body && typeof body === 'object' ? body._csrf : undefined);
      if (!csrfMatches(session, given)) return refuse(req, reply, 403, 'TIPHUB_DASHBOARD_CSRF', stringsFor(session.operator.language).csrfRefused);
    }
    if (!can(session.operator.role, permission)) return refuse(req, reply, 403, 'TIPHUB_DASHBOARD_FORBIDDEN', stringsFor(session.operator.language).forbidden);
  });
};

export default fp(authPlugin, { name: 'tiphub-auth', fastify: '5.x', dependencies: ['tiphub-caselog'] });
