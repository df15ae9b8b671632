/**
 * Issue 11, tests, the case page in Chromium (playwright-core, headless) against the hub's parts
 * running in this process on PostgreSQL: simulator adapter → intake worker → case log, the
 * dashboard with the outbound relay, the outbound worker sending to the simulator's connected
 * informants (test/helpers/harness.ts). An operator logs in (password and TOTP), answers an
 * informant with a canned reply through the composer, and the reply reaches that informant while
 * the page's delivery state turns to sent; merges two cases through the merge form; an image tip
 * shows a thumbnail our route re-encoded; an SVG attachment is only a download and nothing in it runs.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import type { AddressInfo } from 'node:net';
import type { Browser, BrowserContext, Page } from 'playwright-core';
import type { FastifyInstance } from 'fastify';
import sharp from 'sharp';
import { harness, type Harness } from '../helpers/harness';
import { launchBrowser, watch } from '../helpers/browser';
import { TEST_REDIS_URL, waitFor } from '../helpers/env';
import { buildApp } from '../../src/dashboard/app';
import { stringsFor } from '../../src/dashboard/i18n';
import { caseStrings } from '../../src/dashboard/i18n/case';
import { loadCannedReplies } from '../../src/dashboard/canned';
import { packageRoot } from '../../src/package-root';
import { addOperator, changePassword, confirmTotpEnrolment, startTotpEnrolment } from '../../src/operators/accounts';
import { createSession } from '../../src/operators/sessions';
import { totpCode } from '../../src/operators/totp';
import { OutboxRelay } from '../../src/queue/outbound-queue';
import { MediaStore } from '../../src/media/store';
import type { InboundMessage } from '../../src/contracts/inbound-message';

jest.setTimeout(60_000);

const PASSWORD = 'correct horse battery staple';
const s = stringsFor(null);
const cs = caseStrings(null);
const replies = loadCannedReplies(path.join(packageRoot(), 'config', 'replies.yaml'));
const SENDER = { asks: 'addr-bcase-secret-asks', photo: 'addr-bcase-secret-photo' };
const ASKS = 'Armed men stopped every car at the checkpoint near the old bridge tonight';
const PHOTO = 'Photo of the burned truck on the ring road, and a drawing someone sent me';
/** Were it rendered, it would open a dialog and fetch from another origin. */
const SVG = '<svg xmlns="http://www.w3.org/2000/svg" onload="alert(1)"><image href="http://tracker.example.invalid/x.png" width="10" height="10"/><script>alert(2)</script></svg>';

let h: Harness;
let app: FastifyInstance;
let relay: OutboxRelay;
let browser: Browser;
let base = '';
let totpSecret = '';
const contexts: BrowserContext[] = [];
let informant: ReturnType<Harness['informant']>;
const sha = { photo: '', svg: '' };

const refOf = async (text: string) =>
  (await h.db.query<{ ref: string }>('SELECT c.ref FROM cases c JOIN reports r ON r.case_id = c.id WHERE r.text = $1', [text])).rows[0]?.ref ?? null;
const caseUrl = (r: string) => `${base}/cases/${encodeURIComponent(r)}`;

/** A message whose files the store already holds, as `tiphub ingest` leaves them. */
async function withStored(m: InboundMessage): Promise<InboundMessage> {
  const store = new MediaStore(path.join(h.cfg.dataDir, 'media'));
  const media = [];
  for (const md of m.media) {
    const st = await store.putFile(md.ref, 10_000_000);
    media.push({ ...md, sha256: st.sha256, sniffedMime: st.mime, storedSize: st.size });
  }
  return { ...m, media };
}

/** Logs in through the pages: name and password, then the authenticator's code. */
async function logIn(page: Page): Promise<void> {
  await page.goto(`${base}/login`);
  await page.fill('input[name=name]', 'sup1');
  await page.fill('input[name=password]', PASSWORD);
  await page.click(`button:text-is("${s.logIn}")`);
  await page.waitForURL(`${base}/login/totp`);
  // The enrolment used this step's code; the next step's is accepted (one step of drift) and unused.
  await page.fill('input[name=code]', totpCode(totpSecret, Date.now() + 30_000));
  await page.click(`button:text-is("${s.verify}")`);
  await page.waitForURL(`${base}/`);
}

