/**
 * Issue 11, items 4 and 10: an operator's own settings, on PostgreSQL and on PGlite, over real
 * HTTP. Choosing Arabic turns every page to <html lang="ar" dir="rtl"> (tips keep dir="auto"),
 * and the choice outlives the session (a new login through the pages); changing one's password
 * needs the current one and ends one's other sessions, not this one; no post without the CSRF
 * token or from another origin.
 */
import type { AddressInfo } from 'node:net';
import type { FastifyInstance } from 'fastify';
import { harness, type Harness } from '../helpers/harness';
import { BACKENDS } from '../helpers/env';
import { buildApp } from '../../src/dashboard/app';
import { ar, en } from '../../src/dashboard/i18n';
import { addOperator, changePassword, confirmTotpEnrolment, startTotpEnrolment, verifyPassword } from '../../src/operators/accounts';
import { createSession, type NewSession } from '../../src/operators/sessions';
import { totpCode } from '../../src/operators/totp';
import { listOperatorAudit } from '../../src/operators/audit';

jest.setTimeout(60_000);

const PASSWORD = 'correct horse battery staple';
const NEW_PASSWORD = 'a longer passphrase of my own';
const TIP = 'انقطاع الكهرباء في الحي الشرقي منذ ثلاثة أيام';

const esc = (s: string) => s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;').replace(/'/g, '&#39;');

