/**
 * Issue 11, item 10: the interface in English and Arabic, chosen per operator. The string tables
 * (the core one and each page area's in src/dashboard/i18n/) have one shape per language and no
 * empty string; the Arabic ones are written in Arabic script; then, in Debian's Chromium, an
 * operator logs in, switches to Arabic in the settings, the list reads right to left (the document's
 * computed direction, the header mirrored, a tip's own direction kept), and switches back.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import type { AddressInfo } from 'node:net';
import type { Browser } from 'playwright-core';
import type { FastifyInstance } from 'fastify';
import { harness, type Harness } from '../helpers/harness';
import { launchBrowser, watch } from '../helpers/browser';
import { buildApp } from '../../src/dashboard/app';
import { ar, en, INTERFACE_LANGUAGES, LANGUAGES, languageFromAcceptLanguage, stringsFor } from '../../src/dashboard/i18n';
import { addOperator, changePassword, confirmTotpEnrolment, startTotpEnrolment } from '../../src/operators/accounts';
import { totpCode } from '../../src/operators/totp';

const ARABIC_SCRIPT = /[\u0600-\u06FF]/;
/** Core keys whose value is the same in every language (not words). */
const NOT_WORDS = new Set(['lang', 'dir', 'appName']);

describe('string tables', () => {
  test('the Arabic table has exactly the keys of the English one, none empty, in Arabic script', () => {
    expect(Object.keys(ar).sort()).toEqual(Object.keys(en).sort());
    for (const [k, v] of Object.entries(en)) expect([k, v.trim().length > 0]).toEqual([k, true]);
    for (const [k, v] of Object.entries(ar)) {
      expect([k, v.trim().length > 0]).toEqual([k, true]);
      if (!NOT_WORDS.has(k)) expect([k, ARABIC_SCRIPT.test(v)]).toEqual([k, true]);
    }
    expect(ar.dir).toBe('rtl');
    expect(ar.lang).toBe('ar');
    expect(en.dir).toBe('ltr');
    expect(INTERFACE_LANGUAGES).toEqual(['en', 'ar']);
    for (const [lang, table] of Object.entries(LANGUAGES)) expect(table.lang).toBe(lang);
  });

  test('an operator language without a table falls back to English', () => {
    expect(stringsFor('ar')).toBe(ar);
    expect(stringsFor('en')).toBe(en);
    for (const other of ['fr', 'ckb', '', null, undefined, '__proto__', 'constructor', 'toString']) expect(stringsFor(other)).toBe(en);
  });

  test("Accept-Language: the known language of the highest weight, else English", () => {
    expect(languageFromAcceptLanguage('ar')).toBe('ar');
    expect(languageFromAcceptLanguage('ar-IQ,ar;q=0.9,en-US;q=0.8')).toBe('ar');
    expect(languageFromAcceptLanguage('en-GB,en;q=0.9,ar;q=0.8')).toBe('en');
    expect(languageFromAcceptLanguage('fr;q=1,ar;q=0.3,en;q=0.2')).toBe('ar');
    expect(languageFromAcceptLanguage('en;q=0.2, AR;q=0.7')).toBe('ar');
    expect(languageFromAcceptLanguage('ar;q=0, en;q=0.1')).toBe('en');
    expect(languageFromAcceptLanguage('ar;q=banana')).toBe('en');
    expect(languageFromAcceptLanguage('de, fr')).toBe('en');
    expect(languageFromAcceptLanguage('*')).toBe('en');
    expect(languageFromAcceptLanguage('')).toBe('en');
    expect(languageFromAcceptLanguage(undefined)).toBe('en');
    expect(languageFromAcceptLanguage(`${'x,'.repeat(5000)}ar`)).toBe('en');
  });

  // Each page area keeps its strings in src/dashboard/i18n/<area>.ts with an `<area>Strings(language)`.
  const dir = path.join(__dirname, '../../src/dashboard/i18n');
  const areas = fs.existsSync(dir) ? fs.readdirSync(dir).filter((f) => f.endsWith('.ts')) : [];
  test.each(areas)('the area table %s: the same keys in English and Arabic, none empty, Arabic in Arabic script', (file) => {
    // eslint-disable-next-line @typescript-eslint/no-require-imports
    const mod = require(path.join(dir, file)) as Record<string, unknown>;
    const choose = Object.entries(mod).find(([name, v]) => /Strings$/.test(name) && typeof v === 'function')?.[1] as ((l: string | null) => Record<string, unknown>) | undefined;
    expect(choose).toBeDefined();
    const english = choose!('en');
    const arabic = choose!('ar');
    expect(choose!('zz')).toEqual(english);
    expect(choose!(null)).toEqual(english);
    expect(Object.keys(arabic).sort()).toEqual(Object.keys(english).sort());
    const values = (t: Record<string, unknown>) => Object.entries(t).filter(([, v]) => typeof v === 'string') as [string, string][];
    for (const [k, v] of [...values(english), ...values(arabic)]) expect([k, v.trim().length > 0]).toEqual([k, true]);
    // Most Arabic strings hold Arabic words (a few may be only a format or a name, like CSV).
    const arabicWords = values(arabic).filter(([, v]) => ARABIC_SCRIPT.test(v)).length;
    expect(arabicWords).toBeGreaterThanOrEqual(Math.ceil(values(arabic).length * 0.8));
  });
});

