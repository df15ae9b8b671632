import { BACKENDS } from '../helpers/env';
import { exportedCases, harness, type Harness } from '../helpers/harness';
import { intakeJobId, SEAL_AAD_INTAKE } from '../../src/queue/intake-queue';
import { verifyCaseLog } from '../../src/caselog/verify';
import { countQuarantine } from '../../src/caselog/quarantine';
import { appendCaseEvent } from '../../src/caselog/events';

const exported = exportedCases;

describe.each(BACKENDS)('intake on %s', (backend) => {
  let h: Harness;
  beforeEach(async () => {
    h = await harness(backend);
  });
  afterEach(async () => {
    await h.close();
  });

  test('the same message enqueued three times, and again after its job was removed, is one report', async () => {
    const m = h.message({ id: 'dup-1', from: '+9647700000001', text: 'Armed men at the checkpoint near the bridge', sentAt: '2026-06-10T05:00:00Z' });
    await Promise.all([h.sink(m), h.sink(m), h.sink(m)]);
    expect(await h.queue.getJobCounts('waiting')).toEqual({ waiting: 1 });
    h.startWorker();
    await h.drained();
    const job = await h.queue.getJob(intakeJobId(m.id));
    expect(job?.returnvalue).toEqual({ status: 'inserted', caseRef: expect.stringMatching(/^[2-9A-Z]{3}-[2-9A-Z]{4}$/) });
    await job!.remove();
    await h.sink(m);
    await h.drained();
    const again = await h.queue.getJob(intakeJobId(m.id));
    expect(again?.returnvalue).toEqual({ status: 'present' });
    expect(await h.count('SELECT count(*) AS n FROM reports')).toBe(1);
    expect(await h.count('SELECT count(*) AS n FROM events')).toBe(2); // case.opened, report.added
    expect((await verifyCaseLog(h.db)).ok).toBe(true);
  });

  test('identical text joins the open case of its first copy, whatever its age; short texts never match', async () => {
    const text = 'طائرة مسيرة فوق الموصل الآن قرب الجسر القديم';
    const msgs = [
      h.message({ id: 'a', from: 'u1', text, sentAt: '2026-06-10T05:00:00Z' }),
      // Case and whitespace differ: the same text once normalized.
      h.message({ id: 'b', from: 'u2', text: `  ${text.replace(' ', '   ')} `, sentAt: '2026-06-10T20:00:00Z' }),
      h.message({ id: 'c', from: 'u3', text, sentAt: '2026-06-12T05:00:00Z' }), // 48 h later, the case still open
      h.message({ id: 'd', from: 'u4', text: 'hello', sentAt: '2026-06-10T05:01:00Z' }),
      h.message({ id: 'e', from: 'u5', text: 'hello', sentAt: '2026-06-10T05:02:00Z' }),
      h.message({ id: 'f', from: 'u6', text: '?', sentAt: '2026-06-10T05:03:00Z' }),
      h.message({ id: 'g', from: 'u7', text: '?', sentAt: '2026-06-10T05:03:30Z' }),
    ];
    for (const m of msgs) await h.sink(m, { origin: 'import' });
    h.startWorker();
    await h.drained();
    const cases = await exported(h);
    const caseOf = (nativeId: string) => cases.find((c) => c.reports.some((r) => r.nativeId === nativeId))!.ref;
    expect(caseOf('a')).toBe(caseOf('b'));
    expect(caseOf('c')).toBe(caseOf('a'));
    expect(caseOf('d')).not.toBe(caseOf('e'));
    expect(caseOf('f')).not.toBe(caseOf('g'));
    const ab = cases.find((c) => c.ref === caseOf('a'))!;
    expect(ab.reportCount).toBe(3);
    expect(ab.informantCount).toBe(3);
    expect(ab.reports[1]!.duplicate).toEqual({ of: ab.reports[0]!.id, kind: 'exact' });
    expect(cases).toHaveLength(5);

    // Once its case is closed, a new copy opens a new case linked to the closed one.
    await h.db.transaction(async (tx) => {
      const { rows } = await tx.query<{ id: number }>('SELECT id FROM cases WHERE ref = $1', [ab.ref]);
      await tx.query(`UPDATE cases SET status = 'closed' WHERE id = $1`, [rows[0]!.id]);
      await appendCaseEvent(tx, rows[0]!.id, 'case.status', 'test', { status: 'closed' });
    });
    await h.sink(h.message({ id: 'z', from: 'u9', text, sentAt: '2026-07-01T05:00:00Z' }));
    await h.drained();
    const after = await exported(h);
    const z = after.find((c) => c.reports.some((r) => r.nativeId === 'z'))!;
    expect(z.ref).not.toBe(ab.ref);
    expect(z.reports[0]!.duplicate).toEqual({ of: ab.reports[0]!.id, kind: 'exact' });
    expect((await verifyCaseLog(h.db)).problems).toEqual([]);
  });

  test('follow-ups within 10 minutes by sentAt join the informant’s case, even imported out of order', async () => {
    // Imported in reverse order, hours after they were sent.
    const msgs = [
      h.message({ id: 'f3', from: 'u1', text: 'A third thing, much later that day', sentAt: '2026-06-10T05:30:00Z' }),
      h.message({ id: 'f2', from: 'u1', location: { lat: 36.34, lon: 43.13 }, sentAt: '2026-06-10T05:09:00Z' }),
      h.message({ id: 'f1', from: 'u1', text: 'Explosion heard in the market area', sentAt: '2026-06-10T05:00:00Z' }),
    ];
    for (const m of msgs) {
      await h.sink(m, { origin: 'import' });
    }
    h.startWorker();
    await h.drained();
    const cases = await exported(h);
    expect(cases).toHaveLength(2);
    const first = cases[0]!;
    expect(first.reports.map((r) => r.nativeId)).toEqual(['f1', 'f2']);
    expect(first.reports[1]!.duplicate).toEqual({ of: first.reports[0]!.id, kind: 'followup' });
    expect(first.createdAt).toBe('2026-06-10T05:00:00Z');
    expect(first.updatedAt).toBe('2026-06-10T05:09:00Z');
    expect(cases[1]!.reports.map((r) => r.nativeId)).toEqual(['f3']);
  });

  test('a payload that cannot be opened or validated is quarantined and fails for good', async () => {
    h.startWorker();
    const bogus = await h.queue.add('message', { v: 1, sealed: h.keyring.seal({ v: 1, id: 'nope' }, SEAL_AAD_INTAKE), origin: 'live' }, { jobId: 'in-bogus' });
    const garbage = await h.queue.add('message', { v: 1, sealed: 'v1.AAAA.BBBB.CCCC', origin: 'live' }, { jobId: 'in-garbage' });
    await h.drained();
    for (const j of [bogus, garbage]) {
      const job = await h.queue.getJob(j.id!);
      expect(await job!.getState()).toBe('failed');
      expect(job!.attemptsMade).toBe(1); // UnrecoverableError: not retried
    }
    expect((await h.queue.getJob('in-bogus'))!.failedReason).toMatch(/^TIPHUB_MESSAGE_INVALID: invalid message: /);
    expect((await h.queue.getJob('in-garbage'))!.failedReason).toMatch(/^TIPHUB_SEAL_INVALID/);
    expect(await countQuarantine(h.db)).toBe(2);
    const { rows } = await h.db.query<{ code: string; payload_sealed: string }>('SELECT code, payload_sealed FROM quarantine ORDER BY id');
    expect(rows.map((r) => r.code).sort()).toEqual(['TIPHUB_MESSAGE_INVALID', 'TIPHUB_SEAL_INVALID']);
    expect(rows.every((r) => /^v[12]\./.test(r.payload_sealed))).toBe(true);
    expect(await h.count('SELECT count(*) AS n FROM reports')).toBe(0);
  });

  test('verify fails after a report, a case counter or an event is altered in the database', async () => {
    for (let i = 0; i < 4; i++) {
      await h.sink(h.message({ id: `v${i}`, from: `u${i % 2}`, text: `Report number ${i} about the convoy on the highway`, sentAt: `2026-06-10T0${i}:00:00Z` }));
    }
    h.startWorker();
    await h.drained();
    expect((await verifyCaseLog(h.db)).ok).toBe(true);

    const { rows } = await h.db.query<{ id: string; text: string }>(`SELECT id, text FROM reports ORDER BY sent_at LIMIT 1`);
    await h.db.query(`UPDATE reports SET text = 'altered' WHERE id = $1`, [rows[0]!.id]);
    let r = await verifyCaseLog(h.db);
    expect(r.ok).toBe(false);
    expect(r.problems[0]!.what).toBe(`report ${rows[0]!.id} was altered since it was recorded`);
    await h.db.query(`UPDATE reports SET text = $2 WHERE id = $1`, [rows[0]!.id, rows[0]!.text]);
    expect((await verifyCaseLog(h.db)).ok).toBe(true);

    await h.db.query(`UPDATE cases SET report_count = report_count + 1 WHERE id = (SELECT min(id) FROM cases)`);
    r = await verifyCaseLog(h.db);
    expect(r.ok).toBe(false);
    expect(r.problems.map((p) => p.what).join()).toMatch(/report count/);
    await h.db.query(`UPDATE cases SET report_count = report_count - 1 WHERE id = (SELECT min(id) FROM cases)`);

    // Events refuse changes; an owner of the tables can switch that off, and verify still sees it.
    await expect(h.db.query(`UPDATE events SET data = jsonb_set(data, '{status}', '"closed"') WHERE seq = 1`)).rejects.toThrow(/append-only/);
    await h.db.query('ALTER TABLE events DISABLE TRIGGER USER');
    await h.db.query(`UPDATE events SET data = jsonb_set(data, '{status}', '"closed"') WHERE seq = 1 AND case_id = (SELECT min(id) FROM cases)`);
    r = await verifyCaseLog(h.db);
    expect(r.ok).toBe(false);
    expect(r.problems[0]).toMatchObject({ kind: 'rewritten', event: 1, what: expect.stringMatching(/event hash mismatch/) });
  });

  test('a burst of the same text from many new informants flags the case campaign; old informants do not; verify checks flags', async () => {
    const text = 'Breaking: the dam will be blown up tonight, leave the city now';
    // Ten informants who wrote days before: not new.
    for (let i = 0; i < 10; i++) await h.sink(h.message({ id: `old${i}`, from: `old-${i}`, text: `Earlier unrelated report number ${i} about prices`, sentAt: '2026-06-01T05:00:00Z' }));
    for (let i = 0; i < 10; i++) await h.sink(h.message({ id: `oc${i}`, from: `old-${i}`, text: 'Rumour: the old bridge will be closed for repairs, avoid the road', sentAt: new Date(Date.parse('2026-06-10T05:00:00Z') + i * 20_000).toISOString() }));
    // Twelve never seen before, within five minutes.
    for (let i = 0; i < 12; i++) await h.sink(h.message({ id: `new${i}`, from: `new-${i}`, text, sentAt: new Date(Date.parse('2026-06-10T06:00:00Z') + i * 25_000).toISOString() }));
    h.startWorker();
    await h.drained();
    const cases = await exported(h);
    const camp = cases.find((c) => c.reports.some((r) => r.nativeId === 'new0'))!;
    const old = cases.find((c) => c.reports.some((r) => r.nativeId === 'oc0'))!;
    expect(camp.reportCount).toBe(12);
    expect(camp.flags).toEqual(['campaign']);
    expect(old.reportCount).toBe(10);
    expect(old.flags).toEqual([]);
    expect((await verifyCaseLog(h.db)).problems).toEqual([]);
    await h.db.query(`UPDATE cases SET flags = '{}' WHERE ref = $1`, [camp.ref]);
    expect((await verifyCaseLog(h.db)).problems.map((p) => p.what)).toEqual(['flags [] differ from the recorded [campaign]']);
  });
});
