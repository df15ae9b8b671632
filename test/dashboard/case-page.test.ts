/**
 * Issue 11, item 6: the case page's reply composer (through queueReply and the relay hook, its
 * delivery state from the outbound worker's events), event history, notes, merge and split, and
 * the case's own chain check — on PostgreSQL, over real HTTP on 127.0.0.1 (app.inject does not
 * load under this jest; see app.test.ts).
 */
import * as http from 'node:http';
import type { AddressInfo } from 'node:net';
import type { FastifyInstance } from 'fastify';
import { harness, type Harness } from '../helpers/harness';
import { TEST_REDIS_URL, waitFor } from '../helpers/env';
import { buildApp } from '../../src/dashboard/app';
import { addOperator, changePassword, confirmTotpEnrolment, startTotpEnrolment, type OperatorRole } from '../../src/operators/accounts';
import { createSession } from '../../src/operators/sessions';
import { totpCode } from '../../src/operators/totp';
import { OutboxRelay } from '../../src/queue/outbound-queue';
import { verifyCaseLog } from '../../src/caselog/verify';
import { TiphubError } from '../../src/errors';

const PASSWORD = 'correct horse battery staple';
const SENDERS = ['+9647702000001', '+9647702000002', '+9647702000003', '+9647702000004'];
const TEXTS = [
  'Checkpoint closed on the north road near the bridge since early morning',
  'Water supply cut in the eastern district for three days now',
  'Fire reported at the market warehouse late last night',
  'انقطاع الكهرباء في الحي الشرقي منذ ثلاثة أيام',
];
const HOSTILE = '<script>alert("note")</script><img src=x onerror=alert(1)>';

interface Who {
  name: string;
  token: string;
  csrf: string;
}
interface Res {
  statusCode: number;
  headers: http.IncomingHttpHeaders;
  body: string;
  json(): unknown;
}

let h: Harness;
let app: FastifyInstance;
let base = '';
const refs: string[] = [];
const who: Record<'admin' | 'supervisor' | 'analyst', Who> = {} as never;
/** What the relay hook was given; it relays for real once `relay` is set. */
const relayed: number[][] = [];
let relay: OutboxRelay | null = null;

async function ready(name: string, role: OperatorRole): Promise<Who> {
  const c = await addOperator(h.db, name, role);
  await changePassword(h.db, name, c.password, PASSWORD);
  const e = await startTotpEnrolment(h.db, name);
  expect(await confirmTotpEnrolment(h.db, name, totpCode(e.secret))).toMatchObject({ ok: true });
  const s = await createSession(h.db, name);
  return { name, token: s.token, csrf: s.csrf };
}

async function call(r: { method?: 'GET' | 'POST'; url: string; as?: Who; csrf?: string | null; json?: unknown; form?: Record<string, string> }): Promise<Res> {
  const method = r.method ?? 'GET';
  const headers: Record<string, string> = {};
  if (r.as) headers.cookie = `tiphub=${r.as.token}`;
  if (method === 'POST') headers.origin = base;
  const csrf = r.csrf === undefined ? r.as?.csrf : r.csrf;
  let payload: string | undefined;
  if (r.json !== undefined) {
    headers['content-type'] = 'application/json';
    if (csrf) headers['x-csrf-token'] = csrf;
    payload = JSON.stringify(r.json);
  } else if (r.form) {
    headers['content-type'] = 'application/x-www-form-urlencoded';
    payload = new URLSearchParams({ ...r.form, ...(csrf ? { _csrf: csrf } : {}) }).toString();
  }
  return new Promise((resolve, reject) => {
    const req = http.request(base + r.url, { method, headers }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () => {
        const body = Buffer.concat(chunks).toString('utf8');
        resolve({ statusCode: res.statusCode!, headers: res.headers, body, json: () => JSON.parse(body) as unknown });
      });
    });
    req.on('error', reject);
    req.end(payload);
  });
}

const casePage = async (ref: string, as: Who = who.analyst) => {
  const res = await call({ url: `/cases/${ref}`, as });
  expect(res.statusCode).toBe(200);
  return res.body;
};
const caseId = async (ref: string) => (await h.db.query<{ id: number }>('SELECT id FROM cases WHERE ref = $1', [ref])).rows[0]!.id;
const replyRows = async (ref: string) =>
  (await h.db.query<{ id: number; pseudonym: string }>(`SELECT id::int AS id, pseudonym FROM outbox WHERE case_id = $1 AND kind = 'reply' ORDER BY id`, [await caseId(ref)])).rows;
