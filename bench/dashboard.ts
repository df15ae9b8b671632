/**
 * `npm run bench:dashboard` (apart from `npm run bench`): the dashboard's answer times on a case
 * log of a million reports on PostgreSQL. Figures are printed beside their targets, never asserted.
 *
 * The log: made by the bench's bulk generator (scale-gen.ts, ~9 minutes for a million on this
 * machine) in a schema of its own, `bench_dashboard` (`bench_dashboard_<N>` for `--reports N`),
 * then a few operator actions through the service layer (priorities, assignments: the generator
 * leaves every case `normal` and unassigned) so those filters select something. The schema is kept
 * and reused by the next run when it was made by the same generator (a hash of its code, the report
 * count and the seed, stored in the schema's `bench_dashboard_build` table); `--rebuild` remakes it,
 * `--drop` drops it at the end. Only this script creates or drops these schemas.
 *
 * Measured, each after a warm-up with ≥ 50 runs (`--runs`), p50 and p95 in ms: the case list (the
 * page GET /, default sort: first page and a deep keyset page; each filter; a search for an Arabic
 * and an English word, for a word in no report and for one of the middle, in a few thousand), and a case page (GET /cases/:ref: casePage + caseRecord) for the largest
 * case and one of about 100 reports. Each through buildApp over real HTTP on 127.0.0.1 (the
 * client's round trip, and the server's own time, Fastify's reply.elapsedTime), and the bare
 * service function (listCases; casePage + caseRecord). A filter the list does not know yet (not
 * in its query schema) is printed "not available". A list query over its target gets its plan
 * printed (EXPLAIN (ANALYZE, BUFFERS)).
 *
 * Options: --reports N (default 1,000,000; e.g. 50000 to try it quickly), --runs N (default 50),
 * --warmup N (default 5), --rebuild, --drop, --seed N. Environment: TEST_DATABASE_URL or
 * DATABASE_URL (default postgres://postgres@127.0.0.1:5432/test).
 */
import { fork } from 'node:child_process';
import { createHash } from 'node:crypto';
import * as fs from 'node:fs';
import * as http from 'node:http';
import type { AddressInfo } from 'node:net';
import * as os from 'node:os';
import * as path from 'node:path';
import { Client } from 'pg';
import { loadConfig } from '../app/config';
import { createLogger } from '../src/log';
import { openCaseLogHere } from '../src/caselog/open';
import type { Db, Queryable } from '../src/caselog/db';
import { assign, setPriority } from '../src/caselog/actions';
import { addOperator } from '../src/operators/accounts';
import { createSession } from '../src/operators/sessions';
import { buildApp } from '../src/dashboard/app';
import { listCases, type CaseListFilter } from '../src/dashboard/case-list';
import { casePage } from '../src/dashboard/case-view';
import { caseRecord } from '../src/dashboard/case-history';
import { caseListQuery } from '../src/dashboard/schemas';
import type { ScaleGenRequest, ScaleGenResult } from './scale-gen';

const BASE_URL = process.env.TEST_DATABASE_URL ?? process.env.DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/test';
/** The bench's log is made up: a fixed secret lets a later run open the log it kept. */
const SECRET = createHash('sha256').update('tiphub bench:dashboard, a made-up case log').digest('hex');
/** The generator's last report is sent an hour before this (as in `npm run bench`). */
const END_MS = Date.parse('2026-06-10T00:00:00Z') - 3_600_000;
const DAY = 86_400_000;
/** Changes when what this script does to the generated log before measuring changes. */
const PREPARE_VERSION = 1;
const OPERATORS = ['bench-admin', 'bench-ana1', 'bench-ana2', 'bench-sup1'];
const TARGETS = { list: 50, search: 200, casePage: 100 };

interface Options {
  reports: number;
  runs: number;
  warmup: number;
  rebuild: boolean;
  drop: boolean;
  seed: number;
}

