/**
 * Issue 11, item 5, live, from the operators' side: a change one operator makes reaches every
 * other open list (announced on the intake workers' Redis channel, references only), a refused
 * change announces nothing, and what the page does by itself (the live list fetching its rows)
 * does not keep an unattended session alive. Real Redis, real PostgreSQL, real HTTP.
 */
import type { AddressInfo } from 'node:net';
import type { FastifyInstance } from 'fastify';
import type { Redis } from 'ioredis';
import { harness, type Harness } from '../helpers/harness';
import { TEST_REDIS_URL, waitFor } from '../helpers/env';
import { buildApp } from '../../src/dashboard/app';
import { addOperator } from '../../src/operators/accounts';
import { createSession } from '../../src/operators/sessions';
import { connectRedis } from '../../src/queue/redis';
import { caseUpdatesChannel, parseCaseUpdates, publishCaseUpdates } from '../../src/queue/case-updates';

jest.setTimeout(30_000);

let h: Harness;
let app: FastifyInstance;
let base: string;
let publisher: Redis;
let listener: Redis;
const published: string[] = [];
const refs: string[] = [];

beforeAll(async () => {
  h = await harness('postgres', { conversation: { enabled: false } });
  await addOperator(h.db, 'sup1', 'supervisor');
  await addOperator(h.db, 'ana1', 'analyst');
  listener = connectRedis(TEST_REDIS_URL, { forWorker: true });
  listener.on('message', (_ch: string, m: string) => published.push(m));
  await listener.subscribe(caseUpdatesChannel(h.cfg.queue.prefix));
  publisher = connectRedis(TEST_REDIS_URL);
  app = await buildApp({ db: h.db, log: h.log, announceCases: (r) => publishCaseUpdates(publisher, h.cfg.queue.prefix, r, h.log) });
  await app.listen({ host: '127.0.0.1', port: 0 });
  base = `http://127.0.0.1:${(app.server.address() as AddressInfo).port}`;
  h.startWorker();
  await h.sink(h.message({ id: 'o1', from: 'addr-oplive-one', text: 'Checkpoint moved to the river bridge overnight', sentAt: '2026-06-10T05:00:00Z' }));
  await h.sink(h.message({ id: 'o2', from: 'addr-oplive-two', text: 'Water pipe burst near the old school, street flooded', sentAt: '2026-06-10T05:10:00Z' }));
  await h.drained();
  const { rows } = await h.db.query<{ ref: string }>('SELECT ref FROM cases ORDER BY id');
  refs.push(...rows.map((r) => r.ref));
  expect(refs).toHaveLength(2);
});

afterAll(async () => {
  await app?.close();
  listener?.disconnect();
  publisher?.disconnect();
  await h?.close();
});

async function post(token: string, csrf: string, path: string, form: Record<string, string>): Promise<number> {
  const res = await fetch(`${base}${path}`, {
    method: 'POST',
    redirect: 'manual',
    headers: { cookie: `tiphub=${token}`, origin: base, 'content-type': 'application/x-www-form-urlencoded' },
    body: new URLSearchParams({ ...form, _csrf: csrf }).toString(),
  });
  await res.body?.cancel();
  return res.status;
}

test("an operator's change is announced to the other lists, references only; a refused one is not", async () => {
  const sup = await createSession(h.db, 'sup1');
  const ana = await createSession(h.db, 'ana1');
  published.length = 0;
  expect(await post(ana.token, ana.csrf, `/cases/${refs[0]}/status`, { status: 'closed', reason: 'spam' })).toBe(403);
  expect(await post(sup.token, 'not-the-token', `/cases/${refs[0]}/status`, { status: 'in_review' })).toBe(403);
  // A later, accepted change is the first thing on the channel: the refusals published nothing.
  expect(await post(sup.token, sup.csrf, `/cases/${refs[1]}/status`, { status: 'in_review' })).toBe(303);
  await waitFor(async () => published.length > 0, 5_000);
  expect(published.map(parseCaseUpdates)).toEqual([[refs[1]]]);

  published.length = 0;
  expect(await post(sup.token, sup.csrf, `/cases/${refs[0]}/merge`, { into: refs[1]! })).toBe(303);
  await waitFor(async () => published.length > 0, 5_000);
  expect(new Set(parseCaseUpdates(published[0]!))).toEqual(new Set(refs));
  for (const m of published) {
    expect(Object.keys(JSON.parse(m) as object)).toEqual(['refs']);
    expect(m).not.toMatch(/Checkpoint|Water|addr-oplive|sup1/);
  }
});

test("the live list's own fetches do not keep a session alive; a person's request does", async () => {
  const s = await createSession(h.db, 'sup1');
  const back = new Date(Date.now() - 5 * 60_000);
  await h.db.query('UPDATE sessions SET last_seen_at = $2 WHERE token_hash = $1', [s.tokenHash, back]);
  const seen = async () => (await h.db.query<{ last_seen_at: Date }>('SELECT last_seen_at FROM sessions WHERE token_hash = $1', [s.tokenHash])).rows[0]!.last_seen_at.getTime();

  const live = await fetch(`${base}/`, { headers: { cookie: `tiphub=${s.token}`, 'x-tiphub-live': '1' }, redirect: 'manual' });
  expect(live.status).toBe(200);
  await live.body?.cancel();
  expect(await seen()).toBe(back.getTime());

  const person = await fetch(`${base}/`, { headers: { cookie: `tiphub=${s.token}` }, redirect: 'manual' });
  expect(person.status).toBe(200);
  await person.body?.cancel();
  expect(await seen()).toBeGreaterThan(back.getTime());
});

test("Fastify's own refusals answer with one of our codes (a body too large, a media type it does not parse)", async () => {
  const s = await createSession(h.db, 'sup1');
  const headers = { cookie: `tiphub=${s.token}`, origin: base, 'x-csrf-token': s.csrf };
  const big = await fetch(`${base}/api/cases/${refs[1]}/notes`, { method: 'POST', headers: { ...headers, 'content-type': 'application/json' }, body: JSON.stringify({ text: 'x'.repeat(300 * 1024) }) });
  expect(big.status).toBe(413);
  expect(await big.json()).toEqual({ error: 'TIPHUB_DASHBOARD_INVALID', message: 'the request was refused' });
  const odd = await fetch(`${base}/api/cases/${refs[1]}/notes`, { method: 'POST', headers: { ...headers, 'content-type': 'application/x-odd' }, body: 'text' });
  expect(odd.status).toBe(415);
  expect(((await odd.json()) as { error: string }).error).toBe('TIPHUB_DASHBOARD_INVALID');
});
