/**
 * Opt-in (`hub.statsLogSeconds`, off by default): the hub logs one line per interval with its own
 * memory and event-loop delay, so that a soak run (`npm run soak`) measures the hub itself and not
 * the process driving it. The line holds figures only: no identifier, no content.
 */
import { monitorEventLoopDelay } from 'node:perf_hooks';
import type { Logger } from '../../src/log';

const ms = (ns: number) => Math.round(ns / 1e4) / 100;

export function startProcessStats(log: Logger, seconds: number): () => Promise<void> {
  const delay = monitorEventLoopDelay({ resolution: 10 });
  delay.enable();
  const timer = setInterval(() => {
    const m = process.memoryUsage();
    log.info(
      { rss: m.rss, heapUsed: m.heapUsed, heapTotal: m.heapTotal, external: m.external, arrayBuffers: m.arrayBuffers, eventLoopDelayMs: { p50: ms(delay.percentile(50)), p99: ms(delay.percentile(99)), max: ms(delay.max) } },
      'process stats',
    );
    delay.reset();
  }, seconds * 1000);
  timer.unref();
  return async () => {
    clearInterval(timer);
    delay.disable();
  };
}