function options(argv: string[]): Options {
  const o: Options = { reports: 1_000_000, runs: 50, warmup: 5, rebuild: false, drop: false, seed: 1 };
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i]!;
    const [name, inline] = a.includes('=') ? [a.slice(0, a.indexOf('=')), a.slice(a.indexOf('=') + 1)] : [a, undefined];
    const value = () => {
      const v = inline ?? argv[++i];
      const n = Number(v);
      if (!Number.isInteger(n) || n < 1) throw new Error(`${name} takes a positive whole number`);
      return n;
    };
    if (name === '--reports') o.reports = value();
    else if (name === '--runs') o.runs = value();
    else if (name === '--warmup') o.warmup = value();
    else if (name === '--seed') o.seed = value();
    else if (name === '--rebuild') o.rebuild = true;
    else if (name === '--drop') o.drop = true;
    else throw new Error(`unknown option ${a} (known: --reports N, --runs N, --warmup N, --seed N, --rebuild, --drop)`);
  }
  if (o.runs < 50) console.log(`note: --runs ${o.runs} is fewer than the 50 the figures are meant to rest on`);
  return o;
}

/** The generator's code as built here (dist/bench), with what shapes its output. */
function generatorVersion(o: Options): string {
  const h = createHash('sha256');
  for (const f of ['scale-gen.js', 'workload.js', 'features.js', 'copy.js']) h.update(fs.readFileSync(path.join(__dirname, f)));
  h.update(JSON.stringify({ reports: o.reports, seed: o.seed, endMs: END_MS, prepare: PREPARE_VERSION }));
  return h.digest('hex').slice(0, 16);
}

function schemaUrl(schema: string): string {
  const u = new URL(BASE_URL);
  u.searchParams.set('options', `-c search_path=${schema},public`);
  return u.toString();
}

const secs = (ms: number) => `${(ms / 1000).toFixed(1)} s`;

// --- the log -----------------------------------------------------------------------------------

async function runGenerator(req: ScaleGenRequest, env: NodeJS.ProcessEnv): Promise<ScaleGenResult> {
  const gen = fork(path.join(__dirname, 'scale-gen.js'), [], { execArgv: ['--max-old-space-size=8192'], env, stdio: ['ignore', 'inherit', 'inherit', 'ipc'] });
  const stop = () => gen.kill('SIGKILL');
  process.once('SIGINT', stop);
  try {
    return await new Promise<ScaleGenResult>((resolve, reject) => {
      gen.on('message', (m: { type: string; result?: ScaleGenResult; error?: string }) => {
        if (m.type === 'done') resolve(m.result!);
        if (m.type === 'failed') reject(new Error(`scale generation failed: ${m.error}`));
      });
      gen.on('exit', (code, signal) => (code || signal) && reject(new Error(`scale generator exited with ${code ?? signal}`)));
      gen.send({ type: 'run', req });
    });
  } finally {
    process.removeListener('SIGINT', stop);
  }
}

/**
 * Operator actions through the service layer (each a case event with the operator as actor), on
 * cases chosen by a fixed stride: urgent and high priorities, and assignments to the bench's
 * analysts, so the priority and assignee filters have something to find.
 */
async function prepare(db: Db): Promise<Record<string, number>> {
  for (const name of OPERATORS) await addOperator(db, name, name === 'bench-admin' ? 'admin' : name.includes('sup') ? 'supervisor' : 'analyst');
  const { rows } = await db.query<{ ref: string }>('SELECT ref FROM cases ORDER BY id');
  const done = { urgent: 0, high: 0, assigned: 0 };
  const t0 = performance.now();
  for (let i = 0; i < rows.length; i++) {
    const ref = rows[i]!.ref;
    if (i % 1000 === 7) {
      await setPriority(db, ref, 'urgent', 'bench-sup1');
      done.urgent++;
    } else if (i % 150 === 3) {
      await setPriority(db, ref, 'high', 'bench-sup1');
      done.high++;
    }
    if (i % 200 === 11) {
      await assign(db, ref, i % 400 === 11 ? 'bench-ana1' : 'bench-ana2', 'bench-sup1');
      done.assigned++;
    }
  }
  console.log(`prepare: ${done.urgent} cases made urgent, ${done.high} high, ${done.assigned} assigned, through the service layer in ${secs(performance.now() - t0)}`);
  return done;
}

interface Built {
  version: string;
  reports: number;
  cases: number;
  built_at: Date;
  summary: unknown;
}

