/**
 * Issue 11, tests: the operator dashboard in a real browser (Debian's Chromium driven by
 * playwright-core, headless; one browser for the file, a fresh context per test) against
 * buildApp() listening on 127.0.0.1 over PostgreSQL: a first login with the one-time password,
 * a new password and TOTP enrolment; a simulator tip worked through the case page's forms (tag,
 * status, assign to me, note) and each change in the case's chain; an Arabic tip right to left;
 * hostile tips inert under the CSP; no informant address on any page.
 */
import type { AddressInfo } from 'node:net';
import type { Browser, BrowserContext, Locator, Page } from 'playwright-core';
import type { FastifyInstance } from 'fastify';
import { harness, type Harness } from '../helpers/harness';
import { launchBrowser, watch } from '../helpers/browser';
import { buildApp } from '../../src/dashboard/app';
import { stringsFor } from '../../src/dashboard/i18n';
import { addOperator, changePassword, confirmTotpEnrolment, startTotpEnrolment, type OperatorRole } from '../../src/operators/accounts';
import { createSession } from '../../src/operators/sessions';
import { totpCode } from '../../src/operators/totp';

jest.setTimeout(30_000);

const PASSWORD = 'correct horse battery staple';
const s = stringsFor(null);
const ARABIC = 'انقطاع الكهرباء في الحي الشرقي منذ ثلاثة أيام';
const ENGLISH = 'Checkpoint closed on the north road near the bridge since early morning';
const HOSTILE = ['<img src=x onerror=alert(1)>', '<a href="javascript:alert(1)">click</a>', '<svg onload=alert(1)>', '<script>alert(1)</script>'];
const LIVE = 'Water supply cut in the eastern district for three days now';
/** Informant addresses: no page may hold any of them. */
const SENDER = {
  arabic: 'addr-browser-secret-ar01',
  english: 'addr-browser-secret-en01',
  hostile: HOSTILE.map((_, i) => `addr-browser-secret-hx0${i}`),
  live: 'addr-browser-secret-live',
};
const ALL_SENDERS = [SENDER.arabic, SENDER.english, ...SENDER.hostile, SENDER.live];

let h: Harness;
let app: FastifyInstance;
let browser: Browser;
let base: string;
const contexts: BrowserContext[] = [];
/** case ref by report text */
const refOf = new Map<string, string>();

async function refreshRefs(): Promise<void> {
  const { rows } = await h.db.query<{ ref: string; text: string }>('SELECT c.ref, r.text FROM cases c JOIN reports r ON r.case_id = c.id');
  for (const r of rows) refOf.set(r.text, r.ref);
}

const ref = (text: string): string => {
  const r = refOf.get(text);
  if (!r) throw new Error(`no case for ${JSON.stringify(text)}`);
  return r;
};

/** An operator past the first login (password changed, TOTP enrolled), set up through the service layer. */
async function ready(name: string, role: OperatorRole): Promise<void> {
  const c = await addOperator(h.db, name, role);
  await changePassword(h.db, name, c.password, PASSWORD);
  const e = await startTotpEnrolment(h.db, name);
  expect(await confirmTotpEnrolment(h.db, name, totpCode(e.secret))).toMatchObject({ ok: true });
}

async function newContext(): Promise<BrowserContext> {
  const c = await browser.newContext();
  // A step that does not happen fails in seconds, with playwright's account of what it waited for.
  c.setDefaultTimeout(5_000);
  contexts.push(c);
  return c;
}

/** A fresh context holding a session of `name` (test 1 covers logging in through the pages). */
async function signedIn(name: string): Promise<{ context: BrowserContext; page: Page }> {
  const context = await newContext();
  const session = await createSession(h.db, name);
  await context.addCookies([{ name: 'tiphub', value: session.token, url: base, httpOnly: true, sameSite: 'Strict' }]);
  return { context, page: await context.newPage() };
}

const noop = () => undefined;

