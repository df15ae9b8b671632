/**
 * Logging in: the password (throttled per account by verifyPassword), then the second factor; at a
 * first login (or after a reset) a new password and TOTP enrolment, with the QR code and the text
 * secret. Before any session exists, forms are protected by a double-submit token (a random cookie
 * echoed in the form) besides the origin check every POST gets.
 */
import { randomBytes, timingSafeEqual } from 'node:crypto';
import type { FastifyPluginAsync, FastifyReply, FastifyRequest } from 'fastify';
import fp from 'fastify-plugin';
import { changePassword, confirmTotpEnrolment, startTotpEnrolment, verifyPassword, verifyTotpCode, type LoginCheck } from '../../operators/accounts';
import { checkNewPassword } from '../../operators/password';
import { createSession, revokeSession } from '../../operators/sessions';
import { enrolmentQr } from '../../operators/totp';
import { isTiphubError } from '../../errors';
import { html, page, raw, type Raw } from '../html';
import { languageFromAcceptLanguage, stringsFor, type Strings } from '../i18n';
import { PendingLogins, type PendingLogin } from '../pending-logins';
import { ClientThrottle } from '../client-throttle';
import { htmlResponses, noQuery } from '../schemas';
import { clearCookie, setCookie } from '../cookies';

export interface LoginOptions {
  /** Whether every operator must have a second factor (dashboard.requireTotp, default true). */
  readonly requireTotp?: boolean;
  /** Failed logins from one client address within 15 minutes before it must wait (default 20). */
  readonly clientFailures?: number;
  /** A session's absolute lifetime (default that of src/operators/sessions.ts). */
  readonly absoluteMs?: number;
}

const PRE_COOKIE = 'tiphub_pre';
const PENDING_COOKIE = 'tiphub_login';

const sameToken = (a: unknown, b: unknown) =>
  typeof a === 'string' && typeof b === 'string' && a.length === b.length && a.length > 0 && timingSafeEqual(Buffer.from(a), Buffer.from(b));

const csrfField = (token: string) => html`<input type="hidden" name="_csrf" value="${token}">`;

function form(action: string, token: string, fields: Raw, button: string): Raw {
  return html`<form method="post" action="${action}">${csrfField(token)}${fields}<p><button type="submit">${button}</button></p></form>`;
}

const errorLine = (e: string | null | undefined) => (e ? html`<p class="error" role="alert">${e}</p>` : html``);

function refusal(s: Strings, r: Exclude<LoginCheck, { ok: true }>): string {
  if (r.reason === 'locked') return `${s.loginLocked} ${r.lockedUntil}.`;
  if (r.reason === 'disabled') return s.loginDisabled;
  return s.loginInvalid;
}