async function ensureLog(o: Options, schema: string, tmp: string): Promise<{ env: Record<string, string>; reused: boolean }> {
  const version = generatorVersion(o);
  const admin = new Client({ connectionString: BASE_URL, application_name: 'tiphub-bench-dashboard' });
  await admin.connect();
  const cfgFile = path.join(tmp, 'tiphub.yaml');
  fs.writeFileSync(cfgFile, JSON.stringify({ log: { level: 'warn' } }));
  const env = { TIPHUB_SECRET: SECRET, DATABASE_URL: schemaUrl(schema), TIPHUB_DATA_DIR: tmp, TIPHUB_CONFIG: cfgFile };
  try {
    const exists = (await admin.query(`SELECT to_regclass($1) AS t`, [`${schema}.bench_dashboard_build`])).rows[0].t !== null;
    if (exists && !o.rebuild) {
      const b = (await admin.query<Built>(`SELECT version, reports, cases, built_at, summary FROM ${schema}.bench_dashboard_build`)).rows[0];
      if (b?.version === version) {
        console.log(`case log: reusing schema ${schema} (${b.reports} reports, ${b.cases} cases, built ${b.built_at.toISOString()} by generator ${version}); --rebuild remakes it`);
        return { env, reused: true };
      }
      console.log(`case log: schema ${schema} was made by another generator (${b?.version ?? 'unfinished'}, now ${version}): remaking it`);
    } else if (o.rebuild) console.log(`case log: --rebuild: remaking schema ${schema}`);
    await admin.query(`DROP SCHEMA IF EXISTS ${schema} CASCADE`);
    await admin.query(`CREATE SCHEMA ${schema}`);
  } finally {
    await admin.end();
  }

  const cfg = loadConfig({ env, cwd: tmp });
  const log = createLogger('warn');
  const opened = await openCaseLogHere(cfg, { log, poolSize: 1 }); // migrations, key check, key set
  const keys = opened.keyring.sealKeySet();
  await opened.close();
  const informants = Math.max(1, Math.round(o.reports / 10));
  console.log(`case log: generating ${o.reports} reports (${informants} informants) in schema ${schema}; ~9 minutes for a million here (machine load ${os.loadavg()[0]!.toFixed(1)} on ${os.cpus().length} cores)`);
  const t0 = performance.now();
  const result = await runGenerator({ dbUrl: env.DATABASE_URL, schema, reports: o.reports, informants, secret: SECRET, keys, seed: o.seed, endMs: END_MS }, { ...process.env, ...env });
  console.log(
    `case log: ${result.reports} reports, ${result.cases} cases, ${result.informants} informants, ${result.events} events in ${secs(performance.now() - t0)} ` +
      `(generate + COPY ${secs(result.ms.generateAndCopy)}, keys + indexes ${secs(result.ms.keysAndIndexes)}, VACUUM (ANALYZE) ${secs(result.ms.vacuumAnalyze)}; machine load ${os.loadavg()[0]!.toFixed(1)})`,
  );
  const db = (await openCaseLogHere(cfg, { log, poolSize: 1 })).db;
  try {
    const prepared = await prepare(db);
    await db.query('ANALYZE cases');
    await db.query(`CREATE TABLE bench_dashboard_build (version text NOT NULL, reports integer NOT NULL, cases integer NOT NULL, built_at timestamptz NOT NULL DEFAULT now(), summary jsonb NOT NULL)`);
    await db.query(`INSERT INTO bench_dashboard_build (version, reports, cases, summary) VALUES ($1, $2, $3, $4)`, [
      version,
      result.reports,
      result.cases,
      JSON.stringify({ kinds: result.kinds, statuses: result.statuses, prepared, ms: result.ms }),
    ]);
  } finally {
    await db.close();
  }
  return { env, reused: false };
}

// --- measuring ---------------------------------------------------------------------------------

interface Figures {
  p50: number;
  p95: number;
}

/** Nearest-rank percentiles. */
function figures(ms: number[]): Figures {
  const s = [...ms].sort((a, b) => a - b);
  const at = (p: number) => s[Math.min(s.length - 1, Math.max(0, Math.ceil((p / 100) * s.length) - 1))]!;
  return { p50: at(50), p95: at(95) };
}