const pseudonymOf = (address: string) => h.keyring.pseudonym('simulator', address);

beforeAll(async () => {
  h = await harness('postgres', { conversation: { enabled: false } });
  for (let i = 0; i < TEXTS.length; i++) await h.sink(h.message({ id: `cp${i}`, from: SENDERS[i], text: TEXTS[i], sentAt: `2026-06-10T05:1${i}:00Z` }));
  h.startWorker();
  await h.drained();
  await h.stopWorker();
  const { rows } = await h.db.query<{ ref: string; text: string }>('SELECT c.ref, r.text FROM cases c JOIN reports r ON r.case_id = c.id');
  for (const r of rows) refs[TEXTS.indexOf(r.text)] = r.ref;
  expect(refs.filter(Boolean)).toHaveLength(TEXTS.length);
  who.admin = await ready('adm1', 'admin');
  who.supervisor = await ready('sup1', 'supervisor');
  who.analyst = await ready('ana1', 'analyst');
  app = await buildApp({
    db: h.db,
    log: h.log,
    relayOutbox: async (ids) => {
      relayed.push([...ids]);
      if (relay) await relay.relay(h.db, ids);
    },
  });
  await app.listen({ host: '127.0.0.1', port: 0 });
  base = `http://127.0.0.1:${(app.server.address() as AddressInfo).port}`;
});

afterAll(async () => {
  await app?.close();
  await relay?.close();
  await h?.close();
});

