/**
 * The channels page in a real browser (Debian's Chromium via playwright-core): an admin follows
 * the header's link, sees each channel's state as Redis holds it and, while the WhatsApp Web
 * session waits to be linked, its QR code (SVG, drawn here, nothing fetched elsewhere) with the
 * page reloading itself; once the channel says it is connected the code is gone. Analysts are
 * refused the page. States are written by the same function the adapters' ports use.
 */
import type { AddressInfo } from 'node:net';
import type { Browser } from 'playwright-core';
import type { FastifyInstance } from 'fastify';
import type { Redis } from 'ioredis';
import { buildApp } from '../../src/dashboard/app';
import { stringsFor } from '../../src/dashboard/i18n';
import { channelsEn } from '../../src/dashboard/i18n/channels';
import { openCaseLogAccess, type CaseLogAccess } from '../../app/hub/access';
import { addOperator, changePassword, confirmTotpEnrolment, startTotpEnrolment } from '../../src/operators/accounts';
import { totpCode } from '../../src/operators/totp';
import { readChannelQr, readChannelStates, writeChannelState } from '../../src/channels/state';
import { connectRedis } from '../../src/queue/redis';
import { launchBrowser, watch } from '../helpers/browser';
import { capturingLogger, setup, TEST_REDIS_URL, type TestSetup } from '../helpers/env';

jest.setTimeout(60_000);

const PASSWORD = 'correct horse battery staple';
const s = stringsFor(null);
const t = channelsEn;
const QR = '2@Zm9vYmFyYmF6cXV4,pairing-code-of-the-test,another-part==';

let env: TestSetup;
let access: CaseLogAccess;
let app: FastifyInstance;
let browser: Browser;
let base: string;
let secret: string;
let anaSecret: string;
let redis: Redis;

beforeAll(async () => {
  env = await setup('postgres');
  const { log } = capturingLogger('warn');
  access = await openCaseLogAccess(env.cfg, log, { role: 'test' });
  const db = access.local!.db;
  const c = await addOperator(db, 'boss', 'admin');
  await changePassword(db, 'boss', c.password, PASSWORD);
  const e = await startTotpEnrolment(db, 'boss');
  secret = e.secret;
  expect(await confirmTotpEnrolment(db, 'boss', totpCode(e.secret, Date.now() - 30_000))).toMatchObject({ ok: true });
  const a = await addOperator(db, 'ana', 'analyst');
  await changePassword(db, 'ana', a.password, PASSWORD);
  const ea = await startTotpEnrolment(db, 'ana');
  anaSecret = ea.secret;
  expect(await confirmTotpEnrolment(db, 'ana', totpCode(ea.secret, Date.now() - 30_000))).toMatchObject({ ok: true });
  redis = connectRedis(TEST_REDIS_URL);
  const prefix = env.cfg.queue.prefix;
  const names = ['simulator', 'telegram', 'whatsapp'];
  app = await buildApp({
    db,
    log,
    channelStates: {
      async read() {
        const list = await readChannelStates(redis, prefix, names);
        return { channels: await Promise.all(list.map(async (x) => ({ ...x, enabled: x.channel !== 'telegram', qr: await readChannelQr(redis, prefix, x.channel) }))) };
      },
    },
  });
  await app.listen({ host: '127.0.0.1', port: 0 });
  base = `http://127.0.0.1:${(app.server.address() as AddressInfo).port}`;
  browser = await launchBrowser();
});

afterAll(async () => {
  await browser?.close();
  await app?.close();
  redis?.disconnect();
  await access?.close();
  await env?.cleanup();
});

async function logIn(name: string, totpSecret: string) {
  const context = await browser.newContext();
  context.setDefaultTimeout(5_000);
  const page = await context.newPage();
  const seen = watch(page, base);
  await page.goto(`${base}/login`);
  await page.fill('input[name=name]', name);
  await page.fill('input[name=password]', PASSWORD);
  await page.click(`button:text-is("${s.logIn}")`);
  await page.waitForURL(`${base}/login/totp`);
  await page.fill('input[name=code]', totpCode(totpSecret));
  await page.click(`button:text-is("${s.verify}")`);
  await page.waitForURL(`${base}/`);
  return { context, page, seen };
}

test('an admin finds the WhatsApp QR code on the channels page while it waits, and its state once linked', async () => {
  const prefix = env.cfg.queue.prefix;
  await writeChannelState(redis, prefix, 'whatsapp', { state: 'needs-login', mode: 'web', qr: QR }, 'process-a');
  await writeChannelState(redis, prefix, 'simulator', { state: 'connected', mode: 'local' }, 'process-a');

  const { context, page, seen } = await logIn('boss', secret);

  const answer = page.waitForResponse((r) => r.url() === `${base}/admin/channels`);
  await page.click(`header a:text-is("${s.navChannels}")`);
  expect((await answer).headers()['refresh']).toBe('10');
  expect(await page.locator('h1').textContent()).toBe(t.title);
  expect(await page.locator('tr[data-channel=whatsapp] td').allTextContents()).toEqual(['whatsapp', t.yes, t['state_needs-login'], expect.any(String), 'web', t.never]);
  expect(await page.locator('tr[data-channel=telegram] td').nth(2).textContent()).toBe(t.notRunning);
  const qr = page.locator('section.link-qr[data-channel=whatsapp] .qr svg');
  expect(await qr.count()).toBe(1);
  const box = await qr.boundingBox();
  expect(box!.width).toBeGreaterThan(100);
  // The code itself is drawn, never written out as text.
  expect(await page.content()).not.toContain(QR);

  // Linked: the next load shows it connected, without a code, and stops reloading.
  await writeChannelState(redis, prefix, 'whatsapp', { state: 'connected', mode: 'web' }, 'process-a');
  const again = await page.reload();
  expect(again!.headers()['refresh']).toBeUndefined();
  expect(await page.locator('tr[data-channel=whatsapp] td').nth(2).textContent()).toBe(t.state_connected);
  expect(await page.locator('section.link-qr').count()).toBe(0);
  expect(await readChannelQr(redis, prefix, 'whatsapp')).toBeNull();
  expect(seen.foreign).toEqual([]);
  expect(seen.dialogs).toEqual([]);
  await context.close();
});

test('an analyst has no link to the channels page and is refused it', async () => {
  await writeChannelState(redis, env.cfg.queue.prefix, 'whatsapp', { state: 'needs-login', mode: 'web', qr: QR }, 'process-a');
  const { context, page } = await logIn('ana', anaSecret);
  expect(await page.locator(`header a:text-is("${s.navChannels}")`).count()).toBe(0);
  const res = await page.goto(`${base}/admin/channels`);
  expect(res!.status()).toBe(403);
  expect(await page.locator('svg').count()).toBe(0);
  await context.close();
});
