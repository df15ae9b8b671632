/**
 * Issue 11, item 9, in a real browser (Debian's Chromium through playwright-core, headless): the
 * overview's chart and map render (non-empty boxes under the CSP), a map point leads to the list
 * filtered by its place, and no request leaves the origin; the Arabic page keeps its pictures
 * left to right.
 */
import type { AddressInfo } from 'node:net';
import type { Browser, BrowserContext, Page } from 'playwright-core';
import type { FastifyInstance } from 'fastify';
import { harness, type Harness } from '../helpers/harness';
import { launchBrowser, watch } from '../helpers/browser';
import { buildApp } from '../../src/dashboard/app';
import { isRejected } from '../../src/contracts/inbound-message';
import { addOperator, setOperatorLanguage } from '../../src/operators/accounts';
import { createSession } from '../../src/operators/sessions';

jest.setTimeout(60_000);

const TIPS: [string, string][] = [
  ['addr-bov-secret-1', 'A drone flew over the bridge in Mosul this morning'],
  ['addr-bov-secret-2', 'Shelling was heard from the hills outside Mosul at dawn'],
  ['addr-bov-secret-3', 'A rocket landed near the airport road in Basra today'],
  ['addr-bov-secret-4', 'Explosives were found in a parked car in Erbil near the citadel'],
];

let h: Harness;
let app: FastifyInstance;
let browser: Browser;
let base = '';
const contexts: BrowserContext[] = [];

async function signedIn(name: string): Promise<Page> {
  const context = await browser.newContext();
  context.setDefaultTimeout(5_000);
  contexts.push(context);
  const session = await createSession(h.db, name);
  await context.addCookies([{ name: 'tiphub', value: session.token, url: base, httpOnly: true, sameSite: 'Strict' }]);
  return context.newPage();
}

const boxOf = async (page: Page, selector: string) => {
  const box = await page.locator(selector).first().boundingBox();
  expect(box).not.toBeNull();
  return box!;
};

beforeAll(async () => {
  h = await harness('postgres', { conversation: { enabled: false } });
  const now = Date.now();
  let n = 0;
  for (const [from, text] of TIPS) {
    const at = new Date(now - (n + 1) * 40 * 60_000);
    const m = h.adapter.normalize(
      { line: { id: `bov${n++}`, from, text, sentAt: at.toISOString() }, baseDir: h.dataDir },
      { account: 'simulator', receivedAt: at, messageId: (p) => h.keyring.messageId('simulator', p) },
    );
    if (isRejected(m)) throw new Error(m.reason);
    await h.sink(m);
  }
  h.startWorker();
  await h.drained();
  await h.stopWorker();
  await addOperator(h.db, 'lead1', 'supervisor');
  await addOperator(h.db, 'lead2', 'analyst');
  await setOperatorLanguage(h.db, 'lead2', 'ar');
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

test('the chart and the map render; a map point opens the list of its place; nothing leaves the origin', async () => {
  const page = await signedIn('lead1');
  const seen = watch(page, base);
  // Whatever the page loads answers (the browser's own favicon guess aside), and the CSP refuses nothing it needs.
  const failed: string[] = [];
  const errors: string[] = [];
  page.on('response', (r) => {
    if (r.status() >= 400 && new URL(r.url()).pathname !== '/favicon.ico') failed.push(`${r.status()} ${r.url()}`);
  });
  page.on('console', (m) => {
    if (m.type() === 'error' && !m.text().startsWith('Failed to load resource')) errors.push(m.text());
  });
  await page.goto(`${base}/overview`);
  for (const selector of ['svg.chart', 'svg.chart rect.bar', 'svg.map', 'svg.map path.land', 'svg.map path.borders', 'svg.map a.map-point circle']) {
    const box = await boxOf(page, selector);
    expect(box.width).toBeGreaterThan(0);
    expect(box.height).toBeGreaterThan(0);
  }
  // The land fills much of the map: the borders were projected onto the region, not the world.
  const map = await boxOf(page, 'svg.map');
  const land = await boxOf(page, 'svg.map path.land');
  expect(land.width * land.height).toBeGreaterThan(0.5 * map.width * map.height);
  // Mosul's two cases make the biggest circle; it lies north-west of Basra's.
  const mosul = await boxOf(page, 'svg.map a.map-point[data-place="Mosul"] circle');
  const basra = await boxOf(page, 'svg.map a.map-point[data-place="Basra"] circle');
  expect(mosul.width).toBeGreaterThan(basra.width);
  expect(mosul.y).toBeLessThan(basra.y);
  expect(mosul.x).toBeLessThan(basra.x);
  expect(await page.locator('svg.map a.map-point').count()).toBe(3);

  await page.locator('svg.map a.map-point[data-place="Mosul"]').click();
  await page.waitForURL(`${base}/?place=Mosul`);
  const rows = page.locator('#case-rows tr.case');
  await rows.first().waitFor();
  expect(await rows.count()).toBe(2);
  for (const text of await page.locator('#case-rows tr.case td.first-words').allTextContents()) expect(text).toContain('Mosul');

  expect(seen.foreign).toEqual([]);
  expect(seen.dialogs).toEqual([]);
  expect(failed).toEqual([]);
  expect(errors).toEqual([]);
});

test('Arabic: the page right to left where the interface is, the pictures left to right, labels in Arabic', async () => {
  const page = await signedIn('lead2');
  const seen = watch(page, base);
  await page.goto(`${base}/overview`);
  // The browser's getComputedStyle (this file is compiled without the DOM's types).
  type Styles = { getComputedStyle(el: unknown): { direction: string } };
  const direction = (selector: string) => page.locator(selector).first().evaluate((el) => (globalThis as unknown as Styles).getComputedStyle(el).direction);
  expect(await direction('svg.map')).toBe('ltr');
  expect(await direction('svg.chart')).toBe('ltr');
  const box = await boxOf(page, 'svg.map a.map-point[data-place="Erbil"] circle');
  expect(box.width).toBeGreaterThan(0);
  expect(await page.locator('svg.map a.map-point[data-place="Erbil"] title').textContent()).toContain('أربيل');
  expect(await page.locator('svg.map text.map-label', { hasText: 'الموصل' }).count()).toBe(1);
  expect(seen.foreign).toEqual([]);
});
