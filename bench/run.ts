/**
 * `npm run bench`: bare BullMQ against tiphub end to end on the same Redis, with the same message
 * count, payload size, enqueue concurrency and worker concurrency; then tiphub's sink→committed
 * latency at a steady 1,000 messages/s. Figures are printed, never asserted.
 *
 * Workload: thousands of distinct senders, mostly distinct texts in Arabic, Kurdish, English and
 * French, a few percent exact copies forwarded by other senders.
 *
 * Knobs (environment): BENCH_MESSAGES, BENCH_RATE_SECONDS, BENCH_DATABASE_URL, REDIS_URL,
 * BENCH_WORKER_CONFIG (JSON merged into `worker:`), BENCH_WORKER_LOG (worker log level),
 * BENCH_NODE_FLAGS (node flags for the worker), BENCH_PROF (a folder for the worker's CPU profile).
 */
import { fork, type ChildProcess } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { randomBytes, randomUUID } from 'node:crypto';
import { Queue } from 'bullmq';
import { Client } from 'pg';
import { loadConfig, type Config } from '../src/config';
import { Keyring } from '../src/crypto/keyring';
import { createLogger } from '../src/log';
import { adapters } from '../adapters/registry';
import { isRejected, type InboundMessage } from '../src/contracts/inbound-message';
import { createIntakeQueue, createIntakeSink, sealForIntake } from '../src/queue/intake-queue';
import { connectRedis, deleteKeysWithPrefix, redisOptions } from '../src/queue/redis';
import { openCaseLogHere } from '../src/caselog/open';
import { prepareItem } from '../workers/intake/worker';
import { writeBatch } from '../workers/intake/write-batch';
import { groupByFoundationRules } from '../src/grouping/group';

const DATABASE_URL = process.env.BENCH_DATABASE_URL ?? process.env.TEST_DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/test';
const REDIS_URL = process.env.REDIS_URL ?? 'redis://127.0.0.1:6379';
const N = Number(process.env.BENCH_MESSAGES ?? 20_000);
const SENDERS = 5_000;
const DUP_RATE = 0.03;
const IN_FLIGHT = 256; // enqueue concurrency, both runs
const RATE = 1_000; // messages/s in the latency run
const RATE_SECONDS = Number(process.env.BENCH_RATE_SECONDS ?? 10);

const WORDS = {
  ar: ['طائرة', 'مسيرة', 'فوق', 'الموصل', 'قرب', 'الجسر', 'سيارة', 'مفخخة', 'انفجار', 'في', 'السوق', 'مسلحين', 'عند', 'السيطرة', 'صواريخ', 'كاتيوشا', 'باتجاه', 'القاعدة', 'الليلة', 'شاحنة', 'بيضاء', 'رجال', 'ملثمين', 'حي', 'الشرقي'],
  ckb: ['فڕۆکەی', 'بێفڕۆکەوان', 'لە', 'سەر', 'هەولێر', 'تەقینەوەیەک', 'نزیک', 'بازاڕ', 'چەکدار', 'ئۆتۆمبێل', 'سپی', 'شەو', 'کەرکووک', 'ڕێگای', 'بنکە'],
  en: ['drone', 'over', 'the', 'bridge', 'near', 'Mosul', 'explosion', 'market', 'armed', 'men', 'checkpoint', 'rockets', 'fired', 'towards', 'base', 'tonight', 'white', 'truck', 'masked', 'convoy', 'heading', 'north', 'Kirkuk', 'airport'],
  fr: ['drone', 'au-dessus', 'du', 'pont', 'près', 'de', 'Mossoul', 'explosion', 'marché', 'hommes', 'armés', 'barrage', 'roquettes', 'tirées', 'vers', 'la', 'base', 'ce', 'soir', 'camion', 'blanc', 'convoi', 'Kirkouk'],
};
const LANGS = Object.keys(WORDS) as (keyof typeof WORDS)[];

function pick<T>(a: readonly T[]): T {
  return a[Math.floor(Math.random() * a.length)]!;
}

function workload(n: number, startMs: number): { id: string; from: string; text: string; sentAt: string }[] {
  const out: { id: string; from: string; text: string; sentAt: string }[] = [];
  for (let i = 0; i < n; i++) {
    const sentAt = new Date(startMs + i * 50).toISOString();
    const from = `+9647${String(Math.floor(Math.random() * SENDERS)).padStart(9, '0')}`;
    if (i > 100 && Math.random() < DUP_RATE) {
      out.push({ id: `b${i}`, from, text: out[Math.floor(Math.random() * i)]!.text, sentAt });
      continue;
    }
    const lang = pick(LANGS);
    const words = Array.from({ length: 8 + Math.floor(Math.random() * 16) }, () => pick(WORDS[lang]));
    out.push({ id: `b${i}`, from, text: `${words.join(' ')} ${Math.floor(Math.random() * 1e6)}`, sentAt });
  }
  return out;
}

interface Child {
  proc: ChildProcess;
  commits: Map<string, number>;
  done: number;
  stopped: Promise<{ peakRss: number; rss: number }>;
}

