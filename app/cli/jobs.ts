/**
 * `tiphub jobs failed|retry` (issue 14, item 4): the jobs BullMQ gave up on, in every queue of the
 * hub (intake, and each channel's outbound and media queues), and moving them back to waiting.
 *
 * What is shown of a job is what is safe to show: its queue, its id (a keyed hash, or a report id
 * and an index), its attempts, when it failed and the error code its failure carried with whether
 * a retry can help (src/errors.ts). Never its data (sealed anyway) nor the failure's message: a
 * worker's failedReason is `CODE: message` and a foreign error's message may quote a platform's
 * text, so only the code is read out of it.
 */
import { Queue, type Job } from 'bullmq';
import type { Command } from 'commander';
import type { Config } from '../../src/config';
import { errorCodes, TiphubError, type ErrorCode } from '../../src/errors';
import type { Logger } from '../../src/log';
import { connectRedis, type RedisTarget } from '../../src/queue/redis';
import { overviewQueueNames } from '../../src/dashboard/overview';
import { channelNames } from '../../adapters/registry';
import { findRedis } from '../hub/redis-provision';

export interface FailedJob {
  readonly queue: string;
  readonly id: string;
  readonly attempts: number;
  /** The TIPHUB_* code the failure carried; null when it carried none (a foreign error: see `kind`). */
  readonly code: string | null;
  /** The code's own word on it (src/errors.ts); null for a failure without a code. */
  readonly retryable: boolean | null;
  /** What the failure was when it carried no code: BullMQ's own words (stalled, …) or the error class, never a message. */
  readonly kind: string | null;
  /** When it failed (ISO 8601), null when BullMQ did not record it. */
  readonly failedAt: string | null;
}

/** How many failed jobs a queue lists at most (BullMQ keeps queue.keepFailed.count of them anyway). */
const LIST_MAX = 1000;

/** Every queue of the hub, by the names the hub makes them with. */
export function hubQueueNames(): string[] {
  return overviewQueueNames(channelNames);
}

/**
 * The code and class of a failure, out of BullMQ's failedReason. Workers store `CODE: message`
 * (a TiphubError's); BullMQ's own reasons ("job stalled more than allowable limit") are its words,
 * kept by their first words only; anything else is shown as `other`.
 */
export function failureOf(failedReason: string | undefined): { code: ErrorCode | null; retryable: boolean | null; kind: string | null } {
  const m = /^(TIPHUB_[A-Z_]+)\b/.exec(failedReason ?? '');
  if (m && m[1]! in errorCodes) {
    const code = m[1] as ErrorCode;
    return { code, retryable: errorCodes[code].retryable, kind: null };
  }
  if (/^job stalled more than allowable limit/.test(failedReason ?? '')) return { code: null, retryable: true, kind: 'stalled' };
  return { code: null, retryable: null, kind: failedReason ? 'other' : 'none' };
}

function describe(queue: string, job: Job): FailedJob {
  const f = failureOf(job.failedReason);
  return {
    queue,
    id: String(job.id),
    attempts: job.attemptsMade,
    ...f,
    failedAt: job.finishedOn ? new Date(job.finishedOn).toISOString() : null,
  };
}

function checkQueue(name: string | undefined): string[] {
  const all = hubQueueNames();
  if (name === undefined) return all;
  if (!all.includes(name)) throw new TiphubError('TIPHUB_CONFIG_INVALID', `no queue ${JSON.stringify(name.slice(0, 40))}; the queues are ${all.join(', ')}`);
  return [name];
}

async function withQueues<T>(target: RedisTarget, prefix: string, names: readonly string[], fn: (queues: Queue[]) => Promise<T>): Promise<T> {
  const connection = connectRedis(target);
  const queues = names.map((n) => new Queue(n, { connection, prefix }));
  try {
    return await fn(queues);
  } finally {
    await Promise.all(queues.map((q) => q.close().catch(() => undefined)));
    connection.disconnect();
  }
}

