/**
 * `npm run bench`: bare BullMQ against tiphub end to end on the same Redis, with the same message
 * count, payload size, enqueue concurrency and worker concurrency; then tiphub's sink→committed
 * latency at a steady 1,000 messages/s. Figures are printed, never asserted.
 *
 * Workload: thousands of distinct senders, mostly distinct texts in Arabic, Kurdish, English and
 * French, a few percent exact copies forwarded by other senders.
 *
 * Parts (base by default, a few minutes; `--only=scale,viral`, `--only=all` or BENCH_ONLY=… for the others):
 * - base: the above, plus the grouping (dedupe) step's round trips and time on the empty log;
 * - viral: the same measurement when a third of the messages are copies of one text from distinct
 *   senders (`viral_ratio` against the empty-log figure), and the viral case's counts;
 * - scale: a case log of BENCH_SCALE_REPORTS (1,000,000) reports generated in bulk with COPY
 *   (scale-gen.ts), then the same end-to-end measurement on it (`scale_ratio`), the grouping's
 *   cost there, and EXPLAIN (ANALYZE, BUFFERS) of one near-duplicate band look-up.
 * The viral and scale figures are compared with an empty-log run made right before each (same
 * workload, fresh schema), so that both see the same machine; BENCH_ROUNDS=n repeats each pair and
 * prints the median ratio. Each of these measurements starts after BENCH_WARMUP (2,000) messages
 * through the same worker, not counted (JIT, caches: a bulk-loaded log is cold otherwise).
 *
 * Each measurement has its own schema and queue prefix; all are dropped / deleted at the end.
 *
 * Knobs (environment): BENCH_MESSAGES, BENCH_RATE_SECONDS, BENCH_DATABASE_URL, REDIS_URL,
 * BENCH_WORKER_CONFIG (JSON merged into `worker:`), BENCH_WORKER_LOG (worker log level),
 * BENCH_NODE_FLAGS (node flags for the worker), BENCH_PROF (a folder for the worker's CPU profile),
 * BENCH_ONLY, BENCH_ROUNDS, BENCH_SCALE_REPORTS, BENCH_SCALE_INFORMANTS (default reports / 10), BENCH_SEED,
 * BENCH_KEEP_SCALE=1 (keep the scale schema, its name is printed), BENCH_SCALE_VERIFY=1 (run the
 * case log's `verify` over the generated log: minutes at a million),
 * diagnosis: BENCH_EXPLAIN_GROUPING=<batch n>
 * (probe.ts), BENCH_PG_OPTIONS (extra `-c name=value` settings for the bench's own connections).
 */
import { fork, type ChildProcess } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { randomBytes, randomUUID } from 'node:crypto';
import { Queue } from 'bullmq';
import { Client } from 'pg';
import { loadConfig, type Config } from '../app/config';
import { Keyring } from '../src/crypto/keyring';
import { createLogger } from '../src/log';
import { channelModule } from '../adapters/registry';
import { isRejected, type InboundMessage } from '../src/contracts/inbound-message';
import { createIntakeQueue, createIntakeSink, sealForIntake } from '../src/queue/intake-queue';
import { connectRedis, deleteKeysWithPrefix, redisOptions } from '../src/queue/redis';
import { openCaseLogHere } from '../src/caselog/open';
import { formatVerify, verifyCaseLog } from '../src/caselog/verify';
import { anchorHeads } from '../src/caselog/anchor';
import { prepareItem } from '../workers/intake/worker';
import { writeBatch } from '../workers/intake/write-batch';
import { groupReports, type GroupBatch } from '../src/grouping/group';
import type { DedupeStats } from './probe';
import type { ScaleGenRequest, ScaleGenResult } from './scale-gen';
import { DUP_RATE, SENDERS, viralWorkload, workload, type Line, type ViralKind } from './workload';

const DATABASE_URL = process.env.BENCH_DATABASE_URL ?? process.env.TEST_DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/test';
const REDIS_URL = process.env.REDIS_URL ?? 'redis://127.0.0.1:6379';
const N = Number(process.env.BENCH_MESSAGES ?? 20_000);
const IN_FLIGHT = 256; // enqueue concurrency, both runs
const RATE = 1_000; // messages/s in the latency run
const RATE_SECONDS = Number(process.env.BENCH_RATE_SECONDS ?? 10);
const ROUNDS = Math.max(1, Number(process.env.BENCH_ROUNDS ?? 1));
const WARMUP = Number(process.env.BENCH_WARMUP ?? 2_000); // messages before each empty/viral/scale measurement
const SCALE_REPORTS = Number(process.env.BENCH_SCALE_REPORTS ?? 1_000_000);
const SCALE_INFORMANTS = Number(process.env.BENCH_SCALE_INFORMANTS ?? Math.max(1, Math.round(SCALE_REPORTS / 10)));
const WORKLOAD_START = Date.parse('2026-06-10T00:00:00Z');