describe('reply composer', () => {
  test('lists the informants (pseudonym, channel, reachable) and offers the form to a supervisor, not to an analyst', async () => {
    const sup = await casePage(refs[0]!, who.supervisor);
    const p = pseudonymOf(SENDERS[0]!);
    expect(sup).toContain('class="reply-form"');
    expect(sup).toContain(`<option value="${p}">${p} (simulator)</option>`);
    const link = `<a class="pseudonym" href="/informants/${encodeURIComponent(p)}">${p}</a>`;
    expect(sup).toContain(`<tr><td>${link}</td><td>simulator</td><td>1</td><td>reachable</td></tr>`);
    for (const a of SENDERS) expect(sup).not.toContain(a);
    // Each report's pseudonym opens the informant's view; the evidence bundle is offered to whoever may export.
    expect(sup).toContain(`· ${link} ·`);
    expect(sup).toContain(`<a href="/cases/${encodeURIComponent(refs[0]!)}/export">`);
    const ana = await casePage(refs[0]!, who.analyst);
    expect(ana).not.toContain('class="reply-form"');
    expect(ana).not.toContain('/export"');
    expect(ana).toContain(link);
  });

  test('the form queues a reply with the operator as actor: an outbox row, the relay hook called with its id, the page shows it queued', async () => {
    const res = await call({ method: 'POST', url: `/cases/${refs[0]}/reply`, as: who.supervisor, form: { text: 'Which bridge exactly?', to: 'all' } });
    expect(res.statusCode).toBe(303);
    expect(res.headers.location).toBe(`/cases/${refs[0]}`);
    const rows = await replyRows(refs[0]!);
    expect(rows).toEqual([{ id: expect.any(Number), pseudonym: pseudonymOf(SENDERS[0]!) }]);
    expect(relayed).toEqual([[rows[0]!.id]]);
    const { rows: ev } = await h.db.query<{ actor: string }>(`SELECT actor FROM events WHERE case_id = $1 AND kind = 'reply.queued'`, [await caseId(refs[0]!)]);
    expect(ev.map((e) => e.actor)).toEqual(['sup1']);
    const page = await casePage(refs[0]!);
    expect(page).toMatch(/<tr class="reply state-queued"><td><time dir="ltr" datetime="[^"]+">[^<]+<\/time><\/td><td>sup1<\/td><td>[^<]+<\/td><td dir="auto">Which bridge exactly\?<\/td><td class="delivery">queued<\/td><\/tr>/);
    expect(page).toContain('reply queued to');

    // The API does the same, to one informant by pseudonym.
    const api = await call({ method: 'POST', url: `/api/cases/${refs[0]}/reply`, as: who.admin, json: { text: 'And since when?', to: pseudonymOf(SENDERS[0]!) } });
    expect(api.statusCode).toBe(200);
    const body = api.json() as { ref: string; outbox: number[]; relayed: boolean; queued: { pseudonym: string }[] };
    expect(body).toMatchObject({ ref: refs[0], relayed: true, queued: [{ pseudonym: pseudonymOf(SENDERS[0]!), channel: 'simulator' }] });
    expect(relayed[1]).toEqual(body.outbox);
    expect(await replyRows(refs[0]!)).toHaveLength(2);
    // A pseudonym that is not the case's: refused, nothing queued.
    const other = await call({ method: 'POST', url: `/api/cases/${refs[0]}/reply`, as: who.admin, json: { text: 'x', to: pseudonymOf(SENDERS[1]!) } });
    expect(other.statusCode).toBe(400);
    expect(await replyRows(refs[0]!)).toHaveLength(2);
  });

  test('an analyst gets 403; a reply without the CSRF token or with a wrong one is refused; nothing is queued', async () => {
    const before = (await replyRows(refs[0]!)).length;
    const calls = relayed.length;
    expect((await call({ method: 'POST', url: `/cases/${refs[0]}/reply`, as: who.analyst, form: { text: 'hi', to: 'all' } })).statusCode).toBe(403);
    expect((await call({ method: 'POST', url: `/api/cases/${refs[0]}/reply`, as: who.analyst, json: { text: 'hi', to: 'all' } })).statusCode).toBe(403);
    expect((await call({ method: 'POST', url: `/cases/${refs[0]}/reply`, as: who.supervisor, csrf: null, form: { text: 'hi', to: 'all' } })).statusCode).toBe(403);
    expect((await call({ method: 'POST', url: `/api/cases/${refs[0]}/reply`, as: who.supervisor, csrf: null, json: { text: 'hi', to: 'all' } })).statusCode).toBe(403);
    expect((await call({ method: 'POST', url: `/api/cases/${refs[0]}/reply`, as: who.supervisor, csrf: who.analyst.csrf, json: { text: 'hi', to: 'all' } })).statusCode).toBe(403);
    expect((await call({ method: 'POST', url: `/api/cases/${refs[0]}/reply`, as: who.supervisor, json: { text: '', to: 'all' } })).statusCode).toBe(400);
    expect(await replyRows(refs[0]!)).toHaveLength(before);
    expect(relayed).toHaveLength(calls);
  });

  test('delivery state: sent once the outbound worker sent it, failed with the reason when the platform refused it', async () => {
    relay = new OutboxRelay(TEST_REDIS_URL, h.cfg, h.keyring, h.caselog.instance);
    const ok = h.informant(SENDERS[1]!);
    h.informant(SENDERS[2]!, (m) => {
      if (m.text.startsWith('Refused')) throw new TiphubError('TIPHUB_SEND_FAILED', 'message is too long', { retryable: false });
    });
    h.startOutbound();
    try {
      expect((await call({ method: 'POST', url: `/cases/${refs[1]}/reply`, as: who.supervisor, form: { text: 'Which streets?', to: 'all' } })).statusCode).toBe(303);
      expect((await ok.next(1))[0]!.text).toBe('Which streets?');
      expect((await call({ method: 'POST', url: `/cases/${refs[2]}/reply`, as: who.supervisor, form: { text: 'Refused question', to: 'all' } })).statusCode).toBe(303);
      const kinds = async (ref: string) => (await h.db.query<{ kind: string }>('SELECT kind FROM events WHERE case_id = $1', [await caseId(ref)])).rows.map((e) => e.kind);
      await waitFor(async () => (await kinds(refs[1]!)).includes('message.sent'));
      await waitFor(async () => (await kinds(refs[2]!)).includes('message.failed'));
    } finally {
      await h.stopOutbound();
    }
    expect(await casePage(refs[1]!)).toMatch(/<tr class="reply state-sent">.*<td dir="auto">Which streets\?<\/td><td class="delivery">sent \d{4}-/);
    expect(await casePage(refs[2]!)).toMatch(/<tr class="reply state-failed">.*<td dir="auto">Refused question<\/td><td class="delivery">failed [^<]*\(TIPHUB_SEND_FAILED\)<\/td>/);
    // Case 0's replies were never relayed for real: still queued.
    expect(await casePage(refs[0]!)).not.toContain('state-sent');
    const api = (await call({ url: `/api/cases/${refs[2]}/history`, as: who.analyst })).json() as { replies: { state: string; reason: string | null; text: string }[] };
    expect(api.replies).toEqual([expect.objectContaining({ state: 'failed', reason: 'TIPHUB_SEND_FAILED', text: 'Refused question' })]);
  });
});

