/**
 * Case alerts' outbox (src/alerts/case-alerts.ts) on PostgreSQL and PGlite with the real intake
 * worker and Redis: the row is written with the commit that made the case high and relayed as
 * one job; a row a crash left unrelayed is swept into the queue, and relayed twice it is still
 * one job; a case lowered by an operator and raised again by a later report is not alerted again.
 */
import { BACKENDS } from '../helpers/env';
import { harness, type Harness } from '../helpers/harness';
import { createAlertsQueue, type AlertsQueue } from '../../src/alerts/queue';
import { CaseAlertRelay } from '../../src/alerts/case-alerts';
import { appendCaseEvent } from '../../src/caselog/events';
import { verifyCaseLog } from '../../src/caselog/verify';

const HIGH = 'They threaten to blow up the bridge with a car bomb tonight';

describe.each(BACKENDS)('case alerts on %s', (backend) => {
  let h: Harness;
  let queue: AlertsQueue;
  beforeEach(async () => {
    h = await harness(backend, { alerts: { webhookUrl: 'http://127.0.0.1:9/hook' } });
    queue = createAlertsQueue(h.env.REDIS_URL!, h.cfg);
  });
  afterEach(async () => {
    await queue.obliterate({ force: true });
    await queue.close();
    await h.close();
  });

  const jobs = async () => queue.getJobs(['waiting', 'delayed', 'active', 'completed', 'failed']);

  test('written with the commit, relayed once, swept after a crash, never twice for one case', async () => {
    const now = new Date().toISOString();
    await h.sink(h.message({ id: 'c1', from: 'u1', text: HIGH, sentAt: now }));
    await h.sink(h.message({ id: 'c2', from: 'u2', text: 'The bakery on main street has fresh bread today', sentAt: now }));
    h.startWorker();
    await h.drained();
    await h.stopWorker(); // waits for the relay after commit
    const rows = (await h.db.query<{ id: number; kind: string; ref: string; enqueued: boolean }>(
      `SELECT a.id::int AS id, a.kind, c.ref, a.enqueued_at IS NOT NULL AS enqueued FROM alert_outbox a JOIN cases c ON c.id = a.case_id`,
    )).rows;
    expect(rows).toEqual([{ id: expect.any(Number), kind: 'case.high-priority', ref: expect.any(String), enqueued: true }]);
    const [job] = await jobs();
    expect(job?.id).toBe(`case-${h.caselog.instance}-${rows[0]!.id}`);
    expect(job?.data).toEqual({ kind: 'case.high-priority', case: rows[0]!.ref, priority: 'high', tags: ['explosive', 'threat'], channels: ['simulator'], reportCount: 1, at: expect.any(String) });

    // A crash between commit and relay: the row is still pending; the sweep relays it, once,
    // however many processes sweep (the same job id).
    await h.db.query('UPDATE alert_outbox SET enqueued_at = NULL');
    await job!.remove();
    const one = new CaseAlertRelay(h.env.REDIS_URL!, h.cfg, h.caselog.instance);
    const two = new CaseAlertRelay(h.env.REDIS_URL!, h.cfg, h.caselog.instance);
    const [a, b] = await Promise.all([one.sweep(h.db, 0), two.sweep(h.db, 0)]);
    expect(a + b).toBeGreaterThanOrEqual(1);
    expect((await jobs()).map((j) => j.id)).toEqual([`case-${h.caselog.instance}-${rows[0]!.id}`]);
    expect(await one.sweep(h.db, 0)).toBe(0);
    await one.close();
    await two.close();

    // An operator lowers the case; a copy of its text raises it again: no second alert.
    await h.db.transaction(async (tx) => {
      const { rows: c } = await tx.query<{ id: number }>('SELECT id FROM cases WHERE ref = $1', [rows[0]!.ref]);
      await tx.query(`UPDATE cases SET priority = 'normal' WHERE id = $1`, [c[0]!.id]);
      await appendCaseEvent(tx, c[0]!.id, 'case.priority', 'test', { priority: 'normal', from: 'high' });
    });
    await h.sink(h.message({ id: 'c3', from: 'u3', text: HIGH, sentAt: new Date().toISOString() }));
    h.startWorker();
    await h.drained();
    await h.stopWorker();
    expect(await h.count(`SELECT count(*) AS n FROM cases WHERE priority = 'high' AND report_count = 2`)).toBe(1);
    expect(await h.count('SELECT count(*) AS n FROM alert_outbox')).toBe(1);
    expect(await jobs()).toHaveLength(1);
    expect((await verifyCaseLog(h.db)).problems).toEqual([]);
  }, 300_000); // two hubs' starts (or PGlite) on a loaded machine: more than the default 120 s
});
