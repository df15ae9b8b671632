/**
 * Issue 11, item 5, live: the case list changes without a reload. The intake worker publishes the
 * references of the cases a batch wrote to on `${queue.prefix}:case-updates` (references only,
 * never content); the dashboard's GET /events forwards them to logged-in operators; the list's
 * script fetches the rows again. Chromium (playwright-core) on the list page while a simulator tip
 * goes through the intake worker; and /events over HTTP: anonymous clients refused, the stream
 * ending at logout and when an admin revokes the session.
 */
import type { AddressInfo } from 'node:net';
import type { Browser, BrowserContext } from 'playwright-core';
import type { FastifyInstance } from 'fastify';
import type { Redis } from 'ioredis';
import { harness, type Harness } from '../helpers/harness';
import { launchBrowser, watch } from '../helpers/browser';
import { TEST_REDIS_URL, waitFor } from '../helpers/env';
import { buildApp } from '../../src/dashboard/app';
import { addOperator, changePassword, confirmTotpEnrolment, startTotpEnrolment } from '../../src/operators/accounts';
import { createSession, revokeSession } from '../../src/operators/sessions';
import { totpCode } from '../../src/operators/totp';
import { connectRedis } from '../../src/queue/redis';
import { caseUpdatesChannel, caseUpdatesMessage, parseCaseUpdates, subscribeCaseUpdates, type CaseUpdatesSubscription } from '../../src/queue/case-updates';

jest.setTimeout(30_000);

const PASSWORD = 'correct horse battery staple';
const FIRST = 'Roadblock at the southern entrance of the market since dawn';
const LIVE = 'Bakery on the main square has had no flour for a week';
const SENDER = { first: 'addr-live-secret-first', live: 'addr-live-secret-live' };

let h: Harness;
let app: FastifyInstance;
let updates: CaseUpdatesSubscription;
let browser: Browser;
let base: string;
let listener: Redis;
const published: string[] = [];
const contexts: BrowserContext[] = [];

async function refOf(text: string): Promise<string | null> {
  const { rows } = await h.db.query<{ ref: string }>('SELECT c.ref FROM cases c JOIN reports r ON r.case_id = c.id WHERE r.text = $1', [text]);
  return rows[0]?.ref ?? null;
}

beforeAll(async () => {
  h = await harness('postgres', { conversation: { enabled: false } });
  const c = await addOperator(h.db, 'sup1', 'supervisor');
  await changePassword(h.db, 'sup1', c.password, PASSWORD);
  const e = await startTotpEnrolment(h.db, 'sup1');
  expect(await confirmTotpEnrolment(h.db, 'sup1', totpCode(e.secret))).toMatchObject({ ok: true });

  // Everything published on the channel, as any subscriber sees it.
  listener = connectRedis(TEST_REDIS_URL, { forWorker: true });
  listener.on('message', (_ch: string, m: string) => published.push(m));
  await listener.subscribe(caseUpdatesChannel(h.cfg.queue.prefix));

  updates = subscribeCaseUpdates(TEST_REDIS_URL, h.cfg.queue.prefix, h.log);
  await updates.ready;
  app = await buildApp({ db: h.db, log: h.log, caseUpdates: updates, liveHeartbeatMs: 500 });
  await app.listen({ host: '127.0.0.1', port: 0 });
  base = `http://127.0.0.1:${(app.server.address() as AddressInfo).port}`;

  // One case before the page opens; the worker (same Redis prefix as the queue) runs for the file.
  h.startWorker();
  await h.sink(h.message({ id: 'l0', from: SENDER.first, text: FIRST, sentAt: '2026-06-10T05:00:00Z' }));
  await h.drained();
  await waitFor(async () => (await refOf(FIRST)) !== null, 10_000);
  browser = await launchBrowser();
});

afterAll(async () => {
  for (const c of contexts) await c.close().catch(() => undefined);
  await browser?.close();
  await app?.close();
  await updates?.close();
  listener?.disconnect();
  await h?.close();
});

test('a new tip appears in the open list without a reload, and what was published holds case references only', async () => {
  const context = await browser.newContext();
  contexts.push(context);
  context.setDefaultTimeout(5_000);
  const session = await createSession(h.db, 'sup1');
  await context.addCookies([{ name: 'tiphub', value: session.token, url: base, httpOnly: true, sameSite: 'Strict' }]);
  const page = await context.newPage();
  const seen = watch(page, base);
  const loads: string[] = [];
  page.on('load', () => loads.push(page.url()));
  const stream = page.waitForResponse((r) => new URL(r.url()).pathname === '/events');
  await page.goto(`${base}/`);
  expect((await stream).headers()['content-type']).toMatch(/^text\/event-stream/);
  expect(await page.locator('tr.case', { hasText: FIRST }).count()).toBe(1);
  expect(await page.locator('tr.case', { hasText: LIVE }).count()).toBe(0);
  // A mark on this document: a reload would lose it.
  await page.evaluate(() => {
    (globalThis as unknown as { liveMark: number }).liveMark = 42;
  });
  published.length = 0;

  const started = Date.now();
  await h.sink(h.message({ id: 'l1', from: SENDER.live, text: LIVE, sentAt: '2026-06-10T05:30:00Z' }));
  const row = page.locator('tr.case', { hasText: LIVE });
  await row.waitFor({ timeout: 5_000 });
  const took = Date.now() - started;
  const r = await refOf(LIVE);
  expect(r).not.toBeNull();
  expect(await row.getAttribute('data-ref')).toBe(r);
  expect(await page.evaluate(() => (globalThis as unknown as { liveMark?: number }).liveMark)).toBe(42);
  expect(loads).toEqual([`${base}/`]);
  expect(await page.locator('tr.case', { hasText: FIRST }).count()).toBe(1);
  // The tip's words in the row are the page's escaped text, not markup.
  expect(await row.locator('td.first-words').textContent()).toBe(LIVE);
  expect(seen).toEqual({ foreign: [], dialogs: [] });
  expect(took).toBeLessThan(5_000);

  // Published: references only.
  await waitFor(async () => published.length > 0, 5_000);
  const pseudonym = h.keyring.pseudonym('simulator', SENDER.live);
  for (const m of published) {
    expect(Object.keys(JSON.parse(m) as object)).toEqual(['refs']);
    expect(parseCaseUpdates(m).every((x) => /^[A-Za-z0-9-]{1,20}$/.test(x))).toBe(true);
    for (const secret of [LIVE, 'Bakery', pseudonym, SENDER.live, 'simulator']) expect(m).not.toContain(secret);
  }
  expect(published.flatMap(parseCaseUpdates)).toContain(r);
});