function startChild(mode: 'bare' | 'tiphub', env: Record<string, string>): Promise<Child> {
  const proc = fork(path.join(__dirname, 'worker-child.js'), [mode], { execArgv: [...(process.env.BENCH_PROF ? ['--cpu-prof', '--cpu-prof-dir=' + process.env.BENCH_PROF] : []), ...(process.env.BENCH_NODE_FLAGS ?? '').split(' ').filter(Boolean)], env: { ...process.env, ...env }, stdio: ['ignore', 'inherit', 'inherit', 'ipc'] });
  const child: Child = { proc, commits: new Map(), done: 0, stopped: null as never };
  let resolveStopped: (v: { peakRss: number; rss: number }) => void;
  child.stopped = new Promise((r) => (resolveStopped = r));
  return new Promise((resolve, reject) => {
    proc.on('message', (m: { type: string; items?: [string, number][]; done?: number; peakRss?: number; rss?: number }) => {
      if (m.done !== undefined) child.done = m.done;
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
      while (next < items.length) await fn(items[next++]!);
    }),
  );
}

const pct = (sorted: number[], p: number) => sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))]!;
const mb = (b: number) => `${(b / 1024 / 1024).toFixed(0)}MB`;

async function main() {
  const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'tiphub-bench-'));
  const schema = `bench_${randomUUID().replace(/-/g, '').slice(0, 12)}`;
  const prefix = `bench-${randomUUID().slice(0, 8)}`;
  const pg = new Client({ connectionString: DATABASE_URL });
  await pg.connect();
  await pg.query(`CREATE SCHEMA ${schema}`);
  const dbUrl = new URL(DATABASE_URL);
  dbUrl.searchParams.set('options', `-c search_path=${schema},public`);
  const secret = randomBytes(32).toString('hex');
  const cfgFile = path.join(tmp, 'tiphub.yaml');
  fs.writeFileSync(cfgFile, JSON.stringify({ queue: { prefix }, log: { level: 'warn' }, worker: JSON.parse(process.env.BENCH_WORKER_CONFIG ?? '{}') }));
  const env = { TIPHUB_SECRET: secret, REDIS_URL, DATABASE_URL: dbUrl.toString(), TIPHUB_DATA_DIR: tmp, TIPHUB_CONFIG: cfgFile };
  const cfg: Readonly<Config> = loadConfig({ env, cwd: tmp });
  const log = createLogger('warn');
  const keyring = new Keyring(secret);
  const sim = adapters.simulator({ keyring, log, account: 'simulator', cfg, redis: REDIS_URL });
  const toMessage = (l: ReturnType<typeof workload>[number]): InboundMessage => {
    const m = sim.normalize({ line: l, baseDir: tmp }, { account: 'simulator', receivedAt: new Date(), messageId: (p) => keyring.messageId('simulator', p) });
    if (isRejected(m)) throw new Error(m.reason);
    return m;
  };

  console.log(`bench: ${N} messages, ${SENDERS} senders, ~${DUP_RATE * 100}% copies, enqueue concurrency ${IN_FLIGHT}, worker concurrency ${cfg.worker.concurrency}, batch ${cfg.worker.batchSize}, PostgreSQL + Redis on this machine (${os.cpus().length} cores)`);
  try {
    // 1. Bare BullMQ: same count, same payload size, same concurrency; a no-op worker.
    const lines = workload(N, Date.parse('2026-06-10T00:00:00Z'));
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
    console.log(`tiphub_end_to_end: ${N} reports committed in ${tipSecs.toFixed(2)} s = ${tipRate.toFixed(0)} reports/s (all enqueued after ${enqueuedSecs.toFixed(2)} s)`);
    console.log(`ratio=${(tipRate / bareRate).toFixed(3)}`);

    // 3. Latency at a steady 1,000/s.
    const steady = workload(RATE * RATE_SECONDS, Date.parse('2026-06-11T00:00:00Z')).map((l) => ({ ...l, id: `s${l.id}` }));
    const sentAt = new Map<string, number>();
    const startedAt = performance.now();
    const perTick = RATE / 100;
    const sends: Promise<unknown>[] = [];
    for (let tick = 0; tick * perTick < steady.length; tick++) {
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
            await writeBatch(alone.db, b, { group: groupByFoundationRules, rules: cfg.grouping });
          }
        }),
      );
      console.log(`writer_alone (${writers} at once): ${(part.length / ((performance.now() - t0) / 1000)).toFixed(0)} reports/s`);
    }
    await alone.close();
    const counts = await pg.query(`SELECT (SELECT count(*) FROM ${schema}.reports)::int AS reports, (SELECT count(*) FROM ${schema}.cases)::int AS cases`);
    console.log(`case log: ${counts.rows[0].reports} reports in ${counts.rows[0].cases} cases`);
  } finally {
    await pg.query(`DROP SCHEMA ${schema} CASCADE`);
    await pg.end();
    await deleteKeysWithPrefix(REDIS_URL, prefix);
    fs.rmSync(tmp, { recursive: true, force: true });
  }
}

main().catch((err) => {
  console.error(err);
  process.exit(1);
});
