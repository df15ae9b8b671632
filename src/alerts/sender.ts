/**
 * Posts the alerts queue's jobs to alerts.webhookUrl, signed. An answer 2xx is delivered; no
 * answer, a timeout, 5xx, 408 or 429 is tried again with backoff (TIPHUB_ALERT_UNDELIVERED); any
 * other answer (4xx, or a redirect, which is not followed) is refused for good
 * (TIPHUB_ALERT_REJECTED, UnrecoverableError), logged once. Logs name the webhook by its origin
 * only: its path or query may carry its token.
 */
import { UnrecoverableError, Worker, type Job } from 'bullmq';
import type { Config } from '../config';
import { describeForeignError, TiphubError } from '../errors';
import type { Logger } from '../log';
import { redisOptions, type RedisTarget } from '../queue/redis';
import { ALERTS_QUEUE } from './queue';
import { SIGNATURE_HEADER, signAlert, webhookOrigin, type Alert } from './payload';

export interface AlertSenderOptions {
  readonly cfg: Readonly<Config>;
  readonly redis: RedisTarget;
  /** The signing key (alertsKey in src/alerts/payload.ts). */
  readonly key: Buffer;
  readonly log: Logger;
}

/** Posts one alert; resolves when the webhook took it, throws a TiphubError saying whether a retry helps. */
export async function postAlert(url: string, key: Buffer, alert: Alert, delivery: string, timeoutMs: number): Promise<void> {
  const body = JSON.stringify(alert);
  let res: Response;
  try {
    res = await fetch(url, {
      method: 'POST',
      headers: { 'content-type': 'application/json', [SIGNATURE_HEADER]: signAlert(key, body), 'X-Tiphub-Delivery': delivery, 'user-agent': 'tiphub-alerts' },
      body,
      redirect: 'manual',
      signal: AbortSignal.timeout(timeoutMs),
    });
  } catch (err) {
    // fetch's own error says "fetch failed"; its cause names the network error (ECONNREFUSED…).
    const cause = err instanceof Error && err.cause ? err.cause : err;
    throw new TiphubError('TIPHUB_ALERT_UNDELIVERED', `alert webhook ${webhookOrigin(url)} not reached (${describeForeignError(cause)})`);
  }
  await res.body?.cancel().catch(() => undefined);
  if (res.ok) return;
  const retry = res.status >= 500 || res.status === 408 || res.status === 429;
  throw new TiphubError(retry ? 'TIPHUB_ALERT_UNDELIVERED' : 'TIPHUB_ALERT_REJECTED', `alert webhook ${webhookOrigin(url)} answered ${res.status}`);
}

export interface RunningAlertSender {
  readonly worker: Worker<Alert>;
  close(): Promise<void>;
}

export function startAlertSender(opts: AlertSenderOptions): RunningAlertSender {
  const { cfg, key, log } = opts;
  const url = cfg.alerts.webhookUrl;
  if (!url) throw new TiphubError('TIPHUB_CONFIG_INVALID', 'alerts.webhookUrl is not set');
  const processor = async (job: Job<Alert>) => {
    try {
      await postAlert(url, key, job.data, String(job.id), cfg.alerts.timeoutMs);
    } catch (err) {
      if (err instanceof TiphubError && !err.retryable) {
        log.warn({ alert: job.data.kind, code: err.code, reason: err.message }, 'alert refused by the webhook; not posted again');
        throw new UnrecoverableError(`${err.code}: ${err.message}`);
      }
      throw err;
    }
    log.debug({ alert: job.data.kind, attempts: job.attemptsMade + 1 }, 'alert delivered');
  };
  const worker = new Worker<Alert>(ALERTS_QUEUE, processor, { connection: redisOptions(opts.redis, { forWorker: true }), prefix: cfg.queue.prefix, concurrency: 4 });
  worker.on('failed', (job, err) => {
    if (err instanceof UnrecoverableError) return; // refused for good: said above
    const code = (err as TiphubError).code;
    if (job && job.attemptsMade >= (job.opts.attempts ?? 1)) log.error({ alert: job.data.kind, attempts: job.attemptsMade, code }, 'alert not delivered; attempts used up');
    else log.warn({ alert: job?.data.kind, attempts: job?.attemptsMade, code }, 'alert not delivered; trying again');
  });
  worker.on('error', (err) => log.error({ cause: describeForeignError(err) }, 'alert sender error'));
  return { worker, close: () => worker.close() };
}