async function timed(runs: number, warmup: number, fn: () => Promise<unknown>): Promise<number[]> {
  for (let i = 0; i < warmup; i++) await fn();
  const out: number[] = [];
  for (let i = 0; i < runs; i++) {
    const t = performance.now();
    await fn();
    out.push(performance.now() - t);
  }
  return out;
}

/** GET over one kept-alive connection; the status is checked, the body read to its end. */
function getter(origin: string, cookie: string) {
  const agent = new http.Agent({ keepAlive: true, maxSockets: 1 });
  const get = (url: string) =>
    new Promise<string>((resolve, reject) => {
      const req = http.get(origin + url, { agent, headers: { cookie, accept: 'text/html' } }, (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (c: Buffer) => chunks.push(c));
        res.on('end', () => {
          const body = Buffer.concat(chunks).toString('utf8');
          if (res.statusCode !== 200) reject(new Error(`GET ${url}: ${res.statusCode} ${body.slice(0, 300)}`));
          else resolve(body);
        });
      });
      req.on('error', reject);
    });
  return { get, close: () => agent.destroy() };
}

/** A Queryable that keeps the statements it is given, to EXPLAIN them afterwards. */
function recording(q: Queryable): Queryable & { seen: { sql: string; params: unknown[] }[] } {
  const seen: { sql: string; params: unknown[] }[] = [];
  return {
    seen,
    keys: q.keys,
    query: (sql, params = []) => {
      seen.push({ sql, params });
      return q.query(sql, params);
    },
  } as Queryable & { seen: { sql: string; params: unknown[] }[] };
}

const fmt = (f: Figures) => `p50 ${f.p50.toFixed(1).padStart(7)}  p95 ${f.p95.toFixed(1).padStart(7)}`;

