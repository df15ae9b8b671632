/**
 * One way every queue of the hub is made: the connection and key prefix of the configuration,
 * retries with exponential backoff, and how long finished jobs are kept (queue.keepCompleted,
 * queue.keepFailed). Each queue says only its name and its retries.
 */
import { Queue, type JobsOptions } from 'bullmq';
import type { Config } from '../config';
import { redisOptions, type RedisTarget } from './redis';

export function jobOptions(cfg: Pick<Config, 'queue'>, retries: { attempts: number; backoffMs: number }): JobsOptions {
  return {
    attempts: retries.attempts,
    backoff: { type: 'exponential', delay: retries.backoffMs },
    removeOnComplete: { age: cfg.queue.keepCompleted.ageSeconds, count: cfg.queue.keepCompleted.count },
    removeOnFail: { age: cfg.queue.keepFailed.ageSeconds, count: cfg.queue.keepFailed.count },
  };
}

export function createQueue<Data>(name: string, redis: RedisTarget, cfg: Pick<Config, 'queue'>, retries: { attempts: number; backoffMs: number }) {
  return new Queue<Data>(name, { connection: redisOptions(redis), prefix: cfg.queue.prefix, defaultJobOptions: jobOptions(cfg, retries) });
}
