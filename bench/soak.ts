/**
 * `npm run soak -- --minutes N [--rate R] [--db pglite|postgres] [--every S]`: the hub as a user
 * runs it (`node bin/tiphub.js start`, a child process with its own data directory, queue prefix,
 * dashboard port and, with `--db postgres`, schema), fed at a fixed rate on the simulator channel
 * for N minutes, to see whether it holds its memory. Figures are printed, never asserted.
 *
 * The feed (defaults): R = 20 messages/s from informants connected as `tiphub chat` sessions
 * (the hub's control socket: the simulator adapter's live path, acknowledgements and operator
 * replies delivered back through its `send`); each informant sends 12 messages, stays 45 s for the
 * answers, and a new one takes its place. Of the messages, 5 % are exact copies of an earlier text
 * from another informant, 5 % carry a small generated image (enqueued the way an adapter does:
 * media into the store, then the intake sink, live), 1 % are a redelivery of an image message
 * already sent (same message id: must not become a second report); 10 % of the cases whose
 * reference an informant got receive an operator reply (the `reply` operation, as `tiphub reply`).
 *
 * With `--backup-at MIN`: at that minute `tiphub backup` runs beside the hub, as a nightly job would
 * (on PGlite through the hub's control socket); its time and size are printed, and the lines
 * around it show what it cost the intake.
 *
 * Every S seconds (60): the hub's RSS (/proc/<pid>/status VmRSS), its heap and event-loop delay
 * (the hub's opt-in `hub.statsLogSeconds` line), the queues (waiting+active), messages sent and
 * stored, answers received. At the end: RSS of the first sample against the last, the slope
 * (least squares, MB/hour), stored == sent, duplicates, `verify`.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import * as fs from 'node:fs';
import * as net from 'node:net';
import * as os from 'node:os';
import * as path from 'node:path';
import { randomBytes, randomUUID } from 'node:crypto';
import { monitorEventLoopDelay } from 'node:perf_hooks';
import { createInterface } from 'node:readline';
import { Queue, QueueEvents } from 'bullmq';
import { Client } from 'pg';
import sharp from 'sharp';
import { loadConfig, type Config } from '../app/config';
import { channelModule } from '../adapters/registry';
import { callHub, openHubStream, type HubHello } from '../app/hub/control';
import { openCaseLogAccess } from '../app/hub/access';
import { keyringFor } from '../src/caselog/open';
import { formatVerify, verifyCaseLog } from '../src/caselog/verify';
import type { Keyring } from '../src/crypto/keyring';
import { isRejected, type InboundMessage } from '../src/contracts/inbound-message';
import { createLogger } from '../src/log';
import { MediaStore } from '../src/media/store';
import { createIntakeQueue, createIntakeSink, INTAKE_QUEUE } from '../src/queue/intake-queue';
import { mediaQueueName } from '../src/queue/media-queue';
import { outboundQueueName } from '../src/queue/outbound-queue';
import { connectRedis, deleteKeysWithPrefix, redisOptions } from '../src/queue/redis';
import { LANGS, pick, WORDS } from './workload';

const REDIS_URL = process.env.REDIS_URL ?? 'redis://127.0.0.1:6379';
const DATABASE_URL = process.env.SOAK_DATABASE_URL ?? process.env.TEST_DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/test';
const BIN = path.resolve(__dirname, '../../bin/tiphub.js');

const SESSIONS = 100; // informants connected at once
const PER_SESSION = 12; // messages each sends before leaving
const LINGER_MS = 45_000; // how long a finished informant stays for its answers
const COPY_SHARE = 0.05;
const MEDIA_SHARE = 0.05;
const REDELIVER_SHARE = 0.01;
const REPLY_SHARE = 0.1;
const MB = 1024 * 1024;

interface Options {
  minutes: number;
  rate: number;
  db: 'pglite' | 'postgres';
  everyS: number;
  /** Minute at which `tiphub backup` runs beside the hub (through its control socket on PGlite); null: none. */
  backupAtMin: number | null;
}

