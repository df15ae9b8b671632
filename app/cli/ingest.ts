/**
 * `tiphub ingest FILE.jsonl`: each line goes through the simulator adapter and the intake queue
 * exactly like a live message, marked as an import (it records only: nobody is answered). Returns
 * when every accepted line is in the case log.
 */
import { SEAL_AAD_QUARANTINE } from '../../src/crypto/aad';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { createInterface } from 'node:readline';
import { QueueEvents, type Job } from 'bullmq';
import type { Config } from '../../src/config';
import type { Logger } from '../../src/log';
import { channelModule, type SimulatorSettings } from '../../adapters/registry';
import { describeIssues, InboundMessage, isRejected, type Rejected } from '../../src/contracts/inbound-message';
import type { NormalizeContext } from '../../src/contracts/channel-adapter';
import { isTiphubError, TiphubError } from '../../src/errors';
import { MediaStore } from '../../src/media/store';
import { createIntakeQueue, intakeJobId, sealForIntake, type IntakeJobData } from '../../src/queue/intake-queue';
import { redisOptions } from '../../src/queue/redis';
import { provideRedis, type ProvidedRedis } from '../hub/redis-provision';
import { openCaseLogAccess } from '../hub/access';
import { startIntakeWorker, type IntakeJobResult, type RunningIntakeWorker } from '../../workers/intake/worker';
import type { QuarantineEntry } from '../../src/caselog/quarantine';
import { progress as progressOn, type ProgressStream } from './output';

export interface IngestSummary {
  lines: number;
  accepted: number;
  present: number;
  rejected: number;
}

export interface IngestIo {
  readonly out: NodeJS.WritableStream;
  /** Progress goes here when it is a terminal. */
  readonly err: ProgressStream;
}

const CHUNK = 500;
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

interface Pending {
  readonly line: number;
  readonly jobId: string;
  readonly messageId: string;
  readonly job: ReturnType<typeof sealForIntake>;
  requeued: boolean;
}