/**
 * After a form's button was clicked: waits for the page that shows `done` (a URL or an element),
 * or for the refusal page the app answers with; a refusal fails with its own words.
 */
async function submitted(page: Page, done: string | Locator): Promise<void> {
  const error = page.locator('p.error');
  const arrived = typeof done === 'string' ? page.waitForURL(done) : done.waitFor();
  await Promise.race([arrived.catch(noop), error.waitFor().catch(noop)]);
  expect(await error.allTextContents()).toEqual([]);
  if (typeof done === 'string') expect(page.url()).toBe(done);
  else expect(await done.count()).toBeGreaterThan(0);
}

const caseUrl = (r: string) => `${base}/cases/${encodeURIComponent(r)}`;

const events = async (r: string) =>
  (
    await h.db.query<{ kind: string; actor: string; data: Record<string, unknown> }>(
      'SELECT e.kind, e.actor, e.data FROM events e JOIN cases c ON c.id = e.case_id WHERE c.ref = $1 ORDER BY e.seq',
      [r],
    )
  ).rows;

beforeAll(async () => {
  h = await harness('postgres', { conversation: { enabled: false } });
  const fixtures: [string, string][] = [
    [SENDER.arabic, ARABIC],
    [SENDER.english, ENGLISH],
    ...HOSTILE.map((t, i): [string, string] => [SENDER.hostile[i]!, t]),
  ];
  let n = 0;
  for (const [from, text] of fixtures) {
    await h.sink(h.message({ id: `b${n}`, from, text, sentAt: `2026-06-10T05:0${n}:00Z` }));
    n++;
  }
  // The intake worker runs for the whole file: test 2 sends its tip while the list is open.
  h.startWorker();
  await h.drained();
  await refreshRefs();
  expect(refOf.size).toBe(fixtures.length);
  await ready('sup1', 'supervisor');
  app = await buildApp({ db: h.db, log: h.log });
  await app.listen({ host: '127.0.0.1', port: 0 });
  base = `http://127.0.0.1:${(app.server.address() as AddressInfo).port}`;
  browser = await launchBrowser();
});

afterAll(async () => {
  for (const c of contexts) await c.close().catch(() => undefined);
  await browser?.close();
  await app?.close();
  await h?.close();
});

test('first login: one-time password, then a new password and TOTP enrolment (QR and text secret), then the case list', async () => {
  const { password } = await addOperator(h.db, 'newop', 'supervisor');
  const context = await newContext();
  const page = await context.newPage();
  const seen = watch(page, base);

  await page.goto(`${base}/`);
  expect(new URL(page.url()).pathname).toBe('/login');
  await page.fill('input[name=name]', 'newop');
  await page.fill('input[name=password]', password);
  await page.click(`button:text-is("${s.logIn}")`);
  await submitted(page, `${base}/enrol`);
  expect(await page.locator('h1').textContent()).toBe(s.enrolTitle);
  // No session before every step passed.
  expect((await context.cookies()).map((c) => c.name)).not.toContain('tiphub');

  expect(await page.locator('.qr svg').count()).toBe(1);
  expect(await page.locator('.qr svg').isVisible()).toBe(true);
  const secret = (await page.locator('code').textContent())!.replace(/\s+/g, '');
  expect(secret).toMatch(/^[A-Z2-7]{16,}$/);
  await page.fill('input[name=password]', PASSWORD);
  await page.fill('input[name=password2]', PASSWORD);
  await page.fill('input[name=code]', totpCode(secret));
  await page.click(`button:text-is("${s.finish}")`);
  await submitted(page, `${base}/`);

  expect(await page.locator('h1').textContent()).toBe(s.cases);
  expect(await page.locator('header').textContent()).toContain(`${s.signedInAs} newop`);
  expect(await page.locator('tr.case').count()).toBe(refOf.size);
  const cookie = (await context.cookies()).find((c) => c.name === 'tiphub');
  expect(cookie).toMatchObject({ httpOnly: true, sameSite: 'Strict' });
  expect(seen).toEqual({ foreign: [], dialogs: [] });
});

