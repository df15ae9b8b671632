/**
 * Issue 14, item 4, over HTTP (app.inject), on both back ends: Bull Board under /admin/queues and
 * the quarantine page are an admin's; an analyst is refused both and Bull Board's API; Bull
 * Board's page has its own CSP and the session's CSRF token, and its state changes without the
 * token are refused. (The browser test, browser-queues.test.ts, clicks through the same.)
 */
import type { FastifyInstance } from 'fastify';
import { Queue, UnrecoverableError, Worker } from 'bullmq';
import { buildApp } from '../../src/dashboard/app';
import { openCaseLogAccess, type CaseLogAccess } from '../../app/hub/access';
import { dashboardQuarantine } from '../../app/hub/quarantine-retry';
import { addOperator } from '../../src/operators/accounts';
import { createSession } from '../../src/operators/sessions';
import { addQuarantine, listQuarantine } from '../../src/caselog/quarantine';
import { SEAL_AAD_QUARANTINE } from '../../src/crypto/aad';
import { INTAKE_QUEUE } from '../../src/queue/intake-queue';
import { redisOptions } from '../../src/queue/redis';
import { BACKENDS, capturingLogger, setup, TEST_REDIS_URL, waitFor, type TestSetup } from '../helpers/env';

jest.setTimeout(300_000);

