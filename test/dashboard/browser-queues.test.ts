/**
 * Issue 14, item 4, in a real browser (Debian's Chromium via playwright-core): an admin opens Bull
 * Board under /admin/queues (its web fonts blocked by the page's CSP, the page still works) and
 * retries a job that failed for real, through Bull Board's own button (its call carries the
 * session's CSRF token; one without it is refused); an admin retries and drops quarantined
 * messages from the quarantine page; an analyst is refused Bull Board, its API and the page.
 */
import type { AddressInfo } from 'node:net';
import type { Browser } from 'playwright-core';
import type { FastifyInstance } from 'fastify';
import { Queue, UnrecoverableError, Worker } from 'bullmq';
import { buildApp } from '../../src/dashboard/app';
import { stringsFor } from '../../src/dashboard/i18n';
import { quarantineEn } from '../../src/dashboard/i18n/quarantine';
import { openCaseLogAccess, type CaseLogAccess } from '../../app/hub/access';
import { dashboardQuarantine } from '../../app/hub/quarantine-retry';
import { addOperator, changePassword, confirmTotpEnrolment, startTotpEnrolment } from '../../src/operators/accounts';
import { totpCode } from '../../src/operators/totp';
import { addQuarantine, listQuarantine } from '../../src/caselog/quarantine';
import { SEAL_AAD_QUARANTINE } from '../../src/crypto/aad';
import { INTAKE_QUEUE } from '../../src/queue/intake-queue';
import { redisOptions } from '../../src/queue/redis';
import { launchBrowser } from '../helpers/browser';
import { capturingLogger, setup, TEST_REDIS_URL, waitFor, type TestSetup } from '../helpers/env';

jest.setTimeout(300_000);

const PASSWORD = 'correct horse battery staple';
const s = stringsFor(null);
const t = quarantineEn;
const TEXT = 'QPAGEMARKER convoy on the river road';

let env: TestSetup;
let access: CaseLogAccess;
let app: FastifyInstance;
let browser: Browser;
let base: string;
let secret: string;
let anaSecret: string;
let queue: Queue;

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
  queue = new Queue(INTAKE_QUEUE, { connection: redisOptions(TEST_REDIS_URL), prefix: env.prefix });
  app = await buildApp({
    db,
    log,
    queueBoard: { redis: TEST_REDIS_URL, prefix: env.prefix, names: [INTAKE_QUEUE, 'outbound-telegram'] },
    quarantine: dashboardQuarantine(env.cfg, access.keyring, access.service, TEST_REDIS_URL),
  });
  await app.listen({ host: '127.0.0.1', port: 0 });
  base = `http://127.0.0.1:${(app.server.address() as AddressInfo).port}`;
  browser = await launchBrowser();
});

afterAll(async () => {
  await browser?.close();
  await app?.close();
  await queue?.close();
  await access?.close();
  await env?.cleanup();
});

/** A code is taken once: a second login of one operator uses the next step (the server allows one of drift). */
const logins = new Map<string, number>();

async function logIn(name: string, totpSecret: string) {
  const step = logins.get(totpSecret) ?? 0;
  logins.set(totpSecret, step + 1);
  const context = await browser.newContext();
  context.setDefaultTimeout(20_000);
  const page = await context.newPage();
  await page.goto(`${base}/login`);
  await page.fill('input[name=name]', name);
  await page.fill('input[name=password]', PASSWORD);
  await page.click(`button:text-is("${s.logIn}")`);
  await page.waitForURL(`${base}/login/totp`);
  await page.fill('input[name=code]', totpCode(totpSecret, Date.now() + step * 30_000));
  await page.click(`button:text-is("${s.verify}")`);
  await page.waitForURL(`${base}/`);
  return { context, page };
}

