/**
 * Issue 11, item 4: the admins' pages and API for operators and sessions, over real HTTP on
 * 127.0.0.1, on PostgreSQL and on PGlite: who may reach them, CSRF, adding an operator (whose
 * one-time password leads to the first-login page), disabling, resetting, changing a role, the
 * guards on one's own account and the last admin, ending sessions, and the audit rows each writes.
 */
import type { AddressInfo } from 'node:net';
import type { FastifyInstance } from 'fastify';
import { buildApp } from '../../src/dashboard/app';
import { openCaseLogAccess, type CaseLogAccess } from '../../app/hub/access';
import type { Db } from '../../src/caselog/db';
import { addOperator, changePassword, confirmTotpEnrolment, disableOperator, setOperatorRole, startTotpEnrolment, type OperatorRole } from '../../src/operators/accounts';
import { listOperatorAudit, verifyOperatorAudit } from '../../src/operators/audit';
import { createSession } from '../../src/operators/sessions';
import { totpCode } from '../../src/operators/totp';
import { adminAr, adminEn } from '../../src/dashboard/i18n/admin';
import { BACKENDS, capturingLogger, setup, type Backend, type TestSetup } from '../helpers/env';

const PASSWORD = 'correct horse battery staple';

interface Who {
  name: string;
  token: string;
  csrf: string;
  tokenHash: string;
}

interface Res {
  status: number;
  location: string | null;
  body: string;
  cookies: Record<string, string>;
  json<T = Record<string, unknown>>(): T;
}

