/**
 * Issue 11, item 5: the case list's search (words of any report, in English, Arabic, Kurdish in
 * both scripts and French, folded for case, accents and Arabic-script variants), its date range
 * and campaign flag, the plans that keep it fast (the order's index, the keyset bound, the trigram
 * index), on PostgreSQL and PGlite; and the bulk actions on selected rows (roles, CSRF, one event
 * per case, verify), over real HTTP against buildApp.
 */
import type { AddressInfo } from 'node:net';
import type { FastifyInstance } from 'fastify';
import { harness, type Harness } from '../helpers/harness';
import { BACKENDS } from '../helpers/env';
import { buildApp } from '../../src/dashboard/app';
import { listCases, type CaseListFilter } from '../../src/dashboard/case-list';
import { listEn } from '../../src/dashboard/i18n/list';
import type { Queryable } from '../../src/caselog/db';
import { verifyCaseLog } from '../../src/caselog/verify';
import { setPriority } from '../../src/caselog/actions';
import { addOperator, changePassword, confirmTotpEnrolment, startTotpEnrolment, type OperatorRole } from '../../src/operators/accounts';
import { createSession } from '../../src/operators/sessions';
import { totpCode } from '../../src/operators/totp';

const PASSWORD = 'correct horse battery staple';

/** One informant each (a distinct address), on its own day; `also` is the same informant's follow-up. */
const TIPS = {
  english: { text: 'Checkpoint closed on the north road near the bridge since early morning', at: '2026-06-01T08:00:00Z', also: 'Soldiers are searching every car, the queue keeps growing' },
  arabic: { text: 'انقطاع الكهرباء في الحي الشرقي منذ ثلاثة أيام', at: '2026-06-03T10:00:00Z' },
  arabicMarked: { text: 'إطلاقُ نارٍ قربَ المستشفى الكبير', at: '2026-06-05T23:30:00Z' },
  sorani: { text: 'کارەبا لە گەڕەکی ڕۆژهەڵات نییە', at: '2026-06-07T09:00:00Z' },
  kurmanji: { text: 'Êrîşa li ser gundê Şêxan şevê çêbû', at: '2026-06-08T21:00:00Z' },
  french: { text: "Incendie à l'école du quartier ouest, les élèves évacués", at: '2026-06-09T12:00:00Z' },
  percent: { text: 'Prices up 50% at the market since the road closed', at: '2026-06-10T07:00:00Z' },
  market2: { text: 'Fire reported at the market warehouse late last night', at: '2026-06-10T08:00:00Z' },
  market3: { text: 'Market stalls were taken by the police this afternoon', at: '2026-06-10T09:00:00Z' },
} as const;
type Tip = keyof typeof TIPS;