test('an admin sees the queues in Bull Board, fonts blocked, and retries a failed job with its button', async () => {
  // A job that fails for real, in a worker of the test's own.
  const worker = new Worker(INTAKE_QUEUE, async () => {
    throw new UnrecoverableError('TIPHUB_SEND_FAILED: the test says no');
  }, { connection: redisOptions(TEST_REDIS_URL), prefix: env.prefix });
  await queue.add('message', { v: 1, sealed: 'v1.c2VhbGVk', origin: 'import' }, { jobId: 'in-board-1', attempts: 1 });
  await waitFor(async () => (await queue.getJob('in-board-1'))?.isFailed(), 30_000, 100);
  await worker.close();

  const { context, page } = await logIn('boss', secret);
  const foreign: string[] = [];
  const blocked: string[] = [];
  // Chromium reports a request the CSP refuses as a request that failed: none may get an answer.
  page.on('response', (r) => (r.url().startsWith(base) ? undefined : foreign.push(r.url())));
  page.on('console', (m) => (/Content Security Policy/.test(m.text()) ? blocked.push(m.text()) : undefined));
  const res = await page.goto(`${base}/admin/queues`);
  expect(res!.status()).toBe(200);
  expect(res!.headers()['content-security-policy']).toContain("base-uri 'self'");
  await page.getByText('outbound-telegram').first().waitFor();
  expect(await page.getByText(INTAKE_QUEUE, { exact: true }).count()).toBeGreaterThan(0);
  // The web fonts were asked for and refused by the CSP; nothing left for the internet.
  expect(blocked.join('\n')).toContain('fonts.googleapis.com');
  expect(foreign).toEqual([]);

  // Without the CSRF token (a forged post from elsewhere would have none), Bull Board's API refuses.
  const forged = await context.request.put(`${base}/admin/queues/api/queues/${INTAKE_QUEUE}/retry/failed`, { headers: { origin: base } });
  expect(forged.status()).toBe(403);
  expect(await (await queue.getJob('in-board-1'))!.isFailed()).toBe(true);

  await page.goto(`${base}/admin/queues/queue/${INTAKE_QUEUE}?status=failed`);
  await page.getByText('in-board-1').first().waitFor();
  // The job card's own retry is an unlabelled icon; "Retry all" is the button a person reads.
  await page.getByRole('button', { name: 'Retry all' }).click();
  // Bull Board asks "Are you sure?" in a modal of its own.
  await page.getByRole('button', { name: 'Confirm', exact: true }).click();
  await waitFor(async () => !(await (await queue.getJob('in-board-1'))!.isFailed()) || null, 20_000, 100);
  expect(['waiting', 'prioritized']).toContain(await (await queue.getJob('in-board-1'))!.getState());
  await context.close();
});

test('an analyst is refused Bull Board, its API and the quarantine page', async () => {
  const { context, page } = await logIn('ana', anaSecret);
  for (const url of ['/admin/queues', `/admin/queues/api/queues`, '/admin/quarantine']) {
    const res = await page.goto(`${base}${url}`);
    expect([url, res!.status()]).toEqual([url, 403]);
  }
  const post = await context.request.put(`${base}/admin/queues/api/queues/${INTAKE_QUEUE}/retry/failed`, { headers: { origin: base } });
  expect(post.status()).toBe(403);
  await context.close();
});

test('an admin retries a quarantined message and drops another from the quarantine page', async () => {
  const db = access.local!.db;
  const seal = (text: string) => access.keyring.seal({ file: 'tips.jsonl', line: 1, text, dir: env.dataDir }, SEAL_AAD_QUARANTINE);
  await addQuarantine(db, [
    { channel: 'simulator', source: 'tips.jsonl:1', code: 'TIPHUB_MEDIA_UNREADABLE', reason: 'media file does not exist', payloadSealed: seal(JSON.stringify({ id: 'qp1', from: 'u1', text: TEXT })) },
    { channel: 'simulator', source: 'tips.jsonl:2', code: 'TIPHUB_INGEST_LINE_INVALID', reason: 'text: expected string', payloadSealed: seal(JSON.stringify({ id: 'qp2', from: 'u2', text: 42 })) },
  ]);
  const [bad, good] = (await listQuarantine(db)).map((r) => r.id);
  const { page } = await logIn('boss', secret);
  page.on('dialog', (d) => void d.accept());
  await page.goto(`${base}/admin/quarantine`);
  expect(await page.locator('tr.quarantined').count()).toBe(2);
  expect(await page.content()).not.toContain('QPAGEMARKER');

  await page.click(`tr.quarantined[data-id="${good}"] a`);
  await page.waitForURL(`${base}/admin/quarantine/${good}`);
  expect(await page.locator('pre.shape').textContent()).toMatch(/text: string of \d+ chars/);
  expect(await page.content()).not.toContain('QPAGEMARKER');
  await page.click('button[name=retry]');
  await page.waitForURL(/\/admin\/quarantine\?done=retried$/);
  expect(await page.locator('p.notice').textContent()).toBe(t.retried);
  expect(await page.locator('tr.quarantined').count()).toBe(1);
  expect(await queue.getWaitingCount()).toBeGreaterThan(0);

  await page.click(`tr.quarantined[data-id="${bad}"] a`);
  await page.click('button[name=retry]');
  await page.waitForURL(new RegExp(`/admin/quarantine/${bad}\\?refused=1$`));
  expect(await page.locator('p.error').textContent()).toContain('TIPHUB_INGEST_LINE_INVALID');
  await page.click('button[name=drop]');
  await page.waitForURL(/\/admin\/quarantine\?done=dropped/);
  expect(await page.locator('tr.quarantined').count()).toBe(0);
  const { rows } = await db.query<{ operator: string; data: { id: number } }>("SELECT operator, data FROM operator_audit WHERE action = 'quarantine.drop'");
  expect(rows).toEqual([{ operator: 'boss', data: expect.objectContaining({ id: bad }) }]);
});