async function measure(o: Options, env: Record<string, string>, tmp: string) {
  const cfg = loadConfig({ env, cwd: tmp });
  const log = createLogger('warn');
  const opened = await openCaseLogHere(cfg, { log });
  const db = opened.db;
  const app = await buildApp({ db, requireTotp: false });
  let serverMs = 0;
  app.addHook('onResponse', async (_req, reply) => {
    serverMs = reply.elapsedTime;
  });
  await app.listen({ host: '127.0.0.1', port: 0 });
  const origin = `http://127.0.0.1:${(app.server.address() as AddressInfo).port}`;
  const session = await createSession(db, 'bench-admin');
  const client = getter(origin, `tiphub=${session.token}`);
  try {
    const count = async (sql: string, params: unknown[] = []) => Number((await db.query<{ n: string }>(sql, params)).rows[0]!.n);
    const counts = {
      reports: await count('SELECT count(*) AS n FROM reports'),
      cases: await count('SELECT count(*) AS n FROM cases'),
    };
    console.log(`\nmeasuring on ${counts.reports} reports, ${counts.cases} cases; ${o.runs} runs each after ${o.warmup} warm-up runs; machine load ${os.loadavg()[0]!.toFixed(1)} on ${os.cpus().length} cores`);
    console.log('times in ms: http = the client\'s round trip over 127.0.0.1 (GET, page rendered), server = Fastify\'s reply.elapsedTime, bare = the service function alone\n');

    // The filter values, from the log itself: a frequent and a rare tag and place, and so on.
    const valueBy = async (col: string, order: 'DESC' | 'ASC') =>
      (await db.query<{ v: string }>(`SELECT v FROM (SELECT unnest(${col}) AS v FROM cases) x GROUP BY v HAVING count(*) >= 20 ORDER BY count(*) ${order}, v LIMIT 1`)).rows[0]?.v;
    const since = new Date(END_MS - 30 * DAY).toISOString().slice(0, 10);
    const until = new Date(END_MS - 23 * DAY).toISOString().slice(0, 10);
    const known = new Set(Object.keys(caseListQuery.properties));

    // A deep page: 50 pages of 200 rows down (the 10,001st row on).
    let cursor: string | null = null;
    for (let i = 0; i < 50; i++) {
      const page = await listCases(db, { limit: 200, ...(cursor ? { cursor } : {}) });
      if (!page.next) break;
      cursor = page.next;
    }

    const lists: { name: string; filter: Record<string, string> | null; target: number }[] = [
      { name: 'list: default sort, first page', filter: {}, target: TARGETS.list },
      { name: 'list: default sort, deep page (row 10,001 on)', filter: cursor ? { cursor } : null, target: TARGETS.list },
      { name: 'list: status=in_review', filter: { status: 'in_review' }, target: TARGETS.list },
      { name: 'list: status=new', filter: { status: 'new' }, target: TARGETS.list },
      { name: 'list: priority=urgent', filter: { priority: 'urgent' }, target: TARGETS.list },
      { name: 'list: priority=high', filter: { priority: 'high' }, target: TARGETS.list },
    ];
    for (const [col, key] of [['tags', 'tag'], ['places', 'place']] as const) {
      const frequent = await valueBy(col, 'DESC');
      const rare = await valueBy(col, 'ASC');
      lists.push({ name: `list: ${key}=${frequent} (frequent)`, filter: frequent ? { [key]: frequent } : null, target: TARGETS.list });
      if (rare && rare !== frequent) lists.push({ name: `list: ${key}=${rare} (rare)`, filter: { [key]: rare }, target: TARGETS.list });
    }
    lists.push(
      { name: 'list: channel=simulator (every case)', filter: { channel: 'simulator' }, target: TARGETS.list },
      { name: 'list: channel=telegram (none)', filter: { channel: 'telegram' }, target: TARGETS.list },
      { name: 'list: language=ckb', filter: { language: 'ckb' }, target: TARGETS.list },
      { name: 'list: flag=campaign (none in this log)', filter: { flag: 'campaign' }, target: TARGETS.list },
      { name: 'list: assignee=bench-ana1', filter: { assignee: 'bench-ana1' }, target: TARGETS.list },
      { name: `list: date range ${since} to ${until}`, filter: { from: since, to: until }, target: TARGETS.list },
      { name: 'search: Arabic word انفجار', filter: { q: 'انفجار' }, target: TARGETS.search },
      { name: 'search: English word checkpoint', filter: { q: 'checkpoint' }, target: TARGETS.search },
      { name: 'search: Arabic word + status=in_review', filter: { q: 'انفجار', status: 'in_review' }, target: TARGETS.search },
      { name: 'search: a word in no report (xylophone)', filter: { q: 'xylophone' }, target: TARGETS.search },
    );
    // A word of the middle: in more reports than the search lists by their cases (1,000), so it
    // walks the list's order, yet few enough that a page takes many cases to fill. Picked from a
    // sample of the log, counted exactly.
    const { rows: mid } = await db.query<{ w: string }>(
      `SELECT w FROM (SELECT unnest(regexp_split_to_array(text_folded, '\\s+')) AS w FROM reports TABLESAMPLE SYSTEM (2) REPEATABLE (1)) x
        WHERE length(w) >= 5 AND w ~ '^[[:alpha:]]+$' GROUP BY w HAVING count(*) BETWEEN 25 AND 60 ORDER BY count(*) DESC, w LIMIT 1`,
    );
    if (mid[0]) {
      const n = (await db.query<{ n: number }>(`SELECT count(*)::int AS n FROM reports WHERE text_folded LIKE '%' || $1 || '%'`, [mid[0].w])).rows[0]!.n;
      lists.push({ name: `search: a word of the middle (${mid[0].w}, ${n} reports)`, filter: { q: mid[0].w }, target: TARGETS.search });
    } else lists.push({ name: 'search: a word of the middle', filter: null, target: TARGETS.search });

    const width = 58;
    const results: { name: string; http: Figures; target: number }[] = [];
    const slow: { name: string; sql: string; params: unknown[] }[] = [];
    for (const l of lists) {
      if (!l.filter) {
        console.log(`${l.name.padEnd(width)} not available (nothing to filter in this log)`);
        continue;
      }
      const missing = Object.keys(l.filter).filter((k) => !known.has(k));
      if (missing.length) {
        console.log(`${l.name.padEnd(width)} not available (the list has no ${missing.join(', ')} filter yet)`);
        continue;
      }
      const url = `/?${new URLSearchParams(l.filter).toString()}`;
      const f = l.filter as CaseListFilter;
      const rec = recording(db);
      const first = await listCases(rec, f);
      const server: number[] = [];
      const httpMs = await timed(o.runs, o.warmup, async () => {
        await client.get(url);
        server.push(serverMs);
      });
      const bare = await timed(o.runs, o.warmup, () => listCases(db, f));
      const h = figures(httpMs);
      const verdict = h.p95 <= l.target ? 'ok' : 'OVER';
      console.log(
        `${l.name.padEnd(width)} http ${fmt(h)} | server ${fmt(figures(server.slice(o.warmup)))} | bare ${fmt(figures(bare))} | ${String(first.cases.length).padStart(2)} rows${first.next ? '+' : ' '} | target p95 ≤ ${l.target}: ${verdict}`,
      );
      results.push({ name: l.name, http: h, target: l.target });
      if (verdict === 'OVER' && rec.seen[0]) slow.push({ name: l.name, ...rec.seen[0] });
    }

    // Case pages: the largest case, and one of about 100 reports.
    const pick = async (sql: string) => (await db.query<{ ref: string; report_count: number }>(sql)).rows[0];
    const largest = await pick('SELECT ref, report_count FROM cases WHERE merged_into IS NULL ORDER BY report_count DESC, id LIMIT 1');
    const hundred = await pick('SELECT ref, report_count FROM cases WHERE merged_into IS NULL ORDER BY abs(report_count - 100), id LIMIT 1');
    for (const [label, c] of [['case page: the largest case', largest], ['case page: a case of ~100 reports', hundred]] as const) {
      if (!c) continue;
      const name = `${label} (${c.report_count} reports)`;
      const server: number[] = [];
      const httpMs = await timed(o.runs, o.warmup, async () => {
        await client.get(`/cases/${c.ref}`);
        server.push(serverMs);
      });
      const bare = await timed(o.runs, o.warmup, async () => {
        await casePage(db, c.ref);
        await caseRecord(db, c.ref);
      });
      const h = figures(httpMs);
      const target = c.report_count <= 150 ? TARGETS.casePage : null;
      console.log(
        `${name.padEnd(width)} http ${fmt(h)} | server ${fmt(figures(server.slice(o.warmup)))} | bare ${fmt(figures(bare))} |         | ${target ? `target p95 ≤ ${target}: ${h.p95 <= target ? 'ok' : 'OVER'}` : `(target p95 ≤ ${TARGETS.casePage} is for ~100 reports)`}`,
      );
    }

    for (const s of slow) {
      const plan = await db.query<{ 'QUERY PLAN': string }>(`EXPLAIN (ANALYZE, BUFFERS) ${s.sql}`, s.params);
      console.log(`\nEXPLAIN (ANALYZE, BUFFERS) of ${s.name}:\n${plan.rows.map((r) => '  ' + r['QUERY PLAN']).join('\n')}`);
    }
    console.log(`\ntargets (printed, never asserted): list p95 ≤ ${TARGETS.list} ms, search p95 ≤ ${TARGETS.search} ms, case page p95 ≤ ${TARGETS.casePage} ms for a case of 100 reports; machine load at the end ${os.loadavg()[0]!.toFixed(1)}`);
    return results;
  } finally {
    client.close();
    await app.close();
    await opened.close();
  }
}

async function main() {
  const o = options(process.argv.slice(2));
  const schema = o.reports === 1_000_000 ? 'bench_dashboard' : `bench_dashboard_${o.reports}`;
  const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'tiphub-bench-dashboard-'));
  try {
    const { env } = await ensureLog(o, schema, tmp);
    await measure(o, env, tmp);
    if (o.drop) {
      const admin = new Client({ connectionString: BASE_URL });
      await admin.connect();
      await admin.query(`DROP SCHEMA IF EXISTS ${schema} CASCADE`);
      await admin.end();
      console.log(`schema ${schema} dropped (--drop)`);
    } else console.log(`schema ${schema} kept for the next run (--drop drops it)`);
  } finally {
    fs.rmSync(tmp, { recursive: true, force: true });
  }
}

main().then(
  () => process.exit(0),
  (err: unknown) => {
    console.error(err);
    process.exit(1);
  },
);
