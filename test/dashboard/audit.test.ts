/**
 * Issue 11, item 7: the operators' audit page for admins, over real HTTP on PostgreSQL and PGlite.
 * Newest first with keyset paging, filtered by operator and action, the view itself recorded; the
 * chain check shows a rewritten entry; a list view writes no row anywhere, a case view only to
 * the operators' audit, never to the case's chain.
 */
import { BACKENDS } from '../helpers/env';
import { harness, type Harness } from '../helpers/harness';
import { appendAudit, listOperatorAudit } from '../../src/operators/audit';
import { operator, serve, type Served, type Who } from './records-http';

interface AuditAnswer {
  entries: { seq: number; at: string; operator: string; action: string; data: Record<string, unknown> }[];
  next: number | null;
  chain: { ok: boolean; entries: number; problems: { kind: string; seq: number | null; what: string }[] };
}

describe.each(BACKENDS)('the audit page on %s', (backend) => {
  let h: Harness;
  let srv: Served;
  let admin: Who;
  let supervisor: Who;
  let analyst: Who;
  let ref: string;

  beforeAll(async () => {
    h = await harness(backend, { conversation: { enabled: false } });
    await h.sink(h.message({ id: 'a1', from: 'addr-audit-0001', text: 'Gunfire near the northern gate of the old city since midnight', sentAt: '2026-06-10T05:00:00Z' }));
    h.startWorker();
    await h.drained();
    await h.stopWorker();
    ref = (await h.db.query<{ ref: string }>('SELECT ref FROM cases')).rows[0]!.ref;
    admin = await operator(h, 'amina', 'admin');
    supervisor = await operator(h, 'bilal', 'supervisor');
    analyst = await operator(h, 'chen', 'analyst');
    srv = await serve(h);
  });
  afterAll(async () => {
    await srv?.close();
    await h?.close();
  });

  test('admins only: anonymous is sent to log in (401 under /api), supervisors and analysts are refused', async () => {
    expect((await srv.call({ url: '/admin/audit' })).headers.get('location')).toBe('/login');
    expect((await srv.call({ url: '/api/admin/audit' })).status).toBe(401);
    for (const who of [supervisor, analyst]) {
      expect((await srv.call({ url: '/admin/audit', as: who })).status).toBe(403);
      expect((await srv.call({ url: '/api/admin/audit', as: who })).json<{ error: string }>().error).toBe('TIPHUB_DASHBOARD_FORBIDDEN');
    }
    expect((await srv.call({ url: '/admin/audit', as: admin })).status).toBe(200);
    expect((await srv.call({ url: '/api/admin/audit', as: admin })).status).toBe(200);
    expect((await srv.call({ url: '/api/admin/audit?before=0', as: admin })).status).toBe(400);
    // Refused looks are not recorded as looks.
    expect((await listOperatorAudit(h.db, { action: 'audit.view' })).map((e) => e.operator)).toEqual(['amina', 'amina']);
  });

  test('a list view writes no row; a case view writes one audit row and nothing to the case', async () => {
    const count = async () => ({
      audit: await h.count('SELECT count(*) AS n FROM operator_audit'),
      events: await h.count('SELECT count(*) AS n FROM events'),
      updated: (await h.db.query<{ u: string }>('SELECT max(updated_at)::text AS u FROM cases')).rows[0]!.u,
    });
    const before = await count();
    expect((await srv.call({ url: '/', as: analyst })).status).toBe(200);
    expect((await srv.call({ url: '/api/cases', as: analyst })).status).toBe(200);
    expect(await count()).toEqual(before);
    expect((await srv.call({ url: `/cases/${ref}`, as: analyst })).status).toBe(200);
    expect(await count()).toEqual({ ...before, audit: before.audit + 1 });
    expect((await listOperatorAudit(h.db, { limit: 1 }))[0]).toMatchObject({ operator: 'chen', action: 'case.view', data: { ref } });
  });

  test('newest first, keyset pages, filters by operator and action; the look itself is recorded', async () => {
    for (let i = 0; i < 7; i++) await h.db.transaction((tx) => appendAudit(tx, 'bilal', 'case.view', { ref, n: i }));
    const first = (await srv.call({ url: '/api/admin/audit?operator=bilal&action=case.view&limit=3', as: admin })).json<AuditAnswer>();
    expect(first.entries.map((e) => e.data.n)).toEqual([6, 5, 4]);
    expect(first.next).toBe(first.entries[2]!.seq);
    const second = (await srv.call({ url: `/api/admin/audit?operator=bilal&action=case.view&limit=3&before=${first.next}`, as: admin })).json<AuditAnswer>();
    expect(second.entries.map((e) => e.data.n)).toEqual([3, 2, 1]);
    const third = (await srv.call({ url: `/api/admin/audit?operator=bilal&action=case.view&limit=3&before=${second.next}`, as: admin })).json<AuditAnswer>();
    expect(third.entries.map((e) => e.data.n)).toEqual([0]);
    expect(third.next).toBeNull();
    expect(first.chain).toMatchObject({ ok: true, problems: [] });
    // Each look is recorded with its filters, and is the newest entry.
    const all = (await srv.call({ url: '/api/admin/audit?limit=1', as: admin })).json<AuditAnswer>();
    expect(all.entries[0]).toMatchObject({ operator: 'amina', action: 'audit.view', data: {} });
    const looks = await listOperatorAudit(h.db, { action: 'audit.view', limit: 4 });
    expect(looks.slice(1, 4).map((e) => e.data)).toEqual([
      { operator: 'bilal', action: 'case.view' },
      { operator: 'bilal', action: 'case.view' },
      { operator: 'bilal', action: 'case.view' },
    ]);
    const byOperator = (await srv.call({ url: '/api/admin/audit?operator=chen', as: admin })).json<AuditAnswer>();
    expect(byOperator.entries.length).toBeGreaterThan(0);
    expect(byOperator.entries.every((e) => e.operator === 'chen')).toBe(true);

    const html = (await srv.call({ url: '/admin/audit?operator=bilal&action=case.view&limit=3', as: admin })).text();
    expect(html).toContain('The audit chain verifies');
    expect((html.match(/class="audit-entry"/g) ?? []).length).toBe(3);
    expect(html).toMatch(new RegExp(`<a rel="next" class="next" href="/admin/audit\\?operator=bilal&amp;action=case.view&amp;limit=3&amp;before=\\d+">`));
    expect(html).toContain('<input name="operator" value="bilal"');
  });

  test('a rewritten entry shows: the page and the API say the chain does not verify, and where', async () => {
    const target = (await listOperatorAudit(h.db, { operator: 'chen', action: 'case.view', limit: 1 }))[0]!;
    // The table refuses changes by trigger; its owner (this test's own schema or folder) lifts it.
    await expect(h.db.query(`UPDATE operator_audit SET operator = 'x' WHERE seq = $1`, [target.seq])).rejects.toThrow(/append-only/);
    await h.db.query('ALTER TABLE operator_audit DISABLE TRIGGER USER');
    await h.db.query(`UPDATE operator_audit SET data = '{"ref":"AAA-AAAA"}' WHERE seq = $1`, [target.seq]);
    await h.db.query('ALTER TABLE operator_audit ENABLE TRIGGER USER');
    const a = (await srv.call({ url: '/api/admin/audit', as: admin })).json<AuditAnswer>();
    expect(a.chain.ok).toBe(false);
    expect(a.chain.problems).toEqual([{ kind: 'rewritten', seq: target.seq, what: expect.stringContaining('content') }]);
    const page = (await srv.call({ url: '/admin/audit', as: admin })).text();
    expect(page).toContain('The audit chain does not verify');
    expect(page).toContain(`[rewritten] entry ${target.seq}`);
  });

  test('no page holds an informant address', () => {
    for (const b of srv.bodies) expect(b).not.toContain('addr-audit');
  });
});
