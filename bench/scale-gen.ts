/**
 * Bulk generation of a case log of a million reports (BENCH_SCALE_REPORTS), in its own process
 * (forked by run.ts, with a larger heap), into a schema that is already migrated.
 *
 * Content: texts from templates in ar/ckb/en/fr with random places, numbers, times and words
 * (mostly distinct), in time order over the year before the throughput workload; ~30% exact copies
 * (verbatim, forward prefix, emoji: the same fingerprint) from other informants, ~10% near copies
 * (a word or a share call added or dropped), ~34% follow-ups by the same informant within minutes (a few of them about another subject: new cases),
 * the rest new cases: ~300,000 cases, 100,000 informants. Every value the intake computes is
 * computed with the real functions (features.ts says which), every case's events are a real hash
 * chain (case.opened, one report.added per report with the real reportHash, a case.status for
 * the older cases an operator closed or opened), counters match, so `verify` passes on this log.
 * No outbox rows, informant log entries or media are generated.
 *
 * Work is pipelined in chunks: the main thread draws the messages of chunk k+1 (who, when, what
 * text, copying what) and places chunk k (cases, hash chains, rows), while two worker threads
 * compute what the intake computes of each text for chunk k+1 (fingerprint, MinHash, bands,
 * tags…, message id, sealed raw payload, report hash).
 *
 * Loading: the tables' shapes come from the migrated schema itself (copy.ts, copyTables): the
 * generator names per table the columns it fills (FILLS) and makes each row a record by column
 * name; the COPY column lists and their order are read from the catalog (pg_attribute), generated
 * columns left out, and a column it does not fill must be nullable or have a default (checked
 * before anything is changed: a migration adding a NOT NULL column without default stops it at
 * once, naming table and column). The loaded tables' foreign keys, indexes and primary/unique keys
 * are dropped, the rows streamed with COPY … FROM STDIN on four connections at once (lines built by
 * index in the catalog's order, resolved once per table), then the keys and indexes rebuilt from
 * their own catalog definitions (checked identical afterwards), VACUUM (ANALYZE), CHECKPOINT.
 */
import { isMainThread, parentPort, Worker, workerData } from 'node:worker_threads';
import { Client } from 'pg';
import { loadConfig } from '../app/config';
import { Keyring, sealRow } from '../src/crypto/keyring';
import { eventHash, reportHash, sealedDigest, type ReportContent } from '../src/caselog/chain';
import { REF_ALPHABET } from '../src/caselog/refs';
import { bandKeys, estimatedSimilarity, SIGNATURE_SIZE } from '../src/grouping/minhash';
import { copyImplementation, copyIn, copyTables, CopyTable, pgTextArray, type CopySink } from './copy';
import { featureSource, type BulkFeatures } from './features';
import { exactVariant, followupText, nearVariant, reportText, seeded, senderAddress, type Lang } from './workload';

export interface ScaleGenRequest {
  /** With `options=-c search_path=<schema>,public`. */
  dbUrl: string;
  schema: string;
  reports: number;
  informants: number;
  secret: string;
  /** The case log's key set as it stores it (sealed under the secret). */
  keys: string;
  seed: number;
  /** Every bulk report is sent before this time. */
  endMs: number;
}

export interface ScaleGenResult {
  reports: number;
  cases: number;
  informants: number;
  events: number;
  bands: number;
  caseInformants: number;
  kinds: Record<string, number>;
  statuses: Record<string, number>;
  features: string;
  copy: string;
  ms: { generateAndCopy: number; keysAndIndexes: number; vacuumAnalyze: number; checkpoint: number };
  /** A near copy of a bulk text, for EXPLAIN of a band look-up. */
  sample: { bands: number[]; minhash: number[]; originalId: string };
}

const DAY = 86_400_000;
const CHUNK = 5_000;
const THREADS = 2;

// --- the worker threads: what the intake computes of each message --------------------------

interface Draft {
  i: number;
  text: string;
  sentMs: number;
  recvMs: number;
  pseudonym: string;
}

/** What the placing needs of the features. */
type Placed = Pick<BulkFeatures, 'fingerprint' | 'minhash' | 'bands' | 'language' | 'tags' | 'places'>;

interface Computed {
  id: string;
  subject: string;
  f: Placed;
  sentAt: string;
  receivedAt: string;
  /** The report's COPY line but for the REPORT_LATE columns (CopyTable.split). */
  pieces: string[];
  /** Its report_bands COPY lines (written when it is the first report of its fingerprint). */
  bandLines: string;
}

