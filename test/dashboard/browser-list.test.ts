/**
 * Issue 11, item 5, in a real browser (Debian's Chromium driven by playwright-core, headless,
 * against buildApp over PostgreSQL): an operator searches by typing in the search box, ticks two
 * rows with the keys (j, x), sets their status with the bulk bar, and opens a case with Enter; the
 * keys stay out of the way while typing; ? shows them. No request leaves the app, no dialog opens.
 */
import type { AddressInfo } from 'node:net';
import type { Browser, BrowserContext, Page } from 'playwright-core';
import type { FastifyInstance } from 'fastify';
import { harness, type Harness } from '../helpers/harness';
import { launchBrowser, watch } from '../helpers/browser';
import { buildApp } from '../../src/dashboard/app';
import { listEn } from '../../src/dashboard/i18n/list';
import { addOperator, changePassword, confirmTotpEnrolment, startTotpEnrolment } from '../../src/operators/accounts';
import { createSession } from '../../src/operators/sessions';
import { totpCode } from '../../src/operators/totp';
import { verifyCaseLog } from '../../src/caselog/verify';

jest.setTimeout(60_000);

const TIPS = [
  'Fire reported at the market warehouse late last night',
  'Market stalls were taken by the police this afternoon',
  'Prices up at the market since the road closed',
  'انقطاع الكهرباء في الحي الشرقي منذ ثلاثة أيام',
  'Checkpoint closed on the north road near the bridge',
];

let h: Harness;
let app: FastifyInstance;
let browser: Browser;
let context: BrowserContext;
let base: string;
const refOf = new Map<string, string>();

beforeAll(async () => {
  h = await harness('postgres', { conversation: { enabled: false } });
  for (const [i, text] of TIPS.entries()) await h.sink(h.message({ id: `bl${i}`, from: `addr-browser-list-secret-${i}`, text, sentAt: `2026-06-10T0${i}:00:00Z` }));
  h.startWorker();
  await h.drained();
  await h.stopWorker();
  const { rows } = await h.db.query<{ ref: string; text: string }>('SELECT c.ref, r.text FROM cases c JOIN reports r ON r.case_id = c.id');
  for (const r of rows) refOf.set(r.text, r.ref);
  expect(refOf.size).toBe(TIPS.length);
  const c = await addOperator(h.db, 'sup1', 'supervisor');
  await changePassword(h.db, 'sup1', c.password, 'correct horse battery staple');
  const e = await startTotpEnrolment(h.db, 'sup1');
  await confirmTotpEnrolment(h.db, 'sup1', totpCode(e.secret));
  app = await buildApp({ db: h.db, log: h.log });
  await app.listen({ host: '127.0.0.1', port: 0 });
  base = `http://127.0.0.1:${(app.server.address() as AddressInfo).port}`;
  browser = await launchBrowser();
  context = await browser.newContext();
  context.setDefaultTimeout(5_000);
  const session = await createSession(h.db, 'sup1');
  await context.addCookies([{ name: 'tiphub', value: session.token, url: base, httpOnly: true, sameSite: 'Strict' }]);
});

afterAll(async () => {
  await context?.close().catch(() => undefined);
  await browser?.close();
  await app?.close();
  await h?.close();
});

const current = (page: Page) => page.locator('tr.case.current').getAttribute('data-ref');

test('search by typing, tick two rows with j and x, set their status in bulk, open a case with Enter', async () => {
  const page = await context.newPage();
  const seen = watch(page, base);
  await page.goto(`${base}/`);
  expect(await page.locator('tr.case').count()).toBe(TIPS.length);

  // Typing in the search box: j and x are letters of the search, not keys of the list.
  await page.click('#list-search');
  await page.keyboard.type('jx');
  expect(await page.locator('tr.case.current').count()).toBe(0);
  expect(await page.locator('input[name=refs]:checked').count()).toBe(0);
  await page.fill('#list-search', 'market');
  await page.press('#list-search', 'Enter');
  await page.waitForURL((u) => u.searchParams.get('q') === 'market');
  // Newest first: the market tips in the order they were sent, backwards.
  const market = [TIPS[2]!, TIPS[1]!, TIPS[0]!].map((t) => refOf.get(t)!);
  expect(await page.locator('tr.case').evaluateAll((rows) => rows.map((r) => r.getAttribute('data-ref')))).toEqual(market);
  expect(await page.locator('#list-search').inputValue()).toBe('market');

  await page.locator('#list-search').blur();
  await page.keyboard.press('j');
  expect(await current(page)).toBe(market[0]);
  await page.keyboard.press('x');
  await page.keyboard.press('ArrowDown');
  await page.keyboard.press('j');
  expect(await current(page)).toBe(market[2]);
  await page.keyboard.press('x');
  await page.keyboard.press('k');
  expect(await current(page)).toBe(market[1]);
  expect(await page.locator('input[name=refs]:checked').evaluateAll((cs) => cs.map((c) => c.getAttribute('value')))).toEqual([market[0], market[2]]);

  await page.keyboard.press('?');
  expect(await page.locator('#keys-help').isVisible()).toBe(true);
  expect(await page.locator('#keys-help').textContent()).toContain(listEn.keys.toggle);
  await page.keyboard.press('Escape');
  expect(await page.locator('#keys-help').isVisible()).toBe(false);

  await page.selectOption('#bulk select[name=status]', 'in_review');
  await page.click(`#bulk button[formaction="/bulk/status"]`);
  await page.waitForURL(`${base}/bulk/status`);
  expect(await page.locator('dd.changed').getAttribute('data-count')).toBe('2');
  expect(await page.locator('dd.refused').getAttribute('data-count')).toBe('0');
  const { rows } = await h.db.query<{ ref: string; actor: string; status: string }>(
    `SELECT c.ref, e.actor, e.data->>'status' AS status FROM events e JOIN cases c ON c.id = e.case_id WHERE e.kind = 'case.status' ORDER BY c.ref`,
  );
  expect(rows).toEqual([market[0], market[2]].sort().map((ref) => ({ ref, actor: 'sup1', status: 'in_review' })));

  // Back to the list as it was (the search kept), the middle row opened with Enter.
  await page.click(`a:text-is("${listEn.backToList}")`);
  await page.waitForURL((u) => u.pathname === '/' && u.searchParams.get('q') === 'market');
  await page.keyboard.press('j');
  await page.keyboard.press('j');
  expect(await current(page)).toBe(market[1]);
  await page.keyboard.press('Enter');
  await page.waitForURL(`${base}/cases/${market[1]}`);
  expect(await page.locator('.tip').first().textContent()).toBe(TIPS[1]);

  // On a case page: s goes to the status, e to the note; a assigns it to me.
  await page.keyboard.press('s');
  expect(await page.evaluate(`document.activeElement && document.activeElement.getAttribute('name')`)).toBe('status');
  await page.locator('select[name=status]').blur();
  await page.keyboard.press('e');
  expect(await page.evaluate(`document.activeElement && document.activeElement.form && document.activeElement.form.getAttribute('action')`)).toBe(`/cases/${market[1]}/notes`);
  await page.locator('form[action$="/notes"] textarea[name=text]').blur();
  await page.keyboard.press('a');
  await page.locator('dd.assignee', { hasText: 'sup1' }).waitFor();

  expect(seen).toEqual({ foreign: [], dialogs: [] });
  expect((await verifyCaseLog(h.db)).problems).toEqual([]);
  for (let i = 0; i < TIPS.length; i++) expect(await page.content()).not.toContain(`addr-browser-list-secret-${i}`);
});
