/**
 * The case log's figures for `tiphub status` and the metrics (src/caselog/stats.ts), on both back
 * ends: each count moves with what was written — reports sent through the intake, a case closed, a
 * merged case not counted, outbox rows waiting, a send refused for good, media pending or missing,
 * quarantined messages.
 */
import { BACKENDS } from '../helpers/env';
import { harness, type Harness } from '../helpers/harness';
import { readCaseLogStats } from '../../src/caselog/stats';
import { addQuarantine } from '../../src/caselog/quarantine';
import { addOutbox } from '../../src/caselog/outbox';
import { appendCaseEvent } from '../../src/caselog/events';
import { mergeCases } from '../../src/caselog/corrections';
import { setStatus } from '../../src/caselog/actions';

jest.setTimeout(120_000);

describe.each(BACKENDS)('case log stats on %s', (backend) => {
  let h: Harness;
  beforeAll(async () => {
    h = await harness(backend);
  });
  afterAll(async () => {
    await h?.close();
  });

  test('each figure follows what was written', async () => {
    expect(await readCaseLogStats(h.db)).toEqual({
      reports: 0, cases: 0, openCases: 0, lastCommitAt: null, outbox: { pending: 0, oldestPendingAt: null, failed: 0 }, media: { pending: 0, missing: 0 }, quarantined: 0,
    });
    const before = Date.now();
    h.startWorker();
    const a = h.informant('+9647700000101');
    const b = h.informant('+9647700000102');
    const c = h.informant('+9647700000103');
    await a.say('Armed men at the bridge near the market');
    await b.say('Power cut across the whole eastern district');
    await c.say('A school bus stopped by a patrol on route nine');
    await h.drained();
    await h.stopWorker();

    const s1 = await readCaseLogStats(h.db);
    expect(s1.reports).toBe(3);
    expect(s1.reports).toBe(await h.count('SELECT count(*) AS n FROM reports'));
    expect(s1.cases).toBe(await h.count('SELECT count(DISTINCT case_id) AS n FROM reports'));
    expect(s1.openCases).toBe(s1.cases);
    expect(Date.parse(s1.lastCommitAt!)).toBeGreaterThanOrEqual(before - 1000);

    const { rows } = await h.db.query<{ id: number; ref: string }>('SELECT id, ref FROM cases ORDER BY id');
    await setStatus(h.db, rows[0]!.ref, 'closed', { reason: 'spam', actor: 'test' });
    const s2 = await readCaseLogStats(h.db);
    expect(s2.openCases).toBe(s1.openCases - 1);
    expect(s2.cases).toBe(s1.cases);
    // Three informants, three subjects: three cases; merging one into another leaves two.
    expect(rows).toHaveLength(3);
    await mergeCases(h.db, rows[1]!.ref, rows[2]!.ref, 'test');
    const s3 = await readCaseLogStats(h.db);
    expect(s3.cases).toBe(s2.cases - 1);
    expect(s3.openCases).toBe(s2.openCases - 1);
    expect(s3.reports).toBe(3);

    const pending0 = (await readCaseLogStats(h.db)).outbox.pending;
    await h.db.transaction(async (tx) => {
      await addOutbox(tx, [{ channel: 'simulator', pseudonym: a.pseudonym, caseId: rows[0]!.id, kind: 'help', data: { key: 'help' } }]);
      await appendCaseEvent(tx, rows[0]!.id, 'message.failed', 'bot', { kind: 'ack', code: 'TIPHUB_RECIPIENT_UNREACHABLE' });
    });
    const { rows: reports } = await h.db.query<{ id: string }>('SELECT id FROM reports ORDER BY id');
    for (const [i, state] of (['pending', 'pending', 'missing', 'stored'] as const).entries()) {
      await h.db.query(`INSERT INTO report_media (report_id, idx, kind, state) VALUES ($1, $2, 'photo', $3)`, [reports[0]!.id, i, state]);
    }
    await addQuarantine(h.db, [
      { channel: 'simulator', source: 'line 1', code: 'TIPHUB_MESSAGE_INVALID', reason: 'text: not a string', payloadSealed: null },
      { channel: 'simulator', source: 'line 2', code: 'TIPHUB_MESSAGE_INVALID', reason: 'text: not a string', payloadSealed: null },
    ]);
    const s4 = await readCaseLogStats(h.db);
    expect(s4.outbox.pending).toBe(pending0 + 1);
    expect(s4.outbox.oldestPendingAt).not.toBeNull();
    expect(s4.outbox.failed).toBe(1);
    expect(s4.media).toEqual({ pending: 2, missing: 1 });
    expect(s4.quarantined).toBe(2);
  });
});