function parseArgs(argv: string[]): Options {
  const o: Options = { minutes: 10, rate: 20, db: 'pglite', everyS: 60, backupAtMin: null };
  for (let i = 0; i < argv.length; i++) {
    const [k, inline] = argv[i]!.split('=', 2) as [string, string | undefined];
    const v = () => inline ?? argv[++i] ?? '';
    const num = (name: string, min: number) => {
      const n = Number(v());
      if (!Number.isFinite(n) || n < min) throw new Error(`soak: ${name} must be a number >= ${min}`);
      return n;
    };
    if (k === '--minutes') o.minutes = num('--minutes', 0.05);
    else if (k === '--rate') o.rate = num('--rate', 0.1);
    else if (k === '--every') o.everyS = num('--every', 1);
    else if (k === '--backup-at') o.backupAtMin = num('--backup-at', 0);
    else if (k === '--db') {
      const d = v();
      if (d !== 'pglite' && d !== 'postgres') throw new Error('soak: --db is pglite or postgres');
      o.db = d;
    } else throw new Error(`soak: unknown option ${k} (known: --minutes N, --rate R, --db pglite|postgres, --every S, --backup-at MIN)`);
  }
  return o;
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const mb = (b: number) => (b / MB).toFixed(1);

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = net.createServer();
    s.once('error', reject);
    s.listen(0, '127.0.0.1', () => {
      const { port } = s.address() as net.AddressInfo;
      s.close(() => resolve(port));
    });
  });
}

/** The resident set of a process, from /proc (Linux); null when it is gone. */
function rssOf(pid: number): number | null {
  try {
    const m = /VmRSS:\s+(\d+) kB/.exec(fs.readFileSync(`/proc/${pid}/status`, 'utf8'));
    return m ? Number(m[1]) * 1024 : null;
  } catch {
    return null;
  }
}

/** Least-squares slope of y over x. */
function slope(points: readonly [number, number][]): number {
  const n = points.length;
  if (n < 2) return 0;
  const mx = points.reduce((a, p) => a + p[0], 0) / n;
  const my = points.reduce((a, p) => a + p[1], 0) / n;
  const num = points.reduce((a, p) => a + (p[0] - mx) * (p[1] - my), 0);
  const den = points.reduce((a, p) => a + (p[0] - mx) ** 2, 0);
  return den ? num / den : 0;
}

function tipText(): string {
  const lang = pick(LANGS);
  const words = Array.from({ length: 8 + Math.floor(Math.random() * 16) }, () => pick(WORDS[lang]));
  return `${words.join(' ')} ${Math.floor(Math.random() * 1e6)}`;
}

/** A small PNG of random coloured blocks: every one differs (no accidental media duplicates). */
async function smallImage(file: string): Promise<void> {
  const w = 32;
  const h = 24;
  const px = Buffer.alloc(w * h * 3);
  const blocks = Array.from({ length: 12 }, () => [Math.random() * 255, Math.random() * 255, Math.random() * 255]);
  for (let y = 0; y < h; y++) for (let x = 0; x < w; x++) px.set(blocks[Math.floor(y / 8) * 4 + Math.floor(x / 8)]!.map(Math.floor), (y * w + x) * 3);
  await sharp(px, { raw: { width: w, height: h, channels: 3 } }).resize(96, 72, { kernel: 'nearest' }).png().toFile(file);
}

interface HubStats {
  rss: number;
  heapUsed: number;
  eventLoopDelayMs: { p50: number; p99: number; max: number };
}

interface Session {
  address: string;
  pseudonym: string | null;
  sent: number;
  refs: Set<string>;
  stream: Awaited<ReturnType<typeof openHubStream>>;
  leaving: boolean;
}