beforeAll(async () => {
  h = await harness('postgres', { conversation: { enabled: false } });
  const dir = path.join(h.dataDir, 'inbox');
  fs.mkdirSync(dir, { recursive: true });
  fs.writeFileSync(path.join(dir, 'truck.jpg'), await sharp({ create: { width: 640, height: 480, channels: 3, background: '#456' } }).jpeg().toBuffer());
  fs.writeFileSync(path.join(dir, 'drawing.svg'), SVG);

  h.startWorker();
  informant = h.informant(SENDER.asks);
  await informant.say(ASKS);
  await h.sink(await withStored(h.message({ id: 'bc-photo', from: SENDER.photo, text: PHOTO, sentAt: '2026-06-10T05:10:00Z', media: [{ file: 'inbox/truck.jpg' }, { file: 'inbox/drawing.svg' }] })));
  await h.drained();
  await waitFor(async () => (await refOf(ASKS)) !== null && (await refOf(PHOTO)) !== null, 10_000);
  const { rows } = await h.db.query<{ sha256: string; filename: string }>('SELECT sha256, filename FROM report_media');
  sha.photo = rows.find((r) => r.filename === 'truck.jpg')!.sha256;
  sha.svg = rows.find((r) => r.filename === 'drawing.svg')!.sha256;

  const c = await addOperator(h.db, 'sup1', 'supervisor');
  await changePassword(h.db, 'sup1', c.password, PASSWORD);
  const e = await startTotpEnrolment(h.db, 'sup1');
  totpSecret = e.secret;
  expect(await confirmTotpEnrolment(h.db, 'sup1', totpCode(e.secret))).toMatchObject({ ok: true });

  relay = new OutboxRelay(TEST_REDIS_URL, h.cfg, h.keyring, h.caselog.instance);
  h.startOutbound();
  app = await buildApp({
    db: h.db,
    log: h.log,
    cannedReplies: replies,
    mediaRoot: path.join(h.cfg.dataDir, 'media'),
    relayOutbox: async (ids) => {
      await relay.relay(h.db, ids);
    },
  });
  await app.listen({ host: '127.0.0.1', port: 0 });
  base = `http://127.0.0.1:${(app.server.address() as AddressInfo).port}`;
  browser = await launchBrowser();
});

afterAll(async () => {
  for (const c of contexts) await c.close().catch(() => undefined);
  await browser?.close();
  await app?.close();
  await relay?.close();
  await h?.close();
});

/** A fresh browser; `signedIn`: holding a session of sup1 (the first test logs in through the pages, a TOTP code is good once). */
async function newPage(signedIn = false): Promise<Page> {
  const context = await browser.newContext({ acceptDownloads: true });
  context.setDefaultTimeout(10_000);
  contexts.push(context);
  if (signedIn) await context.addCookies([{ name: 'tiphub', value: (await createSession(h.db, 'sup1')).token, url: base, httpOnly: true, sameSite: 'Strict' }]);
  return context.newPage();
}

test('a canned reply through the composer reaches the simulator informant, and the page shows it sent', async () => {
  const page = await newPage();
  const seen = watch(page, base);
  await logIn(page);
  const ref = (await refOf(ASKS))!;
  await page.goto(caseUrl(ref));
  // The informant wrote English: English is suggested.
  expect(await page.locator('.canned-form select[name=lang]').inputValue()).toBe('en');

  // The script puts the chosen reply in the reply box, in the language chosen.
  const chosen = replies.find((r) => r.id === 'where-when')!;
  await page.selectOption('.canned-form select[name=canned]', 'where-when');
  expect(await page.locator('#reply-text').inputValue()).toBe(chosen.texts.en);
  await page.selectOption('.canned-form select[name=lang]', 'fr');
  expect(await page.locator('#reply-text').inputValue()).toBe(chosen.texts.fr);
  await page.click(`form.reply-form button:text-is("${s.queueReply}")`);
  await page.waitForURL(caseUrl(ref));
  expect(await page.locator('p.error').count()).toBe(0);

  // The informant's chat session gets it, in French.
  const got = await informant.next(1);
  expect(got[0]!.text).toBe(chosen.texts.fr);

  // Its row: queued on the way, sent once the outbound worker recorded the send.
  const row = page.locator('tr.reply', { hasText: chosen.texts.fr });
  await waitFor(async () => {
    await page.reload();
    return (await row.getAttribute('class')) === 'reply state-sent';
  }, 15_000, 200);
  expect(await row.locator('td.delivery').textContent()).toMatch(new RegExp(`^${s.state_sent} \\d{4}-`));
  expect(await page.content()).not.toContain(SENDER.asks);
  expect(seen).toEqual({ foreign: [], dialogs: [] });
});