export async function runIngest(cfg: Readonly<Config>, log: Logger, file: string, io: IngestIo, opts: { schema?: string } = {}): Promise<IngestSummary> {
  const abs = path.resolve(file);
  if (!fs.existsSync(abs) || !fs.statSync(abs).isFile()) {
    throw new TiphubError('TIPHUB_INGEST_FILE_UNREADABLE', `${file}: no such file`);
  }
  const display = file;
  const summary: IngestSummary = { lines: 0, accepted: 0, present: 0, rejected: 0 };
  const access = await openCaseLogAccess(cfg, log, { role: 'ingest', schema: opts.schema });
  const cleanup: (() => Promise<void>)[] = [() => access.close()];
  const done = async () => {
    while (cleanup.length) await cleanup.pop()!().catch((err) => log.warn({ err }, 'cleanup failed'));
  };
  try {
    let redis: ProvidedRedis | null = null;
    const target = access.hubRedis ?? (redis = await provideRedis(cfg, log)).target;
    if (redis) cleanup.push(() => redis!.stop());
    const queue = createIntakeQueue(target, cfg);
    const events = new QueueEvents('intake', { connection: redisOptions(target, { forWorker: true }), prefix: cfg.queue.prefix });
    cleanup.push(async () => {
      await events.close();
      await queue.close();
    });
    await events.waitUntilReady();

    // Workers: the running hub's, or ones already on the queue (PostgreSQL), else our own.
    let worker: RunningIntakeWorker | null = null;
    if (access.local && (access.local.db.backend === 'pglite' || (await queue.getWorkersCount()) === 0)) {
      worker = startIntakeWorker({ cfg, redis: target, caselog: access.local, log });
      cleanup.push(() => worker!.close());
    }

    const simulator = channelModule('simulator');
    const account = (cfg.channels.simulator!.settings as SimulatorSettings).account;
    const store = new MediaStore(path.join(cfg.dataDir, 'media'));
    const messageId = (parts: readonly (string | number)[]) => access.keyring.messageId('simulator', parts);
    const startedAt = Date.now();

    const bar = io.err.isTTY ? progressOn(io.err, 'ingest', { total: await countLines(abs), what: 'lines' }) : null;
    cleanup.push(async () => bar?.stop());
    const progress = () => bar?.update(summary.accepted + summary.present + summary.rejected);

    const baseDir = path.dirname(abs);
    const pending = new Map<string, Pending>();
    const seenIds = new Set<string>();
    // What this run queued (absent from the case log when queued), and the lines found already there.
    const queuedIds: string[] = [];
    let foundPresent = 0;
    const reject = async (entries: { line: number; reason: string; code: string; payload: string }[]) => {
      if (!entries.length) return;
      for (const e of entries) io.err.write(`${display}:${e.line}: ${e.reason}\n`);
      summary.rejected += entries.length;
      const q: QuarantineEntry[] = entries.map((e) => ({
        channel: 'simulator',
        source: `${path.basename(display)}:${e.line}`,
        code: e.code,
        reason: e.reason,
        // The folder too (sealed): a retry after a missing photo is put in place needs it (`quarantine retry`).
        payloadSealed: access.keyring.seal({ file: path.basename(display), line: e.line, text: e.payload, dir: baseDir }, SEAL_AAD_QUARANTINE),
      }));
      await access.service.quarantine(q);
      progress();
    };

    const settle = (jobId: string, outcome: { ok: true; status: 'inserted' | 'present' } | { ok: false; reason: string }) => {
      const p = pending.get(jobId);
      if (!p) return;
      pending.delete(jobId);
      if (outcome.ok) {
        if (outcome.status === 'inserted') summary.accepted++;
        else summary.present++;
        progress();
      } else {
        failures.push({ line: p.line, reason: outcome.reason, code: 'TIPHUB_MESSAGE_INVALID', payload: '' });
      }
    };
    const failures: { line: number; reason: string; code: string; payload: string }[] = [];
    events.on('completed', ({ jobId, returnvalue }) => {
      const rv = (typeof returnvalue === 'string' ? safeJson(returnvalue) : returnvalue) as IntakeJobResult | null;
      settle(jobId, { ok: true, status: rv?.status === 'present' ? 'present' : 'inserted' });
    });
    events.on('failed', ({ jobId, failedReason }) => {
      const p = pending.get(jobId);
      if (p) void checkFailed(p, failedReason);
    });
    // A job that failed for good: quarantined by the worker (it says why); count it rejected.
    const checkFailed = async (p: Pending, reason: string) => {
      const job = await queue.getJob(p.jobId);
      if (job && (await job.getState()) === 'failed') settle(p.jobId, { ok: false, reason: reason || 'failed' });
    };

    const flush = async (batch: { line: number; text: string }[]) => {
      const rejected: { line: number; reason: string; code: string; payload: string }[] = [];
      const accepted: { line: number; message: InboundMessage }[] = [];
      for (const { line, text } of batch) {
        const r = parseIngestLine(text, line, {
          normalize: simulator.normalize,
          baseDir,
          account,
          receivedAt: new Date(),
          messageId,
          now: Date.now(),
        });
        if (!r.accepted) {
          rejected.push({ line, code: r.code, reason: r.reason, payload: text });
          continue;
        }
        const m = r.message;
        try {
          // The simulator's "platform" is this machine: its media step is a copy into the store,
          // of files inside the input file's folder only (a line may not name any file it likes).
          await storeIngestMedia(store, m, baseDir, cfg.media.maxBytes);
        } catch (err) {
          if (!isTiphubError(err)) throw err;
          rejected.push({ line, reason: err.message, code: err.code, payload: text });
          continue;
        }
        accepted.push({ line, message: m });
      }
      await reject(rejected);

      const present = new Set(await access.service.presentReports(accepted.map((a) => a.message.id)));
      const toAdd: Pending[] = [];
      for (const a of accepted) {
        if (present.has(a.message.id) || seenIds.has(a.message.id)) {
          summary.present++;
          foundPresent++;
          continue;
        }
        seenIds.add(a.message.id);
        queuedIds.push(a.message.id);
        const job = sealForIntake(access.keyring, a.message, 'import');
        toAdd.push({ line: a.line, jobId: intakeJobId(a.message.id), messageId: a.message.id, job, requeued: false });
      }
      for (const p of toAdd) pending.set(p.jobId, p);
      if (toAdd.length) await queue.addBulk(toAdd.map((p) => p.job));
      progress();
    };

    let batch: { line: number; text: string }[] = [];
    let lineNo = 0;
    for await (const text of createInterface({ input: fs.createReadStream(abs, 'utf8'), crlfDelay: Infinity })) {
      lineNo++;
      if (!text.trim()) continue;
      summary.lines++;
      batch.push({ line: lineNo, text: lineNo === 1 ? text.replace(/^\uFEFF/, '') : text });
      if (batch.length >= CHUNK) {
        await flush(batch);
        batch = [];
      }
    }
    await flush(batch);

    // Wait for the workers; now and then look at jobs whose events we may have missed.
    let lastSweep = Date.now();
    while (pending.size) {
      await sleep(50);
      if (Date.now() - lastSweep > 1000) {
        lastSweep = Date.now();
        await sweep(queue, pending, startedAt, access.service, settle, checkFailed);
      }
    }
    // Jobs that failed for good were quarantined by the worker, with the reason shown here.
    for (const f of failures.sort((a, b) => a.line - b.line)) io.err.write(`${display}:${f.line}: ${f.reason}\n`);
    summary.rejected += failures.length;
    // A job whose first attempt committed and whose worker died (or lost Redis) before saying so
    // runs again and answers "present": the jobs' answers over-count duplicates. What this run
    // queued and the case log now holds is what it accepted.
    let stored = 0;
    for (let i = 0; i < queuedIds.length; i += 2000) stored += (await access.service.presentReports(queuedIds.slice(i, i + 2000))).length;
    summary.accepted = stored;
    summary.present = foundPresent;
    bar?.stop();
    return summary;
  } finally {
    await done();
  }
}