describe('history and notes', () => {
  test('the history lists a status change and a note with its text; the notes show author and time', async () => {
    const ref = refs[3]!;
    expect((await call({ method: 'POST', url: `/cases/${ref}/status`, as: who.analyst, form: { status: 'escalated', reason: '' } })).statusCode).toBe(303);
    expect((await call({ method: 'POST', url: `/cases/${ref}/notes`, as: who.analyst, form: { text: 'Called the district office: confirmed' } })).statusCode).toBe(303);
    const page = await casePage(ref, who.supervisor);
    expect(page).toMatch(/<tr class="event" data-kind="case.status"><td>\d+<\/td><td><time dir="ltr" datetime="[^"]+">[^<]+<\/time><\/td><td>case.status<\/td><td>ana1<\/td><td dir="auto">status new → escalated<\/td><\/tr>/);
    expect(page).toMatch(/<td>case.note<\/td><td>ana1<\/td><td dir="auto">note: Called the district office: confirmed<\/td>/);
    expect(page).toMatch(/<li class="note"><span class="meta">ana1 · <time dir="ltr" datetime="[^"]+">\d{4}-\d\d-\d\dT[^<]+<\/time><\/span><div dir="auto" class="note-text">Called the district office: confirmed<\/div><\/li>/);
    expect(page).toMatch(/data-kind="report.added">.*report [^ ]+ added/);
    const api = (await call({ url: `/api/cases/${ref}/history`, as: who.analyst })).json() as { history: { kind: string; actor: string; summary: string }[]; notes: { author: string; text: string }[] };
    expect(api.history.map((e) => e.kind)).toEqual(expect.arrayContaining(['case.opened', 'report.added', 'case.status', 'case.note']));
    expect(api.notes).toEqual([expect.objectContaining({ author: 'ana1', text: 'Called the district office: confirmed' })]);
  });

  test('a hostile note is shown as text, never as markup', async () => {
    const ref = refs[3]!;
    expect((await call({ method: 'POST', url: `/api/cases/${ref}/notes`, as: who.analyst, json: { text: HOSTILE } })).statusCode).toBe(200);
    const page = await casePage(ref);
    expect(page).not.toContain('<script>alert');
    expect(page).not.toContain('<img src=x');
    expect(page).toContain('&lt;script&gt;alert(&quot;note&quot;)&lt;/script&gt;&lt;img src=x onerror=alert(1)&gt;');
  });
});

