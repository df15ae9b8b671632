/**
 * A strict parser of Prometheus's text exposition format (version 0.0.4), for tests that read
 * /metrics as Prometheus would: every line must be a HELP, a TYPE, or a sample of a declared
 * family, label values properly escaped, no series twice, and a histogram's buckets cumulative
 * with `+Inf` equal to its `_count`. Throws on the first line it would refuse.
 */
export type MetricType = 'counter' | 'gauge' | 'histogram' | 'summary' | 'untyped';

export interface Sample {
  readonly name: string;
  readonly labels: Readonly<Record<string, string>>;
  readonly value: number;
}

export interface Family {
  readonly name: string;
  type: MetricType;
  help: string | null;
  readonly samples: Sample[];
}

const NAME = /^[a-zA-Z_:][a-zA-Z0-9_:]*$/;
const LABEL = /^[a-zA-Z_][a-zA-Z0-9_]*$/;
const TYPES = new Set(['counter', 'gauge', 'histogram', 'summary', 'untyped']);

function parseValue(v: string, where: string): number {
  // As Prometheus reads them (Go's ParseFloat): NaN and Inf in any case (prom-client writes `Nan`).
  if (/^\+?inf$/i.test(v)) return Infinity;
  if (/^-inf$/i.test(v)) return -Infinity;
  if (/^nan$/i.test(v)) return NaN;
  if (!/^[-+]?(\d+\.?\d*|\.\d+)([eE][-+]?\d+)?$/.test(v)) throw new Error(`${where}: not a number: ${v}`);
  return Number(v);
}

function parseLabels(s: string, where: string): Record<string, string> {
  const labels: Record<string, string> = {};
  let i = 0;
  while (i < s.length) {
    const eq = s.indexOf('=', i);
    if (eq < 0) throw new Error(`${where}: label without value`);
    const name = s.slice(i, eq);
    if (!LABEL.test(name)) throw new Error(`${where}: bad label name ${name}`);
    if (s[eq + 1] !== '"') throw new Error(`${where}: label value not quoted`);
    let j = eq + 2;
    let value = '';
    for (;;) {
      const c = s[j];
      if (c === undefined) throw new Error(`${where}: unterminated label value`);
      if (c === '"') break;
      if (c === '\\') {
        const n = s[j + 1];
        if (n === '\\') value += '\\';
        else if (n === '"') value += '"';
        else if (n === 'n') value += '\n';
        else throw new Error(`${where}: bad escape \\${n}`);
        j += 2;
        continue;
      }
      if (c === '\n') throw new Error(`${where}: newline in label value`);
      value += c;
      j++;
    }
    if (name in labels) throw new Error(`${where}: label ${name} twice`);
    labels[name] = value;
    i = j + 1;
    if (s[i] === ',') i++;
    else if (i < s.length) throw new Error(`${where}: expected , after label ${name}`);
  }
  return labels;
}

/** The family a sample name belongs to (a histogram's _bucket, _sum, _count). */
function familyOf(name: string, families: Map<string, Family>): Family | undefined {
  const f = families.get(name);
  if (f) return f;
  for (const suffix of ['_bucket', '_sum', '_count']) {
    if (name.endsWith(suffix)) {
      const base = families.get(name.slice(0, -suffix.length));
      if (base && (base.type === 'histogram' || (base.type === 'summary' && suffix !== '_bucket'))) return base;
    }
  }
  return undefined;
}