describe('in a browser', () => {
  jest.setTimeout(60_000);
  const PASSWORD = 'correct horse battery staple';
  const TIP = 'Checkpoint closed on the north road near the bridge since early morning';
  let h: Harness;
  let app: FastifyInstance;
  let browser: Browser;
  let base: string;
  let secret = '';

  beforeAll(async () => {
    h = await harness('postgres', { conversation: { enabled: false } });
    await h.sink(h.message({ id: 'i1', from: 'addr-i18n-secret-01', text: TIP, sentAt: '2026-06-10T05:00:00Z' }));
    await h.sink(h.message({ id: 'i2', from: 'addr-i18n-secret-02', text: 'انقطاع الكهرباء في الحي الشرقي منذ ثلاثة أيام', sentAt: '2026-06-10T05:01:00Z' }));
    h.startWorker();
    await h.drained();
    await h.stopWorker();
    const c = await addOperator(h.db, 'lina', 'admin');
    await changePassword(h.db, 'lina', c.password, PASSWORD);
    const e = await startTotpEnrolment(h.db, 'lina');
    secret = e.secret;
    expect(await confirmTotpEnrolment(h.db, 'lina', totpCode(secret, Date.now() - 30_000))).toMatchObject({ ok: true });
    app = await buildApp({ db: h.db });
    await app.listen({ host: '127.0.0.1', port: 0 });
    base = `http://127.0.0.1:${(app.server.address() as AddressInfo).port}`;
    browser = await launchBrowser();
  });

  afterAll(async () => {
    await browser?.close();
    await app?.close();
    await h?.close();
  });

  test('log in, switch to Arabic in the settings: the list reads right to left; then back to English', async () => {
    const context = await browser.newContext({ viewport: { width: 1200, height: 700 } });
    context.setDefaultTimeout(5_000);
    const page = await context.newPage();
    const seen = watch(page, base);
    try {
      await page.goto(`${base}/login`);
      await page.fill('input[name=name]', 'lina');
      await page.fill('input[name=password]', PASSWORD);
      await page.click(`button:text-is("${en.logIn}")`);
      await page.waitForURL(`${base}/login/totp`);
      await page.fill('input[name=code]', totpCode(secret));
      await page.click(`button:text-is("${en.verify}")`);
      await page.waitForURL(`${base}/`);
      const direction = () => page.evaluate('getComputedStyle(document.documentElement).direction');
      // In the page (this project's types have no DOM): the element's computed direction.
      const ownDirection = (el: unknown) => (globalThis as unknown as { getComputedStyle(e: unknown): { direction: string } }).getComputedStyle(el).direction;
      expect(await direction()).toBe('ltr');

      await page.click(`header a:text-is("${en.navSettings}")`);
      await page.waitForURL(`${base}/settings`);
      await page.selectOption('select[name=language]', 'ar');
      await page.click(`form[action="/settings/language"] button:text-is("${en.save}")`);
      await page.waitForURL(`${base}/settings?done=language`);
      expect(await page.locator('p.notice').textContent()).toBe(ar.languageSaved);

      await page.click(`header a:text-is("${ar.cases}")`);
      await page.waitForURL(`${base}/`);
      expect(await page.getAttribute('html', 'lang')).toBe('ar');
      expect(await direction()).toBe('rtl');
      expect(await page.locator('h1').textContent()).toBe(ar.cases);
      // The header mirrors: its first link (the list) stands right of its last element (the logout form).
      const first = (await page.locator('header nav a').first().boundingBox())!;
      const logout = (await page.locator('header form').boundingBox())!;
      expect(first.x).toBeGreaterThan(logout.x);
      // The table too: its first column (the case) is the rightmost.
      const heads = page.locator('thead th');
      expect((await heads.first().boundingBox())!.x).toBeGreaterThan((await heads.last().boundingBox())!.x);
      // A tip keeps its own direction: an English one left to right inside the Arabic page.
      const tip = page.locator('td.first-words', { hasText: 'Checkpoint' });
      expect(await tip.getAttribute('dir')).toBe('auto');
      expect(await tip.evaluate(ownDirection)).toBe('ltr');
      const arabicTip = page.locator('td.first-words', { hasText: 'انقطاع' });
      expect(await arabicTip.evaluate(ownDirection)).toBe('rtl');
      if (process.env.TIPHUB_TEST_SCREENSHOTS) await page.screenshot({ path: path.join(process.env.TIPHUB_TEST_SCREENSHOTS, 'list-ar.png'), fullPage: true });

      await page.click(`header a:text-is("${ar.navSettings}")`);
      if (process.env.TIPHUB_TEST_SCREENSHOTS) await page.screenshot({ path: path.join(process.env.TIPHUB_TEST_SCREENSHOTS, 'settings-ar.png'), fullPage: true });
      await page.selectOption('select[name=language]', 'en');
      await page.click(`form[action="/settings/language"] button:text-is("${ar.save}")`);
      await page.waitForURL(`${base}/settings?done=language`);
      expect(await page.getAttribute('html', 'lang')).toBe('en');
      expect(await direction()).toBe('ltr');
      await page.click(`header a:text-is("${en.cases}")`);
      await page.waitForURL(`${base}/`);
      expect(await direction()).toBe('ltr');
      expect(await page.locator('h1').textContent()).toBe(en.cases);
      expect(seen).toEqual({ foreign: [], dialogs: [] });
      expect(await page.content()).not.toContain('addr-i18n-secret');
    } finally {
      await context.close();
    }
  });
});
