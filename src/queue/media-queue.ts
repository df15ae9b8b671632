/**
 * The `media-<channel>` queues: one job per media a report's platform still holds, for the media
 * step of its channel (workers/media, run where the channel's credentials are). The media step
 * fetches by the platform's reference the case log keeps (`report_media.ref_sealed`); the job
 * carries it too, sealed, for where the row's copy does not open. The job id makes a second
 * enqueue harmless while the job is stored; the media's `pending` state is the lasting record.
 */
import { Queue } from 'bullmq';
import type { Config } from '../config';
import type { Keyring } from '../crypto/keyring';
import { SEAL_AAD_MEDIA } from '../crypto/aad';
import type { RedisTarget } from './redis';
import { createQueue } from './factory';

export { SEAL_AAD_MEDIA };

/** What a job holds, sealed. */
export interface MediaJobPayload {
  readonly reportId: string;
  readonly idx: number;
  /**
   * The platform's reference, as the row keeps it. A job is sealed with a context string, which
   * the keys a rotation retired still open (a row's value they do not), and a job queued before
   * the case log kept references (migration 10) has only this.
   */
  readonly ref?: string;
}

/** What a job holds in Redis. */
export interface MediaJobData {
  readonly v: 1;
  readonly sealed: string;
}

export type MediaQueue = Queue<MediaJobData>;

export function mediaQueueName(channel: string): string {
  return `media-${channel}`;
}

export function createMediaQueue(redis: RedisTarget, cfg: Pick<Config, 'queue'>, channel: string): MediaQueue {
  return createQueue<MediaJobData>(mediaQueueName(channel), redis, cfg, { attempts: 6, backoffMs: 2000 });
}

/** Queues these pending media (job ids make a second call harmless). */
export async function enqueueMedia(queue: MediaQueue, keyring: Keyring, instance: string, items: readonly MediaJobPayload[]): Promise<void> {
  if (!items.length) return;
  await queue.addBulk(
    items.map((it) => ({
      name: 'media',
      data: { v: 1 as const, sealed: keyring.seal({ reportId: it.reportId, idx: it.idx, ref: it.ref } satisfies MediaJobPayload, SEAL_AAD_MEDIA) },
      opts: { jobId: `md-${instance}-${it.reportId}-${it.idx}` },
    })),
  );
}
