import { BACKENDS, setup, waitFor, capturingLogger, type TestSetup } from '../helpers/env';
import { startCli } from '../helpers/cli';
import { openCaseLogAccess } from '../../app/hub/access';
import { channelModule } from '../../adapters/registry';
import { createIntakeQueue, createIntakeSink, type IntakeQueue } from '../../src/queue/intake-queue';
import { isRejected } from '../../src/contracts/inbound-message';
import { verifyCaseLog } from '../../src/caselog/verify';

const N = 3000;

describe.each(BACKENDS)('a worker killed with SIGKILL mid-batch, on %s', (backend) => {
  let s: TestSetup;
  let queue: IntakeQueue;
  beforeEach(async () => {
    s = await setup(backend, { worker: { batchSize: 64, concurrency: 64, lockDurationMs: 2000, stalledIntervalMs: 1000 } });
    queue = createIntakeQueue(s.env.REDIS_URL!, s.cfg);
  });
  afterEach(async () => {
    await queue.close();
    await s.cleanup();
  });

  test('after a new worker runs, every message is in the log exactly once', async () => {
    const { log } = capturingLogger('warn');
    // The case log's own keys (made when it is created): what the worker will open the jobs with.
    const opened = await openCaseLogAccess(s.cfg, log, { role: 'test' });
    const keyring = opened.keyring;
    await opened.close();
    const sim = channelModule('simulator');
    const sink = createIntakeSink(queue, keyring, log);
    const ids: string[] = [];
    const base = Date.parse('2026-06-10T00:00:00Z');
    for (let i = 0; i < N; i++) {
      const m = sim.normalize(
        {
          line: { id: `k${i}`, from: `+96477${String(i % 700).padStart(7, '0')}`, text: `Report ${i}: movement seen near checkpoint ${i % 97}`, sentAt: new Date(base + i * 7_000).toISOString() },
          baseDir: s.dataDir,
        },
        { account: 'simulator', receivedAt: new Date(), messageId: (p) => keyring.messageId('simulator', p) },
      );
      if (isRejected(m)) throw new Error(m.reason);
      ids.push(m.id);
      await sink(m, { origin: 'import' });
    }

    const first = startCli(['worker'], s.env);
    await waitFor(async () => (await queue.getJobCounts('completed')).completed >= 400, 60_000, 10);
    const atKill = await queue.getJobCounts('completed', 'active');
    first.child.kill('SIGKILL');
    await first.stop();
    expect(atKill.completed).toBeLessThan(N);
    expect(atKill.active).toBeGreaterThan(0); // jobs were in flight: a batch was cut off

    const second = startCli(['worker'], s.env);
    await waitFor(async () => {
      const c = await queue.getJobCounts('completed', 'waiting', 'active', 'delayed', 'failed');
      return c.waiting + c.active + c.delayed === 0 && c.completed + c.failed >= N;
    }, 120_000, 100);
    expect(await second.stop('SIGTERM')).toBe(0);
    expect((await queue.getJobCounts('failed')).failed).toBe(0);

    const access = await openCaseLogAccess(s.cfg, log, { role: 'test' });
    const db = access.local!.db;
    try {
      const { rows } = await db.query<{ id: string }>('SELECT id FROM reports');
      expect(rows).toHaveLength(N);
      expect(new Set(rows.map((r) => r.id))).toEqual(new Set(ids));
      const sum = await db.query<{ n: number }>('SELECT sum(report_count)::int AS n FROM cases');
      expect(sum.rows[0]!.n).toBe(N);
      const v = await verifyCaseLog(db);
      expect(v.problems).toEqual([]);
    } finally {
      await access.close();
    }
  });
});