describe.each(BACKENDS)('Bull Board and the quarantine page on %s', (backend) => {
  let env: TestSetup;
  let access: CaseLogAccess;
  let app: FastifyInstance;
  let queue: Queue;
  const who: Record<string, { cookie: string; csrf: string }> = {};
  beforeAll(async () => {
    env = await setup(backend);
    const { log } = capturingLogger('warn');
    access = await openCaseLogAccess(env.cfg, log, { role: 'test' });
    const db = access.local!.db;
    for (const [name, role] of [['boss', 'admin'], ['ana', 'analyst']] as const) {
      await addOperator(db, name, role);
      const x = await createSession(db, name);
      who[name] = { cookie: `tiphub=${x.token}`, csrf: x.csrf };
    }
    queue = new Queue(INTAKE_QUEUE, { connection: redisOptions(TEST_REDIS_URL), prefix: env.prefix });
    app = await buildApp({
      db,
      queueBoard: { redis: TEST_REDIS_URL, prefix: env.prefix, names: [INTAKE_QUEUE] },
      quarantine: dashboardQuarantine(env.cfg, access.keyring, access.service, TEST_REDIS_URL),
    });
  });
  afterAll(async () => {
    await app?.close();
    await queue?.close();
    await access?.close();
    await env?.cleanup();
  });
  let base = '';
  const req = async (as: string, method: 'GET' | 'PUT' | 'POST', url: string, opts: { csrf?: boolean; form?: string } = {}) => {
    if (!base) {
      await app.listen({ host: '127.0.0.1', port: 0 });
      base = `http://127.0.0.1:${(app.server.address() as { port: number }).port}`;
    }
    const res = await fetch(`${base}${url}`, {
      method,
      redirect: 'manual',
      headers: {
        origin: base,
        cookie: who[as]!.cookie,
        ...(opts.csrf ? { 'x-csrf-token': who[as]!.csrf } : {}),
        ...(opts.form !== undefined ? { 'content-type': 'application/x-www-form-urlencoded' } : {}),
      },
      ...(opts.form !== undefined ? { body: opts.form } : {}),
    });
    return { statusCode: res.status, headers: { location: res.headers.get('location'), 'content-security-policy': res.headers.get('content-security-policy') ?? '' }, body: await res.text() };
  };

  test('an analyst is refused Bull Board, its API and the quarantine page', async () => {
    for (const url of ['/admin/queues', '/admin/queues/api/queues', '/admin/quarantine']) expect([url, (await req('ana', 'GET', url)).statusCode]).toEqual([url, 403]);
    expect((await req('ana', 'PUT', `/admin/queues/api/queues/${INTAKE_QUEUE}/retry/failed`, { csrf: true })).statusCode).toBe(403);
  });

  test('an admin gets Bull Board with its CSP and token; a retry needs the token', async () => {
    const worker = new Worker(INTAKE_QUEUE, async () => {
      throw new UnrecoverableError('TIPHUB_SEND_FAILED: no');
    }, { connection: redisOptions(TEST_REDIS_URL, { forWorker: true }), prefix: env.prefix });
    await queue.add('message', { v: 1, sealed: 'v1.eA', origin: 'import' }, { jobId: 'in-q-1', attempts: 1 });
    await waitFor(async () => (await queue.getJob('in-q-1'))?.isFailed(), 30_000, 100);
    await worker.close();

    const pageRes = await req('boss', 'GET', '/admin/queues');
    expect(pageRes.statusCode).toBe(200);
    expect(pageRes.headers['content-security-policy']).toContain("style-src 'self' 'unsafe-inline'");
    expect(pageRes.headers['content-security-policy']).not.toContain('fonts.googleapis.com');
    expect(pageRes.body).toContain(`<meta name="tiphub-csrf" content="${who.boss!.csrf}">`);
    const api = await req('boss', 'GET', '/admin/queues/api/queues');
    expect(api.statusCode).toBe(200);
    expect(api.body).toContain(INTAKE_QUEUE);

    expect((await req('boss', 'PUT', `/admin/queues/api/queues/${INTAKE_QUEUE}/retry/failed`)).statusCode).toBe(403);
    expect(await (await queue.getJob('in-q-1'))!.isFailed()).toBe(true);
    const ok = await req('boss', 'PUT', `/admin/queues/api/queues/${INTAKE_QUEUE}/retry/failed`, { csrf: true });
    expect(ok.statusCode).toBeLessThan(300);
    await waitFor(async () => !(await (await queue.getJob('in-q-1'))!.isFailed()) || null, 10_000, 100);
    // Writes that lose tips or answer twice are refused, token or not; the job is still there.
    for (const url of [`/admin/queues/api/queues/${INTAKE_QUEUE}/empty`, `/admin/queues/api/queues/${INTAKE_QUEUE}/obliterate`, `/admin/queues/api/queues/${INTAKE_QUEUE}/clean/waiting`]) {
      expect((await req('boss', 'PUT', url, { csrf: true })).statusCode).toBe(403);
    }
    expect((await req('boss', 'POST', `/admin/queues/api/queues/${INTAKE_QUEUE}/add`, { csrf: true })).statusCode).toBe(403);
    expect(await queue.getJob('in-q-1')).toBeTruthy();
  });

  test('an admin retries one quarantined message and drops another from the page', async () => {
    const db = access.local!.db;
    const seal = (text: string) => access.keyring.seal({ file: 'tips.jsonl', line: 1, text, dir: env.dataDir }, SEAL_AAD_QUARANTINE);
    await addQuarantine(db, [
      { channel: 'simulator', source: 'tips.jsonl:1', code: 'TIPHUB_MEDIA_UNREADABLE', reason: 'media file does not exist', payloadSealed: seal(JSON.stringify({ id: 'qp1', from: 'u1', text: 'QPAGEMARKER one' })) },
      { channel: 'simulator', source: 'tips.jsonl:2', code: 'TIPHUB_INGEST_LINE_INVALID', reason: 'text: expected string', payloadSealed: seal(JSON.stringify({ id: 'qp2', from: 'u2', text: 42 })) },
    ]);
    const [bad, good] = (await listQuarantine(db)).map((r) => r.id);
    const list = await req('boss', 'GET', '/admin/quarantine');
    expect(list.statusCode).toBe(200);
    expect(list.body).toContain(`data-id="${good}"`);
    const detail = await req('boss', 'GET', `/admin/quarantine/${good}`);
    expect(detail.body).toMatch(/text: string of \d+ chars/);
    expect(list.body + detail.body).not.toContain('QPAGEMARKER');

    expect((await req('boss', 'POST', `/admin/quarantine/${good}/retry`, { form: '' })).statusCode).toBe(403); // no token
    const retried = await req('boss', 'POST', `/admin/quarantine/${good}/retry`, { form: `_csrf=${who.boss!.csrf}` });
    expect([retried.statusCode, retried.headers.location]).toEqual([303, '/admin/quarantine?done=retried']);
    expect((await listQuarantine(db)).map((r) => r.id)).toEqual([bad]);
    expect(await queue.getWaitingCount()).toBeGreaterThan(0);

    const refused = await req('boss', 'POST', `/admin/quarantine/${bad}/retry`, { form: `_csrf=${who.boss!.csrf}` });
    expect([refused.statusCode, refused.headers.location]).toEqual([303, `/admin/quarantine/${bad}?refused=1`]);
    // The page says why with the reason the entry carries now, never with text from the address.
    const again = await req('boss', 'GET', `/admin/quarantine/${bad}?refused=1`);
    expect(again.body).toMatch(/<p class="error" role="alert">[^<]*: TIPHUB_INGEST_LINE_INVALID: text: expected string<\/p>/);
    expect((await req('boss', 'GET', `/admin/quarantine/${bad}?refused=${encodeURIComponent('Call +9647700000000 now')}`)).statusCode).toBe(400);
    expect((await req('ana', 'POST', `/admin/quarantine/${bad}/drop`, { form: `_csrf=${who.ana!.csrf}` })).statusCode).toBe(403);
    const dropped = await req('boss', 'POST', `/admin/quarantine/${bad}/drop`, { form: `_csrf=${who.boss!.csrf}` });
    expect(dropped.statusCode).toBe(303);
    expect(await listQuarantine(db)).toEqual([]);
    const { rows } = await db.query<{ operator: string }>("SELECT operator FROM operator_audit WHERE action = 'quarantine.drop'");
    expect(rows.map((r) => r.operator)).toEqual(['boss']);
  });
});
