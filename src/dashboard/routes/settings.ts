/**
 * An operator's own settings (GET/POST /settings, any signed-in operator): the interface language
 * (item 10: English or Arabic, right to left, in force from the next page) and a new password,
 * given the current one; a password change ends the operator's other sessions (changePassword).
 */
import type { FastifyPluginAsync, FastifyReply, FastifyRequest } from 'fastify';
import fp from 'fastify-plugin';
import { changePassword, setOperatorLanguage } from '../../operators/accounts';
import { PASSWORD_MAX_LENGTH, PASSWORD_MIN_LENGTH } from '../../operators/password';
import { html, page } from '../html';
import { INTERFACE_LANGUAGES, stringsFor, type Strings } from '../i18n';
import { pageOpts } from '../page-parts';
import { htmlResponses } from '../schemas';

const DONE = ['language', 'password'] as const;
type Done = (typeof DONE)[number];

const csrfText = { type: 'string', maxLength: 128 } as const;
const passwordText = { type: 'string', maxLength: 1024 } as const;

/** Why a new password is refused before anything is checked against the account, or null. */
export function newPasswordProblem(s: Strings, current: string, next: string, again: string): string | null {
  if (next !== again) return s.passwordsDiffer;
  if ([...next].length < PASSWORD_MIN_LENGTH) return s.passwordTooShort;
  if (next.length > PASSWORD_MAX_LENGTH) return s.passwordTooLong;
  if (next === current) return s.passwordSame;
  return null;
}

const settingsPlugin: FastifyPluginAsync = async (app) => {
  const db = app.caselog;

  function settingsPage(req: FastifyRequest, reply: FastifyReply, status: number, notice: { done?: Done; error?: string } = {}) {
    const session = req.operatorSession!;
    const s = stringsFor(session.operator.language);
    const csrf = html`<input type="hidden" name="_csrf" value="${session.csrf}">`;
    const said = notice.error
      ? html`<p class="error" role="alert">${notice.error}</p>`
      : notice.done
        ? html`<p class="notice" role="status">${notice.done === 'language' ? s.languageSaved : s.passwordChanged}</p>`
        : html``;
    // Each language is named in itself, and marked so (a screen reader reads it in that language).
    const options = INTERFACE_LANGUAGES.map(
      (l) => html`<option value="${l}" lang="${l}"${l === stringsFor(session.operator.language).lang ? html` selected` : ''}>${stringsFor(l).languageName}</option>`,
    );
    const body = html`<h1>${s.settingsTitle}</h1>${said}
<section class="settings"><h2>${s.interfaceLanguage}</h2>
<form method="post" action="/settings/language">${csrf}<p><label>${s.interfaceLanguage} <select name="language">${options}</select></label> <button type="submit">${s.save}</button></p></form></section>
<section class="settings"><h2>${s.changePassword}</h2>
<form method="post" action="/settings/password">${csrf}
<p><label>${s.currentPassword}<br><input name="current" type="password" autocomplete="current-password" required maxlength="1024"></label></p>
<p><label>${s.newPassword}<br><input name="password" type="password" autocomplete="new-password" required minlength="${PASSWORD_MIN_LENGTH}" maxlength="${PASSWORD_MAX_LENGTH}"></label></p>
<p><label>${s.repeatPassword}<br><input name="password2" type="password" autocomplete="new-password" required minlength="${PASSWORD_MIN_LENGTH}" maxlength="${PASSWORD_MAX_LENGTH}"></label></p>
<p><button type="submit">${s.changePassword}</button></p></form></section>`;
    return reply.code(status).type('text/html; charset=utf-8').send(page(s, s.settingsTitle, body, pageOpts(req)));
  }

  app.get<{ Querystring: { done?: Done } }>(
    '/settings',
    {
      config: { permission: 'read' },
      schema: { querystring: { type: 'object', properties: { done: { type: 'string', enum: [...DONE] } }, additionalProperties: false }, response: htmlResponses },
    },
    async (req, reply) => settingsPage(req, reply, 200, req.query.done ? { done: req.query.done } : {}),
  );

  app.post<{ Body: { language: string; _csrf?: string } }>(
    '/settings/language',
    {
      config: { permission: 'read' },
      schema: {
        body: { type: 'object', required: ['language'], properties: { language: { type: 'string', enum: [...INTERFACE_LANGUAGES] }, _csrf: csrfText } },
        response: htmlResponses,
      },
    },
    async (req, reply) => {
      await setOperatorLanguage(db, req.operatorSession!.operator.name, req.body.language);
      return reply.redirect('/settings?done=language', 303);
    },
  );

  app.post<{ Body: { current: string; password: string; password2: string; _csrf?: string } }>(
    '/settings/password',
    {
      config: { permission: 'read' },
      schema: {
        body: {
          type: 'object',
          required: ['current', 'password', 'password2'],
          properties: { current: passwordText, password: passwordText, password2: passwordText, _csrf: csrfText },
        },
        response: htmlResponses,
      },
    },
    async (req, reply) => {
      const session = req.operatorSession!;
      const s = stringsFor(session.operator.language);
      const { current, password, password2 } = req.body;
      const problem = newPasswordProblem(s, current, password, password2);
      if (problem) return settingsPage(req, reply, 400, { error: problem });
      // A wrong current password counts against the account like a failed login (and can lock it).
      const r = await changePassword(db, session.operator.name, current, password, { keepSession: session.tokenHash, client: req.ip });
      if (!r.ok) {
        const error = r.reason === 'locked' ? `${s.loginLocked} ${r.lockedUntil}.` : r.reason === 'disabled' ? s.loginDisabled : s.passwordWrong;
        return settingsPage(req, reply, r.reason === 'locked' ? 423 : 401, { error });
      }
      return reply.redirect('/settings?done=password', 303);
    },
  );
};

export default fp(settingsPlugin, { name: 'tiphub-settings', fastify: '5.x', dependencies: ['tiphub-caselog', 'tiphub-auth'] });