describe.each(BACKENDS)('settings on %s', (backend) => {
  let h: Harness;
  let app: FastifyInstance;
  let base: string;
  let secret = '';
  /** The TOTP step of the last code used: each login needs a later one. */
  let step = -1;

  const nextCode = () => {
    step++;
    return totpCode(secret, Date.now() + step * 30_000);
  };

  async function get(url: string, token?: string): Promise<Response> {
    return fetch(base + url, { headers: token ? { cookie: `tiphub=${token}` } : {}, redirect: 'manual' });
  }

  async function post(url: string, form: Record<string, string>, o: { token?: string; cookies?: Record<string, string>; origin?: string } = {}): Promise<Response> {
    const cookies = { ...(o.cookies ?? {}), ...(o.token ? { tiphub: o.token } : {}) };
    return fetch(base + url, {
      method: 'POST',
      redirect: 'manual',
      headers: {
        'content-type': 'application/x-www-form-urlencoded',
        origin: o.origin ?? base,
        ...(Object.keys(cookies).length ? { cookie: Object.entries(cookies).map(([k, v]) => `${k}=${v}`).join('; ') } : {}),
      },
      body: new URLSearchParams(form).toString(),
    });
  }

  const cookieOf = (res: Response, name: string) =>
    res.headers
      .getSetCookie()
      .map((c) => c.split(';')[0]!)
      .find((c) => c.startsWith(`${name}=`))
      ?.slice(name.length + 1);
  const hiddenCsrf = (body: string) => /name="_csrf" value="([^"]+)"/.exec(body)?.[1] ?? '';

  /** Logs in through the pages (password, then a TOTP code); the session cookie's token. */
  async function logIn(name: string, password: string): Promise<string> {
    const form = await get('/login');
    const pre = cookieOf(form, 'tiphub_pre')!;
    const first = await post('/login', { name, password, _csrf: hiddenCsrf(await form.text()) }, { cookies: { tiphub_pre: pre } });
    expect(first.status).toBe(303);
    expect(first.headers.get('location')).toBe('/login/totp');
    const pending = cookieOf(first, 'tiphub_login')!;
    const totpPage = await fetch(`${base}/login/totp`, { headers: { cookie: `tiphub_login=${pending}` }, redirect: 'manual' });
    const done = await post('/login/totp', { code: nextCode(), _csrf: hiddenCsrf(await totpPage.text()) }, { cookies: { tiphub_login: pending } });
    expect(done.status).toBe(303);
    const token = cookieOf(done, 'tiphub');
    expect(token).toBeTruthy();
    return token!;
  }

  beforeAll(async () => {
    h = await harness(backend, { conversation: { enabled: false } });
    await h.sink(h.message({ id: 's1', from: 'addr-settings-0001', text: TIP, sentAt: '2026-06-10T05:00:00Z' }));
    h.startWorker();
    await h.drained();
    await h.stopWorker();
    const c = await addOperator(h.db, 'ana1', 'analyst');
    await changePassword(h.db, 'ana1', c.password, PASSWORD);
    const e = await startTotpEnrolment(h.db, 'ana1');
    secret = e.secret;
    expect(await confirmTotpEnrolment(h.db, 'ana1', totpCode(secret, Date.now() - 30_000))).toMatchObject({ ok: true });
    app = await buildApp({ db: h.db });
    await app.listen({ host: '127.0.0.1', port: 0 });
    base = `http://127.0.0.1:${(app.server.address() as AddressInfo).port}`;
  });

  afterAll(async () => {
    await app?.close();
    await h?.close();
  });

  const language = async () => (await h.db.query<{ language: string }>(`SELECT language FROM operators WHERE name = 'ana1'`)).rows[0]!.language;

  test('the settings page: both forms, each with the CSRF token; anonymous goes to the login', async () => {
    const s = await createSession(h.db, 'ana1');
    const res = await get('/settings', s.token);
    expect(res.status).toBe(200);
    const body = await res.text();
    expect(body).toContain('<html lang="en" dir="ltr">');
    expect(body).toContain('<form method="post" action="/settings/language"><input type="hidden" name="_csrf" value="' + s.csrf + '">');
    expect(body).toContain('<form method="post" action="/settings/password"><input type="hidden" name="_csrf" value="' + s.csrf + '">');
    expect(body).toContain('<option value="en" lang="en" selected>English</option><option value="ar" lang="ar">العربية</option>');
    expect(body).toContain('autocomplete="current-password"');
    const anon = await get('/settings');
    expect(anon.status).toBe(302);
    expect(anon.headers.get('location')).toBe('/login');
    expect((await post('/settings/language', { language: 'ar' })).status).toBe(302);
    expect(await language()).toBe('en');
  });

  test('a post without the CSRF token, with a wrong one, or from another origin is refused', async () => {
    const s = await createSession(h.db, 'ana1');
    const none = await post('/settings/language', { language: 'ar' }, { token: s.token });
    expect(none.status).toBe(403);
    expect(await none.text()).toContain(esc(en.csrfRefused));
    expect((await post('/settings/language', { language: 'ar', _csrf: 'x'.repeat(43) }, { token: s.token })).status).toBe(403);
    expect((await post('/settings/language', { language: 'ar', _csrf: s.csrf }, { token: s.token, origin: 'http://evil.example' })).status).toBe(403);
    expect(await language()).toBe('en');
    const pw = await post('/settings/password', { current: PASSWORD, password: NEW_PASSWORD, password2: NEW_PASSWORD }, { token: s.token });
    expect(pw.status).toBe(403);
    expect(await verifyPassword(h.db, 'ana1', PASSWORD)).toMatchObject({ ok: true });
    // A language the dashboard has no table for is refused by the schema.
    expect((await post('/settings/language', { language: 'fr', _csrf: s.csrf }, { token: s.token })).status).toBe(400);
    expect(await language()).toBe('en');
  });

  test('choosing Arabic: the pages turn right to left, tips keep dir="auto", and the choice outlives the session', async () => {
    const s = await createSession(h.db, 'ana1');
    const set = await post('/settings/language', { language: 'ar', _csrf: s.csrf }, { token: s.token });
    expect(set.status).toBe(303);
    expect(set.headers.get('location')).toBe('/settings?done=language');
    expect(await language()).toBe('ar');
    const saved = await (await get('/settings?done=language', s.token)).text();
    expect(saved).toContain('<html lang="ar" dir="rtl">');
    expect(saved).toContain(`<p class="notice" role="status">${esc(ar.languageSaved)}</p>`);
    expect(saved).toContain('<option value="ar" lang="ar" selected>العربية</option>');
    const list = await (await get('/', s.token)).text();
    expect(list).toMatch(/^<!doctype html>\n<html lang="ar" dir="rtl">/);
    expect(list).toContain(`<h1>${esc(ar.cases)}</h1>`);
    expect(list).toContain(`<th>${esc(ar.priority)}</th>`);
    expect(list).toContain(`<td dir="auto" class="first-words">${TIP}</td>`);
    expect(list).not.toContain(`<h1>${en.cases}</h1>`);
    // A new login through the pages: the session is new, the language the operator's.
    const token = await logIn('ana1', PASSWORD);
    expect(token).not.toBe(s.token);
    const again = await (await get('/', token)).text();
    expect(again).toContain('<html lang="ar" dir="rtl">');
    // A refusal speaks the operator's language too.
    const refused = await post('/settings/language', { language: 'en' }, { token });
    expect(refused.status).toBe(403);
    expect(await refused.text()).toContain(esc(ar.csrfRefused));
    // And back to English.
    const csrf = hiddenCsrf(again);
    expect((await post('/settings/language', { language: 'en', _csrf: csrf }, { token })).status).toBe(303);
    expect(await (await get('/', token)).text()).toContain('<html lang="en" dir="ltr">');
    // Each change is in the operators' audit, by the operator, with the language before.
    const audit = (await listOperatorAudit(h.db, { operator: 'ana1', limit: 100 })).filter((e) => e.action === 'operator.language');
    expect(audit.map((e) => e.data)).toEqual([
      { name: 'ana1', language: 'en', from: 'ar' },
      { name: 'ana1', language: 'ar', from: 'en' },
    ]);
  });

  test('the login page follows Accept-Language between English and Arabic', async () => {
    const page = async (accept?: string) => (await fetch(`${base}/login`, { headers: accept ? { 'accept-language': accept } : {} })).text();
    expect(await page('ar-IQ,ar;q=0.9,en;q=0.5')).toContain('<html lang="ar" dir="rtl">');
    expect(await page('ar-IQ,ar;q=0.9,en;q=0.5')).toContain(`<h1>${esc(ar.loginTitle)}</h1>`);
    expect(await page('fr-FR,en;q=0.8,ar;q=0.4')).toContain('<html lang="en" dir="ltr">');
    expect(await page('de')).toContain('<html lang="en" dir="ltr">');
    expect(await page()).toContain('<html lang="en" dir="ltr">');
  });

  test('changing the password needs the current one and ends the other sessions, not this one', async () => {
    const here: NewSession = await createSession(h.db, 'ana1');
    const other: NewSession = await createSession(h.db, 'ana1');
    const change = (form: Record<string, string>) => post('/settings/password', { _csrf: here.csrf, ...form }, { token: here.token });
    const wrong = await change({ current: 'not the password at all', password: NEW_PASSWORD, password2: NEW_PASSWORD });
    expect(wrong.status).toBe(401);
    expect(await wrong.text()).toContain(esc(en.passwordWrong));
    expect((await change({ current: PASSWORD, password: NEW_PASSWORD, password2: `${NEW_PASSWORD}!` })).status).toBe(400);
    const short = await change({ current: PASSWORD, password: 'too short', password2: 'too short' });
    expect(short.status).toBe(400);
    expect(await short.text()).toContain(esc(en.passwordTooShort));
    expect((await change({ current: PASSWORD, password: PASSWORD, password2: PASSWORD })).status).toBe(400);
    // None of these changed anything: the old password works, the other session lives.
    expect(await verifyPassword(h.db, 'ana1', PASSWORD)).toMatchObject({ ok: true });
    expect((await get('/', other.token)).status).toBe(200);

    const done = await change({ current: PASSWORD, password: NEW_PASSWORD, password2: NEW_PASSWORD });
    expect(done.status).toBe(303);
    expect(done.headers.get('location')).toBe('/settings?done=password');
    const after = await (await get('/settings?done=password', here.token)).text();
    expect(after).toContain(esc(en.passwordChanged));
    // The other session is refused at once, on the pages and in the API; this one goes on.
    const page = await get('/', other.token);
    expect(page.status).toBe(302);
    expect(page.headers.get('location')).toBe('/login');
    expect((await get('/api/cases', other.token)).status).toBe(401);
    expect((await get('/api/cases', here.token)).status).toBe(200);
    expect(await verifyPassword(h.db, 'ana1', PASSWORD)).toMatchObject({ ok: false, reason: 'invalid' });
    expect(await verifyPassword(h.db, 'ana1', NEW_PASSWORD)).toMatchObject({ ok: true });
    const { rows } = await h.db.query<{ data: { sessionsRevoked: number } }>(`SELECT data FROM operator_audit WHERE operator = 'ana1' AND action = 'operator.password' ORDER BY seq DESC LIMIT 1`);
    expect(rows[0]!.data.sessionsRevoked).toBeGreaterThanOrEqual(1);
    // The new password logs in through the pages.
    expect(await logIn('ana1', NEW_PASSWORD)).toBeTruthy();
  });
});
