/** An in-process pipeline on one back end: simulator adapter → sealed job → intake worker → case log. */
import { adapters } from '../../adapters/registry';
import { isRejected, type InboundMessage } from '../../src/contracts/inbound-message';
import { openCaseLogAccess } from '../../src/hub/access';
import { createIntakeQueue, createIntakeSink } from '../../src/queue/intake-queue';
import { startIntakeWorker, type RunningIntakeWorker } from '../../workers/intake/worker';
import { capturingLogger, setup, TEST_REDIS_URL, waitFor, type Backend } from './env';

export async function harness(backend: Backend, overrides: Record<string, unknown> = {}) {
  const s = await setup(backend, overrides);
  const { log, lines } = capturingLogger();
  const access = await openCaseLogAccess(s.cfg, log, { role: 'test' });
  const caselog = access.local!;
  const queue = createIntakeQueue(TEST_REDIS_URL, s.cfg);
  const sink = createIntakeSink(queue, caselog.keyring, log);
  let worker: RunningIntakeWorker | null = null;
  const adapter = adapters.simulator({ keyring: caselog.keyring, log, account: 'simulator' });
  const h = {
    ...s,
    log,
    lines,
    caselog,
    db: caselog.db,
    keyring: caselog.keyring,
    queue,
    sink,
    startWorker() {
      worker = startIntakeWorker({ cfg: s.cfg, redis: TEST_REDIS_URL, caselog, log });
      return worker;
    },
    async stopWorker() {
      await worker?.close();
      worker = null;
    },
    message(line: Record<string, unknown>): InboundMessage {
      const m = adapter.normalize({ line, baseDir: s.dataDir }, { account: 'simulator', receivedAt: new Date('2026-06-10T06:00:00Z'), messageId: (p) => caselog.keyring.messageId('simulator', p) });
      if (isRejected(m)) throw new Error(`fixture rejected: ${m.reason}`);
      return m;
    },
    async count(sql: string, params: unknown[] = []): Promise<number> {
      const { rows } = await caselog.db.query<{ n: number }>(sql, params);
      return Number(rows[0]!.n);
    },
    /** Waits until the queue has nothing waiting, active or delayed. */
    async drained(timeoutMs = 30_000) {
      await waitFor(async () => {
        const c = await queue.getJobCounts('waiting', 'active', 'delayed', 'prioritized');
        return Object.values(c).every((n) => n === 0);
      }, timeoutMs);
    },
    async close() {
      await worker?.close();
      await queue.close();
      await access.close();
      await s.cleanup();
    },
  };
  return h;
}
export type Harness = Awaited<ReturnType<typeof harness>>;