type Part = 'base' | 'viral' | 'scale';
const PARTS: Part[] = ['base', 'viral', 'scale'];
function partsToRun(): Set<Part> {
  const arg = process.argv.find((a) => a.startsWith('--only='))?.slice('--only='.length);
  const spec = arg ?? process.env.BENCH_ONLY;
  // The quick part by default: the million-report log and the viral run take a quarter of an hour more.
  if (!spec) return new Set<Part>(['base']);
  if (spec === 'all') return new Set(PARTS);
  const parts = spec.split(',').map((s) => s.trim());
  const bad = parts.filter((p) => !(PARTS as string[]).includes(p));
  if (bad.length) throw new Error(`BENCH_ONLY: unknown part(s) ${bad.join(', ')} (known: ${PARTS.join(', ')})`);
  return new Set(parts as Part[]);
}

/** The grouping the intake uses by default. */
const defaultGroup: GroupBatch = groupReports;

/** Every process this run forked (killed if the run is interrupted). */
const children: ChildProcess[] = [];
let interrupted = false;
// Output piped into `head` and closed: keep going (and clean up) rather than die on EPIPE.
process.stdout.on('error', () => undefined);

interface ChildLoad {
  at: number;
  cpuMs: number;
  busyMs: number;
}

interface Child {
  proc: ChildProcess;
  commits: Map<string, number>;
  done: number;
  dedupe: DedupeStats | null;
  load: ChildLoad | null;
  stopped: Promise<{ peakRss: number; rss: number }>;
}

function startChild(mode: 'bare' | 'tiphub', env: Record<string, string>): Promise<Child> {
  const proc = fork(path.join(__dirname, 'worker-child.js'), [mode], { execArgv: [...(process.env.BENCH_PROF ? ['--cpu-prof', '--cpu-prof-dir=' + process.env.BENCH_PROF] : []), ...(process.env.BENCH_NODE_FLAGS ?? '').split(' ').filter(Boolean)], env: { ...process.env, ...env }, stdio: ['ignore', 'inherit', 'inherit', 'ipc'] });
  children.push(proc);
  const child: Child = { proc, commits: new Map(), done: 0, dedupe: null, load: null, stopped: null as never };
  let resolveStopped: (v: { peakRss: number; rss: number }) => void;
  child.stopped = new Promise((r) => (resolveStopped = r));
  return new Promise((resolve, reject) => {
    proc.on('message', (m: { type: string; items?: [string, number][]; done?: number; dedupe?: DedupeStats | null; load?: ChildLoad; peakRss?: number; rss?: number }) => {
      if (m.done !== undefined) child.done = m.done;
      if (m.load) child.load = m.load;
      if (m.dedupe !== undefined) child.dedupe = m.dedupe;
      if (m.type === 'ready') resolve(child);
      if (m.type === 'commits') for (const [id, t] of m.items!) child.commits.set(id, t);
      if (m.type === 'stopped') resolveStopped({ peakRss: m.peakRss!, rss: m.rss! });
    });
    proc.on('exit', (code) => code && reject(new Error(`${mode} worker exited with ${code}`)));
  });
}

async function stopChild(c: Child) {
  c.proc.send({ type: 'stop' });
  return c.stopped;
}

async function until(pred: () => boolean, timeoutMs: number) {
  const deadline = Date.now() + timeoutMs;
  while (!pred()) {
    if (Date.now() > deadline) throw new Error('benchmark timed out');
    await new Promise((r) => setTimeout(r, 5));
  }
}

/** Runs `fn` over items with at most `limit` in flight. */
async function inFlight<T>(items: T[], limit: number, fn: (t: T) => Promise<unknown>) {
  let next = 0;
  await Promise.all(
    Array.from({ length: limit }, async () => {
      while (next < items.length && !interrupted) await fn(items[next++]!);
    }),
  );
}

const pct = (sorted: number[], p: number) => sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))]!;
const mb = (b: number) => `${(b / 1024 / 1024).toFixed(0)}MB`;
const secs = (ms: number) => `${(ms / 1000).toFixed(1)} s`;

/** The grouping stats of the measured part only (after the warm-up). */
function since(now: DedupeStats | null, before: DedupeStats | null): DedupeStats | null {
  if (!now || !before) return now;
  const sql: DedupeStats['sql'] = {};
  for (const [k, [n, ms]] of Object.entries(now.sql)) {
    const [n0, ms0] = before.sql[k] ?? [0, 0];
    if (n > n0) sql[k] = [n - n0, ms - ms0];
  }
  return {
    batches: now.batches - before.batches,
    reports: now.reports - before.reports,
    queries: now.queries - before.queries,
    ms: now.ms - before.ms,
    wallMs: now.wallMs - before.wallMs,
    fn: now.fn,
    sql,
  };
}