/**
 * Per table, the columns the generator fills. Their order, and every other column of the table
 * (its default or NULL; generated columns are computed), come from the migrated schema's catalog
 * (copyTables), checked once before anything is written.
 */
const FILLS = {
  informants: ['pseudonym', 'channel', 'address_sealed', 'language', 'first_seen', 'last_seen', 'welcomed_at', 'created_at'],
  cases: ['id', 'ref', 'status', 'priority', 'flags', 'tags', 'places', 'language', 'report_count', 'informant_count', 'channels', 'first_report_at', 'last_report_at', 'event_seq', 'head_hash', 'created_at', 'updated_at', 'related'],
  case_informants: ['case_id', 'pseudonym', 'channel'],
  reports: [
    'id', 'case_id', 'informant', 'channel', 'account', 'native_id', 'origin', 'sent_at', 'received_at', 'text', 'language', 'tags', 'places', 'fingerprint',
    'duplicate_of', 'duplicate_kind', 'location', 'contact', 'reply_to', 'forwarded', 'edited', 'group_key', 'raw_sealed', 'created_at', 'blocked', 'flooded',
    'minhash', 'match_keys', 'entities', 'priority', 'noise', 'topic_break',
  ],
  report_bands: ['band', 'report_id'],
  events: ['case_id', 'seq', 'at', 'kind', 'actor', 'data', 'prev_hash', 'hash'],
} as const;
type ReportColumn = (typeof FILLS.reports)[number];
/** The report columns the main thread fills when it places a report (the rest: the worker threads). */
const REPORT_LATE = ['case_id', 'duplicate_of', 'duplicate_kind'] as const;
const TABLES = Object.keys(FILLS);
/** The COPY shapes the worker threads build lines of, as plain data. */
interface WorkerShapes {
  reports: { table: string; columns: ReportColumn[] };
  report_bands: { table: string; columns: (typeof FILLS.report_bands)[number][] };
}

function computeThread() {
  const { secret, keys, shapes } = workerData as { secret: string; keys: string; shapes: WorkerShapes };
  const reportLine = new CopyTable(shapes.reports.table, shapes.reports.columns).split(REPORT_LATE);
  const bandTable = new CopyTable(shapes.report_bands.table, shapes.report_bands.columns);
  const cfg = loadConfig({ configPath: process.env.TIPHUB_CONFIG });
  const keyring = new Keyring(secret).withStoredKeys(keys);
  const features = featureSource(cfg);
  // A verbatim copy has the features of its original: computed once (the same text, the same values).
  const cache = new Map<string, BulkFeatures>();
  const featuresOf = (text: string, sentAt: Date, receivedAt: Date) => {
    let f = cache.get(text);
    if (!f) {
      if (cache.size > 50_000) cache.clear();
      cache.set(text, (f = features.compute(text, sentAt, receivedAt)));
    }
    return f;
  };
  parentPort!.on('message', (m: { seq: number; drafts?: Draft[]; addresses?: string[] }) => {
    if (m.addresses) {
      parentPort!.postMessage({ seq: m.seq, sealed: m.addresses.map((address) => keyring.seal({ address, name: null }, sealRow.address(keyring.pseudonym('simulator', address)))) });
      return;
    }
    const out: Computed[] = m.drafts!.map((d) => {
      const nativeId = `g${d.i}`;
      const id = keyring.messageId('simulator', ['simulator', nativeId]);
      const sentAt = new Date(d.sentMs).toISOString();
      const receivedAt = new Date(d.recvMs).toISOString();
      const raw = { id: nativeId, text: d.text, sentAt };
      const rawSealed = keyring.seal(raw, sealRow.raw(id));
      const f = featuresOf(d.text, new Date(d.sentMs), new Date(d.recvMs));
      const content: ReportContent = {
        id,
        informant: d.pseudonym,
        channel: 'simulator',
        account: 'simulator',
        nativeId,
        origin: 'live',
        sentAt,
        receivedAt,
        text: d.text,
        location: null,
        contact: null,
        replyTo: null,
        forwarded: false,
        edited: false,
        groupKey: null,
        raw: sealedDigest(keyring, 'raw', id, raw),
        contactDetails: null,
        language: f.language,
        tags: [...f.tags].sort(),
        places: [...f.places].sort(),
        entities: f.entities ?? null,
        priority: f.priority,
        noise: f.noise,
        topicBreak: f.topicBreak,
        blocked: false,
        flooded: false,
        fingerprint: f.fingerprint,
        media: [],
      };
      const pieces = reportLine.pieces({
        id,
        informant: d.pseudonym,
        channel: 'simulator',
        account: 'simulator',
        native_id: nativeId,
        origin: 'live',
        sent_at: sentAt,
        received_at: receivedAt,
        text: d.text,
        language: f.language,
        tags: pgTextArray(f.tags),
        places: pgTextArray(f.places),
        fingerprint: f.fingerprint,
        location: null,
        contact: null,
        reply_to: null,
        forwarded: false,
        edited: false,
        group_key: null,
        raw_sealed: rawSealed,
        created_at: receivedAt,
        blocked: false,
        flooded: false,
        minhash: f.minhash ? `{${Array.from(f.minhash).join(',')}}` : null,
        match_keys: pgTextArray(f.matchKeys),
        entities: f.entities ? JSON.stringify(f.entities) : null,
        priority: f.priority,
        noise: f.noise,
        topic_break: f.topicBreak,
      });
      return {
        id,
        subject: reportHash(keyring, content),
        f: { fingerprint: f.fingerprint, minhash: f.minhash, bands: f.bands, language: f.language, tags: f.tags, places: f.places },
        sentAt,
        receivedAt,
        pieces,
        bandLines: f.minhash ? f.bands.map((band) => bandTable.line({ band, report_id: id })).join('') : '',
      };
    });
    parentPort!.postMessage({ seq: m.seq, out });
  });
  parentPort!.postMessage({ ready: features.name });
}

