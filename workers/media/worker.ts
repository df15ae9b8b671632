/**
 * workers/media: the media step every channel reuses, on `media-<channel>`, run where the channel's
 * credentials are (beside its adapter). A report is committed first with its media `pending` and
 * their platform references sealed beside them (`report_media.ref_sealed`); this step fetches each
 * file by that reference into the content-addressed store (size cap, sha256 while streaming, MIME
 * sniffed) and marks it `stored`, or `missing` with the reason, and then tells the informant. An
 * exact copy (same sha256) of media in another case moves a report that is alone in its case
 * there (an event in both chains); otherwise the match is recorded as an event.
 */
import * as path from 'node:path';
import { Readable } from 'node:stream';
import { UnrecoverableError, Worker, type Job } from 'bullmq';
import type { Config } from '../../src/config';
import type { Db } from '../../src/caselog/db';
import { appendCaseEvent } from '../../src/caselog/events';
import { matchStoredMedia } from '../../src/caselog/media-match';
import { perceptualHash } from '../../src/media/phash';
import { sealRow, type Keyring } from '../../src/crypto/keyring';
import type { ChannelAdapter } from '../../src/contracts/channel-adapter';
import { isTiphubError, TiphubError } from '../../src/errors';
import type { Logger } from '../../src/log';
import { MediaStore } from '../../src/media/store';
import { addOutbox, type OutboxRelay } from '../../src/queue/outbound-queue';
import { redisOptions, type RedisTarget } from '../../src/queue/redis';
import { mediaQueueName, SEAL_AAD_MEDIA, type MediaJobData, type MediaJobPayload } from '../../src/queue/media-queue';
import { NO_METRICS, type PipelineMetrics } from '../../src/metrics/port';

// Their home is src/queue/media-queue.ts; re-exported while callers still import them from here.
export { createMediaQueue, enqueueMedia, mediaQueueName, SEAL_AAD_MEDIA, type MediaJobPayload } from '../../src/queue/media-queue';

export interface MediaWorkerOptions {
  readonly cfg: Readonly<Config>;
  readonly redis: RedisTarget;
  readonly db: Db;
  readonly keyring: Keyring;
  readonly adapter: ChannelAdapter;
  readonly relay: OutboxRelay | null;
  readonly maxBytes: number;
  readonly log: Logger;
  /** Counts media stored (files, bytes) and recorded missing (src/metrics); default: nothing. */
  readonly metrics?: PipelineMetrics;
}

const mb = (n: number) => (n >= 1024 * 1024 ? `${Math.round(n / 1024 / 1024)} MB` : `${Math.max(1, Math.round(n / 1024))} KB`);