async function sweep(
  queue: ReturnType<typeof createIntakeQueue>,
  pending: Map<string, Pending>,
  startedAt: number,
  service: { presentReports(ids: readonly string[]): Promise<string[]> },
  settle: (jobId: string, o: { ok: true; status: 'inserted' | 'present' }) => void,
  checkFailed: (p: Pending, reason: string) => Promise<void>,
) {
  const list = [...pending.values()].slice(0, 2000);
  const present = new Set(await service.presentReports(list.map((p) => p.messageId)));
  for (const p of list) {
    const job = (await queue.getJob(p.jobId)) as Job<IntakeJobData, IntakeJobResult> | undefined;
    const state = job ? await job.getState() : 'unknown';
    if (present.has(p.messageId) && (state === 'completed' || state === 'unknown')) {
      settle(p.jobId, { ok: true, status: job?.returnvalue?.status === 'present' ? 'present' : 'inserted' });
    } else if (job && job.timestamp < startedAt && (state === 'completed' || state === 'failed') && !p.requeued) {
      // A job left in Redis by an earlier run hid ours (BullMQ ignores a stored job id): replace it.
      p.requeued = true;
      await job.remove();
      await queue.add(p.job.name, p.job.data, p.job.opts);
    } else if (state === 'failed') {
      await checkFailed(p, job?.failedReason ?? 'failed');
    } else if (state === 'unknown' && !present.has(p.messageId) && !p.requeued) {
      p.requeued = true;
      await queue.add(p.job.name, p.job.data, p.job.opts);
    }
  }
}

/** What the simulator channel normalizes: one parsed line, and the folder its media paths are relative to (the core names no adapter). */
export interface IngestPayload {
  readonly line: unknown;
  readonly baseDir: string;
}

export interface IngestLineContext extends NormalizeContext {
  /** The simulator channel's normalizer (pure). */
  readonly normalize: (payload: IngestPayload, ctx: NormalizeContext) => InboundMessage | Rejected;
  /** The input file's folder: media paths are relative to it. */
  readonly baseDir: string;
  /** This clock, in ms: a sentAt more than a day ahead of it is refused. */
  readonly now: number;
}

export type IngestLineResult =
  | { readonly accepted: true; readonly line: number; readonly payload: IngestPayload; readonly message: InboundMessage }
  | { readonly accepted: false; readonly line: number; readonly code: string; readonly reason: string };

/**
 * One line of an ingest file, without side effects: the message it becomes, or why not. The
 * reason never quotes the line (it is printed and stored beside the sealed line). Media files are
 * not looked at here: confining them to the input's folder is the caller's step.
 */
export function parseIngestLine(text: string, line: number, ctx: IngestLineContext): IngestLineResult {
  const refuse = (reason: string) => ({ accepted: false, line, code: 'TIPHUB_INGEST_LINE_INVALID', reason }) as const;
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch {
    return refuse('not valid JSON');
  }
  const payload: IngestPayload = { line: parsed, baseDir: ctx.baseDir };
  const m = ctx.normalize(payload, { account: ctx.account, receivedAt: ctx.receivedAt, messageId: ctx.messageId });
  if (isRejected(m)) return refuse(m.reason);
  const invalid = refusedMessage(m, ctx.now);
  return invalid ? refuse(invalid) : { accepted: true, line, payload, message: m };
}

/** Copies a line's media files (inside `baseDir` only) into the store and records what was stored. */
export async function storeIngestMedia(store: MediaStore, m: InboundMessage, baseDir: string, maxBytes: number): Promise<void> {
  for (const md of m.media) {
    const s = await store.putFile(md.ref, maxBytes, { confineTo: baseDir });
    Object.assign(md, { sha256: s.sha256, storedSize: s.size, sniffedMime: s.mime, size: s.size });
  }
}

/** A message that will not go through: at most a day ahead of this clock (clock skew). */
const FUTURE_SLACK_MS = 86_400_000;

/**
 * Why a normalized line cannot be queued, or null. Checked per line, before the chunk is queued:
 * a sentAt years ahead (or one whose UTC form leaves the ISO year range) would otherwise throw
 * while the chunk is sealed and abort the whole import.
 */
export function refusedMessage(m: InboundMessage, now: number): string | null {
  const sent = Date.parse(m.sentAt);
  if (!Number.isFinite(sent)) return 'sentAt: not a valid datetime';
  if (sent > now + FUTURE_SLACK_MS) return 'sentAt: more than a day in the future';
  const checked = InboundMessage.safeParse(m);
  return checked.success ? null : describeIssues(checked.error);
}

function safeJson(s: string): unknown {
  try {
    return JSON.parse(s);
  } catch {
    return null;
  }
}

async function countLines(file: string): Promise<number> {
  let n = 0;
  for await (const l of createInterface({ input: fs.createReadStream(file, 'utf8'), crlfDelay: Infinity })) if (l.trim()) n++;
  return n;
}