test('an image tip shows a thumbnail our route re-encoded; its SVG attachment is a download only and nothing in it runs', async () => {
  const page = await newPage(true);
  const seen = watch(page, base);
  const thumbs: { url: string; status: number; type: string | undefined }[] = [];
  page.on('response', (r) => {
    if (r.url().includes('/media/')) thumbs.push({ url: r.url(), status: r.status(), type: r.headers()['content-type'] });
  });
  const ref = (await refOf(PHOTO))!;
  await page.goto(caseUrl(ref));

  const img = page.locator('img.thumb');
  expect(await img.count()).toBe(1);
  expect(await img.getAttribute('src')).toBe(`/media/${sha.photo}/thumb`);
  await waitFor(async () => (await img.evaluate((el) => (el as unknown as { complete: boolean }).complete)) === true, 5_000, 50);
  const size = (await img.evaluate((el) => {
    const i = el as unknown as { naturalWidth: number; naturalHeight: number };
    return [i.naturalWidth, i.naturalHeight];
  })) as [number, number];
  expect(size).toEqual([320, 240]);
  expect(thumbs).toEqual([{ url: `${base}/media/${sha.photo}/thumb`, status: 200, type: 'image/webp' }]);

  // The SVG: one link, to the download route; nothing on the page loads it.
  const svgItem = page.locator('li.media-download');
  expect(await svgItem.count()).toBe(1);
  expect(await svgItem.locator('a').getAttribute('href')).toBe(`/media/${sha.svg}/download`);
  expect(await page.evaluate(`document.querySelectorAll('svg, object, embed, iframe, [src*="${sha.svg}"]').length`)).toBe(0);
  expect(await svgItem.textContent()).toContain(cs.downloadOnly);

  const [download] = await Promise.all([page.waitForEvent('download'), svgItem.locator('a').click()]);
  expect(download.suggestedFilename()).toBe(`${sha.svg.slice(0, 12)}.txt`);
  expect(fs.readFileSync((await download.path())!, 'utf8')).toBe(SVG);
  await page.waitForTimeout(300);
  expect(page.url()).toBe(caseUrl(ref));
  expect(await page.content()).not.toContain(SENDER.photo);
  // No alert, no request to the tracker the SVG names.
  expect(seen).toEqual({ foreign: [], dialogs: [] });
});

test('merging two cases through the merge form: the merged case shows both reports, the image still there', async () => {
  const page = await newPage(true);
  const foreign: string[] = [];
  page.on('request', (r) => {
    if (!r.url().startsWith(base)) foreign.push(r.url());
  });
  // The merge form asks first: say yes, and remember what was asked.
  const asked: string[] = [];
  page.on('dialog', (d) => {
    asked.push(`${d.type()}: ${d.message()}`);
    void d.accept();
  });
  const from = (await refOf(PHOTO))!;
  const into = (await refOf(ASKS))!;
  expect(from).not.toBe(into);
  await page.goto(caseUrl(from));
  await page.fill('form[action$="/merge"] input[name=into]', into);
  await page.click(`form[action$="/merge"] button:text-is("${s.merge}")`);
  await page.waitForURL(caseUrl(into));
  expect(await page.locator('p.error').count()).toBe(0);
  expect(asked).toEqual([`confirm: ${s.mergeInto}?`]);

  expect(await page.locator('h1').textContent()).toBe(`${s.caseRef} ${into}`);
  const tips = await page.locator('article.report .tip').allTextContents();
  expect(tips.sort()).toEqual([ASKS, PHOTO].sort());
  expect(await page.locator(`img.thumb[src="/media/${sha.photo}/thumb"]`).count()).toBe(1);
  expect(await refOf(PHOTO)).toBe(into);
  // The old reference leads to the merged case.
  await page.goto(caseUrl(from));
  expect(await page.locator('h1').textContent()).toBe(`${s.caseRef} ${into}`);
  const { rows } = await h.db.query<{ kind: string; actor: string }>(
    `SELECT e.kind, e.actor FROM events e JOIN cases c ON c.id = e.case_id WHERE c.ref = $1 AND e.actor = 'sup1' ORDER BY e.seq`,
    [into],
  );
  expect(rows.map((r) => r.kind)).toContain('reply.queued');
  expect(rows.some((r) => r.kind.startsWith('case.merge'))).toBe(true);
  expect(foreign).toEqual([]);
});
