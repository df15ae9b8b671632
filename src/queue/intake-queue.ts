/**
 * The `intake` queue: one job per inbound message, its payload sealed, its id derived from the
 * message id (so a redelivery while the job is stored is ignored by BullMQ; the reports primary
 * key is the lasting guard).
 */
import type { JobsOptions } from 'bullmq';
import type { Redis } from 'ioredis';
import { countInWindow, informantCounterKey, type RedisTarget } from './redis';
import { createQueue, jobOptions } from './factory';
import type { Config } from '../config';
import { SEAL_AAD_INTAKE, SEAL_AAD_INTAKE_CONTEXT } from '../crypto/aad';
import type { Keyring } from '../crypto/keyring';
import { InboundMessage, type Origin } from '../contracts/inbound-message';
import type { InboundSink, SinkResult } from '../contracts/channel-adapter';
import type { Logger } from '../log';

export const INTAKE_QUEUE = 'intake';
export const INTAKE_JOB = 'message';

/** What a job holds in Redis: the sealed message and its sealed context. */
export interface IntakeJobData {
  readonly v: 1;
  readonly sealed: string;
  /** `{ origin }` sealed (SEAL_AAD_INTAKE_CONTEXT): whether a message was live or imported is not for a Redis dump. */
  readonly context?: string;
  /**
   * The origin in clear: kept only while workers/intake reads it from here; `intakeOrigin` reads
   * the sealed one. To be dropped once the worker uses `intakeOrigin`.
   */
  readonly origin: Origin;
  /** The sender wrote faster than `conversation.floodPerMinute`: recorded, flagged, not acknowledged. */
  readonly flood?: boolean;
}

/** Jobs in the slow lane: BullMQ takes every job without a priority first. */
export const FLOOD_PRIORITY = 1000;

/** Defined with the other jobs' contexts (src/crypto/aad.ts); still named here for callers that import them from here. */
export { SEAL_AAD_INTAKE, SEAL_AAD_INTAKE_CONTEXT };

/** A job's origin: the sealed one when the job has it, else the clear field of older jobs. */
export function intakeOrigin(keyring: Keyring, data: Pick<IntakeJobData, 'context' | 'origin'>): Origin | null {
  if (typeof data.context === 'string') {
    const o = keyring.unseal<{ origin?: unknown }>(data.context, SEAL_AAD_INTAKE_CONTEXT)?.origin;
    return o === 'live' || o === 'import' ? o : null;
  }
  return data.origin === 'live' || data.origin === 'import' ? data.origin : null;
}

export function intakeJobId(messageId: string): string {
  return `in-${messageId}`;
}

export function intakeJobOptions(cfg: Pick<Config, 'queue'>): JobsOptions {
  return jobOptions(cfg, { attempts: cfg.queue.attempts, backoffMs: cfg.queue.backoffMs });
}

export type IntakeQueue = ReturnType<typeof createIntakeQueue>;

export function createIntakeQueue(redis: RedisTarget, cfg: Pick<Config, 'queue'>) {
  return createQueue<IntakeJobData>(INTAKE_QUEUE, redis, cfg, { attempts: cfg.queue.attempts, backoffMs: cfg.queue.backoffMs });
}

export function sealForIntake(keyring: Keyring, message: InboundMessage, origin: Origin): { name: string; data: IntakeJobData; opts: JobsOptions } {
  // Validated here as well as in the worker: a producer bug is caught where it happens.
  const checked = InboundMessage.parse(message);
  return {
    name: INTAKE_JOB,
    data: { v: 1, sealed: keyring.seal(checked, SEAL_AAD_INTAKE), context: keyring.seal({ origin }, SEAL_AAD_INTAKE_CONTEXT), origin },
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
  opts: { stopped?: () => boolean; flood?: { counters: Redis; perMinute: number; prefix: string } } = {},
): InboundSink {
  // Counts live messages per informant and minute, under a key that names neither the address nor the pseudonym.
  const flooding = async (message: InboundMessage): Promise<boolean> => {
    const f = opts.flood;
    if (!f) return false;
    const key = informantCounterKey(keyring, f.prefix, 'flood', keyring.pseudonym(message.channel, message.sender.address));
    return (await countInWindow(f.counters, key, 60)) > f.perMinute;
  };
  return async (message, meta): Promise<SinkResult> => {
    const origin = meta?.origin ?? 'live';
    const job = sealForIntake(keyring, message, origin);
    for (let attempt = 0; ; attempt++) {
      try {
        const flood = origin === 'live' && (await flooding(message));
        // A job id that is still stored is ignored by BullMQ: a redelivery costs nothing.
        if (flood) await queue.add(job.name, { ...job.data, flood: true }, { ...job.opts, priority: FLOOD_PRIORITY });
        else await queue.add(job.name, job.data, job.opts);
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
