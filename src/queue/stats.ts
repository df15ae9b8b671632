/**
 * How deep the hub's queues are, for whoever shows it: the dashboard's overview, `tiphub status`,
 * the metrics. Names and numbers only (a job's payload is sealed anyway): per queue the jobs
 * waiting, active, delayed and failed, and when the oldest waiting job was queued. One reader
 * holds one Redis connection of its own for all its queues.
 */
import { Queue } from 'bullmq';
import { connectRedis, type RedisTarget } from './redis';
import { INTAKE_QUEUE } from './intake-queue';
import { outboundQueueName } from './outbound-queue';
import { mediaQueueName } from './media-queue';

export interface QueueCounts {
  /** Waiting to be taken, the jobs BullMQ keeps apart by priority (a flooding sender's slow lane) included. */
  readonly waiting: number;
  readonly active: number;
  /** Waiting for a retry's backoff or a rate limit. */
  readonly delayed: number;
  /** Gave up (attempts exhausted or refused for good), kept per queue.keepFailed. */
  readonly failed: number;
}

export interface QueueStats extends QueueCounts {
  /** When the oldest job still waiting was first queued (ISO 8601); null when none waits. */
  readonly oldestWaitingAt: string | null;
}

/** Queue name → its counts. */
export type QueueDepth = () => Promise<Record<string, QueueStats>>;

export interface QueueDepthReader {
  readonly read: QueueDepth;
  close(): Promise<void>;
}

/** Every queue the hub makes (src/queue/factory.ts): intake, and each channel's outbound and media queue. */
export function hubQueueNames(channels: readonly string[]): string[] {
  return [INTAKE_QUEUE, ...channels.flatMap((c) => [outboundQueueName(c), mediaQueueName(c)])];
}

async function statsOf(queue: Queue): Promise<QueueStats> {
  const c = await queue.getJobCounts('waiting', 'prioritized', 'active', 'delayed', 'failed');
  // The plain waiting list's oldest, and the priority lanes' next to be taken (a job further down a
  // slow lane may be older: the figure is then a lower bound).
  const heads = [...(await queue.getJobs(['wait'], 0, 0, true)), ...(c.prioritized ? await queue.getJobs(['prioritized'], 0, 0, true) : [])];
  const oldest = heads.reduce<number | null>((m, j) => (j && typeof j.timestamp === 'number' && (m === null || j.timestamp < m) ? j.timestamp : m), null);
  return {
    waiting: (c.waiting ?? 0) + (c.prioritized ?? 0),
    active: c.active ?? 0,
    delayed: c.delayed ?? 0,
    failed: c.failed ?? 0,
    oldestWaitingAt: oldest === null ? null : new Date(oldest).toISOString(),
  };
}

/**
 * Reads the named BullMQ queues under `prefix` over one Redis connection of its own (the queues
 * share it; close() ends it). A Redis that does not answer within `timeoutMs` rejects.
 */
export function queueDepthReader(redis: RedisTarget, prefix: string, names: readonly string[], timeoutMs = 2000): QueueDepthReader {
  const connection = connectRedis(redis);
  const queues = names.map((name) => new Queue(name, { connection, prefix }));
  for (const queue of queues) queue.on('error', () => undefined); // a failed read rejects below; the connection reconnects on its own
  const counts = async (): Promise<Record<string, QueueStats>> => {
    const out: Record<string, QueueStats> = {};
    for (const queue of queues) out[queue.name] = await statsOf(queue);
    return out;
  };
  return {
    read: () => {
      let timer: NodeJS.Timeout | undefined;
      const late = new Promise<never>((_, reject) => {
        timer = setTimeout(() => reject(new Error('the queues did not answer in time')), timeoutMs);
      });
      return Promise.race([counts(), late]).finally(() => clearTimeout(timer));
    },
    async close() {
      await Promise.all(queues.map((queue) => queue.close().catch(() => undefined)));
      await connection.quit().catch(() => connection.disconnect());
    },
  };
}