const loginPlugin: FastifyPluginAsync<LoginOptions> = async (app, opts) => {
  const requireTotp = opts.requireTotp ?? true;
  const pending = new PendingLogins();
  const throttle = new ClientThrottle(opts.clientFailures);
  /** Counts a refused step against the client's address. */
  const failed = (req: FastifyRequest) => throttle.fail(req.ip);
  const throttled = (req: FastifyRequest, reply: FastifyReply) => (throttle.allowed(req.ip) ? null : loginPage(reply, req, 429, sOf(req).tooManyAttempts));
  const auth = app.dashboardAuth;
  const cookieOpts = { secure: auth.secureCookies };
  /** Before anyone is signed in, the page speaks the language the browser asks for (en or ar). */
  const sOf = (req: FastifyRequest) => stringsFor(languageFromAcceptLanguage(req.headers['accept-language']));
  const pub = { permission: 'public' as const };

  const sendHtml = (reply: FastifyReply, status: number, body: string) => reply.code(status).type('text/html; charset=utf-8').send(body);

  function loginPage(reply: FastifyReply, req: FastifyRequest, status: number, error?: string) {
    const s = sOf(req);
    reply.header('vary', 'accept-language');
    let pre = req.cookies[PRE_COOKIE];
    if (!pre || !/^[A-Za-z0-9_-]{43}$/.test(pre)) {
      pre = randomBytes(32).toString('base64url');
      setCookie(reply, PRE_COOKIE, pre, cookieOpts);
    }
    const fields = html`<p><label>${s.name}<br><input name="name" autocomplete="username" required maxlength="64" autofocus></label></p>
<p><label>${s.password}<br><input name="password" type="password" autocomplete="current-password" required maxlength="1024"></label></p>`;
    return sendHtml(reply, status, page(s, s.loginTitle, html`<h1>${s.loginTitle}</h1>${errorLine(error)}${form('/login', pre, fields, s.logIn)}`));
  }

  async function finish(req: FastifyRequest, reply: FastifyReply, p: PendingLogin) {
    pending.drop(req.cookies[PENDING_COOKIE]);
    clearCookie(reply, PENDING_COOKIE, cookieOpts);
    const session = await createSession(app.caselog, p.name, { client: req.ip, ...(opts.absoluteMs ? { absoluteMs: opts.absoluteMs } : {}) });
    auth.setSessionCookie(reply, session.token);
    return reply.redirect('/', 303);
  }

  function pendingOf(req: FastifyRequest): PendingLogin | null {
    return pending.get(req.cookies[PENDING_COOKIE]);
  }

  function abandon(req: FastifyRequest, reply: FastifyReply) {
    pending.drop(req.cookies[PENDING_COOKIE]);
    clearCookie(reply, PENDING_COOKIE, cookieOpts);
  }

  app.get('/login', { config: pub, schema: { querystring: noQuery, response: htmlResponses } }, async (req, reply) => loginPage(reply, req, 200));

  app.post<{ Body: { name: string; password: string; _csrf: string } }>(
    '/login',
    {
      config: pub,
      schema: {
        body: {
          type: 'object',
          required: ['name', 'password', '_csrf'],
          properties: { name: { type: 'string', maxLength: 64 }, password: { type: 'string', maxLength: 1024 }, _csrf: { type: 'string', maxLength: 128 } },
        },
        response: htmlResponses,
      },
    },
    async (req, reply) => {
      if (!sameToken(req.body._csrf, req.cookies[PRE_COOKIE])) return loginPage(reply, req, 403, sOf(req).csrfRefused);
      const wait = throttled(req, reply);
      if (wait) return wait;
      const r = await verifyPassword(app.caselog, req.body.name, req.body.password, { client: req.ip });
      if (!r.ok) failed(req);
      if (!r.ok) return loginPage(reply, req, r.reason === 'locked' ? 423 : 401, refusal(sOf(req), r));
      const o = r.operator;
      abandon(req, reply);
      const enrolTotp = !o.totpEnrolled && requireTotp;
      const { token, login } = pending.create({
        name: o.name,
        language: o.language,
        needPassword: o.mustChangePassword,
        currentPassword: o.mustChangePassword ? req.body.password : null,
        needTotp: o.totpEnrolled || enrolTotp,
        enrolTotp,
      });
      if (!login.needPassword && !login.needTotp) return finish(req, reply, login);
      setCookie(reply, PENDING_COOKIE, token, cookieOpts);
      return reply.redirect(login.needPassword || login.enrolTotp ? '/enrol' : '/login/totp', 303);
    },
  );

  const totpPage = (reply: FastifyReply, p: PendingLogin, status: number, error?: string) => {
    const st = stringsFor(p.language);
    const fields = html`<p><label>${st.totpCode}<br><input name="code" inputmode="numeric" autocomplete="one-time-code" pattern="[0-9 ]{6,8}" required maxlength="8" autofocus></label></p>`;
    return sendHtml(reply, status, page(st, st.totpTitle, html`<h1>${st.totpTitle}</h1>${errorLine(error)}${form('/login/totp', p.csrf, fields, st.verify)}`));
  };

  app.get('/login/totp', { config: pub, schema: { querystring: noQuery, response: htmlResponses } }, async (req, reply) => {
    const p = pendingOf(req);
    if (!p || p.enrolTotp || p.needPassword || !p.needTotp) return reply.redirect('/login', 303);
    return totpPage(reply, p, 200);
  });

  app.post<{ Body: { code: string; _csrf: string } }>(
    '/login/totp',
    {
      config: pub,
      schema: {
        body: { type: 'object', required: ['code', '_csrf'], properties: { code: { type: 'string', maxLength: 16 }, _csrf: { type: 'string', maxLength: 128 } } },
        response: htmlResponses,
      },
    },
    async (req, reply) => {
      const p = pendingOf(req);
      if (!p || p.enrolTotp || p.needPassword || !p.needTotp) return loginPage(reply, req, 401, sOf(req).loginExpired);
      if (!sameToken(req.body._csrf, p.csrf)) return totpPage(reply, p, 403, stringsFor(p.language).csrfRefused);
      const wait = throttled(req, reply);
      if (wait) return wait;
      const r = await verifyTotpCode(app.caselog, p.name, req.body.code, { client: req.ip });
      if (!r.ok) {
        failed(req);
        if (r.reason !== 'invalid') {
          abandon(req, reply);
          return loginPage(reply, req, r.reason === 'locked' ? 423 : 401, refusal(sOf(req), r));
        }
        return totpPage(reply, p, 401, stringsFor(p.language).codeInvalid);
      }
      return finish(req, reply, p);
    },
  );

  async function enrolPage(reply: FastifyReply, p: PendingLogin, status: number, error?: string) {
    const st = stringsFor(p.language);
    if (p.enrolTotp && !p.totp) p.totp = await startTotpEnrolment(app.caselog, p.name);
    const password = p.needPassword
      ? html`<p><label>${st.newPassword}<br><input name="password" type="password" autocomplete="new-password" required minlength="12" maxlength="1024"></label></p>
<p><label>${st.repeatPassword}<br><input name="password2" type="password" autocomplete="new-password" required minlength="12" maxlength="1024"></label></p>`
      : html``;
    // The QR code is SVG drawn by the qrcode package from our own otpauth URI (no tip in it).
    const totp = p.enrolTotp && p.totp
      ? html`<p>${st.enrolScan}</p><div class="qr">${raw(await enrolmentQr(p.totp.uri))}</div><p>${st.enrolSecret}: <code>${p.totp.secret.replace(/(.{4})/g, '$1 ').trim()}</code></p>
<p><label>${st.totpCode}<br><input name="code" inputmode="numeric" autocomplete="one-time-code" required maxlength="8"></label></p>`
      : html``;
    return sendHtml(reply, status, page(st, st.enrolTitle, html`<h1>${st.enrolTitle}</h1><p>${st.enrolIntro}</p>${errorLine(error)}${form('/enrol', p.csrf, html`${password}${totp}`, st.finish)}`));
  }

  app.get('/enrol', { config: pub, schema: { querystring: noQuery, response: htmlResponses } }, async (req, reply) => {
    const p = pendingOf(req);
    if (!p || (!p.needPassword && !p.enrolTotp)) return reply.redirect('/login', 303);
    return enrolPage(reply, p, 200);
  });

  app.post<{ Body: { password?: string; password2?: string; code?: string; _csrf: string } }>(
    '/enrol',
    {
      config: pub,
      schema: {
        body: {
          type: 'object',
          required: ['_csrf'],
          properties: {
            password: { type: 'string', maxLength: 1024 },
            password2: { type: 'string', maxLength: 1024 },
            code: { type: 'string', maxLength: 16 },
            _csrf: { type: 'string', maxLength: 128 },
          },
        },
        response: htmlResponses,
      },
    },
    async (req, reply) => {
      const p = pendingOf(req);
      if (!p || (!p.needPassword && !p.enrolTotp)) return loginPage(reply, req, 401, sOf(req).loginExpired);
      const st = stringsFor(p.language);
      if (!sameToken(req.body._csrf, p.csrf)) return enrolPage(reply, p, 403, st.csrfRefused);
      const next = req.body.password ?? '';
      if (p.needPassword) {
        if (next !== (req.body.password2 ?? '')) return enrolPage(reply, p, 400, st.passwordsDiffer);
        try {
          checkNewPassword(next);
          if (next === p.currentPassword) throw new Error('same');
        } catch (err) {
          return enrolPage(reply, p, 400, isTiphubError(err) ? err.message : st.loginInvalid);
        }
      }
      if (p.enrolTotp) {
        const wait = throttled(req, reply);
        if (wait) return wait;
        const r = await confirmTotpEnrolment(app.caselog, p.name, req.body.code ?? '', { client: req.ip });
        if (!r.ok) {
          failed(req);
          if (r.reason !== 'invalid') {
            abandon(req, reply);
            return loginPage(reply, req, r.reason === 'locked' ? 423 : 401, refusal(sOf(req), r));
          }
          return enrolPage(reply, p, 401, st.codeInvalid);
        }
        p.enrolTotp = false;
        p.needTotp = false;
      }
      if (p.needPassword) {
        const r = await changePassword(app.caselog, p.name, p.currentPassword ?? '', next, { client: req.ip });
        if (!r.ok) {
          abandon(req, reply);
          return loginPage(reply, req, r.reason === 'locked' ? 423 : 401, refusal(sOf(req), r));
        }
        p.needPassword = false;
        p.currentPassword = null;
      }
      if (p.needTotp) return reply.redirect('/login/totp', 303);
      return finish(req, reply, p);
    },
  );

  app.post('/logout', { config: { permission: 'read' }, schema: { body: { type: 'object', properties: { _csrf: { type: 'string', maxLength: 128 } } }, response: htmlResponses } }, async (req, reply) => {
    const session = req.operatorSession!;
    await revokeSession(app.caselog, session.tokenHash, session.operator.name);
    app.endLiveStreams(session.tokenHash);
    auth.clearSessionCookie(reply);
    return reply.redirect('/login', 303);
  });
};

export default fp(loginPlugin, { name: 'tiphub-login', fastify: '5.x', dependencies: ['tiphub-caselog', 'tiphub-auth', 'tiphub-events'] });
