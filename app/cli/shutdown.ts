/**
 * Stopping a long-running command (`start`, `worker`) on SIGTERM/SIGINT: the hub's stop drains
 * in-flight jobs (each commits, or fails back to its queue for a retry), within a bound. Past it,
 * or on a second signal, the process ends with status 1 and whatever it still held is taken up by
 * another worker once its lock expires (worker.lockDurationMs).
 */
import type { Logger } from '../../src/log';

/**
 * Listens for SIGTERM/SIGINT from now on, the start included: `signal` aborts at the first (a
 * start waiting for Redis gives up, closing what it opened), `received` resolves with its name.
 */
export function listenForStop(): { readonly signal: AbortSignal; readonly received: Promise<string> } {
  const ac = new AbortController();
  const received = new Promise<string>((resolve) => {
    const on = (name: string) => {
      process.off('SIGINT', on);
      process.off('SIGTERM', on);
      ac.abort();
      resolve(name);
    };
    process.on('SIGINT', on);
    process.on('SIGTERM', on);
  });
  return { signal: ac.signal, received };
}

/** How long a stop may take: a batch commit takes well under a second; a database that hangs does not hold the process. */
export const STOP_WITHIN_MS = 30_000;

/** Runs `stop`; resolves with the exit status: 0 when it finished in time, 1 otherwise. */
export async function stopWithin(stop: () => Promise<void>, log: Logger, ms = STOP_WITHIN_MS): Promise<number> {
  let timer: NodeJS.Timeout | undefined;
  let onSignal: (() => void) | undefined;
  const cut = new Promise<string>((resolve) => {
    timer = setTimeout(() => resolve(`not stopped within ${Math.round(ms / 1000)} s`), ms);
    onSignal = () => resolve('stopped at once on a second signal');
    process.once('SIGTERM', onSignal);
    process.once('SIGINT', onSignal);
  });
  try {
    const why = await Promise.race([stop().then(() => null), cut]);
    if (why === null) return 0;
    log.error(`${why}; jobs still held are taken up again when their locks expire`);
    // The unfinished stop may hold the event loop open: end the process once main has returned.
    setTimeout(() => process.exit(1), 500).unref();
    return 1;
  } finally {
    clearTimeout(timer);
    if (onSignal) {
      process.off('SIGTERM', onSignal);
      process.off('SIGINT', onSignal);
    }
  }
}