class Pool {
  private seq = 0;
  private waiting = new Map<number, (v: unknown) => void>();
  private constructor(private readonly threads: Worker[], readonly featuresName: string) {
    for (const t of threads) {
      t.on('message', (m: { seq: number }) => {
        this.waiting.get(m.seq)?.(m);
        this.waiting.delete(m.seq);
      });
    }
  }
  static async start(secret: string, keys: string, shapes: WorkerShapes): Promise<Pool> {
    const threads = Array.from({ length: THREADS }, () => new Worker(__filename, { workerData: { kind: 'scale-gen-compute', secret, keys, shapes } }));
    const names = await Promise.all(
      threads.map(
        (t) =>
          new Promise<string>((resolve, reject) => {
            t.once('message', (m: { ready: string }) => resolve(m.ready));
            t.once('error', reject);
          }),
      ),
    );
    for (const t of threads) t.on('error', (err) => console.error('scale_gen worker thread failed', err));
    return new Pool(threads, names[0]!);
  }
  private ask<T>(t: Worker, msg: object): Promise<T> {
    const seq = ++this.seq;
    return new Promise<T>((resolve) => {
      this.waiting.set(seq, resolve as (v: unknown) => void);
      t.postMessage({ seq, ...msg });
    });
  }
  /** Splits `items` over the threads and puts the answers back in order. */
  async map<I, O>(items: I[], key: string, pick: (m: Record<string, unknown>) => O[]): Promise<O[]> {
    const per = Math.ceil(items.length / this.threads.length);
    const parts = await Promise.all(this.threads.map((t, n) => this.ask<Record<string, unknown>>(t, { [key]: items.slice(n * per, (n + 1) * per) })));
    return parts.flatMap(pick);
  }
  compute(drafts: Draft[]): Promise<Computed[]> {
    return this.map(drafts, 'drafts', (m) => m.out as Computed[]);
  }
  sealAddresses(addresses: string[]): Promise<string[]> {
    return this.map(addresses, 'addresses', (m) => m.sealed as string[]);
  }
  async close() {
    await Promise.all(this.threads.map((t) => t.terminate()));
  }
}

// --- loading ---------------------------------------------------------------------------------

interface Catalog {
  cons: { tbl: string; name: string; type: string; def: string }[];
  idx: { tbl: string; name: string; def: string }[];
}

async function catalog(c: Client, schema: string): Promise<Catalog> {
  const inSchema = `SELECT oid FROM pg_class WHERE relnamespace = to_regnamespace($1) AND relname = ANY($2)`;
  const cons = await c.query(
    `SELECT conrelid::regclass::text AS tbl, conname AS name, contype AS type, pg_get_constraintdef(oid) AS def FROM pg_constraint
      WHERE connamespace = to_regnamespace($1) AND contype IN ('p', 'u', 'f') AND (conrelid IN (${inSchema}) OR confrelid IN (${inSchema}))
      ORDER BY 1, 2`,
    [schema, TABLES],
  );
  const idx = await c.query(
    `SELECT i.indrelid::regclass::text AS tbl, ci.relname AS name, pg_get_indexdef(i.indexrelid) AS def
       FROM pg_index i JOIN pg_class ci ON ci.oid = i.indexrelid
      WHERE i.indrelid IN (${inSchema})
        AND NOT EXISTS (SELECT 1 FROM pg_constraint k WHERE k.conindid = i.indexrelid AND k.contype IN ('p', 'u', 'x'))
      ORDER BY 1, 2`,
    [schema, TABLES],
  );
  return { cons: cons.rows, idx: idx.rows };
}