async function main() {
  const o = parseArgs(process.argv.slice(2));
  process.umask(0o077); // the media store is the hub's: files for its user only, as the hub makes them
  process.stdout.on('error', () => undefined);
  const run = randomUUID().replace(/-/g, '').slice(0, 8);
  const prefix = `soak-${run}`;
  const dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'tiphub-soak-'));
  const feedDir = path.join(dataDir, 'feed');
  fs.mkdirSync(feedDir);
  const secret = randomBytes(32).toString('hex');
  const schema = o.db === 'postgres' ? `soak_${run}` : null;
  const pg = schema ? new Client({ connectionString: DATABASE_URL }) : null;
  let dbUrl: string | null = null;
  if (pg && schema) {
    await pg.connect();
    await pg.query(`CREATE SCHEMA ${schema}`);
    const u = new URL(DATABASE_URL);
    u.searchParams.set('options', `-c search_path=${schema},public`);
    dbUrl = u.toString();
  }
  const port = await freePort();
  const cfgFile = path.join(dataDir, 'tiphub.yaml');
  fs.writeFileSync(cfgFile, JSON.stringify({ queue: { prefix }, dashboard: { listen: { host: '127.0.0.1', port } }, hub: { statsLogSeconds: o.everyS } }));
  const env: Record<string, string> = { TIPHUB_SECRET: secret, REDIS_URL, TIPHUB_DATA_DIR: dataDir, TIPHUB_CONFIG: cfgFile, TIPHUB_LOG_LEVEL: 'info', ...(dbUrl ? { DATABASE_URL: dbUrl } : {}) };
  const cfg: Readonly<Config> = loadConfig({ env, cwd: dataDir });
  const log = createLogger('warn');

  console.log(`soak: ${o.minutes} min at ${o.rate} msg/s on ${o.db}${schema ? ` (schema ${schema})` : ''}, queue prefix ${prefix}, data in ${dataDir}; a line every ${o.everyS} s`);
  console.log(`soak: feed ${SESSIONS} informants at once, ${PER_SESSION} messages each; ${COPY_SHARE * 100}% copies, ${MEDIA_SHARE * 100}% images, ${REDELIVER_SHARE * 100}% redeliveries, replies to ${REPLY_SHARE * 100}% of acknowledged cases`);

  // --- the hub ---
  const spawnedAt = Date.now();
  const hub: ChildProcess = spawn(process.execPath, [BIN, 'start'], { env: { PATH: process.env.PATH ?? '', ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
  let hubStats: HubStats | null = null;
  const hubErrors: string[] = [];
  let hubWarnings = 0;
  let ready!: () => void;
  const hubReady = new Promise<void>((r) => (ready = r));
  const hubExited = new Promise<number | null>((r) => hub.on('exit', (code) => r(code)));
  // The hub logs JSON lines (on stderr); anything else it writes is kept as a problem.
  const onHubLine = (line: string) => {
    let rec: { level?: number | string; msg?: string } & Partial<HubStats>;
    try {
      rec = JSON.parse(line);
    } catch {
      if (!line.startsWith('tiphub is running')) hubErrors.push(line.slice(0, 400));
      return;
    }
    if (rec.msg === 'hub ready') ready();
    else if (rec.msg === 'process stats') hubStats = rec as HubStats;
    else if (rec.level === 40 || rec.level === 'warn') hubWarnings++;
    else if (Number(rec.level) >= 50 || rec.level === 'error' || rec.level === 'fatal') hubErrors.push(line.slice(0, 400));
  };
  createInterface({ input: hub.stdout! }).on('line', onHubLine);
  createInterface({ input: hub.stderr! }).on('line', onHubLine);

  const closers: (() => Promise<unknown>)[] = [];
  let cleaned = false;
  const cleanup = async () => {
    if (cleaned) return;
    cleaned = true;
    while (closers.length) await closers.pop()!().catch((err) => console.error(`soak: cleanup: ${err}`));
    if (hub.exitCode === null && hub.signalCode === null) hub.kill('SIGKILL');
    await deleteKeysWithPrefix(REDIS_URL, prefix).catch((err) => console.error(`soak: could not delete ${prefix}:* keys: ${err}`));
    if (pg && schema) {
      await pg.query(`DROP SCHEMA IF EXISTS ${schema} CASCADE`).catch((err) => console.error(`soak: could not drop ${schema}: ${err}`));
      await pg.end().catch(() => undefined);
    }
    fs.rmSync(dataDir, { recursive: true, force: true });
  };
  let stopFeed = false;
  for (const sig of ['SIGINT', 'SIGTERM'] as const) {
    process.once(sig, () => {
      console.error(`soak: ${sig}, cleaning up`);
      stopFeed = true;
      void cleanup().finally(() => process.exit(130));
    });
  }

  try {
    await Promise.race([hubReady, hubExited.then((c) => Promise.reject(new Error(`the hub exited with ${c} before it was ready: ${hubErrors.join(' | ')}`))), sleep(120_000).then(() => Promise.reject(new Error('the hub was not ready within 120 s')))]);
    const hubPid = hub.pid!;
    console.log(`soak: the hub (pid ${hubPid}) was ready after ${((Date.now() - spawnedAt) / 1000).toFixed(1)} s`);
    const hello = await callHub<HubHello>(dataDir, 'hello');
    const keyring: Keyring = keyringFor(cfg, hello.keyCheck, false).withStoredKeys(hello.keys!);

    // --- what the driver watches: the queues, and each intake job's outcome ---
    const watch = (name: string) => new Queue(name, { connection: redisOptions(REDIS_URL), prefix });
    const queues: Record<'intake' | 'media' | 'outbound', Queue> = { intake: watch(INTAKE_QUEUE), media: watch(mediaQueueName('simulator')), outbound: watch(outboundQueueName('simulator')) };
    closers.push(() => Promise.all(Object.values(queues).map((q) => q.close())));
    const events = new QueueEvents(INTAKE_QUEUE, { connection: redisOptions(REDIS_URL, { forWorker: true }), prefix });
    closers.push(() => events.close());
    await events.waitUntilReady();
    const outcome = { inserted: 0, present: 0, command: 0, failed: 0 };
    events.on('completed', ({ returnvalue }) => {
      const rv = returnvalue as unknown as { status?: string } | null; // parsed by BullMQ
      const s = rv && typeof rv === 'object' && (rv.status === 'present' || rv.status === 'command') ? rv.status : 'inserted';
      outcome[s]++;
    });
    // A job given up (a retry may still come: counted when it is in the failed set at the end).
    events.on('failed', () => outcome.failed++);
    events.on('error', (err) => console.error(`soak: intake events: ${err}`));

    // The adapter's way in for messages with media: into the store, then the intake sink (live).
    const intake = createIntakeQueue(REDIS_URL, cfg);
    const counters = connectRedis(REDIS_URL);
    closers.push(async () => {
      await intake.close();
      counters.disconnect();
    });
    const sink = createIntakeSink(intake, keyring, log, { flood: { counters, perMinute: cfg.conversation.floodPerMinute, prefix } });
    const store = new MediaStore(path.join(dataDir, 'media'));
    const simulator = channelModule('simulator');
    const toMessage = async (line: Record<string, unknown>): Promise<InboundMessage> => {
      const m = simulator.normalize({ line, baseDir: feedDir }, { account: 'simulator', receivedAt: new Date(), messageId: (p) => keyring.messageId('simulator', p) });
      if (isRejected(m)) throw new Error(`soak: a generated line was refused: ${m.reason}`);
      for (const md of m.media) {
        const s = await store.putFile(md.ref, cfg.media.maxBytes, { confineTo: feedDir });
        Object.assign(md, { sha256: s.sha256, storedSize: s.size, sniffedMime: s.mime, size: s.size });
      }
      return m;
    };

    // --- the informants ---
    const count = { sent: 0, chat: 0, copies: 0, media: 0, redelivered: 0, answers: 0, acks: 0, replies: 0, repliesReceived: 0, replyErrors: 0, sendErrors: 0 };
    const sessions: Session[] = [];
    const recentTexts: string[] = [];
    const mediaLines: Record<string, unknown>[] = [];
    let nextSession = 0;
    const openSession = async (): Promise<Session> => {
      const address = `chat:soak-${nextSession++}`;
      const s = { address, pseudonym: null, sent: 0, refs: new Set<string>(), leaving: false } as unknown as Session;
      s.stream = await openHubStream(dataDir, 'chat', { address, name: null }, (chunk) => {
        const m = JSON.parse(chunk) as { connected?: boolean; pseudonym?: string; text?: string };
        if (m.connected) s.pseudonym = m.pseudonym ?? null;
        if (m.text === undefined) return;
        count.answers++;
        if (m.text.startsWith('soak reply ')) return void count.repliesReceived++;
        const ref = /([2-9A-Z]{3}-[2-9A-Z]{4})/.exec(m.text)?.[1];
        if (!ref || s.refs.has(ref)) return;
        s.refs.add(ref);
        count.acks++;
        if (!stopFeed && Math.random() < REPLY_SHARE && s.pseudonym) {
          count.replies++;
          callHub(dataDir, 'reply', { ref, text: `soak reply ${count.replies}`, informant: s.pseudonym, actor: 'soak' }).catch((err) => {
            count.replyErrors++;
            if (count.replyErrors <= 3) console.error(`soak: reply refused: ${err.code ?? ''} ${err.message}`);
          });
        }
      });
      s.stream.done.catch(() => undefined);
      return s;
    };
    for (let i = 0; i < SESSIONS; i++) sessions.push(await openSession());
    closers.push(async () => sessions.forEach((s) => s.stream.close()));
    // A pseudonym arrives with the hello: wait for all of them before the first message.
    for (const s of sessions) while (!s.pseudonym) await sleep(10);

    let turn = 0;
    const sendOne = async () => {
      const i = turn++ % SESSIONS;
      let s = sessions[i]!;
      const r = Math.random();
      if (r < REDELIVER_SHARE && mediaLines.length) {
        // The same line again (a platform delivering twice): the same message id, no second report.
        count.redelivered++;
        await sink(await toMessage(pick(mediaLines)), { origin: 'live' });
      } else if (r < REDELIVER_SHARE + MEDIA_SHARE) {
        const id = randomUUID();
        const file = `${id}.png`;
        await smallImage(path.join(feedDir, file));
        const line = { id, from: s.address, text: Math.random() < 0.5 ? tipText() : null, media: [{ file }] };
        await sink(await toMessage(line), { origin: 'live' });
        // The store has its own copy; the first 500 files stay for redeliveries (as a platform keeps them).
        if (mediaLines.length < 500) mediaLines.push(line);
        else fs.rmSync(path.join(feedDir, file), { force: true });
        count.media++;
        count.sent++;
      } else {
        const copy = r < REDELIVER_SHARE + MEDIA_SHARE + COPY_SHARE && recentTexts.length > 0;
        const text = copy ? pick(recentTexts) : tipText();
        if (copy) count.copies++;
        else if (recentTexts.length < 500) recentTexts.push(text);
        else recentTexts[Math.floor(Math.random() * 500)] = text;
        s.stream.send({ text });
        count.chat++;
        count.sent++;
      }
      if (++s.sent >= PER_SESSION) {
        // This informant leaves after a while (its answers may still come); a new one takes its place.
        const leaving = s;
        setTimeout(() => leaving.stream.close(), LINGER_MS).unref();
        s = await openSession();
        sessions[i] = s;
      }
    };

    // --- the run ---
    const driverDelay = monitorEventLoopDelay({ resolution: 10 });
    driverDelay.enable();
    const t0 = Date.now();
    const durationMs = o.minutes * 60_000;
    const samples: { at: number; rss: number }[] = [];
    let maxRss = 0;
    const rssTimer = setInterval(() => (maxRss = Math.max(maxRss, rssOf(hubPid) ?? 0)), 1000);
    closers.push(async () => clearInterval(rssTimer));
    const depth = async (q: Queue) => {
      const c = await q.getJobCounts('waiting', 'active', 'prioritized', 'delayed', 'failed');
      return { now: (c.waiting ?? 0) + (c.active ?? 0) + (c.prioritized ?? 0), delayed: c.delayed ?? 0, failed: c.failed ?? 0 };
    };
    const report = async (final = false) => {
      const rss = rssOf(hubPid);
      if (rss === null) return;
      const at = (Date.now() - t0) / 1000;
      samples.push({ at, rss });
      const d = Object.fromEntries(await Promise.all(Object.entries(queues).map(async ([k, q]) => [k, await depth(q)] as const)));
      const hs = hubStats as HubStats | null;
      const q = (k: keyof typeof queues) => `${d[k].now}${d[k].delayed ? `+${d[k].delayed}d` : ''}${d[k].failed ? ` (${d[k].failed} failed)` : ''}`;
      console.log(
        `${final ? 'end ' : ''}t=${(at / 60).toFixed(1)}min rss=${mb(rss)}MB heapUsed=${hs ? mb(hs.heapUsed) : '?'}MB ` +
          `eld_p50=${hs ? hs.eventLoopDelayMs.p50.toFixed(1) : '?'}ms eld_p99=${hs ? hs.eventLoopDelayMs.p99.toFixed(1) : '?'}ms eld_max=${hs ? hs.eventLoopDelayMs.max.toFixed(0) : '?'}ms ` +
          `queues intake=${q('intake')} media=${q('media')} outbound=${q('outbound')} sent=${count.sent} stored=${outcome.inserted} ` +
          `answers=${count.answers} (acks ${count.acks}, replies ${count.repliesReceived}/${count.replies}) driver_eld_p99=${(driverDelay.percentile(99) / 1e6).toFixed(1)}ms`,
      );
      driverDelay.reset();
    };
    await report();
    let nextReport = t0 + o.everyS * 1000;
    let backupDue = o.backupAtMin === null ? Infinity : t0 + o.backupAtMin * 60_000;
    const runBackup = () => {
      const file = path.join(dataDir, 'soak-backup.tbk');
      const started = Date.now();
      const storedBefore = outcome.inserted;
      const child = spawn(process.execPath, [BIN, 'backup', file], { env: { PATH: process.env.PATH ?? '', ...env, TIPHUB_LOG_LEVEL: 'warn' }, stdio: ['ignore', 'ignore', 'pipe'] });
      let err = '';
      child.stderr!.on('data', (d: Buffer) => (err += d.toString('utf8')));
      const done = new Promise<void>((resolve) =>
        child.on('close', (code) => {
          const size = fs.existsSync(file) ? fs.statSync(file).size : 0;
          console.log(`backup: exit ${code} in ${((Date.now() - started) / 1000).toFixed(1)} s, ${mb(size)} MB, with about ${storedBefore} reports in the log; ${err.trim().split('\n').slice(-1)[0] ?? ''}`);
          fs.rmSync(file, { force: true });
          resolve();
        }),
      );
      inFlight.add(done);
      void done.finally(() => inFlight.delete(done));
    };
    const inFlight = new Set<Promise<void>>();
    while (!stopFeed && Date.now() - t0 < durationMs) {
      if (hub.exitCode !== null || hub.signalCode !== null) {
        console.log(`soak: the hub exited during the run (${hub.exitCode ?? hub.signalCode}): ${hubErrors.slice(0, 3).join(' | ')}`);
        break;
      }
      const due = Math.floor(((Date.now() - t0) / 1000) * o.rate) - (count.sent + count.redelivered);
      for (let k = 0; k < due; k++) {
        const p = sendOne().catch((err) => {
          count.sendErrors++;
          if (count.sendErrors <= 3) console.error(`soak: a message could not be sent: ${err}`);
        });
        inFlight.add(p);
        void p.finally(() => inFlight.delete(p));
      }
      if (Date.now() >= nextReport) {
        nextReport += o.everyS * 1000;
        await report();
      }
      if (Date.now() >= backupDue) {
        backupDue = Infinity;
        runBackup();
      }
      await sleep(20);
    }
    stopFeed = true; // no more replies either
    await Promise.all(inFlight);
    const feedEnded = Date.now();

    // --- drain: everything sent is stored, the answers have gone out ---
    // As long as the hub gets on (2 minutes at most without a report stored, 15 in all): a hub
    // that fell behind shows its backlog below rather than keeping the run going for ever.
    let progressAt = Date.now();
    let lastStored = outcome.inserted;
    for (;;) {
      const [i, out] = await Promise.all([depth(queues.intake), depth(queues.outbound)]);
      if (outcome.inserted + outcome.failed >= count.sent && i.now + i.delayed === 0 && out.now + out.delayed === 0) break;
      if (outcome.inserted !== lastStored) [lastStored, progressAt] = [outcome.inserted, Date.now()];
      if (Date.now() - progressAt > 120_000 || Date.now() - feedEnded > 15 * 60_000 || hub.exitCode !== null) break;
      await sleep(500);
    }
    const drainS = (Date.now() - feedEnded) / 1000;
    await report(true);
    const outCounts = await queues.outbound.getJobCounts('completed', 'failed', 'delayed');
    const left = await depth(queues.intake); // not yet taken by the hub when it is stopped
    const failedJobs = await queues.intake.getFailed(0, 999);
    const failedWhy: Record<string, number> = {};
    for (const j of failedJobs) failedWhy[j.failedReason] = (failedWhy[j.failedReason] ?? 0) + 1;

    // --- stop the hub, then look at the case log itself ---
    // The informants leave first: the hub's control socket closes only when its connections have.
    for (const s of sessions) s.stream.close();
    const stopAt = Date.now();
    hub.kill('SIGTERM');
    let exitCode: number | null | string = await Promise.race([hubExited, sleep(120_000).then(() => 'timeout')]);
    const stopS = (Date.now() - stopAt) / 1000;
    if (exitCode === 'timeout') {
      // Still draining (or stuck) after two minutes: killed, as a service manager would.
      hub.kill('SIGKILL');
      await hubExited;
      exitCode = 'none (killed: not stopped within 120 s)';
    }
    const access = await openCaseLogAccess(cfg, log, { role: 'soak', allowHub: false });
    const caselog = access.local!;
    const counts = (
      await caselog.db.query<{ reports: number; cases: number; dups: Record<string, number> | null; media: number }>(
        `SELECT (SELECT count(*) FROM reports)::int AS reports, (SELECT count(*) FROM cases)::int AS cases,
                (SELECT jsonb_object_agg(k, n) FROM (SELECT duplicate_kind AS k, count(*)::int AS n FROM reports WHERE duplicate_kind IS NOT NULL GROUP BY 1) d) AS dups,
                (SELECT count(*) FROM report_media)::int AS media`,
      )
    ).rows[0]!;
    const v = await verifyCaseLog(caselog.db);
    await access.close();

    // --- summary ---
    const first = samples[0]!;
    const last = samples[samples.length - 1]!;
    const minute1 = samples.find((x) => x.at >= 60) ?? last; // the sample that ends the first minute
    const afterWarmup = samples.filter((x) => x.at >= 60);
    const perHour = (pts: typeof samples) => (slope(pts.map((x) => [x.at / 3600, x.rss / MB])) || 0).toFixed(1);
    const dups = counts.dups ?? {};
    console.log('--- soak summary ---');
    console.log(`feed: ${((feedEnded - t0) / 60_000).toFixed(1)} min, ${count.sent} messages sent (${(count.sent / ((feedEnded - t0) / 1000)).toFixed(1)}/s: ${count.chat} typed in chat sessions incl. ${count.copies} copies of earlier texts, ${count.media} with an image) + ${count.redelivered} redeliveries; ${nextSession} informants; ${count.sendErrors} send errors; drained ${drainS.toFixed(1)} s after the feed stopped`);
    console.log(`hub RSS: first ${mb(first.rss)} MB, after the first minute ${mb(minute1.rss)} MB, last ${mb(last.rss)} MB, max ${mb(Math.max(maxRss, ...samples.map((x) => x.rss)))} MB; slope ${perHour(samples)} MB/hour over the run, ${afterWarmup.length >= 2 ? `${perHour(afterWarmup)} MB/hour after the first minute` : 'n/a after the first minute (run too short)'}`);
    const stillQueued = left.now + left.delayed;
    const verdict =
      counts.reports === count.sent
        ? 'OK'
        : counts.reports + stillQueued + left.failed === count.sent
          ? `MISMATCH: ${stillQueued} still queued, ${left.failed} failed jobs (${Object.entries(failedWhy).map(([k, n]) => `${n}x ${k}`).join('; ')}), the rest stored`
          : 'MISMATCH';
    console.log(`stored == sent: ${verdict} (${counts.reports} reports in the case log, ${count.sent} sent; intake jobs inserted ${outcome.inserted}, present ${outcome.present}, failed ${outcome.failed}); ${counts.cases} cases, ${counts.media} media attached`);
    console.log(`duplicates: ${Object.entries(dups).map(([k, n]) => `${k} ${n}`).join(', ') || 'none'} (${count.copies} copies sent); redeliveries ${count.redelivered}, of which stored twice: ${Math.max(0, counts.reports - count.sent)}`);
    console.log(`answers: ${count.answers} received (${count.acks} with a case reference); operator replies ${count.replies} queued, ${count.repliesReceived} delivered, ${count.replyErrors} refused; outbound jobs completed ${outCounts.completed ?? 0}, failed ${outCounts.failed ?? 0}`);
    console.log(`verify: ${formatVerify(v).split('\n')[0]}`);
    console.log(`hub: exit ${exitCode} ${stopS.toFixed(1)} s after SIGTERM; ${hubWarnings} warnings, ${hubErrors.length} errors logged${hubErrors.length ? `; first: ${hubErrors[0]}` : ''}`);
  } finally {
    await cleanup();
  }
}

main().catch((err) => {
  console.error(err);
  process.exit(1);
});