export async function listFailedJobs(target: RedisTarget, prefix: string, queue?: string): Promise<FailedJob[]> {
  return withQueues(target, prefix, checkQueue(queue), async (queues) => {
    const out: FailedJob[] = [];
    for (const q of queues) for (const job of await q.getFailed(0, LIST_MAX - 1)) if (job) out.push(describe(q.name, job));
    return out.sort((a, b) => (b.failedAt ?? '').localeCompare(a.failedAt ?? ''));
  });
}

/**
 * Moves failed jobs back to waiting: one by id (in the queue given, else wherever it is), or all
 * of them. Returns what was retried, queue and id.
 */
export async function retryFailedJobs(target: RedisTarget, prefix: string, what: { id?: string; queue?: string }): Promise<{ queue: string; id: string }[]> {
  return withQueues(target, prefix, checkQueue(what.queue), async (queues) => {
    const done: { queue: string; id: string }[] = [];
    for (const q of queues) {
      const jobs = what.id !== undefined ? [await q.getJob(what.id)] : await q.getFailed(0, -1);
      for (const job of jobs) {
        if (!job || !(await job.isFailed())) continue;
        await job.retry('failed');
        done.push({ queue: q.name, id: String(job.id) });
      }
    }
    return done;
  });
}

export function formatFailedJobs(rows: readonly FailedJob[]): string {
  if (!rows.length) return 'jobs: no failed job';
  const table = [['queue', 'job', 'attempts', 'failed at', 'error', 'retry helps']];
  for (const r of rows) table.push([r.queue, r.id, String(r.attempts), r.failedAt ?? '-', r.code ?? r.kind ?? '-', r.retryable === null ? '?' : r.retryable ? 'yes' : 'no']);
  const widths = table[0]!.map((_, i) => Math.max(...table.map((row) => row[i]!.length)));
  return table.map((row) => row.map((c, i) => (i === row.length - 1 ? c : c.padEnd(widths[i]!))).join('  ')).join('\n');
}

async function redisOf(cfg: Readonly<Config>): Promise<RedisTarget> {
  const target = await findRedis(cfg);
  if (!target) throw new TiphubError('TIPHUB_REDIS_UNAVAILABLE', 'no Redis answers (set REDIS_URL, or start the hub): the queues live there');
  return target;
}

/** The `jobs` commands on the program; `context` loads the configuration once the command runs. */
export function registerJobsCommands(program: Command, context: () => { cfg: Readonly<Config>; log: Logger }, setExit: (code: number) => void): void {
  const jobs = program.command('jobs').description('the queues’ failed jobs: list them, move them back to waiting');
  jobs
    .command('failed')
    .description('failed jobs of every queue (or one): queue, id, attempts, failed at, error code and whether a retry helps; never their data')
    .option('--queue <name>', `one queue (${['intake', 'outbound-CHANNEL', 'media-CHANNEL'].join(', ')})`)
    .option('--json', 'one JSON array, for scripts')
    .action(async (o: { queue?: string; json?: boolean }) => {
      const { cfg } = context();
      const rows = await listFailedJobs(await redisOf(cfg), cfg.queue.prefix, o.queue);
      process.stdout.write((o.json ? JSON.stringify(rows, null, 2) : formatFailedJobs(rows)) + '\n');
    });
  jobs
    .command('retry')
    .description('move a failed job (by id, as `tiphub jobs failed` shows it) or all of them back to waiting')
    .argument('[id]', 'the job id')
    .option('--all', 'every failed job (of --queue, else of every queue)')
    .option('--queue <name>', 'only in this queue')
    .action(async (id: string | undefined, o: { all?: boolean; queue?: string }) => {
      if ((id === undefined) === !o.all) throw new TiphubError('TIPHUB_CONFIG_INVALID', 'give a job id or --all (not both)');
      const { cfg } = context();
      const done = await retryFailedJobs(await redisOf(cfg), cfg.queue.prefix, { id, queue: o.queue });
      for (const d of done) process.stdout.write(`retried ${d.queue} ${d.id}\n`);
      process.stdout.write(`jobs: ${done.length} job${done.length === 1 ? '' : 's'} moved back to waiting\n`);
      if (id !== undefined && !done.length) {
        process.stderr.write(`jobs: no failed job ${id}${o.queue ? ` in ${o.queue}` : ''}\n`);
        setExit(1);
      }
    });
}