class TableWriter {
  private buf: string[] = [];
  private len = 0;
  rows = 0;
  constructor(private readonly sink: CopySink) {}
  add(line: string) {
    this.buf.push(line);
    this.len += line.length;
    this.rows++;
  }
  /** Hands what is buffered to the connection once there is enough of it (or always). */
  async flush(always = false) {
    if (!this.buf.length || (!always && this.len < 1 << 20)) return;
    const s = this.buf.join('');
    this.buf = [];
    this.len = 0;
    await this.sink.write(s);
  }
  async end() {
    await this.flush(true);
    return this.sink.end();
  }
}

async function connect(url: string, setup: string[] = []): Promise<Client> {
  const c = new Client({ connectionString: url, application_name: 'tiphub-bench-scale' });
  await c.connect();
  for (const s of setup) await c.query(s);
  return c;
}

/** Runs jobs on `clients` at once, each client taking the next job when it is free. */
async function onClients<T>(clients: Client[], jobs: T[], fn: (c: Client, job: T) => Promise<void>) {
  let next = 0;
  await Promise.all(
    clients.map(async (c) => {
      while (next < jobs.length) await fn(c, jobs[next++]!);
    }),
  );
}

// --- generation ------------------------------------------------------------------------------

type Intent = 'new' | 'exact' | 'near' | 'followup';
const LANG_CODES: Lang[] = ['ar', 'ckb', 'en', 'fr'];
const LANG_MIX: Lang[] = ['ar', 'ar', 'ar', 'ar', 'ar', 'ckb', 'ckb', 'en', 'en', 'en', 'fr', 'fr'];

