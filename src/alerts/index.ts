/**
 * Alerts without Prometheus: what one process runs of them, when alerts.webhookUrl is set. Every
 * process that runs a channel checks its state transitions; where the case log and the workers
 * are, the case alerts' relay and sweep and the sender that posts the queue's jobs.
 */
import type { Config } from '../config';
import type { Db } from '../caselog/db';
import type { Keyring } from '../crypto/keyring';
import type { Logger } from '../log';
import { connectRedis, type RedisTarget } from '../queue/redis';
import { CaseAlertRelay } from './case-alerts';
import { ChannelAlerts } from './channel-alerts';
import { alertsKey } from './payload';
import { createAlertsQueue } from './queue';
import { startAlertSender } from './sender';

export { CaseAlertRelay, addCaseAlerts } from './case-alerts';
export { ChannelAlerts } from './channel-alerts';
export { alertsKey, signAlert, SIGNATURE_HEADER, type Alert, type CaseAlert, type ChannelAlert } from './payload';

export interface RunningAlerts {
  /** For the intake worker: relays the case alerts its batches wrote. */
  readonly cases: CaseAlertRelay;
  /** For the channels' ports: checks a channel right after its state was written. */
  readonly channels: ChannelAlerts;
  close(): Promise<void>;
}

export interface AlertsOptions {
  readonly cfg: Readonly<Config>;
  readonly redis: RedisTarget;
  readonly log: Logger;
  readonly keyring: Keyring;
  readonly instance: string;
  /** The case log, where this process writes it (the workers): the sweep of case alerts left unrelayed. */
  readonly db: Db | null;
  /** Post the queue's alerts from this process (where the workers run). */
  readonly send: boolean;
}

/** Null while alerts.webhookUrl is unset. */
export function startAlerts(opts: AlertsOptions): RunningAlerts | null {
  const { cfg, log } = opts;
  if (!cfg.alerts.webhookUrl) return null;
  const alog = log.child({ part: 'alerts' });
  const redis = connectRedis(opts.redis);
  const queue = createAlertsQueue(opts.redis, cfg);
  const channels = new ChannelAlerts(redis, queue, cfg, alog);
  channels.watch(Object.entries(cfg.channels).flatMap(([name, c]) => (c.enabled ? [name] : [])));
  const cases = new CaseAlertRelay(opts.redis, cfg, opts.instance);
  const sender = opts.send ? startAlertSender({ cfg, redis: opts.redis, key: alertsKey(cfg, opts.keyring), log: alog }) : null;
  const db = opts.db;
  const sweepMs = Math.max(1000, cfg.conversation.outboxSweepMs);
  const sweeper = db ? setInterval(() => void cases.sweep(db, sweepMs).catch((err: unknown) => alog.warn({ err }, 'alert sweep failed')), sweepMs) : null;
  sweeper?.unref();
  return {
    cases,
    channels,
    async close() {
      if (sweeper) clearInterval(sweeper);
      await channels.close();
      await sender?.close();
      await cases.close();
      await queue.close();
      redis.disconnect();
    },
  };
}