describe.each(BACKENDS)('case list on %s', (backend) => {
  let h: Harness;
  let app: FastifyInstance;
  let base: string;
  const ref = {} as Record<Tip, string>;
  const who = {} as Record<'analyst' | 'supervisor', { name: string; token: string; csrf: string }>;

  async function ready(name: string, role: OperatorRole) {
    const c = await addOperator(h.db, name, role);
    await changePassword(h.db, name, c.password, PASSWORD);
    const e = await startTotpEnrolment(h.db, name);
    await confirmTotpEnrolment(h.db, name, totpCode(e.secret));
    const s = await createSession(h.db, name);
    return { name, token: s.token, csrf: s.csrf };
  }

  type As = (typeof who)['analyst'];
  async function get(url: string, as: As = who.analyst) {
    const res = await fetch(base + url, { headers: { cookie: `tiphub=${as.token}` }, redirect: 'manual' });
    return { status: res.status, body: await res.text() };
  }
  async function post(url: string, as: As, body: Record<string, string | string[]> | object, o: { json?: boolean; csrf?: boolean } = {}) {
    const headers: Record<string, string> = { cookie: `tiphub=${as.token}`, origin: base };
    let payload: string;
    if (o.json) {
      headers['content-type'] = 'application/json';
      if (o.csrf !== false) headers['x-csrf-token'] = as.csrf;
      payload = JSON.stringify(body);
    } else {
      headers['content-type'] = 'application/x-www-form-urlencoded';
      const form = new URLSearchParams();
      for (const [k, v] of Object.entries(body as Record<string, string | string[]>)) for (const x of ([] as string[]).concat(v)) form.append(k, x);
      if (o.csrf !== false) form.set('_csrf', as.csrf);
      payload = form.toString();
    }
    const res = await fetch(base + url, { method: 'POST', headers, body: payload, redirect: 'manual' });
    return { status: res.status, body: await res.text() };
  }
  const search = async (query: string): Promise<string[]> => {
    const r = await get(`/api/cases?${query}`);
    expect(r.status).toBe(200);
    return (JSON.parse(r.body) as { cases: { ref: string }[] }).cases.map((c) => c.ref);
  };
  const q = (words: string, more = '') => search(`q=${encodeURIComponent(words)}${more}`);
  const events = async (r: string, kind: string) =>
    (await h.db.query<{ actor: string; data: Record<string, unknown> }>('SELECT e.actor, e.data FROM events e JOIN cases c ON c.id = e.case_id WHERE c.ref = $1 AND e.kind = $2 ORDER BY e.seq', [r, kind])).rows;

  beforeAll(async () => {
    h = await harness(backend, { conversation: { enabled: false } });
    let n = 0;
    for (const [name, tip] of Object.entries(TIPS)) {
      const from = `addr-search-secret-${name}`;
      await h.sink(h.message({ id: `s${n++}`, from, text: tip.text, sentAt: tip.at }));
      if ('also' in tip) await h.sink(h.message({ id: `s${n++}`, from, text: tip.also, sentAt: new Date(Date.parse(tip.at) + 120_000).toISOString() }));
    }
    h.startWorker();
    await h.drained();
    await h.stopWorker();
    const { rows } = await h.db.query<{ ref: string; text: string; report_count: number }>('SELECT c.ref, r.text, c.report_count FROM cases c JOIN reports r ON r.case_id = c.id');
    for (const [name, tip] of Object.entries(TIPS)) ref[name as Tip] = rows.find((r) => r.text === tip.text)!.ref;
    expect(new Set(Object.values(ref)).size).toBe(Object.keys(TIPS).length);
    // The follow-up joined the first report's case: a word of either report finds it.
    expect(rows.find((r) => r.text === TIPS.english.also)?.ref).toBe(ref.english);
    who.analyst = await ready('ana1', 'analyst');
    who.supervisor = await ready('sup1', 'supervisor');
    app = await buildApp({ db: h.db });
    await app.listen({ host: '127.0.0.1', port: 0 });
    base = `http://127.0.0.1:${(app.server.address() as AddressInfo).port}`;
  });
  afterAll(async () => {
    await app?.close();
    await h?.close();
  });

  test('a word in many reports walks the list instead of finding every report: the same cases, in the same order, page by page', async () => {
    for (const words of ['market', 'الكهرباء', 'closed', 'road', 'کارەبا', 'nothing-like-this']) {
      const found = await listCases(h.db, { q: words });
      // searchFew 0: every search takes the walk, as a frequent word does at a million reports.
      const walked = await listCases(h.db, { q: words }, { searchFew: 0 });
      expect({ words, refs: walked.cases.map((c) => c.ref) }).toEqual({ words, refs: found.cases.map((c) => c.ref) });
      // A page boundary in the walk: the second page continues where the first stopped.
      const first = await listCases(h.db, { q: words, limit: 1 }, { searchFew: 0 });
      const rest = first.next ? await listCases(h.db, { q: words, cursor: first.next }, { searchFew: 0 }) : { cases: [] };
      expect([...first.cases, ...rest.cases].map((c) => c.ref)).toEqual(found.cases.map((c) => c.ref));
    }
    expect((await listCases(h.db, { q: 'market' }, { searchFew: 0 })).cases.map((c) => c.ref).sort()).toEqual([ref.percent, ref.market2, ref.market3].sort());
  });

  test('an English word, case folded, in any report of the case; every word in one report', async () => {
    expect(await q('bridge')).toEqual([ref.english]);
    expect(await q('BRIDGE')).toEqual([ref.english]);
    expect(await q('soldiers')).toEqual([ref.english]);
    expect(await q('north   bridge')).toEqual([ref.english]);
    // Both words, but in two different reports: no report holds both.
    expect(await q('bridge soldiers')).toEqual([]);
    expect(await q('zebra')).toEqual([]);
  });

  test('Arabic: a word, and a word written without its hamza, harakat or with yeh for alef maksura', async () => {
    expect(await q('الكهرباء')).toEqual([ref.arabic]);
    expect(await q('اطلاق')).toEqual([ref.arabicMarked]);
    expect(await q('إطلاقُ')).toEqual([ref.arabicMarked]);
    expect(await q('المستشفي')).toEqual([ref.arabicMarked]);
    expect(await q('الكهرباء الشرقي')).toEqual([ref.arabic]);
    expect(await q('الكهرباء المستشفى')).toEqual([]);
  });

  test('Kurdish in both scripts: Sorani (with its keheh, or kaf and heh from an Arabic keyboard) and Kurmanji (with or without its letters)', async () => {
    expect(await q('کارەبا')).toEqual([ref.sorani]);
    expect(await q('كارهبا')).toEqual([ref.sorani]);
    expect(await q('Şêxan')).toEqual([ref.kurmanji]);
    expect(await q('ŞÊXAN')).toEqual([ref.kurmanji]);
    expect(await q('sexan')).toEqual([ref.kurmanji]);
  });

  test('French with and without accents; LIKE wildcards are literal', async () => {
    expect(await q('école')).toEqual([ref.french]);
    expect(await q('ECOLE évacués')).toEqual([ref.french]);
    expect(await q('50%')).toEqual([ref.percent]);
    expect(await q('%%%')).toEqual([]);
    expect(await q('___')).toEqual([]);
  });

  test('a search of 2 letters or fewer is refused, with a coded error and on the page in words', async () => {
    for (const short of ['ab', 'ab cd', 'ـَـُ', 'إِ']) {
      const r = await get(`/api/cases?q=${encodeURIComponent(short)}`);
      expect(r.status).toBe(400);
      expect(JSON.parse(r.body)).toMatchObject({ error: 'TIPHUB_CONFIG_INVALID' });
    }
    const page = await get('/?q=ab');
    expect(page.status).toBe(400);
    expect(page.body).toContain(`<p class="error" role="alert">${listEn.searchTooShort.replace(/'/g, '&#39;')}</p>`);
    expect(page.body).not.toContain('<tr class="case"');
    // A short word beside a long one is just one more word to find.
    expect(await q('up 50%')).toEqual([ref.percent]);
    expect(await q('of 50%')).toEqual([]);
  });

  test('search with other filters and keyset paging', async () => {
    const all = await q('market');
    expect(all).toEqual([ref.market3, ref.market2, ref.percent]);
    await setPriority(h.db, ref.percent, 'urgent', 'sup1');
    expect(await q('market')).toEqual([ref.percent, ref.market3, ref.market2]);
    expect(await q('market', '&priority=urgent')).toEqual([ref.percent]);
    expect(await q('market', '&priority=low')).toEqual([]);
    expect(await q('market', '&status=new&from=2026-06-10&to=2026-06-10')).toEqual([ref.percent, ref.market3, ref.market2]);
    const seen: string[] = [];
    let cursor: string | null = null;
    let pages = 0;
    do {
      const r = await get(`/api/cases?q=market&limit=1${cursor ? `&cursor=${encodeURIComponent(cursor)}` : ''}`);
      const body = JSON.parse(r.body) as { cases: { ref: string }[]; next: string | null };
      seen.push(...body.cases.map((c) => c.ref));
      cursor = body.next;
      pages++;
    } while (cursor && pages < 10);
    expect(seen).toEqual([ref.percent, ref.market3, ref.market2]);
    expect(pages).toBe(3);
    // The page's next link keeps the search.
    const first = await get('/?q=market&limit=1');
    const next = /<a rel="next" class="next" href="([^"]+)"/.exec(first.body)?.[1]?.replace(/&amp;/g, '&');
    expect(next).toContain('q=market');
    expect((await get(next!)).body).toContain(`data-ref="${ref.market3}"`);
    await setPriority(h.db, ref.percent, 'normal', 'sup1');
  });

  test('date range on the last report (UTC days, both ends included); the campaign flag', async () => {
    expect((await search('from=2026-06-03&to=2026-06-05')).sort()).toEqual([ref.arabic, ref.arabicMarked].sort());
    expect(await search('to=2026-06-01')).toEqual([ref.english]);
    expect((await search('from=2026-06-10')).sort()).toEqual([ref.percent, ref.market2, ref.market3].sort());
    expect(await search('from=2026-06-06&to=2026-06-05')).toEqual([]);
    expect((await get('/api/cases?from=2026-02-30')).status).toBe(400);
    expect((await get('/api/cases?from=yesterday')).status).toBe(400);
    expect((await get('/?to=2026-13-01')).status).toBe(400);
    // An empty field of the filter form is no filter.
    const every = await search('');
    expect(await search('q=&status=&priority=&tag=&from=&to=&flag=')).toEqual(every);
    expect(every).toHaveLength(Object.keys(TIPS).length);

    expect(await search('flag=campaign')).toEqual([]);
    // The campaign check of intake sets the flag; set here by hand (the chain is not verified in this test).
    await h.db.query(`UPDATE cases SET flags = array_append(flags, 'campaign') WHERE ref = $1`, [ref.sorani]);
    expect(await search('flag=campaign')).toEqual([ref.sorani]);
    const page = await get('/?flag=campaign');
    expect(page.body).toContain('<input type="checkbox" name="flag" value="campaign" checked>');
    expect(page.body).toContain(`data-ref="${ref.sorani}"`);
    expect(page.body).toContain('class="flag-campaign"');
    await h.db.query(`UPDATE cases SET flags = array_remove(flags, 'campaign') WHERE ref = $1`, [ref.sorani]);
  });

  test('column filters: a filter matching few cases lists them off its index, the same cases in the same order as the walk, page by page', async () => {
    await setPriority(h.db, ref.arabic, 'high', 'sup1');
    const filters: CaseListFilter[] = [
      { channel: 'simulator' },
      { channel: 'telegram' },
      { status: 'new' },
      { priority: 'high' },
      { priority: 'high', channel: 'simulator' },
      { language: 'ar' },
      { language: 'zz' },
      { place: 'nowhere-at-all' },
      { tag: 'no-such-tag' },
      { flag: 'campaign' },
      { status: 'new', q: 'market' },
      { channel: 'simulator', from: '2026-06-03', to: '2026-06-09' },
    ];
    for (const f of filters) {
      const listed = await listCases(h.db, f);
      // filterFew 0: every filter takes the walk, as a frequent value does at a million cases.
      const walked = await listCases(h.db, f, { filterFew: 0 });
      expect({ f, refs: walked.cases.map((c) => c.ref) }).toEqual({ f, refs: listed.cases.map((c) => c.ref) });
      const first = await listCases(h.db, { ...f, limit: 2 });
      const rest = first.next ? await listCases(h.db, { ...f, cursor: first.next }) : { cases: [] };
      expect({ f, refs: [...first.cases, ...rest.cases].map((c) => c.ref) }).toEqual({ f, refs: listed.cases.map((c) => c.ref) });
    }
    expect((await listCases(h.db, { channel: 'simulator' })).cases).toHaveLength(Object.keys(TIPS).length);
    expect((await listCases(h.db, { priority: 'high' })).cases.map((c) => c.ref)).toEqual([ref.arabic]);
    expect((await listCases(h.db, { language: 'ar' })).cases.map((c) => c.ref)).toContain(ref.arabic);
    await setPriority(h.db, ref.arabic, 'normal', 'sup1');
  });

  test('the plans: the order is an index, a next page an index bound, a search the trigram index, a row its first report by index', async () => {
    const seen: { sql: string; params: unknown[] }[] = [];
    const recording: Queryable = { query: (sql, params) => (seen.push({ sql, params: params ?? [] }), h.db.query(sql, params)) };
    const plan = async (f: CaseListFilter, hashJoin = false) => {
      seen.length = 0;
      await listCases(recording, f);
      const { sql, params } = seen[0]!;
      // A handful of rows: the planner would read the table itself; tell it not to, and see what it can use.
      return h.db.transaction(async (tx) => {
        await tx.query('SET LOCAL enable_seqscan = off');
        // …and to find the reports first, as it does when there are many (then sorting the few cases found).
        await tx.query(hashJoin ? 'SET LOCAL enable_nestloop = off' : 'SET LOCAL enable_sort = off');
        const { rows } = await tx.query<Record<string, string>>(`EXPLAIN ${sql}`, params);
        return rows.map((r) => Object.values(r)[0]).join('\n');
      });
    };
    const first = await plan({});
    expect(first).toMatch(/Index Scan Backward using cases_list_order/);
    expect(first).toMatch(/using reports_by_case_sent/);
    expect(first).not.toMatch(/\bSort\b/);
    const page1 = await listCases(h.db, { limit: 2 });
    const next = await plan({ cursor: page1.next!, limit: 2 });
    expect(next).toMatch(/Index Scan Backward using cases_list_order[^\n]*\n\s*Index Cond: \(ROW\(/);
    const found = await plan({ q: 'market' }, true);
    expect(found).toMatch(/reports_folded_trgm/);
  });

  describe('bulk actions', () => {
    const three = () => [ref.arabic, ref.sorani, ref.kurmanji];

    test('the form shows only what the role may do', async () => {
      const an = (await get('/', who.analyst)).body;
      expect(an).toContain('formaction="/bulk/status"');
      expect(an).toContain('formaction="/bulk/tags"');
      expect(an).not.toContain('formaction="/bulk/assign"');
      const bar = (body: string) => /<fieldset class="bulk-bar">[^]*?<\/fieldset>/.exec(body)?.[0] ?? '';
      expect(bar(an)).toContain('<option value="escalated">');
      expect(bar(an)).not.toContain('<option value="closed">');
      expect(an).toContain(`<input type="checkbox" name="refs" value="${ref.arabic}"`);
      const su = (await get('/', who.supervisor)).body;
      expect(su).toContain('formaction="/bulk/assign"');
      expect(bar(su)).toContain('<option value="closed">');
    });

    test('a status for the selected cases: each its own event with the operator as actor; closing refused per case for an analyst', async () => {
      const r = await post('/bulk/status', who.analyst, { refs: three(), status: 'escalated', back: '/?q=x' });
      expect(r.status).toBe(200);
      expect(r.body).toContain('<dd class="changed" data-count="3">');
      expect(r.body).toContain('<a href="/?q=x">');
      for (const c of three()) expect(await events(c, 'case.status')).toEqual([{ actor: 'ana1', data: expect.objectContaining({ status: 'escalated' }) }]);
      // Again: nothing changes, no event.
      const again = await post('/bulk/status', who.analyst, { refs: three(), status: 'escalated' });
      expect(again.body).toContain('<dd class="unchanged" data-count="3">');
      for (const c of three()) expect(await events(c, 'case.status')).toHaveLength(1);
      // An analyst may post statuses, not close: each case refused, none changed.
      const close = await post('/bulk/status', who.analyst, { refs: three(), status: 'closed', reason: 'spam' });
      expect(close.status).toBe(200);
      expect(close.body).toContain('<dd class="refused" data-count="3">');
      expect(close.body).toContain('<dd class="changed" data-count="0">');
      for (const c of three()) expect(await events(c, 'case.status')).toHaveLength(1);
      // One ref: the form sends a single value.
      const one = await post('/bulk/status', who.supervisor, { refs: ref.arabic, status: 'closed', reason: 'spam' });
      expect(one.body).toContain('<dd class="changed" data-count="1">');
      expect((await events(ref.arabic, 'case.status')).at(-1)).toEqual({ actor: 'sup1', data: expect.objectContaining({ status: 'closed', reason: 'spam' }) });
    });

    test('assign is refused to an analyst at the route, page and API alike; a supervisor assigns, to me too', async () => {
      const page = await post('/bulk/assign', who.analyst, { refs: three(), me: '1' });
      expect(page.status).toBe(403);
      const api = await post('/api/bulk/assign', who.analyst, { refs: three(), to: 'ana1' }, { json: true });
      expect(api.status).toBe(403);
      expect(JSON.parse(api.body)).toMatchObject({ error: 'TIPHUB_DASHBOARD_FORBIDDEN' });
      for (const c of three()) expect(await events(c, 'case.assigned')).toEqual([]);

      const me = await post('/bulk/assign', who.supervisor, { refs: [ref.sorani, ref.kurmanji], me: '1', to: '' });
      expect(me.body).toContain('<dd class="changed" data-count="2">');
      for (const c of [ref.sorani, ref.kurmanji]) expect(await events(c, 'case.assigned')).toEqual([{ actor: 'sup1', data: { to: 'sup1', from: null } }]);
      const res = await post('/api/bulk/assign', who.supervisor, { refs: [ref.sorani, ref.french, 'ZZZ-ZZZZ'], to: 'ana1' }, { json: true });
      expect(res.status).toBe(200);
      expect(JSON.parse(res.body)).toEqual({ changed: [ref.sorani, ref.french], unchanged: [], refused: [{ ref: 'ZZZ-ZZZZ', error: 'TIPHUB_CASE_NOT_FOUND', message: expect.any(String) }] });
      const unknown = await post('/api/bulk/assign', who.supervisor, { refs: [ref.french], to: 'nobody-of-ours' }, { json: true });
      expect(JSON.parse(unknown.body)).toMatchObject({ changed: [], refused: [{ ref: ref.french }] });
    });

    test('a tag, from the form and the API', async () => {
      const r = await post('/bulk/tags', who.analyst, { refs: [ref.english, ref.french], tag: 'roads' });
      expect(r.body).toContain('<dd class="changed" data-count="2">');
      for (const c of [ref.english, ref.french]) expect(await events(c, 'case.tags')).toEqual([{ actor: 'ana1', data: expect.objectContaining({ add: ['roads'] }) }]);
      expect((await search('tag=roads')).sort()).toEqual([ref.english, ref.french].sort());
      const api = await post('/api/bulk/tags', who.analyst, { refs: [ref.french], remove: ['roads'] }, { json: true });
      expect(JSON.parse(api.body)).toEqual({ changed: [ref.french], unchanged: [], refused: [] });
      expect(await search('tag=roads')).toEqual([ref.english]);
    });

    test('without the CSRF token or from another origin: refused, nothing changed; nothing selected: said so', async () => {
      const before = await h.count('SELECT count(*) AS n FROM events');
      const form = await post('/bulk/status', who.supervisor, { refs: three(), status: 'new' }, { csrf: false });
      expect(form.status).toBe(403);
      const api = await post('/api/bulk/status', who.supervisor, { refs: three(), status: 'new' }, { json: true, csrf: false });
      expect(api.status).toBe(403);
      expect(JSON.parse(api.body)).toMatchObject({ error: 'TIPHUB_DASHBOARD_CSRF' });
      const foreign = await fetch(`${base}/api/bulk/status`, {
        method: 'POST',
        headers: { cookie: `tiphub=${who.supervisor.token}`, origin: 'http://evil.example', 'content-type': 'application/json', 'x-csrf-token': who.supervisor.csrf },
        body: JSON.stringify({ refs: three(), status: 'new' }),
      });
      expect(foreign.status).toBe(403);
      expect(await h.count('SELECT count(*) AS n FROM events')).toBe(before);
      const none = await post('/bulk/status', who.supervisor, { status: 'new' });
      expect(none.status).toBe(400);
      expect(none.body).toContain(listEn.noneSelected);
      expect((await post('/api/bulk/status', who.supervisor, { refs: [], status: 'new' }, { json: true })).status).toBe(400);
    });

    test('the chains verify after the bulk changes', async () => {
      const v = await verifyCaseLog(h.db);
      expect(v.problems).toEqual([]);
      expect(v.ok).toBe(true);
    });
  });
});
