import { addQuarantine } from '../../src/caselog/quarantine';
import { exportCaseLog, type ExportedCase } from '../../src/caselog/export';
/** An in-process pipeline on one back end: simulator adapter → sealed job → intake worker → case log. */
import { createChannel } from '../../adapters/registry';
import { isRejected, type InboundMessage } from '../../src/contracts/inbound-message';
import { openCaseLogAccess } from '../../app/hub/access';
import { createIntakeQueue, createIntakeSink } from '../../src/queue/intake-queue';
import { startIntakeWorker, type RunningIntakeWorker } from '../../workers/intake/worker';
import { capturingLogger, setup, TEST_REDIS_URL, waitFor, type Backend } from './env';
import type { DeliveredMessage, SimulatorAdapter } from '../../adapters/simulator';
import { loadTexts } from '../../src/conversation/texts';
import { startOutboundWorker } from '../../workers/outbound/worker';
import { connectRedis } from '../../src/queue/redis';
import { createOutboundQueue } from '../../src/queue/outbound-queue';
import type { Origin } from '../../src/contracts/inbound-message';

export async function harness(backend: Backend, overrides: Record<string, unknown> = {}) {
  const s = await setup(backend, overrides);
  const { log, lines } = capturingLogger();
  const access = await openCaseLogAccess(s.cfg, log, { role: 'test' });
  const caselog = access.local!;
  const queue = createIntakeQueue(TEST_REDIS_URL, s.cfg);
  const counters = connectRedis(TEST_REDIS_URL);
  const sink = createIntakeSink(queue, caselog.keyring, log, { flood: { counters, perMinute: s.cfg.conversation.floodPerMinute, prefix: s.cfg.queue.prefix } });
  let worker: RunningIntakeWorker | null = null;
  const adapter: SimulatorAdapter = createChannel('simulator', { keyring: caselog.keyring, log, cfg: s.cfg, redis: TEST_REDIS_URL, quarantine: (e) => addQuarantine(caselog.db, [e]) });
  await adapter.start(sink);
  let outbound: { close(): Promise<void> } | null = null;
  const outboundQueue = createOutboundQueue(TEST_REDIS_URL, s.cfg, 'simulator');
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
    adapter,
    outboundQueue,
    /** The outbound worker for the simulator channel, sending to connected sessions. */
    startOutbound() {
      outbound = startOutboundWorker({ cfg: s.cfg, redis: TEST_REDIS_URL, db: caselog.db, keyring: caselog.keyring, adapter, texts: loadTexts(), log });
      return outbound;
    },
    async stopOutbound() {
      await outbound?.close();
      outbound = null;
    },
    /** Plays an informant: collects what the bot sends to `address`. */
    informant(address: string, session?: (m: DeliveredMessage) => void | Promise<void>) {
      const inbox: DeliveredMessage[] = [];
      adapter.connect(address, async (m) => {
        await session?.(m);
        inbox.push(m);
      });
      let n = 0;
      const say = async (text: string, origin: Origin = 'live', sentAt?: string) =>
        h.sink(h.message({ id: `${address}-${n++}-${Math.random().toString(36).slice(2, 8)}`, from: address, text, ...(sentAt ? { sentAt } : {}) }), { origin });
      return {
        inbox,
        say,
        pseudonym: caselog.keyring.pseudonym('simulator', address),
        async next(count = 1, timeoutMs = 15_000) {
          await waitFor(async () => inbox.length >= count, timeoutMs, 20);
          return inbox.slice(0, count);
        },
      };
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
      await outbound?.close();
      await outboundQueue.close();
      counters.disconnect();
      await queue.close();
      await access.close();
      await s.cleanup();
    },
  };
  return h;
}
export type Harness = Awaited<ReturnType<typeof harness>>;

/** The whole case log as `tiphub export --format jsonl` writes it, parsed. */
export async function exportedCases(h: Harness): Promise<ExportedCase[]> {
  let text = '';
  await exportCaseLog(h.db, 'jsonl', (c) => {
    text += c;
  });
  return text.trim() ? text.trim().split('\n').map((l) => JSON.parse(l) as ExportedCase) : [];
}
