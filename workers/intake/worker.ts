/**
 * workers/intake: unseal → validate → group → write, the write in one transaction per batch.
 * A payload that cannot be opened or validated is kept in quarantine with its reason and fails
 * for good (UnrecoverableError); a failed write is retried with backoff.
 */
import { UnrecoverableError, Worker, type Job } from 'bullmq';
import type { Config } from '../../src/config';
import type { OpenCaseLog } from '../../src/caselog/open';
import { addQuarantine } from '../../src/caselog/quarantine';
import { describeIssues, InboundMessage } from '../../src/contracts/inbound-message';
import { describeForeignError, isTiphubError, TiphubError } from '../../src/errors';
import { reportFeatures } from '../../src/grouping/features';
import { groupReports, type GroupBatch } from '../../src/grouping/group';
import { loadTaggingRules, type TaggingRules } from '../../src/tagging/load';
import type { Logger } from '../../src/log';
import { SEAL_AAD_QUARANTINE } from '../../src/crypto/aad';
import { INTAKE_QUEUE, SEAL_AAD_INTAKE, type IntakeJobData } from '../../src/queue/intake-queue';
import { connectRedis, redisOptions, type RedisTarget } from '../../src/queue/redis';
import { OutboxRelay } from '../../src/queue/outbound-queue';
import { parseCommand } from '../../src/conversation/commands';
import { detectLanguage, isLanguage } from '../../src/conversation/language';
import { handleCommand, statusAllowed } from './commands';
import { createMediaQueue, enqueueMedia, type MediaQueue } from '../../src/queue/media-queue';
import * as path from 'node:path';
import { Batcher } from './batcher';
import { MediaStore } from '../../src/media/store';
import { perceptualHash } from '../../src/media/phash';
import { matchStoredMedia } from '../../src/caselog/media-match';
import { writeBatch, type IntakeItem, type IntakeResult } from './write-batch';
import { sealRow } from '../../src/crypto/keyring';
import { anchorHeads } from '../../src/caselog/anchor';
import { Lease } from '../../src/queue/lease';
import { publishCaseUpdates } from '../../src/queue/case-updates';
import { CaseAlertRelay } from '../../src/alerts/case-alerts';
import { NO_METRICS, type PipelineMetrics } from '../../src/metrics/port';


export interface IntakeWorkerOptions {
  readonly cfg: Readonly<Config>;
  readonly redis: RedisTarget;
  readonly caselog: OpenCaseLog;
  readonly log: Logger;
  readonly group?: GroupBatch;
  /** Called after each committed batch (benchmarks). */
  readonly onCommitted?: (items: IntakeItem[], results: IntakeResult[]) => void;
  /** The process's outbox relay (the hub passes its one); without it the worker makes its own. */
  readonly relay?: OutboxRelay;
  /** How often the holder of the anchor lease anchors the chains' heads (0: never, for benchmarks). */
  readonly anchorEveryMs?: number;
  /** The process's case alerts relay (src/alerts/); without it, the worker makes its own while alerts.webhookUrl is set. */
  readonly alerts?: CaseAlertRelay;
  /** Counts reports committed, dedupe decisions and sink → commit latency (src/metrics); default: nothing. */
  readonly metrics?: PipelineMetrics;
}

/** Every few seconds: often enough that little is ever unanchored, rarely enough to cost nothing. */
export const ANCHOR_EVERY_MS = 5_000;

/**
 * One process anchors the chains (the holder of the lease in Redis; an advisory lock in the case
 * log keeps two from interleaving anyway). A full comparison at start and every hundred anchors.
 */
function startAnchoring(caselog: OpenCaseLog, counters: ReturnType<typeof connectRedis>, prefix: string, everyMs: number, log: Logger): () => Promise<void> {
  if (everyMs <= 0) return async () => undefined;
  const lease = new Lease(counters, `${prefix}:lease:anchor:${caselog.instance}`, Math.max(everyMs * 3, 15_000));
  let runs = 0;
  let stopped = false;
  let running: Promise<void> = Promise.resolve();
  const tick = async () => {
    if (!lease.held && !(await lease.tryAcquire().catch(() => false))) return;
    const r = await anchorHeads(caselog.db, { full: runs++ % 100 === 0 });
    if (r.written) log.debug({ changed: r.changed, cases: r.cases }, 'chains anchored');
  };
  const timer = setInterval(() => {
    if (stopped) return;
    running = running.then(tick).catch((err) => log.warn({ err }, 'anchoring failed; next time'));
  }, everyMs);
  return async () => {
    stopped = true;
    clearInterval(timer);
    await running;
    await lease.release();
  };
}

