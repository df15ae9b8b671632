/**
 * The worker side of the benchmark, in its own process so its RSS is its own.
 * mode "bare": a BullMQ worker with a no-op processor; mode "tiphub": the real intake worker on
 * PostgreSQL. Reports commit times of the ids it was asked to watch, and its peak RSS; in tiphub
 * mode also the grouping step's round trips and time (see probe.ts) with every progress message.
 */
import { Worker } from 'bullmq';
import { loadConfig } from '../app/config';
import { createLogger } from '../src/log';
import { openCaseLogHere } from '../src/caselog/open';
import { startIntakeWorker } from '../workers/intake/worker';
import { redisOptions } from '../src/queue/redis';
import { installDedupeProbe, type DedupeStats } from './probe';

const mode = process.argv[2] as 'bare' | 'tiphub';
const send = (m: unknown) => process.send?.(m);

async function main() {
  const cfg = loadConfig({ configPath: process.env.TIPHUB_CONFIG });
  const log = createLogger(process.env.BENCH_WORKER_LOG ?? 'warn');
  let peakRss = process.memoryUsage().rss;
  const sampler = setInterval(() => (peakRss = Math.max(peakRss, process.memoryUsage().rss)), 100);
  let done = 0;
  let dedupe: DedupeStats | null = null;
  let pendingCommits: [string, number][] = [];
  // How busy this process is: its CPU time and its event loop's busy time, cumulative.
  const load = () => {
    const c = process.cpuUsage();
    return { at: performance.now(), cpuMs: (c.user + c.system) / 1000, busyMs: performance.eventLoopUtilization().active };
  };
  const flushCommits = setInterval(() => {
    if (pendingCommits.length) send({ type: 'commits', items: pendingCommits, done, dedupe, load: load() });
    else send({ type: 'progress', done, dedupe, load: load() });
    pendingCommits = [];
  }, 50);
  const now = () => performance.timeOrigin + performance.now();

  let close: () => Promise<void>;
  if (mode === 'bare') {
    const w = new Worker(
      'bare',
      async (job) => {
        done++;
        pendingCommits.push([job.id!, now()]);
        return null;
      },
      { connection: redisOptions(cfg.redisUrl!, { forWorker: true }), prefix: cfg.queue.prefix, concurrency: cfg.worker.concurrency },
    );
    close = () => w.close();
  } else {
    dedupe = installDedupeProbe();
    const caselog = await openCaseLogHere(cfg, { log, poolSize: 4 });
    const w = startIntakeWorker({
      cfg,
      redis: cfg.redisUrl!,
      caselog,
      log,
      onCommitted: (items) => {
        const t = now();
        done += items.length;
        for (const it of items) pendingCommits.push([it.message.id, t]);
      },
    });
    close = async () => {
      await w.close();
      await caselog.close();
    };
  }
  send({ type: 'ready' });
  process.on('message', async (m: { type: string }) => {
    if (m.type === 'stop') {
      await close();
      clearInterval(sampler);
      clearInterval(flushCommits);
      send({ type: 'commits', items: pendingCommits, done, dedupe });
      send({ type: 'stopped', peakRss, rss: process.memoryUsage().rss });
      process.disconnect?.();
    }
  });
}

main().catch((err) => {
  console.error(err);
  process.exit(1);
});
