/**
 * The `intake` queue: one job per inbound message, its payload sealed, its id derived from the
 * message id (so a redelivery while the job is stored is ignored by BullMQ; the reports primary
 * key is the lasting guard).
 */
import { Queue, type JobsOptions } from 'bullmq';
import { redisOptions, type RedisTarget } from './redis';
import type { Config } from '../config';
import type { Keyring } from '../crypto/keyring';
import { InboundMessage, type Origin } from '../contracts/inbound-message';
import type { InboundSink, SinkResult } from '../contracts/channel-adapter';
import type { Logger } from '../log';

export const INTAKE_QUEUE = 'intake';
export const INTAKE_JOB = 'message';

/** What a job holds in Redis: nothing in clear but the version and the origin. */
export interface IntakeJobData {
  readonly v: 1;
  readonly sealed: string;
  readonly origin: Origin;
}

export const SEAL_AAD_INTAKE = 'intake-job';

export function intakeJobId(messageId: string): string {
  return `in-${messageId}`;
}

export function intakeJobOptions(cfg: Pick<Config, 'queue'>): JobsOptions {
  return {
    attempts: cfg.queue.attempts,
    backoff: { type: 'exponential', delay: cfg.queue.backoffMs },
    removeOnComplete: { age: cfg.queue.keepCompleted.ageSeconds, count: cfg.queue.keepCompleted.count },
    removeOnFail: { age: cfg.queue.keepFailed.ageSeconds, count: cfg.queue.keepFailed.count },
  };
}

export type IntakeQueue = ReturnType<typeof createIntakeQueue>;

export function createIntakeQueue(redis: RedisTarget, cfg: Pick<Config, 'queue'>) {
  return new Queue<IntakeJobData>(INTAKE_QUEUE, {
    connection: redisOptions(redis),
    prefix: cfg.queue.prefix,
    defaultJobOptions: intakeJobOptions(cfg),
  });
}

export function sealForIntake(keyring: Keyring, message: InboundMessage, origin: Origin): { name: string; data: IntakeJobData; opts: JobsOptions } {
  // Validated here as well as in the worker: a producer bug is caught where it happens.
  const checked = InboundMessage.parse(message);
  return {
    name: INTAKE_JOB,
    data: { v: 1, sealed: keyring.seal(checked, SEAL_AAD_INTAKE), origin },
    opts: { jobId: intakeJobId(checked.id) },
  };
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/**
 * The sink adapters call. It resolves once the job is stored; when Redis does not answer it waits
 * and tries again (never rejects for that), so the platform's update stays unconfirmed meanwhile.
 */
export function createIntakeSink(
  queue: IntakeQueue,
  keyring: Keyring,
  log: Logger,
  opts: { stopped?: () => boolean } = {},
): InboundSink {
  return async (message, meta): Promise<SinkResult> => {
    const job = sealForIntake(keyring, message, meta?.origin ?? 'live');
    for (let attempt = 0; ; attempt++) {
      try {
        // A job id that is still stored is ignored by BullMQ: a redelivery costs nothing.
        await queue.add(job.name, job.data, job.opts);
        return { status: 'enqueued' };
      } catch (err) {
        if (opts.stopped?.()) throw err;
        const wait = Math.min(30_000, 200 * 2 ** Math.min(attempt, 8));
        log.warn({ err, attempt, waitMs: wait }, 'enqueue failed; waiting for Redis');
        await sleep(wait);
      }
    }
  };
}