test('a simulator tip appears in the list after a reload; opened, tagged, set in review, assigned to me and noted through the pages', async () => {
  const { page } = await signedIn('sup1');
  const seen = watch(page, base);
  await page.goto(`${base}/`);
  expect(await page.locator('tr.case', { hasText: LIVE }).count()).toBe(0);

  await h.sink(h.message({ id: 'live1', from: SENDER.live, text: LIVE, sentAt: '2026-06-10T05:30:00Z' }));
  await h.drained();
  await refreshRefs();
  const r = ref(LIVE);
  // This app is built without the Redis feed of case updates: the operator reloads. The live list
  // (a row appearing without a reload) is test/dashboard/live.test.ts.
  await page.reload();
  const row = page.locator('tr.case', { hasText: LIVE });
  expect(await row.count()).toBe(1);
  expect(await row.getAttribute('data-ref')).toBe(r);

  await row.locator(`a:text-is("${r}")`).click();
  await page.waitForURL(caseUrl(r));
  expect(await page.locator('.tip').textContent()).toBe(LIVE);

  // Each form posts and the server redirects back to the case: wait for the page showing the change.
  await page.fill('form[action$="/tags"] input[name=add]', 'water');
  await page.click(`form[action$="/tags"] button:text-is("${s.addTag}")`);
  await submitted(page, page.locator('dd.tags', { hasText: 'water' }));

  await page.selectOption('form[action$="/status"] select[name=status]', 'in_review');
  await page.click(`form[action$="/status"] button:text-is("${s.setStatus}")`);
  await submitted(page, page.locator('dd.status', { hasText: s.status_in_review }));

  await page.click(`button:text-is("${s.assignToMe}")`);
  await submitted(page, page.locator('dd.assignee', { hasText: 'sup1' }));

  await page.fill('form[action$="/notes"] textarea[name=text]', 'Called the water office: confirmed for two districts');
  await page.click(`form[action$="/notes"] button:text-is("${s.addNote}")`);
  // The page shows how many notes a case has, not their text.
  await submitted(page, page.locator(`dt:text-is("${s.notes}") + dd`, { hasText: '1' }));

  // Everything at once, on the last page loaded.
  expect(await page.locator('dd.tags').textContent()).toContain('water');
  expect(await page.locator('dd.status').textContent()).toBe(s.status_in_review);
  expect(await page.locator('dd.assignee').textContent()).toBe('sup1');
  expect(await page.locator(`dt:text-is("${s.notes}") + dd`).textContent()).toBe('1');

  const ev = (await events(r)).filter((e) => e.kind !== 'case.created' && e.kind !== 'report.added' && e.actor === 'sup1');
  expect(ev.map((e) => e.kind)).toEqual(['case.tags', 'case.status', 'case.assigned', 'case.note']);
  expect(JSON.stringify(ev[0]!.data)).toContain('water');
  expect(JSON.stringify(ev[1]!.data)).toContain('in_review');
  expect(JSON.stringify(ev[2]!.data)).toContain('sup1');

  // Back in the list, the row says so too.
  await page.click(`a:text-is("${s.back}")`);
  await page.waitForURL(`${base}/`);
  const after = page.locator('tr.case', { hasText: LIVE });
  expect(await after.textContent()).toContain(s.status_in_review);
  expect(await after.textContent()).toContain('water');
  expect(await after.textContent()).toContain('sup1');
  expect(seen).toEqual({ foreign: [], dialogs: [] });
});