describe.each(BACKENDS)('admin pages on %s', (backend: Backend) => {
  let s: TestSetup;
  let access: CaseLogAccess;
  let db: Db;
  let app: FastifyInstance;
  let base: string;
  const who = {} as Record<'adm1' | 'adm2' | 'sup1' | 'ana1', Who>;

  async function ready(name: string, role: OperatorRole): Promise<Who> {
    const c = await addOperator(db, name, role);
    await changePassword(db, name, c.password, PASSWORD);
    const e = await startTotpEnrolment(db, name);
    expect(await confirmTotpEnrolment(db, name, totpCode(e.secret))).toMatchObject({ ok: true });
    return session(name);
  }

  async function session(name: string): Promise<Who> {
    const x = await createSession(db, name, { client: '127.0.0.9' });
    return { name, token: x.token, csrf: x.csrf, tokenHash: x.tokenHash };
  }

  type Req = { method?: 'GET' | 'POST'; url: string; as?: Who | null; csrf?: string | null; origin?: string; json?: unknown; form?: Record<string, string>; cookies?: Record<string, string> };

  async function call(r: Req): Promise<Res> {
    const headers: Record<string, string> = {};
    const cookies = { ...(r.cookies ?? {}), ...(r.as ? { tiphub: r.as.token } : {}) };
    if (Object.keys(cookies).length) headers.cookie = Object.entries(cookies).map(([k, v]) => `${k}=${v}`).join('; ');
    const method = r.method ?? 'GET';
    let body: string | undefined;
    if (method === 'POST') {
      headers.origin = r.origin ?? base;
      const csrf = r.csrf === undefined ? r.as?.csrf : r.csrf;
      if (r.form) {
        headers['content-type'] = 'application/x-www-form-urlencoded';
        body = new URLSearchParams({ ...r.form, ...(csrf ? { _csrf: csrf } : {}) }).toString();
      } else {
        headers['content-type'] = 'application/json';
        if (csrf) headers['x-csrf-token'] = csrf;
        body = JSON.stringify(r.json ?? {});
      }
    }
    const res = await fetch(base + r.url, { method, headers, redirect: 'manual', ...(body !== undefined ? { body } : {}) });
    const text = await res.text();
    const set: Record<string, string> = {};
    for (const line of res.headers.getSetCookie()) {
      const [pair] = line.split(';');
      const eq = pair!.indexOf('=');
      set[pair!.slice(0, eq)] = pair!.slice(eq + 1);
    }
    return { status: res.status, location: res.headers.get('location'), body: text, cookies: set, json: <T>() => JSON.parse(text) as T };
  }

  const audit = async (action: string) => (await listOperatorAudit(db, { action })).map((e) => ({ actor: e.operator, ...e.data }));
  const oneTimePassword = (body: string) => /<code class="one-time" id="one-time-password">([^<]+)<\/code>/.exec(body)?.[1] ?? '';
  const operatorRow = async (name: string) =>
    (await call({ url: '/api/admin/operators', as: who.adm1 })).json<{ operators: Record<string, unknown>[] }>().operators.find((o) => o.name === name);

  /** The first step of the login page, as a browser takes it; where it leads and its cookies. */
  async function passwordLogin(name: string, password: string): Promise<{ res: Res; cookies: Record<string, string> }> {
    const form = await call({ url: '/login' });
    const pre = form.cookies.tiphub_pre!;
    const csrf = /name="_csrf" value="([^"]+)"/.exec(form.body)![1]!;
    const res = await call({ method: 'POST', url: '/login', cookies: { tiphub_pre: pre }, csrf: null, form: { name, password, _csrf: csrf } });
    return { res, cookies: { tiphub_pre: pre, ...res.cookies } };
  }

  beforeAll(async () => {
    s = await setup(backend);
    const { log } = capturingLogger('warn');
    access = await openCaseLogAccess(s.cfg, log, { role: 'test' });
    db = access.local!.db;
    who.adm1 = await ready('adm1', 'admin');
    who.adm2 = await ready('adm2', 'admin');
    who.sup1 = await ready('sup1', 'supervisor');
    who.ana1 = await ready('ana1', 'analyst');
    app = await buildApp({ db, log });
    await app.listen({ host: '127.0.0.1', port: 0 });
    base = `http://127.0.0.1:${(app.server.address() as AddressInfo).port}`;
  });

  afterAll(async () => {
    await app?.close();
    await access?.close();
    await s?.cleanup();
  });

  test('every admin route: anonymous is sent to log in, analysts and supervisors are refused, nothing changes', async () => {
    const handle = (await call({ url: '/api/admin/sessions?operator=ana1', as: who.adm1 })).json<{ sessions: { handle: string }[] }>().sessions[0]!.handle;
    const routes: { req: Req; page: boolean }[] = [
      { req: { url: '/admin/operators' }, page: true },
      { req: { url: '/admin/sessions' }, page: true },
      { req: { url: '/admin/sessions?operator=ana1' }, page: true },
      { req: { method: 'POST', url: '/admin/operators', form: { name: 'intruder', role: 'admin' } }, page: true },
      { req: { method: 'POST', url: '/admin/operators/adm2/disable', form: {} }, page: true },
      { req: { method: 'POST', url: '/admin/operators/adm2/enable', form: {} }, page: true },
      { req: { method: 'POST', url: '/admin/operators/adm2/reset', form: {} }, page: true },
      { req: { method: 'POST', url: '/admin/operators/ana1/role', form: { role: 'admin' } }, page: true },
      { req: { method: 'POST', url: '/admin/operators/adm2/sessions/revoke', form: {} }, page: true },
      { req: { method: 'POST', url: `/admin/sessions/${handle}/revoke`, form: {} }, page: true },
      { req: { url: '/api/admin/operators' }, page: false },
      { req: { url: '/api/admin/sessions' }, page: false },
      { req: { method: 'POST', url: '/api/admin/operators', json: { name: 'intruder', role: 'admin' } }, page: false },
      { req: { method: 'POST', url: '/api/admin/operators/adm2/disable' }, page: false },
      { req: { method: 'POST', url: '/api/admin/operators/adm2/enable' }, page: false },
      { req: { method: 'POST', url: '/api/admin/operators/adm2/reset' }, page: false },
      { req: { method: 'POST', url: '/api/admin/operators/ana1/role', json: { role: 'admin' } }, page: false },
      { req: { method: 'POST', url: '/api/admin/operators/adm2/sessions/revoke' }, page: false },
      { req: { method: 'POST', url: `/api/admin/sessions/${handle}/revoke` }, page: false },
    ];
    const auditBefore = (await listOperatorAudit(db, { limit: 1000 })).length;
    const got: string[] = [];
    const want: string[] = [];
    for (const { req, page } of routes) {
      const anon = await call({ ...req, as: null });
      got.push(`${req.method ?? 'GET'} ${req.url}: ${anon.status} ${anon.location ?? ''} ${(await call({ ...req, as: who.ana1 })).status} ${(await call({ ...req, as: who.sup1 })).status}`);
      want.push(`${req.method ?? 'GET'} ${req.url}: ${page ? '302 /login' : '401 '} 403 403`);
    }
    expect(got).toEqual(want);
    // The nav shows the admin links to admins only, and the admin's GETs answer.
    expect((await call({ url: '/', as: who.ana1 })).body).not.toContain('href="/admin/operators"');
    for (const url of ['/admin/operators', '/admin/sessions', '/api/admin/operators', '/api/admin/sessions']) expect((await call({ url, as: who.adm1 })).status).toBe(200);
    expect((await call({ url: '/admin/operators', as: who.adm1 })).body).toContain('href="/admin/operators"');
    // Nothing was written: no account, role or session changed, no audit row.
    expect((await listOperatorAudit(db, { limit: 1000 })).length).toBe(auditBefore);
    expect(await operatorRow('intruder')).toBeUndefined();
    expect(await operatorRow('ana1')).toMatchObject({ role: 'analyst', enabled: true, liveSessions: 1 });
    expect(await operatorRow('adm2')).toMatchObject({ role: 'admin', enabled: true, totpEnrolled: true, liveSessions: 1 });
  });

  test('a state change without the CSRF token, with another session’s, or from another origin is refused', async () => {
    const tries: Req[] = [
      { method: 'POST', url: '/admin/operators', as: who.adm1, csrf: null, form: { name: 'csrf1', role: 'analyst' } },
      { method: 'POST', url: '/admin/operators', as: who.adm1, csrf: who.adm2.csrf, form: { name: 'csrf1', role: 'analyst' } },
      { method: 'POST', url: '/admin/operators', as: who.adm1, origin: 'https://evil.example', form: { name: 'csrf1', role: 'analyst' } },
      { method: 'POST', url: '/api/admin/operators', as: who.adm1, csrf: null, json: { name: 'csrf1' } },
      { method: 'POST', url: '/api/admin/operators', as: who.adm1, csrf: who.ana1.csrf, json: { name: 'csrf1' } },
      { method: 'POST', url: '/api/admin/operators/ana1/disable', as: who.adm1, csrf: null },
      { method: 'POST', url: '/admin/operators/ana1/role', as: who.adm1, csrf: null, form: { role: 'admin' } },
      { method: 'POST', url: '/api/admin/operators/ana1/sessions/revoke', as: who.adm1, origin: 'https://evil.example' },
    ];
    for (const t of tries) expect([t.url, (await call(t)).status]).toEqual([t.url, 403]);
    expect(await operatorRow('csrf1')).toBeUndefined();
    expect(await operatorRow('ana1')).toMatchObject({ role: 'analyst', enabled: true, liveSessions: 1 });
  });

  test('adding an operator through the form shows the one-time password once; it logs in and must choose a password and enrol', async () => {
    const res = await call({ method: 'POST', url: '/admin/operators', as: who.adm1, form: { name: 'new.analyst', role: 'analyst' } });
    expect(res.status).toBe(200);
    expect(res.body).toContain(adminEn.addedTitle);
    const password = oneTimePassword(res.body);
    expect(password.length).toBeGreaterThanOrEqual(12);
    expect(await operatorRow('new.analyst')).toMatchObject({ role: 'analyst', enabled: true, totpEnrolled: false, mustChangePassword: true, lastLogin: null });
    // The list shows the account, never the password again.
    const list = await call({ url: '/admin/operators', as: who.adm1 });
    expect(list.body).toMatch(/<tr class="operator" data-name="new.analyst">/);
    expect(list.body).not.toContain(password);

    const { res: login, cookies } = await passwordLogin('new.analyst', password);
    expect([login.status, login.location]).toEqual([303, '/enrol']);
    expect(login.cookies.tiphub).toBeUndefined();
    const enrol = await call({ url: '/enrol', cookies });
    expect(enrol.status).toBe(200);
    expect(enrol.body).toContain('name="password2"');
    expect(enrol.body).toMatch(/<div class="qr"><svg/);
    expect((await passwordLogin('new.analyst', 'not the password at all')).res.status).toBe(401);

    // The API adds too, with the role asked for; a name taken (even in another case) is refused.
    const api = await call({ method: 'POST', url: '/api/admin/operators', as: who.adm1, json: { name: 'new.sup', role: 'supervisor' } });
    expect(api.status).toBe(200);
    expect(api.json()).toMatchObject({ name: 'new.sup', role: 'supervisor' });
    expect((await passwordLogin('new.sup', api.json<{ password: string }>().password)).res.location).toBe('/enrol');
    const taken = await call({ method: 'POST', url: '/api/admin/operators', as: who.adm1, json: { name: 'NEW.SUP' } });
    expect(taken.status).toBe(400);
    expect(taken.json()).toMatchObject({ error: 'TIPHUB_CONFIG_INVALID' });
    expect((await call({ method: 'POST', url: '/api/admin/operators', as: who.adm1, json: { name: 'bad name!' } })).status).toBe(400);
    const page = await call({ method: 'POST', url: '/admin/operators', as: who.adm1, form: { name: 'new.analyst', role: 'admin' } });
    expect(page.status).toBe(400);
    expect(page.body).toContain('<a href="/admin/operators">');
    expect(await operatorRow('new.analyst')).toMatchObject({ role: 'analyst' });

    expect(await audit('operator.add')).toEqual(
      expect.arrayContaining([
        { actor: 'adm1', name: 'new.analyst', role: 'analyst' },
        { actor: 'adm1', name: 'new.sup', role: 'supervisor' },
      ]),
    );
  });

  test('disabling ends every session of the operator at once; enabling lets them log in again', async () => {
    await addOperator(db, 'dis1', 'analyst');
    const a = await session('dis1');
    const b = await session('dis1');
    expect((await call({ url: '/api/cases', as: a })).status).toBe(200);
    expect((await call({ url: '/', as: b })).status).toBe(200);
    const res = await call({ method: 'POST', url: '/api/admin/operators/dis1/disable', as: who.adm1 });
    expect(res.status).toBe(200);
    expect(res.json()).toMatchObject({ name: 'dis1', changed: true, sessionsRevoked: 2 });
    expect((await call({ url: '/api/cases', as: a })).status).toBe(401);
    expect((await call({ url: '/', as: b })).location).toBe('/login');
    expect(await operatorRow('dis1')).toMatchObject({ enabled: false, liveSessions: 0 });
    await expect(createSession(db, 'dis1')).rejects.toThrow(/cannot log in/);
    expect((await call({ url: '/admin/operators', as: who.adm1 })).body).toMatch(/<tr class="operator disabled" data-name="dis1">/);

    expect((await call({ method: 'POST', url: '/admin/operators/dis1/enable', as: who.adm1, form: {} })).location).toBe('/admin/operators');
    expect(await operatorRow('dis1')).toMatchObject({ enabled: true });
    const c = await session('dis1');
    expect((await call({ url: '/api/cases', as: c })).status).toBe(200);
    // The old sessions stay ended.
    expect((await call({ url: '/api/cases', as: a })).status).toBe(401);

    expect(await audit('operator.disable')).toContainEqual({ actor: 'adm1', name: 'dis1', sessionsRevoked: 2 });
    expect(await audit('operator.enable')).toContainEqual({ actor: 'adm1', name: 'dis1' });
    expect((await call({ method: 'POST', url: '/api/admin/operators/nobody-here/disable', as: who.adm1 })).status).toBe(404);
  });

  test('reset: a new one-time password, the second factor enrolled again, every session ended', async () => {
    const r1 = await ready('res1', 'supervisor');
    expect((await call({ url: '/api/cases', as: r1 })).status).toBe(200);
    const res = await call({ method: 'POST', url: '/admin/operators/res1/reset', as: who.adm1, form: {} });
    expect(res.status).toBe(200);
    expect(res.body).toContain(adminEn.resetTitle);
    const password = oneTimePassword(res.body);
    expect(password).not.toBe('');
    expect((await call({ url: '/api/cases', as: r1 })).status).toBe(401);
    expect(await operatorRow('res1')).toMatchObject({ role: 'supervisor', totpEnrolled: false, mustChangePassword: true, liveSessions: 0 });
    // The old password no longer opens it; the new one leads to choosing a password and enrolling.
    expect((await passwordLogin('res1', PASSWORD)).res.status).toBe(401);
    expect((await passwordLogin('res1', password)).res.location).toBe('/enrol');
    expect(await audit('operator.reset')).toContainEqual({ actor: 'adm1', name: 'res1', sessionsRevoked: 1 });

    const api = await call({ method: 'POST', url: '/api/admin/operators/res1/reset', as: who.adm1 });
    expect(api.json()).toMatchObject({ name: 'res1', role: 'supervisor', sessionsRevoked: 0 });
    expect(api.json<{ password: string }>().password).not.toBe(password);
  });

  test('a role change is in force at the next request of the same session', async () => {
    const r = await ready('role1', 'analyst');
    expect((await call({ url: '/api/admin/operators', as: r })).status).toBe(403);
    expect((await call({ method: 'POST', url: `/api/cases/NOPE-0000/assign`, as: r, json: { to: null } })).status).toBe(403);
    const res = await call({ method: 'POST', url: '/admin/operators/role1/role', as: who.adm1, form: { role: 'admin' } });
    expect([res.status, res.location]).toEqual([303, '/admin/operators']);
    expect((await call({ url: '/api/admin/operators', as: r })).status).toBe(200);
    const down = await call({ method: 'POST', url: '/api/admin/operators/role1/role', as: who.adm1, json: { role: 'supervisor' } });
    expect(down.json()).toMatchObject({ name: 'role1', role: 'supervisor', from: 'admin', changed: true });
    expect((await call({ url: '/api/admin/operators', as: r })).status).toBe(403);
    // A supervisor's permission, not an analyst's: assigning gets past the role check to the case lookup.
    expect([400, 404]).toContain((await call({ method: 'POST', url: `/api/cases/NOPE-0000/assign`, as: r, json: { to: null } })).status);
    const same = await call({ method: 'POST', url: '/api/admin/operators/role1/role', as: who.adm1, json: { role: 'supervisor' } });
    expect(same.json()).toMatchObject({ changed: false });
    expect((await call({ method: 'POST', url: '/api/admin/operators/role1/role', as: who.adm1, json: { role: 'owner' } })).status).toBe(400);
    expect(await audit('operator.role')).toEqual([
      { actor: 'adm1', name: 'role1', role: 'supervisor', from: 'admin' },
      { actor: 'adm1', name: 'role1', role: 'admin', from: 'analyst' },
    ]);
  });

  test('an admin cannot disable, demote or reset themself, nor demote the last enabled admin', async () => {
    const before = (await listOperatorAudit(db, { limit: 1000 })).length;
    const self = await call({ method: 'POST', url: '/api/admin/operators/adm1/disable', as: who.adm1 });
    expect(self.status).toBe(409);
    expect(self.json()).toEqual({ error: 'TIPHUB_DASHBOARD_SELF', message: adminEn.selfDisable });
    const page = await call({ method: 'POST', url: '/admin/operators/adm1/disable', as: who.adm1, form: {} });
    expect(page.status).toBe(409);
    expect(page.body).toContain(adminEn.selfDisable);
    expect((await call({ method: 'POST', url: '/api/admin/operators/adm1/role', as: who.adm1, json: { role: 'analyst' } })).json()).toMatchObject({ error: 'TIPHUB_DASHBOARD_SELF' });
    expect((await call({ method: 'POST', url: '/api/admin/operators/adm1/reset', as: who.adm1 })).status).toBe(409);
    // The page of one's own row offers none of these forms.
    const list = await call({ url: '/admin/operators', as: who.adm1 });
    expect(list.body).not.toContain('action="/admin/operators/adm1/disable"');
    expect(list.body).toContain('action="/admin/operators/adm2/disable"');

    // adm2 disabled (and role1, an admin of the test before, now a supervisor): adm1 is the last enabled admin.
    expect((await call({ method: 'POST', url: '/api/admin/operators/adm2/disable', as: who.adm1 })).json()).toMatchObject({ changed: true });
    expect((await call({ url: '/admin/operators', as: who.adm2 })).location).toBe('/login');
    // The account functions refuse it for the command line too (it acts as local:<user>).
    await expect(setOperatorRole(db, 'adm1', 'analyst', { actor: 'local:test' })).rejects.toThrow(/last enabled admin/);
    await expect(setOperatorRole(db, 'adm1', 'analyst', { actor: 'adm1' })).rejects.toThrow(/own role/);
    await expect(disableOperator(db, 'adm1', { actor: 'local:test' })).rejects.toThrow(/last enabled admin/);
    expect((await call({ url: '/api/admin/operators', as: who.adm1 })).status).toBe(200);
    expect(await operatorRow('adm1')).toMatchObject({ role: 'admin', enabled: true });
    // A disabled admin does not count as one: enabled again, adm2 is an admin beside adm1.
    expect((await call({ method: 'POST', url: '/api/admin/operators/adm2/enable', as: who.adm1 })).json()).toMatchObject({ changed: true });
    expect((await setOperatorRole(db, 'adm2', 'supervisor', { actor: 'local:test' })).changed).toBe(true);
    await expect(setOperatorRole(db, 'adm1', 'supervisor', { actor: 'local:test' })).rejects.toThrow(/last enabled admin/);
    expect((await setOperatorRole(db, 'adm2', 'admin', { actor: 'local:test' })).changed).toBe(true);
    who.adm2 = await session('adm2');
    // The refusals wrote nothing about adm1; what was done is recorded with who did it.
    const entries = await listOperatorAudit(db, { limit: 1000 });
    const fresh = entries.slice(0, entries.length - before).map((e) => `${e.operator} ${e.action} ${String(e.data.name ?? '')}`);
    expect(fresh.filter((a) => a.endsWith(' adm1'))).toEqual([]);
    expect(fresh).toEqual(expect.arrayContaining(['adm1 operator.disable adm2', 'adm1 operator.enable adm2', 'local:test operator.role adm2']));
  });

  test('live sessions: listed without token or hash, one ended at once (the other client stays in), then all', async () => {
    await addOperator(db, 'sess1', 'analyst');
    const first = await session('sess1');
    const second = await session('sess1');
    const page = await call({ url: '/admin/sessions?operator=sess1', as: who.adm1 });
    expect(page.status).toBe(200);
    const api = await call({ url: '/api/admin/sessions', as: who.adm1 });
    const sessions = api.json<{ sessions: Record<string, unknown>[] }>().sessions;
    const mine = sessions.filter((x) => x.operator === 'sess1');
    expect(mine).toHaveLength(2);
    expect(mine[0]).toMatchObject({ client: '127.0.0.9', current: false });
    expect(Object.keys(mine[0]!).sort()).toEqual(['client', 'createdAt', 'current', 'expiresAt', 'handle', 'lastSeenAt', 'operator']);
    expect(sessions.find((x) => x.operator === 'adm1')).toMatchObject({ current: true });
    const everything = page.body + api.body + (await call({ url: '/admin/sessions', as: who.adm1 })).body + (await call({ url: '/admin/operators', as: who.adm1 })).body;
    for (const w of [first, second, who.adm1, who.ana1]) {
      expect(everything).not.toContain(w.token);
      expect(everything).not.toContain(w.tokenHash);
    }
    // The page lists sess1's sessions only, each with its form.
    expect(page.body.match(/<tr class="session/g)).toHaveLength(2);
    expect(page.body).toContain('action="/admin/operators/sess1/sessions/revoke"');

    // Which handle is the second's: the one that disappears when the second session ends is found by revoking it through the page.
    const handles = mine.map((x) => String(x.handle));
    const revoked = await call({ method: 'POST', url: `/admin/sessions/${handles[0]}/revoke`, as: who.adm1, form: {} });
    expect([revoked.status, revoked.location]).toEqual([303, '/admin/sessions']);
    const states = [(await call({ url: '/api/cases', as: first })).status, (await call({ url: '/api/cases', as: second })).status].sort();
    expect(states).toEqual([200, 401]);
    expect((await call({ method: 'POST', url: `/api/admin/sessions/${handles[0]}/revoke`, as: who.adm1 })).status).toBe(404);
    expect((await call({ method: 'POST', url: `/api/admin/sessions/${'0'.repeat(32)}/revoke`, as: who.adm1 })).status).toBe(404);
    expect(await audit('session.revoke')).toContainEqual({ actor: 'adm1', operator: 'sess1' });

    const all = await call({ method: 'POST', url: '/api/admin/operators/sess1/sessions/revoke', as: who.adm1 });
    expect(all.json()).toMatchObject({ name: 'sess1', sessionsRevoked: 1, changed: true });
    expect([(await call({ url: '/api/cases', as: first })).status, (await call({ url: '/api/cases', as: second })).status]).toEqual([401, 401]);
    expect(await operatorRow('sess1')).toMatchObject({ enabled: true, liveSessions: 0 });
    expect(await audit('session.revoke.all')).toContainEqual({ actor: 'adm1', operator: 'sess1', sessionsRevoked: 1 });
    expect((await call({ url: '/admin/sessions?operator=sess1', as: who.adm1 })).body).toContain(adminEn.noSessions);
  });

  test('an open live stream ends at once when an admin ends its session or disables its operator', async () => {
    await addOperator(db, 'live1', 'analyst');
    /** GET /events as `w`: resolves when the server ends the stream. */
    async function stream(w: Who) {
      const ac = new AbortController();
      const res = await fetch(`${base}/events`, { headers: { cookie: `tiphub=${w.token}` }, signal: ac.signal, redirect: 'manual' });
      expect(res.status).toBe(200);
      const reader = res.body!.getReader();
      const ended = (async () => {
        for (;;) if ((await reader.read()).done) return true;
      })().catch(() => false);
      const within = (ms: number) => Promise.race([ended, new Promise<boolean>((r) => setTimeout(() => r(false), ms))]);
      return { within, abort: () => ac.abort() };
    }
    const a = await session('live1');
    const b = await session('live1');
    const sa = await stream(a);
    const sb = await stream(b);
    try {
      // The app's heartbeat (15 s) would notice later; the admin's action ends the stream now.
      expect(await sa.within(500)).toBe(false);
      const live = (await call({ url: '/api/admin/sessions?operator=live1', as: who.adm1 })).json<{ sessions: { handle: string }[] }>().sessions;
      expect(live).toHaveLength(2);
      // End one session: exactly one of the two streams closes.
      expect((await call({ method: 'POST', url: `/api/admin/sessions/${live[0]!.handle}/revoke`, as: who.adm1 })).status).toBe(200);
      const [ea, eb] = await Promise.all([sa.within(2_000), sb.within(300)]);
      expect([ea, eb].filter(Boolean)).toHaveLength(1);
      const other = ea ? sb : sa;
      // Disable the operator: the other closes too.
      expect((await call({ method: 'POST', url: '/api/admin/operators/live1/disable', as: who.adm1 })).json()).toMatchObject({ sessionsRevoked: 1 });
      expect(await other.within(2_000)).toBe(true);
    } finally {
      sa.abort();
      sb.abort();
    }
  });

  test('the pages speak Arabic to an Arabic-speaking admin; the audit chain verifies', async () => {
    await db.query(`UPDATE operators SET language = 'ar' WHERE name = 'adm2'`);
    const res = await call({ url: '/admin/operators', as: who.adm2 });
    expect(res.status).toBe(200);
    expect(res.body).toContain(`<h1>${adminAr.operatorsTitle}</h1>`);
    expect(res.body).toContain(adminAr.role_analyst);
    const refused = await call({ method: 'POST', url: '/api/admin/operators/adm2/disable', as: who.adm2 });
    expect(refused.json()).toMatchObject({ message: adminAr.selfDisable });
    expect(await verifyOperatorAudit(db)).toMatchObject({ ok: true, problems: [] });
  });
});