test('case update messages carry nothing but well-formed references', () => {
  expect(caseUpdatesMessage(['C-1', 'C-1', '<script>', 'x'.repeat(30), 'A2'])).toBe('{"refs":["C-1","A2"]}');
  expect(caseUpdatesMessage(['no good'])).toBeNull();
  expect(parseCaseUpdates('{"refs":["C-1","<b>"],"text":"leak"}')).toEqual(['C-1']);
  expect(parseCaseUpdates('not json')).toEqual([]);
});

test('/events refuses an anonymous client', async () => {
  // (Over HTTP: app.inject's light-my-request needs an ES module jest cannot load here.)
  const forged = await fetch(`${base}/events`, { headers: { cookie: 'tiphub=not-a-session-token-at-all-xxxxxxxx' }, redirect: 'manual' });
  expect(forged.status).toBe(302);
  expect(forged.headers.get('location')).toBe('/login');
  await forged.body?.cancel();
  const res = await fetch(`${base}/events`, { redirect: 'manual' });
  expect(res.status).toBe(302);
  expect(res.headers.get('location')).toBe('/login');
  expect(res.headers.get('content-type') ?? '').not.toMatch(/event-stream/);
  await res.body?.cancel();
});

/** Opens /events for a session; resolves `ended` when the server closes the stream. */
async function openStream(token: string): Promise<{ headers: Headers; text: () => string; ended: Promise<void>; abort: () => void }> {
  const ac = new AbortController();
  const res = await fetch(`${base}/events`, { headers: { cookie: `tiphub=${token}` }, signal: ac.signal, redirect: 'manual' });
  expect(res.status).toBe(200);
  let got = '';
  const reader = res.body!.getReader();
  const ended = (async () => {
    const dec = new TextDecoder();
    for (;;) {
      const { done, value } = await reader.read();
      if (done) return;
      got += dec.decode(value);
    }
  })().catch(() => undefined);
  return { headers: res.headers, text: () => got, ended, abort: () => ac.abort() };
}

const within = <T>(p: Promise<T>, ms: number) =>
  Promise.race([p.then(() => true), new Promise<boolean>((resolve) => setTimeout(() => resolve(false), ms))]);

test('a live stream: our headers, heartbeats, coalesced case events, and it ends at logout', async () => {
  const session = await createSession(h.db, 'sup1');
  const s = await openStream(session.token);
  try {
    expect(s.headers.get('content-type')).toMatch(/^text\/event-stream/);
    expect(s.headers.get('content-security-policy')).toContain("default-src 'self'");
    expect(s.headers.get('x-content-type-options')).toBe('nosniff');
    await waitFor(async () => s.text().includes(': heartbeat'), 3_000);
    await h.sink(h.message({ id: 'l2', from: SENDER.live, text: 'Second report about the bakery flour shortage', sentAt: '2026-06-10T05:40:00Z' }));
    await waitFor(async () => s.text().includes('event: cases'), 5_000);
    const data = /event: cases\ndata: (.*)\n/.exec(s.text())![1]!;
    expect(Object.keys(JSON.parse(data) as object)).toEqual(['refs']);
    expect(data).not.toContain('bakery');

    const out = await fetch(`${base}/logout`, {
      method: 'POST',
      redirect: 'manual',
      headers: { cookie: `tiphub=${session.token}`, origin: base, 'content-type': 'application/x-www-form-urlencoded' },
      body: `_csrf=${encodeURIComponent(session.csrf)}`,
    });
    expect(out.status).toBe(303);
    await out.body?.cancel();
    expect(await within(s.ended, 2_000)).toBe(true);
  } finally {
    s.abort();
  }
});

test('a live stream ends when an admin revokes its session (at the next heartbeat)', async () => {
  const session = await createSession(h.db, 'sup1');
  const s = await openStream(session.token);
  try {
    expect(await revokeSession(h.db, session.tokenHash, 'admin1')).toBe(true);
    expect(await within(s.ended, 3_000)).toBe(true);
    const again = await fetch(`${base}/events`, { headers: { cookie: `tiphub=${session.token}` }, redirect: 'manual' });
    expect(again.status).toBe(302);
    await again.body?.cancel();
  } finally {
    s.abort();
  }
});