export function parsePrometheusText(text: string): Map<string, Family> {
  const families = new Map<string, Family>();
  const seen = new Set<string>();
  if (text.length && !text.endsWith('\n')) throw new Error('the text does not end with a newline');
  const lines = text.split('\n');
  lines.pop();
  lines.forEach((line, idx) => {
    const where = `line ${idx + 1}`;
    if (line === '') return;
    if (line.startsWith('#')) {
      const m = /^# (HELP|TYPE) (\S+)(?: (.*))?$/.exec(line);
      if (!m) return; // a comment
      const [, kind, name, rest] = m as unknown as [string, string, string, string | undefined];
      if (!NAME.test(name)) throw new Error(`${where}: bad metric name ${name}`);
      let f = families.get(name);
      if (kind === 'TYPE') {
        if (!rest || !TYPES.has(rest)) throw new Error(`${where}: bad type ${rest}`);
        if (f?.samples.length) throw new Error(`${where}: TYPE of ${name} after its samples`);
        if (f && f.type !== 'untyped') throw new Error(`${where}: TYPE of ${name} twice`);
        if (!f) families.set(name, (f = { name, type: 'untyped', help: null, samples: [] }));
        f.type = rest as MetricType;
      } else {
        if (!f) families.set(name, (f = { name, type: 'untyped', help: null, samples: [] }));
        if (f.help !== null) throw new Error(`${where}: HELP of ${name} twice`);
        f.help = rest ?? '';
      }
      return;
    }
    const m = /^([a-zA-Z_:][a-zA-Z0-9_:]*)(?:\{(.*)\})? (\S+)(?: (-?\d+))?$/.exec(line);
    if (!m) throw new Error(`${where}: not a sample: ${line.slice(0, 80)}`);
    const [, name, labelText, value] = m as unknown as [string, string, string | undefined, string];
    const f = familyOf(name, families);
    if (!f) throw new Error(`${where}: sample of ${name} without a TYPE or HELP before it`);
    const labels = parseLabels(labelText ?? '', where);
    const key = `${name}${JSON.stringify(Object.entries(labels).sort())}`;
    if (seen.has(key)) throw new Error(`${where}: series ${name} twice`);
    seen.add(key);
    if (f.type === 'histogram' && name.endsWith('_bucket') && !('le' in labels)) throw new Error(`${where}: bucket without le`);
    f.samples.push({ name, labels, value: parseValue(value, where) });
  });
  for (const f of families.values()) if (f.type === 'histogram') checkHistogram(f);
  return families;
}

function checkHistogram(f: Family): void {
  const series = new Map<string, Sample[]>();
  const rest = (l: Readonly<Record<string, string>>) => JSON.stringify(Object.entries(l).filter(([k]) => k !== 'le').sort());
  for (const s of f.samples) if (s.name.endsWith('_bucket')) series.set(rest(s.labels), [...(series.get(rest(s.labels)) ?? []), s]);
  for (const [k, buckets] of series) {
    const sorted = [...buckets].sort((a, b) => parseValue(a.labels.le!, f.name) - parseValue(b.labels.le!, f.name));
    sorted.forEach((b, i) => {
      if (i && b.value < sorted[i - 1]!.value) throw new Error(`${f.name}: buckets not cumulative`);
    });
    const inf = sorted[sorted.length - 1]!;
    if (inf.labels.le !== '+Inf') throw new Error(`${f.name}: no +Inf bucket`);
    const count = f.samples.find((s) => s.name === `${f.name}_count` && rest(s.labels) === k);
    if (!count || count.value !== inf.value) throw new Error(`${f.name}: _count differs from the +Inf bucket`);
  }
}

/** The value of one series (labels must match exactly the ones given, others ignored); undefined when absent. */
export function sampleValue(families: Map<string, Family>, name: string, labels: Record<string, string> = {}): number | undefined {
  for (const f of families.values()) {
    const s = f.samples.find((x) => x.name === name && Object.entries(labels).every(([k, v]) => x.labels[k] === v));
    if (s) return s.value;
  }
  return undefined;
}

/** The sum over the series of one sample name whose labels match. */
export function sampleSum(families: Map<string, Family>, name: string, labels: Record<string, string> = {}): number {
  let n = 0;
  for (const f of families.values()) for (const x of f.samples) if (x.name === name && Object.entries(labels).every(([k, v]) => x.labels[k] === v)) n += x.value;
  return n;
}
