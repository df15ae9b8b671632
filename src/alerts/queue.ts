/**
 * The `alerts` queue: one job per alert, its id derived from the event (a case's outbox row, a
 * channel's transition), so that two processes relaying the same event make one job. Retries
 * with exponential backoff from alerts.backoffMs, alerts.attempts times. The job holds the
 * alert's JSON as posted: references and fixed words only (src/alerts/payload.ts).
 */
import type { Queue } from 'bullmq';
import type { Config } from '../config';
import { createQueue } from '../queue/factory';
import type { RedisTarget } from '../queue/redis';
import type { Alert } from './payload';

export const ALERTS_QUEUE = 'alerts';

export type AlertsQueue = Queue<Alert>;

export function createAlertsQueue(redis: RedisTarget, cfg: Pick<Config, 'queue' | 'alerts'>): AlertsQueue {
  return createQueue<Alert>(ALERTS_QUEUE, redis, cfg, { attempts: cfg.alerts.attempts, backoffMs: cfg.alerts.backoffMs });
}