describe('merge and split', () => {
  test('a supervisor merges this case into another by reference; an analyst may not; the page shows it', async () => {
    const [from, into] = [refs[2]!, refs[3]!];
    expect((await call({ method: 'POST', url: `/cases/${from}/merge`, as: who.analyst, form: { into } })).statusCode).toBe(403);
    expect((await call({ method: 'POST', url: `/api/cases/${from}/merge`, as: who.analyst, json: { into } })).statusCode).toBe(403);
    expect((await call({ method: 'POST', url: `/cases/${from}/merge`, as: who.supervisor, csrf: null, form: { into } })).statusCode).toBe(403);
    expect(await casePage(from, who.analyst)).not.toContain(`/cases/${from}/merge`);
    expect(await casePage(from, who.supervisor)).toContain(`action="/cases/${from}/merge"`);
    const res = await call({ method: 'POST', url: `/cases/${from}/merge`, as: who.supervisor, form: { into } });
    expect(res.statusCode).toBe(303);
    expect(res.headers.location).toBe(`/cases/${into}`);
    const page = await casePage(into, who.supervisor);
    expect(page).toContain(`merged from ${from} (1 reports)`);
    expect(page).toContain(TEXTS[2]);
    expect(page).toContain(TEXTS[3]);
    // Two informants now: the composer offers each.
    expect(page).toContain(`<option value="${pseudonymOf(SENDERS[2]!)}">`);
    expect(page).toContain(`<option value="${pseudonymOf(SENDERS[3]!)}">`);
    // The old reference answers with the case it went into.
    expect(await casePage(from)).toContain(`<h1>Case ${into}</h1>`);
    expect((await verifyCaseLog(h.db)).ok).toBe(true);
  });

  test('a supervisor splits a report out into a new case (a button per report); the page shows it', async () => {
    const ref = refs[3]!;
    const page = await casePage(ref, who.supervisor);
    expect(page.match(/class="inline split"/g)).toHaveLength(2);
    expect(await casePage(ref, who.analyst)).not.toContain('class="inline split"');
    const { rows } = await h.db.query<{ id: string }>('SELECT id FROM reports WHERE text = $1', [TEXTS[2]]);
    const report = rows[0]!.id;
    expect((await call({ method: 'POST', url: `/api/cases/${ref}/split`, as: who.analyst, json: { report } })).statusCode).toBe(403);
    const res = await call({ method: 'POST', url: `/cases/${ref}/split`, as: who.supervisor, form: { report } });
    expect(res.statusCode).toBe(303);
    expect(res.headers.location).toBe(`/cases/${ref}`);
    const { rows: moved } = await h.db.query<{ ref: string }>('SELECT c.ref FROM reports r JOIN cases c ON c.id = r.case_id WHERE r.id = $1', [report]);
    const created = moved[0]!.ref;
    expect(created).not.toBe(ref);
    const after = await casePage(ref);
    expect(after).toContain(`report ${report} moved out to ${created}`);
    expect(after).not.toContain(TEXTS[2]);
    expect(after).not.toContain('class="inline split"');
    const split = await casePage(created);
    expect(split).toContain(`split from ${ref}`);
    expect(split).toContain(`report ${report} moved in from ${ref}`);
    expect(split).toContain(TEXTS[2]);
    // Splitting the only report is refused.
    expect((await call({ method: 'POST', url: `/api/cases/${created}/split`, as: who.supervisor, json: { report } })).statusCode).toBe(404);
    expect((await verifyCaseLog(h.db)).ok).toBe(true);
  });
});

describe('verify', () => {
  test('the chain line says intact; after an event is altered in the database it names the first mismatch', async () => {
    const ref = refs[0]!;
    const id = await caseId(ref);
    const n = await h.count('SELECT count(*) AS n FROM events WHERE case_id = $1', [id]);
    expect(await casePage(ref)).toContain(`<p class="chain ok">chain intact (${n} events)</p>`);
    const api = (await call({ url: `/api/cases/${ref}/history`, as: who.analyst })).json() as { chain: unknown };
    expect(api.chain).toEqual({ ok: true, events: n, firstMismatch: null });
    await h.db.query('ALTER TABLE events DISABLE TRIGGER USER');
    try {
      await h.db.query(`UPDATE events SET data = jsonb_set(data, '{status}', '"closed"') WHERE case_id = $1 AND seq = 1`, [id]);
      const page = await casePage(ref);
      expect(page).toContain(`<p class="chain broken" role="alert">chain broken at event 1: event hash mismatch: the event or the case reference was altered (${n} events)</p>`);
      expect(page).not.toContain('chain intact');
      const tampered = (await call({ url: `/api/cases/${ref}/history`, as: who.analyst })).json() as { chain: unknown };
      expect(tampered.chain).toEqual({ ok: false, events: n, firstMismatch: { seq: 1, what: 'event hash mismatch: the event or the case reference was altered' } });
      // verify agrees.
      expect((await verifyCaseLog(h.db)).problems).toEqual(
        expect.arrayContaining([expect.objectContaining({ caseRef: ref, event: 1, kind: 'rewritten', what: 'event hash mismatch: the event or the case reference was altered' })]),
      );
      await h.db.query(`UPDATE events SET data = jsonb_set(data, '{status}', '"new"') WHERE case_id = $1 AND seq = 1`, [id]);
    } finally {
      await h.db.query('ALTER TABLE events ENABLE TRIGGER USER');
    }
    expect(await casePage(ref)).toContain(`chain intact (${n} events)`);
  });
});