export async function generateScaleLog(req: ScaleGenRequest, progress: (line: string) => void): Promise<ScaleGenResult> {
  const cfg = loadConfig({ configPath: process.env.TIPHUB_CONFIG });
  const keyring = new Keyring(req.secret).withStoredKeys(req.keys);
  const nearThreshold = (cfg.grouping as { nearThreshold?: number }).nearThreshold ?? 0.6;
  const followMs = cfg.grouping.followupMinutes * 60_000;
  const rng = seeded(req.seed);
  const N = req.reports;
  const I = req.informants;
  const load = ['SET synchronous_commit = off', "SET maintenance_work_mem = '1GB'"];
  const main = await connect(req.dbUrl, load);
  const clients = [main, ...(await Promise.all([1, 2, 3].map(() => connect(req.dbUrl, load))))];
  let pool: Pool | null = null;
  try {
    // The tables' shapes, from the migrated schema (checked before anything is changed).
    const tables = await copyTables(main, req.schema, FILLS, (line) => progress(`scale_gen: ${line}`));
    const reportLine = tables.reports.split(REPORT_LATE);
    const shape = <K extends string>(t: CopyTable<K>) => ({ table: t.table, columns: [...t.columns] });
    const workers = (pool = await Pool.start(req.secret, req.keys, { reports: shape(tables.reports), report_bands: shape(tables.report_bands) }));
    const before = await catalog(main, req.schema);
    const count = (await main.query(`SELECT (SELECT count(*) FROM reports)::int + (SELECT count(*) FROM cases)::int AS n`)).rows[0].n as number;
    if (count) throw new Error('the scale schema is not empty');
    // 1. Keys and indexes off: foreign keys first (they depend on the primary keys), then the rest.
    for (const k of before.cons.filter((c) => c.type === 'f')) await main.query(`ALTER TABLE ${k.tbl} DROP CONSTRAINT ${k.name}`);
    for (const i of before.idx) await main.query(`DROP INDEX ${i.name}`);
    for (const k of before.cons.filter((c) => c.type !== 'f')) await main.query(`ALTER TABLE ${k.tbl} DROP CONSTRAINT ${k.name}`);

    // 2. Stream the rows.
    const t0 = performance.now();
    const [reportsW, bandsW, eventsW, ciW] = await Promise.all([
      copyIn(clients[0]!, tables.reports.sql),
      copyIn(clients[1]!, tables.report_bands.sql),
      copyIn(clients[2]!, tables.events.sql),
      copyIn(clients[3]!, tables.case_informants.sql),
    ]).then((s) => s.map((x) => new TableWriter(x)));

    // Per report (by index).
    const reportId: string[] = new Array(N);
    const reportCase = new Int32Array(N);
    const reportLang = new Uint8Array(N);
    const textOf: (string | undefined)[] = new Array(N);
    const reportSlot = new Int32Array(N).fill(-1); // its place in the signature store, when first of its fingerprint
    const sigs = new Int32Array(N * SIGNATURE_SIZE);
    let slots = 0;
    const fpFirst = new Map<string, number>(); // fingerprint → first report
    // Per case (index = id - 1).
    const caseRef: string[] = [];
    const caseSeq: number[] = [];
    const caseHead: (string | null)[] = [];
    const caseReports: number[] = [];
    const caseInformants: number[] = [];
    const caseFirst: number[] = [];
    const caseLast: number[] = [];
    const caseLang: (string | null)[] = [];
    const caseTags: (string[] | null)[] = [];
    const casePlaces: (string[] | null)[] = [];
    const refs = new Set<string>();
    // Per informant (index = sender number).
    const infPseudonym: string[] = [];
    const infFirst: number[] = [];
    const infLast: number[] = [];
    const infLang: string[] = [];
    let nextInformant = 0;
    const caseInfs: number[][] = [];
    const kinds: Record<string, number> = { new: 0, exact: 0, near: 0, followup: 0, 'near-too-far (new case)': 0, 'followup-on-another-subject (new case)': 0, 'variant-changed-fingerprint (new case)': 0 };

    const iso = (ms: number) => new Date(ms).toISOString();
    const appendEvent = (caseId: number, at: string, kind: string, actor: string, data: unknown) => {
      const k = caseId - 1;
      const seq = caseSeq[k]! + 1;
      const prev = caseHead[k]!;
      const hash = eventHash(keyring, prev, { caseRef: caseRef[k]!, seq, at, kind, actor, data });
      caseSeq[k] = seq;
      caseHead[k] = hash;
      eventsW.add(tables.events.line({ case_id: caseId, seq, at, kind, actor, data: JSON.stringify(data), prev_hash: prev, hash }));
    };
    const newRef = () => {
      for (;;) {
        let s = '';
        for (let n = 0; n < 7; n++) s += REF_ALPHABET[Math.floor(rng() * REF_ALPHABET.length)];
        const ref = `${s.slice(0, 3)}-${s.slice(3)}`;
        if (!refs.has(ref)) return refs.add(ref), ref;
      }
    };
    const newCase = (language: string | null, at: string): number => {
      const ref = newRef();
      caseRef.push(ref);
      caseSeq.push(0);
      caseHead.push(null);
      caseReports.push(0);
      caseInformants.push(0);
      caseFirst.push(0);
      caseLast.push(0);
      caseLang.push(language);
      caseTags.push(null);
      casePlaces.push(null);
      caseInfs.push([]);
      const id = caseRef.length;
      appendEvent(id, at, 'case.opened', 'intake', { ref, status: 'new', priority: 'normal' });
      return id;
    };

    // Drawing the messages (main thread, ahead of their placing).
    const distinct: number[] = []; // reports whose text was new when drawn: what gets copied
    const recent: { i: number; informant: number; t: number }[] = [];
    const chooseInformant = (i: number): number => {
      if (nextInformant < I && (nextInformant === 0 || rng() < (I - nextInformant) / ((N - i) * 0.7))) return nextInformant++;
      const r = rng();
      return Math.floor(nextInformant * r * r);
    };
    const chooseOriginal = (): number => {
      const n = distinct.length;
      const u = rng();
      if (u < 0.6) return distinct[n - 1 - Math.floor(rng() * Math.min(n, 3000))]!; // recent: a rumour travels for days
      if (u < 0.75) return distinct[Math.floor(rng() * Math.min(n, 500)) * Math.floor(n / 500)]!; // a few forwarded all year
      return distinct[Math.floor(rng() * n)]!;
    };
    const span = Math.min(365 * DAY, N * 31_536); // a million over a year; smaller logs denser
    let t = req.endMs - span;
    const meanGap = (span - 60_000) / N;
    interface Drawn extends Draft {
      intent: Intent;
      informant: number;
      from: number; // the report copied or followed up, or -1
    }
    const draw = (start: number, end: number): Drawn[] => {
      const out: Drawn[] = [];
      for (let i = start; i < end; i++) {
        t += -Math.log(1 - rng()) * meanGap;
        const sentMs = Math.min(Math.floor(t), req.endMs - 1000);
        const recvMs = sentMs + 200 + Math.floor(rng() * 2800);
        const r = rng();
        let intent: Intent = r < 0.3 ? 'exact' : r < 0.4 ? 'near' : r < 0.74 ? 'followup' : 'new';
        if ((intent === 'exact' || intent === 'near') && distinct.length < 100) intent = 'new';
        let from = -1;
        if (intent === 'followup') {
          const within = recent.filter((x) => sentMs - x.t <= followMs * 0.9);
          if (within.length) from = within[Math.floor(rng() * within.length)]!.i;
          else intent = 'new';
        }
        let text: string;
        let lang: Lang;
        let informant: number;
        if (intent === 'exact' || intent === 'near') {
          from = chooseOriginal();
          lang = LANG_CODES[reportLang[from]!]!;
          text = intent === 'exact' ? exactVariant(textOf[from]!, lang, rng) : nearVariant(textOf[from]!, lang, rng);
          informant = chooseInformant(i);
        } else if (intent === 'followup') {
          const followed = recent.find((x) => x.i === from)!;
          lang = LANG_CODES[reportLang[from]!]!;
          text = followupText(lang, rng);
          informant = followed.informant;
        } else {
          lang = LANG_MIX[Math.floor(rng() * LANG_MIX.length)]!;
          text = reportText(lang, rng);
          informant = chooseInformant(i);
        }
        reportLang[i] = LANG_CODES.indexOf(lang);
        if (intent !== 'exact') {
          textOf[i] = text;
          distinct.push(i);
        }
        if (infPseudonym[informant] === undefined) {
          infPseudonym[informant] = keyring.pseudonym('simulator', senderAddress(informant));
          infFirst[informant] = sentMs;
          infLang[informant] = lang;
        }
        infLast[informant] = sentMs;
        recent.push({ i, informant, t: sentMs });
        if (recent.length > 24) recent.shift();
        out.push({ i, text, sentMs, recvMs, pseudonym: infPseudonym[informant]!, intent, informant, from });
      }
      return out;
    };

    // Placing them (main thread): cases, chains, rows.
    let sample: ScaleGenResult['sample'] | null = null;
    let sampleFrom: { text: string; lang: Lang; id: string } | null = null;
    const subjects = new Map<number, { places: readonly string[]; tags: readonly string[] }>(); // the last reports'
    const place = async (drawn: Drawn[], computed: Computed[]) => {
      for (let n = 0; n < drawn.length; n++) {
        const d = drawn[n]!;
        const { id, subject, f, receivedAt, pieces, bandLines } = computed[n]!;
        const i = d.i;
        reportId[i] = id;
        const firstOfFp = f.fingerprint ? fpFirst.get(f.fingerprint) : undefined;
        let caseId = 0;
        let duplicate: { of: string; kind: string; similarity?: number } | null = null;
        let kind: string;
        if (firstOfFp !== undefined) {
          // The same text as one already in the log: the case of its first copy.
          caseId = reportCase[firstOfFp]!;
          duplicate = { of: reportId[firstOfFp]!, kind: 'exact' };
          kind = 'exact';
        } else if (d.intent === 'exact') {
          kind = 'variant-changed-fingerprint (new case)';
        } else if (d.intent === 'near') {
          const slot = reportSlot[d.from]!;
          const theirs = slot >= 0 ? sigs.subarray(slot * SIGNATURE_SIZE, (slot + 1) * SIGNATURE_SIZE) : null;
          const sim = f.minhash && theirs ? estimatedSimilarity(f.minhash, theirs) : 0;
          const bands = theirs ? new Set(bandKeys(theirs)) : new Set<number>();
          if (sim >= nearThreshold && f.bands.some((b) => bands.has(b))) {
            caseId = reportCase[d.from]!;
            duplicate = { of: reportId[d.from]!, kind: 'near', similarity: Math.round(sim * 100) / 100 };
            kind = 'near';
          } else kind = 'near-too-far (new case)';
        } else if (d.intent === 'followup') {
          // As the intake decides: names other places and other topics than the message it follows → not a follow-up.
          const prev = subjects.get(d.from);
          const disjoint = (a: readonly string[], b: readonly string[]) => a.length > 0 && b.length > 0 && !a.some((x) => b.includes(x));
          if (prev && disjoint(f.places, prev.places) && disjoint(f.tags, prev.tags)) kind = 'followup-on-another-subject (new case)';
          else {
            caseId = reportCase[d.from]!;
            duplicate = { of: reportId[d.from]!, kind: 'followup' };
            kind = 'followup';
          }
        } else kind = 'new';
        subjects.set(i, { places: f.places, tags: f.tags });
        if (subjects.size > 1000) subjects.delete(subjects.keys().next().value!);
        kinds[kind] = (kinds[kind] ?? 0) + 1;
        if (!caseId) caseId = newCase(f.language, receivedAt);
        reportCase[i] = caseId;

        reportsW.add(reportLine.finish(pieces, [caseId, duplicate?.of, duplicate?.kind]));
        appendEvent(caseId, receivedAt, 'report.added', 'intake', { report: id, subject, duplicate });

        // A text seen for the first time: its signature for near copies of it, and its band keys
        // unless it joined a case as a near copy (as the intake writes them).
        if (f.fingerprint && firstOfFp === undefined) {
          fpFirst.set(f.fingerprint, i);
          if (f.minhash) {
            reportSlot[i] = slots;
            sigs.set(f.minhash, slots++ * SIGNATURE_SIZE);
            if (kind !== 'near') bandsW.add(bandLines);
          }
        }

        // Counters.
        const k = caseId - 1;
        caseReports[k]!++;
        if (!caseFirst[k]) caseFirst[k] = d.sentMs;
        caseLast[k] = d.sentMs;
        if (f.tags.length) caseTags[k] = [...new Set([...(caseTags[k] ?? []), ...f.tags])].slice(0, 20);
        if (f.places.length) casePlaces[k] = [...new Set([...(casePlaces[k] ?? []), ...f.places])].slice(0, 20);
        const infs = caseInfs[k]!;
        if (!infs.includes(d.informant)) {
          infs.push(d.informant);
          caseInformants[k]!++;
          ciW.add(tables.case_informants.line({ case_id: caseId, pseudonym: d.pseudonym, channel: 'simulator' }));
        }
        if (!sampleFrom && i > N / 2 && kind === 'new' && f.minhash) sampleFrom = { text: d.text, lang: LANG_CODES[reportLang[i]!]!, id };
      }
      await reportsW.flush();
      await eventsW.flush();
      await bandsW.flush();
      await ciW.flush();
    };

    let lastProgress = performance.now();
    let previous: { drawn: Drawn[]; computed: Promise<Computed[]> } | null = null;
    for (let start = 0; start < N; start += CHUNK) {
      const drawn = draw(start, Math.min(N, start + CHUNK));
      const computed = workers.compute(drawn.map(({ i, text, sentMs, recvMs, pseudonym }) => ({ i, text, sentMs, recvMs, pseudonym })));
      computed.catch(() => undefined);
      if (previous) await place(previous.drawn, await previous.computed);
      previous = { drawn, computed };
      if (Math.floor((start + CHUNK) / 100_000) > Math.floor(start / 100_000)) {
        const ms = performance.now() - lastProgress;
        lastProgress = performance.now();
        progress(`scale_gen: ${start + CHUNK} reports drawn, ${caseRef.length} cases, ${nextInformant} informants (${((100_000 / ms) * 1000).toFixed(0)} reports/s)`);
      }
    }
    if (previous) await place(previous.drawn, await previous.computed);
    if (sampleFrom) {
      const s = sampleFrom as { text: string; lang: Lang; id: string };
      const [c] = await workers.compute([{ i: N, text: nearVariant(s.text, s.lang, rng), sentMs: req.endMs, recvMs: req.endMs, pseudonym: '' }]);
      if (c!.f.minhash) sample = { bands: [...c!.f.bands], minhash: Array.from(c!.f.minhash), originalId: s.id };
    }

    // Operators closed half of the cases quiet for a month, and opened a fifth: a case.status event each.
    const statuses: Record<string, number> = { new: 0, in_review: 0, closed: 0 };
    const caseStatus: string[] = [];
    for (let k = 0; k < caseRef.length; k++) {
      let status = 'new';
      if (caseLast[k]! < req.endMs - 30 * DAY) {
        const r = rng();
        status = r < 0.5 ? 'closed' : r < 0.7 ? 'in_review' : 'new';
      }
      caseStatus.push(status);
      statuses[status]!++;
      if (status !== 'new') appendEvent(k + 1, iso(caseLast[k]! + 3_600_000), 'case.status', 'operator:bench', { status });
      if (k % 10_000 === 0) await eventsW.flush();
    }
    const [reportRows, bandRows, eventRows, ciRows] = await Promise.all([reportsW.end(), bandsW.end(), eventsW.end(), ciW.end()]);

    const casesW = new TableWriter(await copyIn(clients[0]!, tables.cases.sql));
    for (let k = 0; k < caseRef.length; k++) {
      casesW.add(
        tables.cases.line({
          id: k + 1,
          ref: caseRef[k],
          status: caseStatus[k],
          priority: 'normal',
          flags: '{}',
          tags: pgTextArray(caseTags[k] ?? []),
          places: pgTextArray(casePlaces[k] ?? []),
          language: caseLang[k],
          report_count: caseReports[k],
          informant_count: caseInformants[k],
          channels: '{simulator}',
          first_report_at: iso(caseFirst[k]!),
          last_report_at: iso(caseLast[k]!),
          event_seq: caseSeq[k],
          head_hash: caseHead[k],
          created_at: iso(caseFirst[k]!),
          updated_at: iso(caseLast[k]!),
          related: '{}',
        }),
      );
      await casesW.flush();
    }
    const sealed = await workers.sealAddresses(Array.from({ length: nextInformant }, (_, n) => senderAddress(n)));
    const informantsW = new TableWriter(await copyIn(clients[1]!, tables.informants.sql));
    for (let n = 0; n < nextInformant; n++) {
      informantsW.add(
        tables.informants.line({
          pseudonym: infPseudonym[n],
          channel: 'simulator',
          address_sealed: sealed[n],
          language: infLang[n],
          first_seen: iso(infFirst[n]!),
          last_seen: iso(infLast[n]!),
          welcomed_at: iso(infFirst[n]! + 1000),
          created_at: iso(infFirst[n]!),
        }),
      );
      await informantsW.flush();
    }
    const [caseRows, informantRows] = await Promise.all([casesW.end(), informantsW.end()]);
    await main.query(`SELECT setval(pg_get_serial_sequence('cases', 'id'), $1)`, [caseRef.length]);
    const t1 = performance.now();
    progress(`scale_gen: rows streamed in ${((t1 - t0) / 1000).toFixed(1)} s; rebuilding keys and indexes`);

    // 3. Keys and indexes back, from their own definitions, per table, two tables at once; the
    // biggest first (report_bands' key is the longest single build). Foreign keys last.
    const two = clients.slice(0, 2);
    const bigFirst = ['report_bands', 'reports', 'events', 'cases', 'case_informants', 'informants'];
    const perTable = bigFirst.map((tbl) => [
      ...before.cons.filter((c) => c.type !== 'f' && c.tbl === tbl).map((c) => `ALTER TABLE ${c.tbl} ADD CONSTRAINT ${c.name} ${c.def}`),
      ...before.idx.filter((i) => i.tbl === tbl).map((i) => i.def),
    ]);
    await onClients(two, perTable, async (c, stmts) => {
      for (const s of stmts) await c.query(s);
    });
    for (const k of before.cons.filter((c) => c.type === 'f')) await main.query(`ALTER TABLE ${k.tbl} ADD CONSTRAINT ${k.name} ${k.def}`);
    const after = await catalog(main, req.schema);
    if (JSON.stringify(after) !== JSON.stringify(before)) throw new Error('keys and indexes after the load differ from the migrated schema');
    const t2 = performance.now();

    // 4. What autovacuum would have done on a log that grew over a year (it is off on this server).
    await onClients(two, bigFirst, async (c, tbl) => {
      await c.query(`VACUUM (ANALYZE) ${tbl}`);
    });
    const t3 = performance.now();
    await main.query('CHECKPOINT');
    const t4 = performance.now();

    return {
      reports: reportRows,
      cases: caseRows,
      informants: informantRows,
      events: eventRows,
      bands: bandRows,
      caseInformants: ciRows,
      kinds,
      statuses,
      features: workers.featuresName,
      copy: copyImplementation(),
      ms: { generateAndCopy: t1 - t0, keysAndIndexes: t2 - t1, vacuumAnalyze: t3 - t2, checkpoint: t4 - t3 },
      sample: sample ?? { bands: [], minhash: [], originalId: '' },
    };
  } finally {
    await pool?.close();
    await Promise.all(clients.map((c) => c.end().catch(() => undefined)));
  }
}

if (!isMainThread && (workerData as { kind?: string } | null)?.kind === 'scale-gen-compute') {
  computeThread();
} else if (require.main === module) {
  process.on('message', (m: { type: string; req: ScaleGenRequest }) => {
    if (m.type !== 'run') return;
    generateScaleLog(m.req, (line) => console.log(line)).then(
      (result) => process.send!({ type: 'done', result }, () => process.exit(0)),
      (err: unknown) => {
        console.error(err);
        process.send!({ type: 'failed', error: String((err as Error)?.stack ?? err) }, () => process.exit(1));
      },
    );
  });
}