function dedupeLine(name: string, d: DedupeStats | null): string {
  if (!d) return `dedupe_cost_${name}: not measured (the intake's batch writer could not be wrapped)`;
  if (!d.batches) return `dedupe_cost_${name}: not measured (no batch went through the wrapped writer: does the worker still call writeBatch?)`;
  const perBatch = d.queries / d.batches;
  return (
    `dedupe_cost_${name}: ${perBatch.toFixed(2)} round trips/batch (${(d.queries / d.reports).toFixed(4)}/report), ` +
    `${((d.ms * 1000) / d.reports).toFixed(1)} µs/report ` +
    `(${d.batches} batches of ${(d.reports / d.batches).toFixed(1)} reports on average; grouping function ${d.fn}; ` +
    `wall time from the call, incl. the wait behind the statement before it: ${((d.wallMs * 1000) / d.reports).toFixed(1)} µs/report)`
  );
}

function sqlProfileLine(name: string, d: DedupeStats | null, reports: number): string | null {
  if (!d || !Object.keys(d.sql).length) return null;
  const top = Object.entries(d.sql)
    .sort((a, b) => b[1][1] - a[1][1])
    .slice(0, 4)
    .map(([k, [n, ms]]) => `[${((ms * 1000) / reports).toFixed(0)} µs/report, ${n}x] ${k}`);
  return `sql_profile_${name} (batch transaction statements by own time): ${top.join(' | ')}`;
}

/** The machine's idle and total CPU time so far (/proc/stat, in ticks). */
function machineIdle(): { idle: number; total: number } {
  try {
    const cpu = fs.readFileSync('/proc/stat', 'utf8').split('\n')[0]!.trim().split(/\s+/).slice(1).map(Number);
    return { idle: (cpu[3] ?? 0) + (cpu[4] ?? 0), total: cpu.reduce((a, b) => a + b, 0) };
  } catch {
    return { idle: 0, total: 0 };
  }
}

const idleShare = (a: { idle: number; total: number }, b: { idle: number; total: number }) => (b.total > a.total ? (b.idle - a.idle) / (b.total - a.total) : 0);