export type IntakeJobResult = { readonly status: 'inserted' | 'present' | 'command'; readonly caseRef?: string };

export interface RunningIntakeWorker {
  readonly worker: Worker<IntakeJobData, IntakeJobResult>;
  close(): Promise<void>;
}

const rulesByDir = new Map<string, TaggingRules>();
/** The tagging rules of this configuration, read and validated once per process. */
export function taggingRulesFor(cfg: Readonly<Config>): TaggingRules {
  let rules = rulesByDir.get(cfg.rulesDir);
  if (!rules) rulesByDir.set(cfg.rulesDir, (rules = loadTaggingRules(cfg.rulesDir)));
  return rules;
}

export function prepareItem(caselog: OpenCaseLog, cfg: Readonly<Config>, data: IntakeJobData): IntakeItem {
  const { keyring } = caselog;
  const opened = keyring.unseal(data.sealed, SEAL_AAD_INTAKE);
  const parsed = InboundMessage.safeParse(opened);
  if (!parsed.success) throw new TiphubError('TIPHUB_MESSAGE_INVALID', `invalid message: ${describeIssues(parsed.error)}`);
  const message = parsed.data;
  const features = reportFeatures(
    { text: message.text, sentAt: new Date(message.sentAt), receivedAt: new Date(message.receivedAt), hasAttachment: message.media.length > 0 || !!message.location || !!message.contact },
    { short: cfg.grouping, tagging: taggingRulesFor(cfg) },
  );
  const pseudonym = keyring.pseudonym(message.channel, message.sender.address);
  // Each sealed value is bound to its row: moved to another informant or report, it no longer opens.
  return {
    message,
    origin: data.origin,
    pseudonym,
    addressSealed: keyring.seal(message.sender, sealRow.address(pseudonym)),
    rawSealed: keyring.seal(message.raw ?? null, sealRow.raw(message.id)),
    // A third party's card is report content, sealed; the sender's own card is only the fact.
    contactSealed:
      message.contact && !message.contact.self ? keyring.seal({ name: message.contact.name, phone: message.contact.phone }, sealRow.contact(message.id)) : null,
    // What the media step fetches each file by, kept with the media (no channel's raw payload is read again).
    mediaRefsSealed: message.media.map((md, idx) => keyring.seal(md.ref, sealRow.mediaRef(message.id, idx))),
    nativeSealed: message.platformRef ? keyring.seal(message.platformRef, sealRow.nativeRef(message.id)) : null,
    fingerprint: features.fingerprint,
    features,
    flooded: data.flood === true,
    // The platform's hint when it names one of our languages, else a guess from the text.
    language: isLanguage(message.languageHint) ? message.languageHint : detectLanguage(message.text),
  };
}