test('an Arabic tip renders right to left, an English one left to right', async () => {
  const { page } = await signedIn('sup1');
  const seen = watch(page, base);
  const direction = (sel: string) => page.locator(sel).evaluate((el) => el.ownerDocument.defaultView!.getComputedStyle(el).direction);

  await page.goto(caseUrl(ref(ARABIC)));
  const tip = page.locator('.tip');
  expect(await tip.textContent()).toBe(ARABIC);
  expect(await tip.getAttribute('dir')).toBe('auto');
  expect(await direction('.tip')).toBe('rtl');

  await page.goto(caseUrl(ref(ENGLISH)));
  expect(await page.locator('.tip').getAttribute('dir')).toBe('auto');
  expect(await direction('.tip')).toBe('ltr');

  await page.goto(`${base}/`);
  const words = `tr.case[data-ref="${ref(ARABIC)}"] td.first-words`;
  expect(await page.locator(words).getAttribute('dir')).toBe('auto');
  expect(await direction(words)).toBe('rtl');
  expect(seen).toEqual({ foreign: [], dialogs: [] });
});

test('hostile tips render inert: text only, no dialog, no navigation, no request elsewhere; the CSP refuses inline code', async () => {
  const { page } = await signedIn('sup1');
  const seen = watch(page, base);

  for (const text of HOSTILE) {
    const url = caseUrl(ref(text));
    const res = await page.goto(url);
    const csp = res!.headers()['content-security-policy'] ?? '';
    expect(csp).toContain("script-src 'self'");
    expect(csp).not.toMatch(/unsafe-inline|unsafe-eval/);
    const tip = page.locator('.tip');
    expect(await tip.textContent()).toBe(text);
    expect(await tip.evaluate((el) => el.children.length)).toBe(0);
    expect(await page.evaluate(`document.querySelectorAll('[onerror], [onload], [href^="javascript:" i]').length`)).toBe(0);
    expect(await page.evaluate(`document.querySelectorAll('script:not([src])').length`)).toBe(0);
    if (text.includes('javascript:')) {
      await tip.getByText('click').click();
      await page.waitForTimeout(300);
      expect(page.url()).toBe(url);
    }
  }
  // Give any handler that slipped through the time to fire.
  await page.waitForTimeout(300);
  expect(seen).toEqual({ foreign: [], dialogs: [] });

  // Were markup ever to reach the page unescaped, the CSP must stop it: an inline script and an
  // inline handler added to the DOM do not run (page.evaluate itself is the debugger's, not the page's).
  // (Browser code as text: this project's TypeScript has no DOM library.)
  const ran = (await page.evaluate(`(async () => {
    const blocked = [];
    document.addEventListener('securitypolicyviolation', (e) => blocked.push(e.violatedDirective));
    const sc = document.createElement('script');
    sc.textContent = 'window.__inlineRan = true;';
    document.body.append(sc);
    const holder = document.createElement('div');
    holder.innerHTML = '<img src="data:," onerror="window.__handlerRan = true"><img src="x" onerror="window.__handlerRan = true">';
    document.body.append(holder);
    await new Promise((r) => setTimeout(r, 300));
    return { inline: window.__inlineRan === true, handler: window.__handlerRan === true, blocked };
  })()`)) as { inline: boolean; handler: boolean; blocked: string[] };
  expect(ran.inline).toBe(false);
  expect(ran.handler).toBe(false);
  expect(ran.blocked.length).toBeGreaterThan(0);
  expect(ran.blocked.every((d) => d.startsWith('script-src'))).toBe(true);
  expect(seen).toEqual({ foreign: [], dialogs: [] });
});

test('no page holds an informant address', async () => {
  const { page } = await signedIn('sup1');
  const seen = watch(page, base);
  const contents: string[] = [];
  await page.goto(`${base}/`);
  contents.push(await page.content());
  await refreshRefs();
  for (const r of new Set(refOf.values())) {
    await page.goto(caseUrl(r));
    contents.push(await page.content());
  }
  await page.goto(`${base}/api/cases`);
  contents.push(await page.content());
  expect(contents.length).toBe(new Set(refOf.values()).size + 2);
  for (const c of contents) for (const addr of ALL_SENDERS) expect(c).not.toContain(addr);
  expect(seen).toEqual({ foreign: [], dialogs: [] });
});
