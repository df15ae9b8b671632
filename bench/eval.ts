/**
 * `npm run eval`: the labelled corpus (test/corpus/tips.jsonl) through the real pipeline — the
 * `tiphub ingest` and `tiphub export` commands on a fresh embedded case log and this machine's
 * Redis — then the exported cases compared with the labels:
 * - same-case grouping: precision, recall and F1 over pairs of messages;
 * - tags: precision, recall, F1 per tag and micro-averaged;
 * - language: accuracy (and per language);
 * - places: micro-averaged precision, recall, F1 over (message, place).
 * Options: `--corpus FILE`, `--errors` (print every disagreement), `--database-url URL`.
 */
import { spawnSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { packageRoot } from '../src/package-root';

interface Label {
  case: string;
  lang: string;
  tags: string[];
  places: string[];
}
interface Line {
  msg: { id: string; text?: string; from: string };
  label: Label;
}
interface Exported {
  ref: string;
  reports: { nativeId: string; language: string | null; tags: string[]; places: string[]; text: string | null; duplicate: { kind: string } | null }[];
}

const args = process.argv.slice(2);
const opt = (name: string) => {
  const i = args.indexOf(name);
  return i >= 0 ? args[i + 1] : undefined;
};
const root = packageRoot();
const corpusFile = path.resolve(opt('--corpus') ?? path.join(root, 'test', 'corpus', 'tips.jsonl'));
const showErrors = args.includes('--errors');

function readCorpus(file: string): Line[] {
  return fs
    .readFileSync(file, 'utf8')
    .split('\n')
    .map((l, i) => [l, i + 1] as const)
    .filter(([l]) => l.trim())
    .map(([l, n]) => {
      try {
        const v = JSON.parse(l) as Line;
        if (!v.msg?.id || !v.label?.case) throw new Error('needs msg.id and label.case');
        return v;
      } catch (err) {
        throw new Error(`${file}:${n}: ${(err as Error).message}`, { cause: err });
      }
    });
}

function run(cmd: string[], env: NodeJS.ProcessEnv, cwd: string): string {
  const r = spawnSync(process.execPath, [path.join(root, 'bin', 'tiphub.js'), ...cmd], { env, cwd, encoding: 'utf8', maxBuffer: 1 << 28 });
  if (r.status !== 0) throw new Error(`tiphub ${cmd[0]} exited ${r.status}:\n${r.stderr.slice(-2000)}`);
  return r.stdout;
}

const f1 = (p: number, r: number) => (p + r ? (2 * p * r) / (p + r) : 0);
const fmt = (x: number) => x.toFixed(3);

function prf(tp: number, fp: number, fn: number) {
  const p = tp + fp ? tp / (tp + fp) : 1;
  const r = tp + fn ? tp / (tp + fn) : 1;
  return { p, r, f: f1(p, r) };
}

function main() {
  const corpus = readCorpus(corpusFile);
  const work = fs.mkdtempSync(path.join(os.tmpdir(), 'tiphub-eval-'));
  const prefix = `tiphub-eval-${randomBytes(4).toString('hex')}`;
  try {
    const input = path.join(work, 'tips.jsonl');
    fs.writeFileSync(input, corpus.map((l) => JSON.stringify(l.msg)).join('\n') + '\n');
    fs.writeFileSync(path.join(work, 'tiphub.yaml'), `queue:\n  prefix: ${prefix}\n`);
    const env: NodeJS.ProcessEnv = {
      PATH: process.env.PATH,
      HOME: process.env.HOME,
      REDIS_URL: process.env.REDIS_URL ?? 'redis://127.0.0.1:6379',
      TIPHUB_DATA_DIR: path.join(work, 'data'),
      TIPHUB_LOG_LEVEL: 'warn',
      ...(opt('--database-url') ? { DATABASE_URL: opt('--database-url') } : {}),
    };
    const t0 = performance.now();
    run(['ingest', input], env, work);
    const ingestSecs = (performance.now() - t0) / 1000;
    const out = path.join(work, 'export.jsonl');
    run(['export', '--format', 'jsonl', '--out', out], env, work);
    const cases = fs
      .readFileSync(out, 'utf8')
      .split('\n')
      .filter(Boolean)
      .map((l) => JSON.parse(l) as Exported);

    const predicted = new Map<string, { ref: string; r: Exported['reports'][number] }>();
    for (const c of cases) for (const r of c.reports) predicted.set(r.nativeId, { ref: c.ref, r });
    const missing = corpus.filter((l) => !predicted.has(l.msg.id));
    if (missing.length) throw new Error(`${missing.length} corpus messages are not in the export (first: ${missing[0]!.msg.id})`);

    // Pairs: every pair of messages, same case or not, labelled vs predicted.
    let tp = 0;
    let fp = 0;
    let fn = 0;
    const pairErrors: string[] = [];
    for (let i = 0; i < corpus.length; i++) {
      for (let j = i + 1; j < corpus.length; j++) {
        const a = corpus[i]!;
        const b = corpus[j]!;
        const gold = a.label.case === b.label.case;
        const pred = predicted.get(a.msg.id)!.ref === predicted.get(b.msg.id)!.ref;
        if (gold && pred) tp++;
        else if (pred) {
          fp++;
          if (showErrors) pairErrors.push(`joined, labelled apart: ${a.msg.id} [${a.label.case}] ~ ${b.msg.id} [${b.label.case}] (${predicted.get(b.msg.id)!.r.duplicate?.kind ?? '-'})\n    ${a.msg.text ?? '(no text)'}\n    ${b.msg.text ?? '(no text)'}`);
        } else if (gold) {
          fn++;
          if (showErrors) pairErrors.push(`apart, labelled together: ${a.msg.id} ~ ${b.msg.id} [${a.label.case}]\n    ${a.msg.text ?? '(no text)'}\n    ${b.msg.text ?? '(no text)'}`);
        }
      }
    }
    const pairs = prf(tp, fp, fn);

    // Tags, per tag and micro.
    const tagNames = [...new Set(corpus.flatMap((l) => l.label.tags).concat(cases.flatMap((c) => c.reports.flatMap((r) => r.tags))))].sort();
    const perTag = new Map(tagNames.map((t) => [t, { tp: 0, fp: 0, fn: 0 }]));
    const tagErrors: string[] = [];
    let placeTp = 0;
    let placeFp = 0;
    let placeFn = 0;
    const placeErrors: string[] = [];
    let langOk = 0;
    const perLang = new Map<string, { n: number; ok: number }>();
    const langErrors: string[] = [];
    for (const l of corpus) {
      const r = predicted.get(l.msg.id)!.r;
      for (const t of tagNames) {
        const g = l.label.tags.includes(t);
        const p = r.tags.includes(t);
        const s = perTag.get(t)!;
        if (g && p) s.tp++;
        else if (p) s.fp++;
        else if (g) s.fn++;
      }
      if (showErrors && [...l.label.tags].sort().join() !== [...r.tags].sort().join()) tagErrors.push(`${l.msg.id}: labelled [${l.label.tags}] got [${r.tags}]\n    ${l.msg.text}`);
      for (const p of new Set([...l.label.places, ...r.places])) {
        const g = l.label.places.includes(p);
        const q = r.places.includes(p);
        if (g && q) placeTp++;
        else if (q) placeFp++;
        else placeFn++;
      }
      if (showErrors && [...l.label.places].sort().join() !== [...r.places].sort().join()) placeErrors.push(`${l.msg.id}: labelled [${l.label.places}] got [${r.places}]\n    ${l.msg.text}`);
      const lang = r.language ?? 'und';
      const pl = perLang.get(l.label.lang) ?? { n: 0, ok: 0 };
      pl.n++;
      if (lang === l.label.lang) {
        langOk++;
        pl.ok++;
      } else if (showErrors) langErrors.push(`${l.msg.id}: labelled ${l.label.lang} got ${lang}\n    ${l.msg.text}`);
      perLang.set(l.label.lang, pl);
    }
    let mtp = 0;
    let mfp = 0;
    let mfn = 0;
    for (const s of perTag.values()) {
      mtp += s.tp;
      mfp += s.fp;
      mfn += s.fn;
    }
    const micro = prf(mtp, mfp, mfn);
    const places = prf(placeTp, placeFp, placeFn);
    const goldCases = new Set(corpus.map((l) => l.label.case)).size;

    if (showErrors) {
      for (const [title, list] of [['pairs', pairErrors], ['tags', tagErrors], ['places', placeErrors], ['languages', langErrors]] as const) {
        console.log(`--- ${title}: ${list.length} disagreements`);
        for (const e of list) console.log(e);
      }
    }
    console.log(`eval: corpus ${path.relative(process.cwd(), corpusFile)}: ${corpus.length} messages, ${goldCases} labelled cases; tiphub made ${cases.length} cases (ingest ${ingestSecs.toFixed(1)} s)`);
    console.log(`pairs: precision=${fmt(pairs.p)} recall=${fmt(pairs.r)} F1=${fmt(pairs.f)} (tp ${tp}, fp ${fp}, fn ${fn}; target F1 >= 0.85)`);
    for (const [t, s] of perTag) {
      const m = prf(s.tp, s.fp, s.fn);
      console.log(`tag ${t.padEnd(12)} precision=${fmt(m.p)} recall=${fmt(m.r)} F1=${fmt(m.f)} (support ${s.tp + s.fn})`);
    }
    console.log(`tags: micro precision=${fmt(micro.p)} recall=${fmt(micro.r)} micro-F1=${fmt(micro.f)} (target >= 0.75)`);
    console.log(
      `language: accuracy=${fmt(langOk / corpus.length)} (${langOk}/${corpus.length}; target >= 0.95) ` +
        [...perLang].map(([k, v]) => `${k} ${v.ok}/${v.n}`).join(', '),
    );
    console.log(`places: precision=${fmt(places.p)} recall=${fmt(places.r)} F1=${fmt(places.f)} (tp ${placeTp}, fp ${placeFp}, fn ${placeFn})`);
  } finally {
    fs.rmSync(work, { recursive: true, force: true });
    // This run's queue keys, by its own prefix only.
    spawnSync('sh', ['-c', `redis-cli --scan --pattern '${prefix}:*' | xargs -r redis-cli del > /dev/null`]);
  }
}

try {
  main();
} catch (err) {
  console.error(`eval: ${(err as Error).message}`);
  process.exitCode = 1;
}