export function startIntakeWorker(opts: IntakeWorkerOptions): RunningIntakeWorker {
  const { cfg, caselog, log } = opts;
  const group = opts.group ?? groupReports;
  const metrics = opts.metrics ?? NO_METRICS;
  taggingRulesFor(cfg); // a bad rules file stops the worker at start, not at its first message
  const converse = cfg.conversation.enabled;
  const counters = connectRedis(opts.redis);
  const stopAnchoring = startAnchoring(caselog, counters, cfg.queue.prefix, opts.anchorEveryMs ?? ANCHOR_EVERY_MS, log);
  // The process's one relay when it has one (the hub's); else this worker's own, closed with it.
  const relay = opts.relay ?? new OutboxRelay(opts.redis, cfg, caselog.keyring, caselog.instance);
  // After commit, the decided messages go to the outbound queues, off the intake path: one relay
  // at a time takes whatever has piled up. A failure here is left to the sweeper.
  const toRelay: number[] = [];
  let relaying: Promise<void> | null = null;
  const relayNow = (ids: number[]) => {
    if (!ids.length) return;
    toRelay.push(...ids);
    if (relaying) return; // the running relay takes them
    relaying = (async () => {
      while (toRelay.length) {
        const chunk = toRelay.splice(0, 1000);
        await relay.relay(caselog.db, chunk).catch((err) => log.warn({ err, outbox: chunk.length }, 'outbox relay failed; the sweeper will retry'));
      }
    })().finally(() => {
      relaying = null;
    });
  };
  // Case alerts go to the alerts queue after commit, one relay after another (the sweep of
  // src/alerts/ takes what a failure here or a crash left).
  const alerts = opts.alerts ?? (cfg.alerts.webhookUrl ? new CaseAlertRelay(opts.redis, cfg, caselog.instance) : null);
  let alertsRelaying: Promise<unknown> = Promise.resolve();
  const relayAlerts = (ids: number[]) => {
    alertsRelaying = alertsRelaying.then(() => alerts?.relay(caselog.db, ids)).catch((err) => log.warn({ err, alerts: ids.length }, 'alert relay failed; the sweeper will retry'));
  };
  // Media the platform holds go to their channel's media step once the reports are committed.
  const mediaQueues = new Map<string, MediaQueue>();
  const queueMedia = async (items: { channel: string; reportId: string; idx: number; ref: string }[]) => {
    for (const channel of new Set(items.map((i) => i.channel))) {
      let q = mediaQueues.get(channel);
      if (!q) mediaQueues.set(channel, (q = createMediaQueue(opts.redis, cfg, channel)));
      await enqueueMedia(q, caselog.keyring, caselog.instance, items.filter((i) => i.channel === channel)).catch((err) =>
        log.warn({ err, channel }, 'media enqueue failed; the sweeper will retry'),
      );
    }
  };
  // Images the channel stored itself (the simulator's files): perceptual matching after commit,
  // one small transaction each, off the intake path.
  const store = new MediaStore(path.join(cfg.dataDir, 'media'));
  let imagesMatching: Promise<void> = Promise.resolve();
  const matchImages = (images: { reportId: string; sha256: string }[]) => {
    // One after another, in commit order (a copy matches the picture committed before it).
    imagesMatching = imagesMatching.then(() => matchEach(images));
  };
  const matchEach = async (images: { reportId: string; sha256: string }[]) => {
    for (const img of images) {
      const phash = await perceptualHash(store.pathOf(img.sha256));
      await caselog.db
        .transaction(async (tx) => {
          const { rows } = await tx.query<{ case_id: number }>('SELECT case_id FROM reports WHERE id = $1', [img.reportId]);
          if (rows[0]) await matchStoredMedia(tx, { reportId: img.reportId, caseId: rows[0].case_id, sha256: img.sha256, phash }, cfg.grouping.imageMaxDistance, 'intake');
        })
        .catch((err) => log.warn({ err }, 'image matching failed'));
    }
  };
  // Pending media whose job was lost: queued again with the reference the case log keeps. One
  // without any (written before migration 10 by a channel it could not read), or whose reference
  // does not open, stays pending.
  const sweepMedia = async () => {
    const { rows } = await caselog.db.query<{ channel: string; report_id: string; idx: number; ref_sealed: string }>(
      `SELECT r.channel, rm.report_id, rm.idx, rm.ref_sealed FROM report_media rm JOIN reports r ON r.id = rm.report_id
        WHERE rm.state = 'pending' AND rm.ref_sealed IS NOT NULL AND r.created_at < now() - interval '2 minutes' LIMIT 200`,
    );
    const items = rows.flatMap((r) => {
      try {
        return [{ channel: r.channel, reportId: r.report_id, idx: r.idx, ref: caselog.keyring.unseal<string>(r.ref_sealed, sealRow.mediaRef(r.report_id, r.idx)) }];
      } catch {
        return [];
      }
    });
    if (items.length < rows.length) log.warn({ unreadable: rows.length - items.length }, 'pending media whose reference does not open: left pending');
    await queueMedia(items);
  };
  const sweeper = converse
    ? setInterval(() => {
        relay.sweep(caselog.db, Math.max(1000, cfg.conversation.outboxSweepMs)).catch((err) => log.warn({ err }, 'outbox sweep failed'));
        sweepMedia().catch((err) => log.warn({ err }, 'media sweep failed'));
      }, cfg.conversation.outboxSweepMs)
    : null;
  const batcher = new Batcher<IntakeItem, IntakeResult>({
    maxSize: cfg.worker.batchSize,
    maxWaitMs: cfg.worker.batchWaitMs,
    writers: caselog.db.backend === 'pglite' ? 1 : cfg.worker.writers,
    // The advisory lock keys of write-batch.ts: this process's writers never wait on each other.
    keys: (it) => (it.fingerprint ? [`m${it.message.id}`, `p${it.pseudonym}`, `f${it.fingerprint}`] : [`m${it.message.id}`, `p${it.pseudonym}`]),
    write: async (items) => {
      const written = await writeBatch(caselog.db, items, { group, rules: cfg.grouping, converse, alerts: alerts !== null });
      if (written.outbox.length) relayNow(written.outbox);
      if (written.alerts?.length) relayAlerts(written.alerts);
      if (written.pendingMedia.length) void queueMedia(written.pendingMedia);
      if (written.storedImages.length) matchImages(written.storedImages);
      return written.results;
    },
    onWritten: (items, results, ms) => {
      log.debug({ reports: items.length, ms: Math.round(ms) }, 'batch committed');
      // Two copies of one message in a batch share its result: the second is a transport duplicate.
      const now = Date.now();
      const counted = new Set<string>();
      results.forEach((r, i) => {
        const m = items[i]!.message;
        if (r.status === 'inserted' && !counted.has(r.id)) {
          counted.add(r.id);
          metrics.committed(m.channel, items[i]!.origin, r.duplicate ?? 'none', (now - Date.parse(m.receivedAt)) / 1000);
        } else metrics.alreadyPresent();
      });
      // The cases that got reports, for the dashboards' live lists: references only, never content.
      const refs = results.flatMap((r) => (r.status === 'inserted' ? [r.caseRef] : []));
      if (refs.length) void publishCaseUpdates(counters, cfg.queue.prefix, refs, log);
      opts.onCommitted?.(items, results);
    },
  });

  const quarantine = async (job: Job<IntakeJobData>, err: TiphubError) => {
    const sealed = typeof job.data?.sealed === 'string' ? job.data.sealed : caselog.keyring.seal(job.data ?? null, SEAL_AAD_QUARANTINE);
    await addQuarantine(caselog.db, [{ channel: 'unknown', source: `intake job ${job.id}`, code: err.code, reason: err.message, payloadSealed: sealed }]);
    log.warn({ jobId: job.id, code: err.code }, 'message quarantined');
    throw new UnrecoverableError(`${err.code}: ${err.message}`);
  };

  const processor = async (job: Job<IntakeJobData, IntakeJobResult>): Promise<IntakeJobResult> => {
    const data = job.data;
    if (!data || data.v !== 1 || typeof data.sealed !== 'string' || (data.origin !== 'live' && data.origin !== 'import')) {
      return quarantine(job, new TiphubError('TIPHUB_MESSAGE_INVALID', 'job data is not a sealed intake message'));
    }
    let item: IntakeItem;
    try {
      item = prepareItem(caselog, cfg, data);
    } catch (err) {
      if (isTiphubError(err)) return quarantine(job, err);
      throw err;
    }
    const cmd = converse && item.origin === 'live' ? parseCommand(item.message.text) : null;
    if (cmd) {
      const allowed = cmd.name === 'status' ? await statusAllowed(counters, cfg, item.pseudonym) : true;
      const outcome = await handleCommand(caselog.db, item, cmd, { statusAllowed: allowed }).catch((err) => {
        throw isTiphubError(err) ? err : new TiphubError('TIPHUB_CASELOG_WRITE_FAILED', `case log write failed (${describeForeignError(err)})`);
      });
      relayNow(outcome.outbox);
      return outcome.status === 'present' ? { status: 'present' } : { status: 'command' };
    }
    try {
      const r = await batcher.submit(item);
      return r.status === 'inserted' ? { status: 'inserted', caseRef: r.caseRef } : { status: 'present' };
    } catch (err) {
      // The database's own message may quote values: keep only its kind and code.
      if (isTiphubError(err)) throw err;
      throw new TiphubError('TIPHUB_CASELOG_WRITE_FAILED', `case log write failed (${describeForeignError(err)})`);
    }
  };

  const worker = new Worker<IntakeJobData, IntakeJobResult>(INTAKE_QUEUE, processor, {
    connection: redisOptions(opts.redis, { forWorker: true }),
    prefix: cfg.queue.prefix,
    concurrency: cfg.worker.concurrency,
    lockDuration: cfg.worker.lockDurationMs,
    stalledInterval: cfg.worker.stalledIntervalMs,
    maxStalledCount: cfg.worker.maxStalledCount,
  });
  worker.on('failed', (job, err) => {
    log.warn({ jobId: job?.id, attempts: job?.attemptsMade, code: (err as TiphubError).code }, 'intake job failed');
  });
  worker.on('error', (err) => log.error({ err }, 'intake worker error'));

  return {
    worker,
    async close() {
      if (sweeper) clearInterval(sweeper);
      await worker.close();
      await stopAnchoring();
      await batcher.drain();
      await imagesMatching;
      while (relaying) await relaying;
      await alertsRelaying;
      if (!opts.relay) await relay.close();
      if (!opts.alerts) await alerts?.close();
      await Promise.all([...mediaQueues.values()].map((q) => q.close()));
      counters.disconnect();
    },
  };
}