export function startMediaWorker(opts: MediaWorkerOptions) {
  const { db, keyring, adapter, log } = opts;
  const store = new MediaStore(path.join(opts.cfg.dataDir, 'media'));
  const channel = adapter.channel;
  const metrics = opts.metrics ?? NO_METRICS;

  const markMissing = async (p: MediaJobPayload, reason: string) => {
    const ids = await db.transaction(async (tx) => {
      const { rows } = await tx.query<{ case_id: number; informant: string; native_id: string }>(
        `UPDATE report_media rm SET state = 'missing', reason = $3 FROM reports r
          WHERE rm.report_id = $1 AND rm.idx = $2 AND r.id = rm.report_id AND rm.state = 'pending'
          RETURNING r.case_id, r.informant, r.native_id`,
        [p.reportId, p.idx, reason],
      );
      const r = rows[0];
      if (!r) return [];
      await appendCaseEvent(tx, r.case_id, 'media.missing', 'media', { report: p.reportId, idx: p.idx, reason });
      return addOutbox(tx, [
        { channel, pseudonym: r.informant, caseId: r.case_id, kind: 'media_missing', data: { key: 'media_missing', params: { limit: mb(opts.maxBytes) }, replyTo: r.native_id } },
      ]);
    });
    if (opts.relay && ids.length) await opts.relay.relay(db, ids).catch(() => undefined);
  };

  /** The media's row while it is pending; null once stored or missing (a job queued twice), or purged. */
  const pendingRow = async (p: MediaJobPayload) => {
    const { rows } = await db.query<{ state: string; ref_sealed: string | null }>('SELECT state, ref_sealed FROM report_media WHERE report_id = $1 AND idx = $2', [p.reportId, p.idx]);
    return rows[0]?.state === 'pending' ? rows[0] : null;
  };

  /** The reference the case log keeps; the job's own where the row has none or it does not open (see MediaJobPayload). */
  const refOf = (row: { ref_sealed: string | null }, p: MediaJobPayload): string | undefined => {
    if (row.ref_sealed) {
      try {
        return keyring.unseal<string>(row.ref_sealed, sealRow.mediaRef(p.reportId, p.idx));
      } catch {
        // sealed with a key a rotation retired: the job's copy, if it has one
      }
    }
    return p.ref;
  };

  const processor = async (job: Job<MediaJobData>) => {
    const p = keyring.unseal<MediaJobPayload>(job.data.sealed, SEAL_AAD_MEDIA);
    // Outside the try: the case log not answering is a retry, never a missing file.
    const row = await pendingRow(p);
    if (!row) return { stored: false };
    let stored;
    let ref: string | null = null;
    // The platform may keep the file until told (signal-cli-rest-api never deletes attachments):
    // once it is stored, or missing for good, it is released. A failure costs only space on the
    // platform's side, never the record: logged, not retried.
    const release = async () => {
      if (!ref || !adapter.releaseMedia) return;
      await adapter.releaseMedia(ref).catch((err: unknown) => opts.log.warn({ channel, code: isTiphubError(err) ? err.code : 'error' }, 'media not released on the platform'));
    };
    try {
      ref = refOf(row, p) ?? null;
      if (!ref) throw new TiphubError('TIPHUB_MEDIA_UNREADABLE', 'the case log keeps no reference for this media');
      if (!adapter.openMedia) throw new TiphubError('TIPHUB_MEDIA_UNREADABLE', `the ${channel} channel cannot fetch media`);
      const stream = await adapter.openMedia(ref, opts.maxBytes);
      stored = await store.put(Readable.from(stream as AsyncIterable<Buffer>), opts.maxBytes);
    } catch (err) {
      const final = !(isTiphubError(err) && err.retryable) || job.attemptsMade + 1 >= (job.opts.attempts ?? 1);
      if (!final) throw err;
      // Our own store failing (disk full, folder replaced) is never the informant's media missing:
      // the row stays pending and the job failed, for `tiphub jobs retry` once the store is back.
      if (isTiphubError(err, 'TIPHUB_MEDIA_STORE_FAILED')) throw err;
      const reason = isTiphubError(err, 'TIPHUB_MEDIA_TOO_LARGE') ? `larger than ${mb(opts.maxBytes)}` : isTiphubError(err) ? err.message : 'download failed';
      await markMissing(p, reason);
      metrics.mediaFailed(channel, isTiphubError(err) ? err.code : 'other');
      await release();
      throw new UnrecoverableError(isTiphubError(err) ? `${err.code}: ${err.message}` : 'download failed');
    }
    // Computed outside the transaction: decoding a picture takes milliseconds.
    const phash = stored.mime?.startsWith('image/') ? await perceptualHash(stored.path) : null;
    await db.transaction(async (tx) => {
      await tx.query(`INSERT INTO media (sha256, mime, size) VALUES ($1, $2, $3) ON CONFLICT (sha256) DO NOTHING`, [stored.sha256, stored.mime, stored.size]);
      const { rows } = await tx.query<{ case_id: number }>(
        `UPDATE report_media rm SET state = 'stored', sha256 = $3, reason = NULL FROM reports r
          WHERE rm.report_id = $1 AND rm.idx = $2 AND r.id = rm.report_id AND rm.state = 'pending' RETURNING r.case_id`,
        [p.reportId, p.idx, stored.sha256],
      );
      const caseId = rows[0]?.case_id;
      if (caseId === undefined) return;
      await appendCaseEvent(tx, caseId, 'media.stored', 'media', { report: p.reportId, idx: p.idx, sha256: stored.sha256 });
      await matchStoredMedia(tx, { reportId: p.reportId, caseId, sha256: stored.sha256, phash }, opts.cfg.grouping.imageMaxDistance);
    });
    metrics.mediaStored(channel, stored.size);
    await release();
    return { stored: true };
  };

  const worker = new Worker(mediaQueueName(channel), processor, {
    connection: redisOptions(opts.redis, { forWorker: true }),
    prefix: opts.cfg.queue.prefix,
    // A slow download holds only its own slot: other informants' media and messages go on.
    concurrency: 4,
  });
  worker.on('failed', (job, err) => log.warn({ channel, jobId: job?.id, code: (err as TiphubError).code }, 'media job failed'));
  worker.on('error', (err) => log.error({ err, channel }, 'media worker error'));
  return { worker, close: () => worker.close() };
}