async function main() {
  const parts = partsToRun();
  const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'tiphub-bench-'));
  const run = randomUUID().replace(/-/g, '').slice(0, 8);
  const schema = `bench_${run}`;
  const prefix = `bench-${run}`;
  const schemas: string[] = [];
  const prefixes: string[] = [];
  const pg = new Client({ connectionString: DATABASE_URL });
  await pg.connect();
  // What this run made is removed however it ends: normally, on an error, or on SIGINT/SIGTERM.
  let cleaning: Promise<void> | null = null;
  const cleanup = () =>
    (cleaning ??= (async () => {
      for (const c of children) if (c.exitCode === null && c.signalCode === null) c.kill('SIGKILL');
      for (const s of schemas) await pg.query(`DROP SCHEMA IF EXISTS ${s} CASCADE`).catch((err) => console.error(`bench: could not drop ${s}: ${err}`));
      await pg.end().catch(() => undefined);
      for (const p of prefixes) await deleteKeysWithPrefix(REDIS_URL, p).catch((err) => console.error(`bench: could not delete ${p}:* keys: ${err}`));
      fs.rmSync(tmp, { recursive: true, force: true });
    })());
  for (const sig of ['SIGINT', 'SIGTERM'] as const) {
    process.once(sig, () => {
      console.error(`bench: ${sig}, cleaning up`);
      interrupted = true; // no new messages are sent; those on their way land before the keys go
      void new Promise((r) => setTimeout(r, 1000)).then(cleanup).finally(() => process.exit(130));
    });
  }
  const secret = randomBytes(32).toString('hex');
  const workerCfg = JSON.parse(process.env.BENCH_WORKER_CONFIG ?? '{}');

  /** A schema and a queue prefix of their own, and the environment of a worker on them. */
  const target = async (suffix: string) => {
    const s = suffix ? `${schema}_${suffix}` : schema;
    const p = suffix ? `${prefix}-${suffix}` : prefix;
    await pg.query(`CREATE SCHEMA ${s}`);
    schemas.push(s);
    prefixes.push(p);
    const dbUrl = new URL(DATABASE_URL);
    // BENCH_PG_OPTIONS: more settings for these connections only (e.g. auto_explain, for diagnosis).
    dbUrl.searchParams.set('options', `-c search_path=${s},public${process.env.BENCH_PG_OPTIONS ? ' ' + process.env.BENCH_PG_OPTIONS : ''}`);
    const cfgFile = path.join(tmp, `${p}.yaml`);
    fs.writeFileSync(cfgFile, JSON.stringify({ queue: { prefix: p }, log: { level: 'warn' }, worker: workerCfg }));
    const env = { TIPHUB_SECRET: secret, REDIS_URL, DATABASE_URL: dbUrl.toString(), TIPHUB_DATA_DIR: tmp, TIPHUB_CONFIG: cfgFile };
    const cfg: Readonly<Config> = loadConfig({ env, cwd: tmp });
    // Each case log has its own key set: made here, so producers seal with the keys its worker opens.
    const opened = await openCaseLogHere(cfg, { log: createLogger('warn'), poolSize: 1 });
    const keyring = opened.keyring;
    await opened.close();
    return { schema: s, prefix: p, env, cfg, dbUrl: dbUrl.toString(), keyring };
  };
  type Target = Awaited<ReturnType<typeof target>>;

  const base = await target('');
  const { env, cfg } = base;
  const log = createLogger('warn');
  const keyring = base.keyring;
  const sim = channelModule('simulator');
  const toMessage = (l: Line, k: Keyring = keyring): InboundMessage => {
    const m = sim.normalize({ line: l, baseDir: tmp }, { account: 'simulator', receivedAt: new Date(), messageId: (p) => k.messageId('simulator', p) });
    if (isRejected(m)) throw new Error(m.reason);
    return m;
  };

  /** tiphub end to end on `t`: sink → intake worker(s) → committed; the grouping's stats when all are in. */
  let warmups = 0;
  const endToEnd = async (t: Target, ls: Line[], workers = 1) => {
    await deleteKeysWithPrefix(REDIS_URL, `${t.prefix}:flood`); // a second round starts with no sender counted
    const queue = createIntakeQueue(REDIS_URL, t.cfg);
    const counters = connectRedis(REDIS_URL);
    const sink = createIntakeSink(queue, t.keyring, log, { flood: { counters, perMinute: t.cfg.conversation.floodPerMinute, prefix: t.prefix } });
    const tips = await Promise.all(Array.from({ length: workers }, () => startChild('tiphub', t.env)));
    const tip = tips[0]!;
    const done = () => tips.reduce((n, c) => n + c.done, 0);
    // Warm-up (not measured): the worker's JIT and the log's pages in memory, as in a running hub.
    if (WARMUP > 0) {
      const w = ++warmups; // ids of their own: a job id BullMQ still holds would be ignored
      const warm = workload(WARMUP, WORKLOAD_START - 86_400_000).map((l) => ({ ...l, id: `u${w}${l.id}` }));
      await inFlight(warm, IN_FLIGHT, (l) => sink(toMessage(l, t.keyring)));
      await until(() => done() >= warm.length, 300_000);
    }
    await until(() => tips.every((c) => c.load !== null), 10_000);
    const load0 = tips.map((c) => c.load!);
    const done0 = done();
    const dedupe0 = tip.dedupe;
    const idle0 = machineIdle();
    const start = performance.now();
    await inFlight(ls, IN_FLIGHT, (l) => sink(toMessage(l, t.keyring)));
    const enqueuedSecs = (performance.now() - start) / 1000;
    await until(() => done() >= done0 + ls.length, 900_000);
    const seconds = (performance.now() - start) / 1000;
    const idle = idleShare(idle0, machineIdle());
    // The grouping's stats are the first worker's (with one worker: all of them).
    const dedupe = workers === 1 ? since(tip.dedupe, dedupe0) : null;
    const each = tips.map((c, i) => {
      const l1 = c.load!;
      const span = l1.at - load0[i]!.at;
      return `worker${workers > 1 ? ` ${i + 1}` : ''} CPU ${((100 * (l1.cpuMs - load0[i]!.cpuMs)) / span).toFixed(0)}% of a core, event loop busy ${((100 * (l1.busyMs - load0[i]!.busyMs)) / span).toFixed(0)}%`;
    });
    const stopped = await Promise.all(tips.map((c) => stopChild(c)));
    const stats = { peakRss: Math.max(...stopped.map((x) => x.peakRss)), rss: Math.max(...stopped.map((x) => x.rss)) };
    await queue.close();
    counters.disconnect();
    // The machine's 1-minute load average and idle share: others may be using its two cores at the same time.
    return { rate: ls.length / seconds, seconds, enqueuedSecs, dedupe, stats, load: `${each.join(', ')}; machine idle ${(100 * idle).toFixed(0)}%, load ${os.loadavg()[0]!.toFixed(1)}` };
  };

  const lines = workload(N, WORKLOAD_START);
  /**
   * The empty-log figure a viral or scale run is compared with: measured right before it, on a
   * fresh schema with the same workload, so both see the same machine (others may be using it).
   */
  let baselines = 0;
  const emptyBaseline = async (before: string, ls: Line[] = lines) => {
    const r = await endToEnd(await target(`empty${++baselines}`), ls);
    console.log(`empty_end_to_end (before ${before}): ${N} reports committed in ${r.seconds.toFixed(2)} s = ${r.rate.toFixed(0)} reports/s (all enqueued after ${r.enqueuedSecs.toFixed(2)} s; worker peak RSS ${mb(r.stats.peakRss)}; ${r.load})`);
    return r;
  };
  const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor((xs.length - 1) / 2)]!;

  console.log(`bench: ${N} messages, ${SENDERS} senders, ~${DUP_RATE * 100}% copies, enqueue concurrency ${IN_FLIGHT}, worker concurrency ${cfg.worker.concurrency}, batch ${cfg.worker.batchSize}, PostgreSQL + Redis on this machine (${os.cpus().length} cores); parts: ${[...parts].join(', ')}`);
  try {
    if (parts.has('base')) {
      // 1. Bare BullMQ: same count, same payload size, same concurrency; a no-op worker.
      const sampleSize = sealForIntake(keyring, toMessage(lines[0]!), 'live').data.sealed.length;
      const bareQueue = new Queue('bare', { connection: redisOptions(REDIS_URL), prefix });
      const bare = await startChild('bare', env);
      const bareStart = performance.now();
      let k = 0;
      await inFlight(lines, IN_FLIGHT, () => {
        const id = `in-bare${k++}`;
        return bareQueue.add('message', { v: 1, sealed: randomBytes(Math.ceil((sampleSize * 3) / 4)).toString('base64url'), origin: 'live' }, { jobId: id, removeOnComplete: { age: 3600, count: 10_000 } });
      });
      await until(() => bare.done >= N, 300_000);
      const bareSecs = (performance.now() - bareStart) / 1000;
      const bareStats = await stopChild(bare);
      await bareQueue.close();
      const bareRate = N / bareSecs;
      console.log(`bare_bullmq: ${N} jobs in ${bareSecs.toFixed(2)} s = ${bareRate.toFixed(0)} jobs/s (worker peak RSS ${mb(bareStats.peakRss)})`);

      // 2. tiphub end to end: simulator normalize → seal → sink → intake worker → committed on PostgreSQL.
      const queue = createIntakeQueue(REDIS_URL, cfg);
      // The sink as the hub builds it, flood counter included.
      const counters = connectRedis(REDIS_URL);
      const sink = createIntakeSink(queue, keyring, log, { flood: { counters, perMinute: cfg.conversation.floodPerMinute, prefix } });
      const tip = await startChild('tiphub', env);
      const tipStart = performance.now();
      await inFlight(lines, IN_FLIGHT, (l) => sink(toMessage(l)));
      const enqueuedSecs = (performance.now() - tipStart) / 1000;
      await until(() => tip.done >= N, 600_000);
      const tipSecs = (performance.now() - tipStart) / 1000;
      const tipRate = N / tipSecs;
      const emptyDedupe = tip.dedupe;
      console.log(`tiphub_end_to_end: ${N} reports committed in ${tipSecs.toFixed(2)} s = ${tipRate.toFixed(0)} reports/s (all enqueued after ${enqueuedSecs.toFixed(2)} s)`);
      console.log(`ratio=${(tipRate / bareRate).toFixed(3)}`);
      // The scale part prints dedupe_cost_empty next to dedupe_cost_scale, from its own empty-log run.
      console.log(dedupeLine('base', emptyDedupe));
      const prof = sqlProfileLine('base', emptyDedupe, N);
      if (prof) console.log(prof);

      // 3. Latency at a steady 1,000/s.
      const steady = workload(RATE * RATE_SECONDS, Date.parse('2026-06-11T00:00:00Z')).map((l) => ({ ...l, id: `s${l.id}` }));
      const sentAt = new Map<string, number>();
      const startedAt = performance.now();
      const perTick = RATE / 100;
      const sends: Promise<unknown>[] = [];
      for (let tick = 0; tick * perTick < steady.length && !interrupted; tick++) {
        const due = startedAt + tick * 10;
        const wait = due - performance.now();
        if (wait > 0) await new Promise((r) => setTimeout(r, wait));
        for (const l of steady.slice(tick * perTick, (tick + 1) * perTick)) {
          const m = toMessage(l);
          sentAt.set(m.id, performance.timeOrigin + performance.now());
          sends.push(sink(m));
        }
      }
      await Promise.all(sends);
      const achieved = steady.length / ((performance.now() - startedAt) / 1000);
      await until(() => [...sentAt.keys()].every((id) => tip.commits.has(id)), 120_000);
      const lat = [...sentAt].map(([id, t]) => tip.commits.get(id)! - t).sort((a, b) => a - b);
      const tipStats = await stopChild(tip);
      await queue.close();
      counters.disconnect();
      console.log(
        `latency at ${achieved.toFixed(0)}/s for ${RATE_SECONDS} s (sink -> committed): p50=${pct(lat, 50).toFixed(1)} ms p99=${pct(lat, 99).toFixed(1)} ms max=${lat[lat.length - 1]!.toFixed(1)} ms`,
      );
      console.log(`tiphub worker RSS: peak ${mb(tipStats.peakRss)}, at end ${mb(tipStats.rss)}`);
      // 4. The batch writer alone (no BullMQ, no event-loop company): what the database path can do.
      const alone = await openCaseLogHere(cfg, { log, poolSize: 4 });
      const items = workload(10_240, Date.parse('2026-06-12T00:00:00Z')).map((l) => prepareItem(alone, cfg, sealForIntake(keyring, toMessage({ ...l, id: `w${l.id}` }), 'live').data));
      for (const writers of [1, 2]) {
        const part = items.splice(0, 5_120);
        let next = 0;
        const t0 = performance.now();
        await Promise.all(
          Array.from({ length: writers }, async () => {
            while (next < part.length) {
              const b = part.slice(next, (next += cfg.worker.batchSize));
              await writeBatch(alone.db, b, { group: defaultGroup, rules: cfg.grouping });
            }
          }),
        );
        console.log(`writer_alone (${writers} at once): ${(part.length / ((performance.now() - t0) / 1000)).toFixed(0)} reports/s`);
      }
      await alone.close();
      // 5. Two worker processes against one (issue 15), each pair member on a fresh schema, same messages.
      const one = await endToEnd(await target('workers1'), lines, 1);
      const two = await endToEnd(await target('workers2'), lines, 2);
      console.log(`workers_1: ${N} reports in ${one.seconds.toFixed(2)} s = ${one.rate.toFixed(0)} reports/s (${one.load})`);
      console.log(`workers_2: ${N} reports in ${two.seconds.toFixed(2)} s = ${two.rate.toFixed(0)} reports/s (${two.load})`);
      console.log(`workers_speedup=${(two.rate / one.rate).toFixed(2)}`);
      // The case log stays exact with two writers: the same reports, exact copies grouped the same.
      for (const [name, sch] of [['workers_1', `${schema}_workers1`], ['workers_2', `${schema}_workers2`]] as const) {
        const { rows } = await pg.query<{ reports: number; cases: number; exact: number; near: number; followup: number }>(
          `SELECT (SELECT count(*) FROM ${sch}.reports)::int AS reports, (SELECT count(*) FROM ${sch}.cases)::int AS cases,
                  (SELECT count(*) FROM ${sch}.reports WHERE duplicate_kind = 'exact')::int AS exact,
                  (SELECT count(*) FROM ${sch}.reports WHERE duplicate_kind = 'near')::int AS near,
                  (SELECT count(*) FROM ${sch}.reports WHERE duplicate_kind = 'followup')::int AS followup`,
        );
        console.log(`${name} case log: ${rows[0]!.reports} reports in ${rows[0]!.cases} cases; exact ${rows[0]!.exact}, near ${rows[0]!.near}, followup ${rows[0]!.followup}`);
      }
      const counts = await pg.query(`SELECT (SELECT count(*) FROM ${schema}.reports)::int AS reports, (SELECT count(*) FROM ${schema}.cases)::int AS cases`);
      console.log(`case log: ${counts.rows[0].reports} reports in ${counts.rows[0].cases} cases`);
    }

    if (parts.has('viral')) {
      // 5. Viral: a third of the messages are copies of one text, each from another new sender.
      const { lines: viralLines, kinds } = viralWorkload(N, WORKLOAD_START);
      const ratios: number[] = [];
      let t!: Target;
      let r!: Awaited<ReturnType<typeof endToEnd>>;
      for (let round = 1; round <= ROUNDS; round++) {
        const reference = await emptyBaseline('viral');
        t = await target(`viral${round}`);
        r = await endToEnd(t, viralLines);
        ratios.push(r.rate / reference.rate);
        console.log(`viral_end_to_end: ${N} reports committed in ${r.seconds.toFixed(2)} s = ${r.rate.toFixed(0)} reports/s (all enqueued after ${r.enqueuedSecs.toFixed(2)} s; worker peak RSS ${mb(r.stats.peakRss)}; ${r.load})${ROUNDS > 1 ? ` [round ${round}: ratio ${(r.rate / reference.rate).toFixed(3)}]` : ''}`);
      }
      console.log(`viral_ratio=${median(ratios).toFixed(3)}${ROUNDS > 1 ? ` (median of ${ROUNDS} rounds)` : ''}`);
      console.log(dedupeLine('viral', r.dedupe));
      const prof = sqlProfileLine('viral', r.dedupe, N);
      if (prof) console.log(prof);
      // Where the copies went.
      const idOf = new Map(viralLines.filter((l) => kinds.has(l.id)).map((l) => [toMessage(l, t.keyring).id, kinds.get(l.id)!]));
      const original = [...idOf].find(([, k]) => k === 'original')![0];
      const placed = await pg.query<{ id: string; case_id: number; duplicate_kind: string | null }>(
        `SELECT id, case_id, duplicate_kind FROM ${t.schema}.reports WHERE id = ANY($1)`,
        [[...idOf.keys()]],
      );
      const viralCaseId = placed.rows.find((x) => x.id === original)!.case_id;
      const sent: Record<string, number> = {};
      const joined: Record<string, number> = {};
      const joinedAs: Record<string, number> = {};
      for (const k of idOf.values()) sent[k] = (sent[k] ?? 0) + 1;
      for (const x of placed.rows) {
        if (x.case_id !== viralCaseId) continue;
        const k: ViralKind = idOf.get(x.id)!;
        joined[k] = (joined[k] ?? 0) + 1;
        joinedAs[x.duplicate_kind ?? 'first'] = (joinedAs[x.duplicate_kind ?? 'first'] ?? 0) + 1;
      }
      const vc = (
        await pg.query(
          `SELECT c.ref, c.report_count, c.informant_count, c.flags, (SELECT count(*) FROM ${t.schema}.reports r WHERE r.case_id = c.id)::int AS in_case,
                  (SELECT count(*) FROM ${t.schema}.reports)::int AS total, (SELECT count(*) FROM ${t.schema}.events)::int AS events
             FROM ${t.schema}.cases c WHERE c.id = $1`,
          [viralCaseId],
        )
      ).rows[0];
      const joinedCount = Object.values(joined).reduce((a, b) => a + b, 0);
      const fmt = (o: Record<string, number>) => Object.entries(o).map(([k, v]) => `${k} ${v}`).join(', ');
      console.log(`viral copies sent: ${idOf.size} (${fmt(sent)}), each from a different new sender`);
      console.log(`viral case ${vc.ref}: report_count=${vc.report_count}, reports in the case=${vc.in_case}, informant_count=${vc.informant_count}, flags=[${vc.flags.join(', ')}]; copies that joined it: ${joinedCount} (${fmt(joined)}; recorded as ${fmt(joinedAs)})`);
      const expected = N + WARMUP;
      const ok = vc.report_count === joinedCount && vc.in_case === joinedCount && vc.total === expected;
      console.log(`viral_check: report_count ${vc.report_count} ${vc.report_count === joinedCount ? '==' : '!='} copies joined ${joinedCount}; ${vc.total}/${expected} reports in the log (${N} + ${WARMUP} warm-up): ${ok ? 'OK, nothing lost' : 'MISMATCH'}`);
      if (joinedCount < idOf.size) console.log(`viral note: ${idOf.size - joinedCount} copies did not join the viral case (${fmt(Object.fromEntries(Object.entries(sent).map(([k, v]) => [k, v - (joined[k] ?? 0)]).filter(([, v]) => (v as number) > 0)))})`);
    }

    if (parts.has('scale')) {
      // 6. Scale: the same measurement on a case log of a million reports, generated in bulk.
      const t = await target('scale');
      const opened = await openCaseLogHere(t.cfg, { log, poolSize: 1 }); // migrations, key check, instance
      await opened.close();
      const genStart = performance.now();
      const req: ScaleGenRequest = { dbUrl: t.dbUrl, schema: t.schema, reports: SCALE_REPORTS, informants: SCALE_INFORMANTS, secret, keys: t.keyring.sealKeySet(), seed: Number(process.env.BENCH_SEED ?? 1), endMs: WORKLOAD_START - 3_600_000 };
      const gen = fork(path.join(__dirname, 'scale-gen.js'), [], { execArgv: ['--max-old-space-size=8192'], env: { ...process.env, ...t.env }, stdio: ['ignore', 'inherit', 'inherit', 'ipc'] });
      children.push(gen);
      const result = await new Promise<ScaleGenResult>((resolve, reject) => {
        gen.on('message', (m: { type: string; result?: ScaleGenResult; error?: string }) => {
          if (m.type === 'done') resolve(m.result!);
          if (m.type === 'failed') reject(new Error(`scale generation failed: ${m.error}`));
        });
        gen.on('exit', (code) => code && reject(new Error(`scale generator exited with ${code}`)));
        gen.send({ type: 'run', req });
      });
      const genMs = performance.now() - genStart;
      const fmt = (o: Record<string, number>) => Object.entries(o).map(([k, v]) => `${k} ${v}`).join(', ');
      console.log(
        `scale_log: ${result.reports} reports, ${result.cases} cases, ${result.informants} informants, ${result.caseInformants} case_informants, ${result.events} events, ${result.bands} report_bands rows; reports by kind: ${fmt(result.kinds)}; cases ${fmt(result.statuses)}`,
      );
      console.log(`scale_log values computed with: ${result.features}; COPY through ${result.copy}`);
      console.log(
        `scale_generation: ${secs(genMs)} in all (generate + COPY ${secs(result.ms.generateAndCopy)}, keys + indexes ${secs(result.ms.keysAndIndexes)}, VACUUM (ANALYZE) ${secs(result.ms.vacuumAnalyze)}, CHECKPOINT ${secs(result.ms.checkpoint)})`,
      );
      const sizes = await pg.query<{ relname: string; total: string; heap: string }>(
        `SELECT c.relname, pg_total_relation_size(c.oid) AS total, pg_relation_size(c.oid) AS heap FROM pg_class c
          WHERE c.relnamespace = to_regnamespace($1) AND c.relkind = 'r' ORDER BY pg_total_relation_size(c.oid) DESC`,
        [t.schema],
      );
      const all = sizes.rows.reduce((a, r) => a + Number(r.total), 0);
      console.log(
        `scale_table_sizes (pg_total_relation_size, heap in brackets): ${sizes.rows
          .filter((r) => Number(r.total) > 1024 * 1024)
          .map((r) => `${r.relname} ${mb(Number(r.total))} (${mb(Number(r.heap))})`)
          .join(', ')}; schema total ${mb(all)}`,
      );
      if (process.env.BENCH_KEEP_SCALE === '1') console.log(`scale schema kept: ${t.schema}`);
      {
        // The anchor (issue 10): the first one covers every case; later ones only what changed.
        const caselog = await openCaseLogHere(t.cfg, { log, poolSize: 1 });
        const a0 = performance.now();
        const first = await anchorHeads(caselog.db, { full: true });
        const a1 = performance.now();
        const again = await anchorHeads(caselog.db);
        const a2 = performance.now();
        await caselog.close();
        console.log(`scale_anchor: first anchor over ${first.cases} cases ${secs(a1 - a0)}; the next, nothing changed, ${(a2 - a1).toFixed(1)} ms (${again.written ? 'written' : 'nothing to write'})`);
      }
      if (process.env.BENCH_SCALE_VERIFY === '1') {
        // The hash chains and counters of the generated log, as `tiphub verify` checks them.
        const v0 = performance.now();
        const caselog = await openCaseLogHere(t.cfg, { log, poolSize: 1 });
        const v = await verifyCaseLog(caselog.db, { maxProblems: 10, pageSize: 2000 });
        await caselog.close();
        console.log(`scale_verify: ${formatVerify(v).split('\n').join(' | ')} (${secs(performance.now() - v0)})`);
      }

      // One near-duplicate look-up: the band probe as the grouping does it (LIMIT 8 per band).
      if (result.sample.bands.length) {
        const explainSql = `EXPLAIN (ANALYZE, BUFFERS, FORMAT JSON)
          SELECT r.id, r.case_id, (SELECT count(*) FROM unnest(r.minhash, $2::int[]) AS u(a, b) WHERE u.a = u.b)::float8 / 64 AS sim
            FROM (SELECT DISTINCT c.report_id FROM unnest($1::bigint[]) AS k(band)
                    CROSS JOIN LATERAL (SELECT report_id FROM ${t.schema}.report_bands WHERE band = k.band LIMIT 8) c) cand
            JOIN ${t.schema}.reports r ON r.id = cand.report_id`;
        const params = [result.sample.bands.map(String), result.sample.minhash];
        for (const round of ['first', 'again']) {
          const plan = (await pg.query(explainSql, params)).rows[0]['QUERY PLAN'][0];
          const nodes: string[] = [];
          const walk = (n: Record<string, unknown>, depth: number) => {
            nodes.push(`${'>'.repeat(depth)}${n['Node Type']}${n['Index Name'] ? ` using ${n['Index Name']}` : ''}${n['Relation Name'] && !n['Index Name'] ? ` on ${n['Relation Name']}` : ''} (loops ${n['Actual Loops']}, rows ${n['Actual Rows']})`);
            for (const c of (n.Plans as Record<string, unknown>[] | undefined) ?? []) walk(c, depth + 1);
          };
          walk(plan.Plan, 0);
          const p = plan.Plan;
          console.log(
            `scale_band_lookup (${round}): Execution Time ${plan['Execution Time'].toFixed(3)} ms, Planning Time ${plan['Planning Time'].toFixed(3)} ms, ` +
              `shared hit=${p['Shared Hit Blocks']} read=${p['Shared Read Blocks']}; plan: ${nodes.join(' ; ')}`,
          );
        }
        const found = await pg.query(explainSql.replace('EXPLAIN (ANALYZE, BUFFERS, FORMAT JSON)', ''), params);
        const hit = found.rows.find((x) => x.id === result.sample.originalId);
        console.log(`scale_band_lookup: ${found.rows.length} candidates for a near copy of a bulk report; the original among them: ${hit ? `yes (estimated similarity ${Number(hit.sim).toFixed(2)})` : 'no'}`);
      }

      const ratios: number[] = [];
      for (let round = 1; round <= ROUNDS; round++) {
        // A later round: a new workload (the log keeps the previous rounds' reports: the same texts
        // again would all be exact copies), a day later, compared with its own empty-log run.
        const ls = round === 1 ? lines : workload(N, WORKLOAD_START + (round - 1) * 86_400_000).map((l) => ({ ...l, id: `r${round}${l.id}` }));
        const reference = await emptyBaseline('scale', ls);
        const r = await endToEnd(t, ls);
        ratios.push(r.rate / reference.rate);
        console.log(`scale_end_to_end: ${N} reports committed on a log of ${result.reports + (round - 1) * N + round * WARMUP} in ${r.seconds.toFixed(2)} s = ${r.rate.toFixed(0)} reports/s (all enqueued after ${r.enqueuedSecs.toFixed(2)} s; worker peak RSS ${mb(r.stats.peakRss)}; ${r.load})${ROUNDS > 1 ? ` [round ${round}: ratio ${(r.rate / reference.rate).toFixed(3)}]` : ''}`);
        if (round === ROUNDS) {
          console.log(`scale_ratio=${median(ratios).toFixed(3)}${ROUNDS > 1 ? ` (median of ${ROUNDS} rounds)` : ''}`);
          console.log(dedupeLine('empty', reference.dedupe));
          console.log(dedupeLine('scale', r.dedupe));
          for (const [name, d] of [['empty', reference.dedupe], ['scale', r.dedupe]] as const) {
            const prof = sqlProfileLine(name, d, N);
            if (prof) console.log(prof);
          }
        }
      }
      if (process.env.BENCH_KEEP_SCALE === '1') schemas.splice(schemas.indexOf(t.schema), 1);
    }
  } finally {
    await cleanup();
  }
}

main().catch((err) => {
  console.error(err);
  process.exit(1);
});
