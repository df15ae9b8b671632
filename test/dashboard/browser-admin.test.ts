/**
 * Issue 11, item 4, in a real browser (Debian's Chromium driven by playwright-core, headless): an
 * admin logs in with password and TOTP, adds an analyst through the operators page's form and
 * reads the one-time password off the answer page; in a second browser context the analyst logs
 * in with it, is asked for a new password and enrolment, and finishes on the case list. No page
 * requests anything from another origin or opens a dialog.
 */
import type { AddressInfo } from 'node:net';
import type { Browser, BrowserContext, Page } from 'playwright-core';
import type { FastifyInstance } from 'fastify';
import { buildApp } from '../../src/dashboard/app';
import type { Db } from '../../src/caselog/db';
import { stringsFor } from '../../src/dashboard/i18n';
import { adminEn } from '../../src/dashboard/i18n/admin';
import { openCaseLogAccess, type CaseLogAccess } from '../../app/hub/access';
import { addOperator, changePassword, confirmTotpEnrolment, startTotpEnrolment } from '../../src/operators/accounts';
import { listOperatorAudit } from '../../src/operators/audit';
import { totpCode } from '../../src/operators/totp';
import { launchBrowser, watch } from '../helpers/browser';
import { capturingLogger, setup, type TestSetup } from '../helpers/env';

jest.setTimeout(60_000);

const PASSWORD = 'correct horse battery staple';
const ANALYST_PASSWORD = 'a long new password of the analyst';
const s = stringsFor(null);
const t = adminEn;

let env: TestSetup;
let access: CaseLogAccess;
let db: Db;
let app: FastifyInstance;
let browser: Browser;
let base: string;
let adminSecret: string;
const contexts: BrowserContext[] = [];

async function newContext(): Promise<BrowserContext> {
  const c = await browser.newContext();
  c.setDefaultTimeout(5_000);
  contexts.push(c);
  return c;
}

/** Waits for `url` or for the refusal page; a refusal fails with its own words. */
async function arrived(page: Page, url: string): Promise<void> {
  const error = page.locator('p.error');
  await Promise.race([page.waitForURL(url).catch(() => undefined), error.waitFor().catch(() => undefined)]);
  expect(await error.allTextContents()).toEqual([]);
  expect(page.url()).toBe(url);
}

beforeAll(async () => {
  env = await setup('postgres');
  const { log } = capturingLogger('warn');
  access = await openCaseLogAccess(env.cfg, log, { role: 'test' });
  db = access.local!.db;
  const c = await addOperator(db, 'boss', 'admin');
  await changePassword(db, 'boss', c.password, PASSWORD);
  const e = await startTotpEnrolment(db, 'boss');
  adminSecret = e.secret;
  // Enrolled with the code of the step before, so that the login's code (this step) is a fresh one.
  expect(await confirmTotpEnrolment(db, 'boss', totpCode(e.secret, Date.now() - 30_000))).toMatchObject({ ok: true });
  app = await buildApp({ db, log });
  await app.listen({ host: '127.0.0.1', port: 0 });
  base = `http://127.0.0.1:${(app.server.address() as AddressInfo).port}`;
  browser = await launchBrowser();
});

afterAll(async () => {
  for (const c of contexts) await c.close().catch(() => undefined);
  await browser?.close();
  await app?.close();
  await access?.close();
  await env?.cleanup();
});

test('an admin adds an analyst through the form; the analyst logs in with the one-time password in another browser and sets a password', async () => {
  const adminContext = await newContext();
  const admin = await adminContext.newPage();
  const seenAdmin = watch(admin, base);
  await admin.goto(`${base}/login`);
  await admin.fill('input[name=name]', 'boss');
  await admin.fill('input[name=password]', PASSWORD);
  await admin.click(`button:text-is("${s.logIn}")`);
  await arrived(admin, `${base}/login/totp`);
  await admin.fill('input[name=code]', totpCode(adminSecret));
  await admin.click(`button:text-is("${s.verify}")`);
  await arrived(admin, `${base}/`);

  await admin.click(`header a:text-is("${s.navOperators}")`);
  await arrived(admin, `${base}/admin/operators`);
  expect(await admin.locator('h1').textContent()).toBe(t.operatorsTitle);
  expect(await admin.locator('tr.operator').count()).toBe(1);
  await admin.fill('form.add-operator input[name=name]', 'field.analyst');
  await admin.selectOption('form.add-operator select[name=role]', 'analyst');
  await admin.click(`form.add-operator button:text-is("${t.add}")`);
  // The answer to the form's POST, at the same address: wait for its heading.
  await admin.locator(`h1:text-is("${t.addedTitle}")`).waitFor();
  expect(await admin.locator('p.error').count()).toBe(0);
  expect(await admin.locator('dd.operator-name').textContent()).toBe('field.analyst');
  const password = (await admin.locator('#one-time-password').textContent())!.trim();
  expect(password.length).toBeGreaterThanOrEqual(12);

  // The analyst, elsewhere: the one-time password opens the first-login page, not a session.
  const analystContext = await newContext();
  const analyst = await analystContext.newPage();
  const seenAnalyst = watch(analyst, base);
  await analyst.goto(`${base}/`);
  expect(new URL(analyst.url()).pathname).toBe('/login');
  await analyst.fill('input[name=name]', 'field.analyst');
  await analyst.fill('input[name=password]', password);
  await analyst.click(`button:text-is("${s.logIn}")`);
  await arrived(analyst, `${base}/enrol`);
  expect(await analyst.locator('h1').textContent()).toBe(s.enrolTitle);
  expect(await analyst.locator('input[name=password2]').count()).toBe(1);
  expect(await analyst.locator('.qr svg').isVisible()).toBe(true);
  expect((await analystContext.cookies()).map((c) => c.name)).not.toContain('tiphub');
  const secret = (await analyst.locator('code').textContent())!.replace(/\s+/g, '');
  await analyst.fill('input[name=password]', ANALYST_PASSWORD);
  await analyst.fill('input[name=password2]', ANALYST_PASSWORD);
  await analyst.fill('input[name=code]', totpCode(secret));
  await analyst.click(`button:text-is("${s.finish}")`);
  await arrived(analyst, `${base}/`);
  expect(await analyst.locator('header').textContent()).toContain(`${s.signedInAs} field.analyst`);
  // An analyst's header has no admin links, and the admin page refuses them.
  expect(await analyst.locator(`header a:text-is("${s.navOperators}")`).count()).toBe(0);
  const refused = await analyst.goto(`${base}/admin/operators`);
  expect(refused?.status()).toBe(403);

  // Back on the admin's page: the analyst is enrolled, with a live session.
  await admin.goto(`${base}/admin/operators`);
  const row = admin.locator('tr.operator[data-name="field.analyst"]');
  expect(await row.locator('td.role').textContent()).toBe(t.role_analyst);
  expect(await row.locator('td.totp').textContent()).toBe(t.enrolled);
  expect(await row.locator('td.sessions').textContent()).toBe('1');
  expect(await admin.content()).not.toContain(password);

  expect((await listOperatorAudit(db, { action: 'operator.add' })).map((e) => [e.operator, e.data.name, e.data.role])).toEqual([
    ['boss', 'field.analyst', 'analyst'],
    ['local:unknown', 'boss', 'admin'],
  ]);
  expect(seenAdmin).toEqual({ foreign: [], dialogs: [] });
  expect(seenAnalyst).toEqual({ foreign: [], dialogs: [] });
});
