/**
 * Issue 11, item 8: one informant by pseudonym over real HTTP, on PostgreSQL and PGlite: channel,
 * language, first and last seen, cases and reports linking to the cases, the flood flag; block and
 * unblock for supervisors and admins through the service `tiphub informant block` uses, each an
 * informant-log entry with the operator as actor that `verify` checks; never an address.
 */
import { BACKENDS } from '../helpers/env';
import { harness, type Harness } from '../helpers/harness';
import { verifyCaseLog } from '../../src/caselog/verify';
import { listOperatorAudit } from '../../src/operators/audit';
import { operator, serve, type Served, type Who } from './records-http';

const FLOODER = 'addr-informant-0001';
const CALM = 'addr-informant-0002';

describe.each(BACKENDS)('the informant view on %s', (backend) => {
  let h: Harness;
  let srv: Served;
  let admin: Who;
  let supervisor: Who;
  let analyst: Who;
  let flooder: string;
  let calm: string;

  beforeAll(async () => {
    h = await harness(backend, { conversation: { floodPerMinute: 2 } });
    const texts = [
      'Tanks moving on the coast road towards the port',
      'They stopped at the roundabout by the fish market',
      'Now they are at the port gate, soldiers everywhere',
      'Port gate closed, nobody can leave the harbour',
    ];
    for (const [i, t] of texts.entries()) await h.sink(h.message({ id: `f${i}`, from: FLOODER, text: t, sentAt: `2026-06-10T05:0${i}:00Z` }));
    await h.sink(h.message({ id: 'c1', from: CALM, text: 'الكهرباء مقطوعة في حي الزهور منذ يومين', sentAt: '2026-06-10T05:30:00Z' }));
    h.startWorker();
    await h.drained();
    await h.stopWorker();
    flooder = h.keyring.pseudonym('simulator', FLOODER);
    calm = h.keyring.pseudonym('simulator', CALM);
    admin = await operator(h, 'amina', 'admin');
    supervisor = await operator(h, 'bilal', 'supervisor');
    analyst = await operator(h, 'chen', 'analyst');
    srv = await serve(h);
  });
  afterAll(async () => {
    await srv?.close();
    await h?.close();
  });

  test('who may: every role reads, anonymous is sent to log in; only supervisors and admins block', async () => {
    expect((await srv.call({ url: `/informants/${calm}` })).headers.get('location')).toBe('/login');
    expect((await srv.call({ url: `/api/informants/${calm}` })).status).toBe(401);
    for (const who of [analyst, supervisor, admin]) {
      expect((await srv.call({ url: `/informants/${calm}`, as: who })).status).toBe(200);
      expect((await srv.call({ url: `/api/informants/${calm}`, as: who })).status).toBe(200);
    }
    for (const what of ['block', 'unblock']) {
      const anon = await srv.call({ method: 'POST', url: `/informants/${calm}/${what}`, form: {} });
      expect([anon.status, anon.headers.get('location')]).toEqual([302, '/login']);
      expect((await srv.call({ method: 'POST', url: `/api/informants/${calm}/${what}`, json: {} })).status).toBe(401);
      expect((await srv.call({ method: 'POST', url: `/informants/${calm}/${what}`, as: analyst, form: {} })).status).toBe(403);
      const refused = await srv.call({ method: 'POST', url: `/api/informants/${calm}/${what}`, as: analyst, json: {} });
      expect([refused.status, refused.json<{ error: string }>().error]).toEqual([403, 'TIPHUB_DASHBOARD_FORBIDDEN']);
      // Without the session's CSRF token, or with another one, refused.
      for (const csrf of [null, 'x'.repeat(43)]) {
        const page = await srv.call({ method: 'POST', url: `/informants/${calm}/${what}`, as: supervisor, csrf, form: {} });
        expect(page.status).toBe(403);
        const api = await srv.call({ method: 'POST', url: `/api/informants/${calm}/${what}`, as: supervisor, csrf, json: {} });
        expect([api.status, api.json<{ error: string }>().error]).toEqual([403, 'TIPHUB_DASHBOARD_CSRF']);
      }
    }
    expect(await h.count(`SELECT count(*) AS n FROM informant_log WHERE kind IN ('blocked', 'unblocked')`)).toBe(0);
    expect(await h.count('SELECT count(*) AS n FROM informants WHERE blocked')).toBe(0);
    // An analyst's page has no block button; a supervisor's has.
    expect((await srv.call({ url: `/informants/${calm}`, as: analyst })).text()).not.toContain(`action="/informants/${calm}/block"`);
    expect((await srv.call({ url: `/informants/${calm}`, as: supervisor })).text()).toContain(`action="/informants/${calm}/block"`);
  });

  test('the view: channel, language, seen, cases and reports linking to them, the flood flag; no address', async () => {
    const v = (await srv.call({ url: `/api/informants/${flooder}`, as: analyst })).json<{
      pseudonym: string; channel: string; firstSeen: string; lastSeen: string; flooded: boolean; floodedReports: number; blocked: boolean; reportCount: number;
      cases: { ref: string; reports: number }[]; reports: { id: string; caseRef: string; text: string; flooded: boolean }[];
    }>();
    const { rows: reports } = await h.db.query<{ id: string; ref: string; flooded: boolean }>(
      'SELECT r.id, c.ref, r.flooded FROM reports r JOIN cases c ON c.id = r.case_id WHERE r.informant = $1',
      [flooder],
    );
    expect(reports).toHaveLength(4);
    const floodedIds = reports.filter((r) => r.flooded).map((r) => r.id).sort();
    // Two a minute: the third and fourth came too fast.
    expect(floodedIds).toHaveLength(2);
    expect(v).toMatchObject({ pseudonym: flooder, channel: 'simulator', flooded: true, floodedReports: 2, blocked: false, reportCount: 4 });
    expect(v.reports.filter((r) => r.flooded).map((r) => r.id).sort()).toEqual(floodedIds);
    expect(v.reports.map((r) => r.caseRef).sort()).toEqual(reports.map((r) => r.ref).sort());
    expect(v.cases.reduce((n, c) => n + c.reports, 0)).toBe(4);
    expect(Date.parse(v.firstSeen)).toBeLessThanOrEqual(Date.parse(v.lastSeen));

    const calmView = (await srv.call({ url: `/api/informants/${calm}`, as: analyst })).json<{ flooded: boolean; language: string | null; reportCount: number }>();
    expect(calmView).toMatchObject({ flooded: false, reportCount: 1 });

    const page = (await srv.call({ url: `/informants/${flooder}`, as: analyst })).text();
    for (const r of reports) expect(page).toContain(`<a href="/cases/${r.ref}#r-${r.id}">${r.ref}</a>`);
    expect(page).toContain('flooded: sent more than the flood limit (2 reports recorded while flooding)');
    expect(page).toContain('<td dir="auto" class="first-words">Tanks moving on the coast road towards the port</td>');
    const arabic = (await srv.call({ url: `/informants/${calm}`, as: analyst })).text();
    expect(arabic).toContain('<td dir="auto" class="first-words">الكهرباء مقطوعة في حي الزهور منذ يومين</td>');

    expect((await srv.call({ url: `/informants/${'0'.repeat(32)}`, as: analyst })).status).toBe(404);
    expect((await srv.call({ url: `/api/informants/${'0'.repeat(32)}`, as: analyst })).json<{ error: string }>().error).toBe('TIPHUB_INFORMANT_NOT_FOUND');
    expect((await srv.call({ url: '/api/informants/not-a-pseudonym', as: analyst })).status).toBe(400);
    expect((await listOperatorAudit(h.db, { operator: 'chen', action: 'informant.view' })).map((e) => e.data.pseudonym)).toContain(flooder);
  });

  test('block from the page, unblock through the API: informant-log entries by the operator, verify stays intact', async () => {
    const blocked = await srv.call({ method: 'POST', url: `/informants/${flooder}/block`, as: supervisor, form: {} });
    expect([blocked.status, blocked.headers.get('location')]).toEqual([303, `/informants/${flooder}`]);
    expect((await h.db.query<{ blocked: boolean }>('SELECT blocked FROM informants WHERE pseudonym = $1', [flooder])).rows[0]!.blocked).toBe(true);
    const page = (await srv.call({ url: `/informants/${flooder}`, as: supervisor })).text();
    expect(page).toContain('blocked: later messages are recorded as blocked and never answered');
    expect(page).toContain(`action="/informants/${flooder}/unblock"`);
    expect(page).toContain('<tr class="log-entry" data-kind="blocked">');

    const unblocked = await srv.call({ method: 'POST', url: `/api/informants/${flooder}/unblock`, as: admin, json: {} });
    expect(unblocked.json()).toEqual({ pseudonym: flooder, blocked: false });
    expect((await h.db.query<{ blocked: boolean }>('SELECT blocked FROM informants WHERE pseudonym = $1', [flooder])).rows[0]!.blocked).toBe(false);
    const { rows: log } = await h.db.query<{ kind: string; actor: string }>(
      `SELECT kind, actor FROM informant_log WHERE pseudonym = $1 AND kind IN ('blocked', 'unblocked') ORDER BY seq`,
      [flooder],
    );
    expect(log).toEqual([{ kind: 'blocked', actor: 'bilal' }, { kind: 'unblocked', actor: 'amina' }]);
    expect((await listOperatorAudit(h.db, { limit: 50 })).filter((e) => e.action.startsWith('informant.b') || e.action.startsWith('informant.u')).map((e) => [e.operator, e.action])).toEqual([
      ['amina', 'informant.unblock'],
      ['bilal', 'informant.block'],
    ]);
    const v = await verifyCaseLog(h.db);
    expect(v.problems).toEqual([]);
    expect(v.informants).toBe(2);

    expect((await srv.call({ method: 'POST', url: `/api/informants/${'0'.repeat(32)}/block`, as: admin, json: {} })).status).toBe(404);
  });

  test('no page or answer holds an informant address', () => {
    expect(srv.bodies.length).toBeGreaterThan(20);
    for (const b of srv.bodies) expect(b).not.toMatch(/addr-informant/);
  });
});
