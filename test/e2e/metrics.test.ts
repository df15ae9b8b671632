/**
 * Issue 14, item 3: /metrics of a running hub (the composition root, app/hub/hub.ts, as
 * `tiphub start` runs it) after a known workload through the simulator's live path, parsed as
 * Prometheus parses it: the counts equal the work done (and what the case log holds), every
 * metric the Grafana dashboard and the alert rules use is served, and nothing identifying is.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { randomBytes } from 'node:crypto';
import { startHub, type RunningHub } from '../../app/hub/hub';
import { openCaseLogAccess } from '../../app/hub/access';
import { SCRAPE_CACHE_MS } from '../../src/metrics';
import { createLogger } from '../../src/log';
import type { SimulatorAdapter } from '../../adapters/registry';
import { createOutboundQueue } from '../../src/queue/outbound-queue';
import { BACKENDS, capturingLogger, setup, waitFor, TEST_REDIS_URL, type TestSetup } from '../helpers/env';
import { parsePrometheusText, sampleSum, sampleValue, type Family } from '../helpers/prom-text';

const ROOT = path.resolve(__dirname, '../..');

/** Every tiphub_ name a PromQL text uses (loosely: identifiers; a histogram's series suffixes stripped). */
export function metricNamesIn(text: string): Set<string> {
  const names = new Set<string>();
  for (const m of text.matchAll(/\btiphub_[a-z0-9_]+/g)) names.add(m[0].replace(/_(bucket|sum|count)$/, ''));
  return names;
}

function filesUnder(dir: string, ext: string): string[] {
  return fs.readdirSync(dir, { withFileTypes: true }).flatMap((e) => (e.isDirectory() ? filesUnder(path.join(dir, e.name), ext) : e.name.endsWith(ext) ? [path.join(dir, e.name)] : []));
}

/** The expressions of the Grafana dashboards (each panel's targets) and of the alert rules. */
function monitoringExpressions(): { file: string; expr: string }[] {
  const out: { file: string; expr: string }[] = [];
  const walk = (v: unknown, file: string) => {
    if (Array.isArray(v)) v.forEach((x) => walk(x, file));
    else if (v && typeof v === 'object') {
      for (const [k, x] of Object.entries(v)) {
        if (k === 'expr' && typeof x === 'string') out.push({ file, expr: x });
        else walk(x, file);
      }
    }
  };
  for (const f of filesUnder(path.join(ROOT, 'config/grafana'), '.json')) walk(JSON.parse(fs.readFileSync(f, 'utf8')), f);
  const alerts = fs.readFileSync(path.join(ROOT, 'config/prometheus/alerts.yml'), 'utf8');
  for (const m of alerts.matchAll(/^\s*expr:\s*(>-?\s*\n((?:\s{10,}.*\n)+)|.*)$/gm)) out.push({ file: 'alerts.yml', expr: m[2] ?? m[1]! });
  return out;
}

async function scrape(url: string): Promise<{ text: string; families: Map<string, Family> }> {
  const res = await fetch(new URL('metrics', url));
  expect(res.status).toBe(200);
  expect(res.headers.get('content-type')).toMatch(/^text\/plain; version=0\.0\.4/);
  const text = await res.text();
  return { text, families: parsePrometheusText(text) };
}

describe.each(BACKENDS)('/metrics after a known workload (%s)', (backend) => {
  let s: TestSetup;
  let hub: RunningHub | null = null;
  beforeEach(async () => {
    // Finished jobs removed at once, so that a redelivery after commit reaches the intake (as after a
    // lost acknowledgement); failed sends given up after two attempts.
    s = await setup(backend, {
      queue: { keepCompleted: { ageSeconds: 0, count: 0 } },
      conversation: { ackDelayMs: 100, ackQuietMinutes: 0 },
      outbound: { attempts: 2, backoffMs: 50 },
      dashboard: { enabled: false },
    });
    hub = await startHub(s.cfg, process.env.DEBUG_HUB ? createLogger('info', process.stderr) : capturingLogger('warn').log);
  });
  afterEach(async () => {
    await hub?.stop();
    await s.cleanup();
  });

  test('received, committed, dedupe decisions, latency and replies equal the work done; the dashboards and alerts find their metrics; no identifier', async () => {
    const sim = hub!.adapters.get('simulator') as SimulatorAdapter;
    expect(hub!.opsUrl).toMatch(/^http:\/\/127\.0\.0\.1:\d+\/$/);
    const before = await scrape(hub!.opsUrl!);
    expect(sampleValue(before.families, 'tiphub_messages_received_total', { channel: 'simulator' })).toBe(0);

    // Six informants; the first text three times (two exact copies), three other texts.
    const shared = 'Convoy of pickups heading north out of Kirkuk on the old road';
    const texts = [shared, shared, shared, 'Explosion heard near the market of Erbil this morning', 'Checkpoint closed on the bridge road since dawn', 'Power cut across the whole eastern district tonight'];
    const tag = randomBytes(4).toString('hex');
    const senders = texts.map((_, i) => `+9647${tag}${String(i).padStart(3, '0')}`);
    const lines = texts.map((text, i) => ({ id: `m-${tag}-${i}`, from: senders[i]!, name: `Name ${tag} ${i}`, text, sentAt: new Date().toISOString() }));
    // Every informant but the last has a chat session: the last one's replies fail (nobody to deliver to).
    const delivered: string[] = [];
    senders.slice(0, -1).forEach((a) => sim.connect(a, (m) => void delivered.push(m.text)));
    // Each failed send, counted where it fails: a job's attemptsMade also counts an attempt that
    // stalled on a loaded machine before it reached the send.
    let sendsFailed = 0;
    const send = sim.send.bind(sim);
    sim.send = (address, message) =>
      send(address, message).catch((err: unknown) => {
        sendsFailed++;
        throw err;
      });
    for (const line of lines) await sim.handleInbound({ line, baseDir: s.dataDir });
    const committed = async () => sampleSum((await scrape(hub!.opsUrl!)).families, 'tiphub_reports_committed_total');
    await waitFor(async () => (await committed()) === lines.length, 30_000);
    // Two messages delivered again after they were committed (the platform never got our acknowledgement).
    for (const line of lines.slice(3, 5)) await sim.handleInbound({ line, baseDir: s.dataDir });
    await waitFor(async () => sampleValue((await scrape(hub!.opsUrl!)).families, 'tiphub_dedupe_decisions_total', { kind: 'transport' }) === 2, 30_000);

    // The replies: wait until the outbound queue is done (the unreachable informant's jobs failed).
    const outbound = createOutboundQueue(TEST_REDIS_URL, s.cfg, 'simulator');
    try {
      await waitFor(async () => {
        const c = await outbound.getJobCounts('waiting', 'active', 'delayed', 'prioritized');
        return Object.values(c).every((n) => n === 0) && (await outbound.getJobCounts('failed')).failed! > 0 && delivered.length > 0;
      }, 30_000);
      // Past the scrape cache: every gauge read after the work is done.
      await new Promise((r) => setTimeout(r, SCRAPE_CACHE_MS + 200));
      const failedJobs = await outbound.getFailed();
      const attempts = failedJobs.reduce((n, j) => n + j.attemptsMade, 0);

      const { text, families } = await scrape(hub!.opsUrl!);
      const readyz = await (await fetch(new URL('readyz', hub!.opsUrl!))).text();
      // The case log, read once the hub let go of it (PGlite is one process's).
      await hub!.stop();
      hub = null;
      const access = await openCaseLogAccess(s.cfg, capturingLogger('warn').log, { role: 'test' });
      const dbQuery = (sql: string) => access.local!.db.query<Record<string, string>>(sql);
      try {
      const N = lines.length + 2;
      expect(sampleValue(families, 'tiphub_messages_received_total', { channel: 'simulator' })).toBe(N);
      expect(sampleSum(families, 'tiphub_reports_committed_total', { channel: 'simulator', origin: 'live' })).toBe(N - 2);
      expect(sampleSum(families, 'tiphub_reports_committed_total')).toBe(N - 2);
      // The decisions by kind, as the case log recorded them.
      const { rows } = await dbQuery(`SELECT coalesce(duplicate_kind, 'none') AS kind, count(*)::int AS n FROM reports GROUP BY 1`);
      const logged = Object.fromEntries(rows.map((r) => [r.kind, Number(r.n)]));
      expect(logged.exact).toBe(2);
      for (const kind of ['none', 'exact', 'near', 'followup', 'media', 'edit']) {
        expect([kind, sampleValue(families, 'tiphub_dedupe_decisions_total', { kind })]).toEqual([kind, logged[kind] ?? 0]);
      }
      expect(sampleValue(families, 'tiphub_dedupe_decisions_total', { kind: 'transport' })).toBe(2);
      // One latency per committed report, each between the sink and now.
      expect(sampleValue(families, 'tiphub_commit_latency_seconds_count')).toBe(N - 2);
      expect(sampleValue(families, 'tiphub_commit_latency_seconds_sum')).toBeGreaterThan(0);
      expect(sampleValue(families, 'tiphub_commit_latency_seconds_sum')).toBeLessThan(30 * (N - 2));
      // Replies: every one a session got is counted sent; every failed attempt by its code.
      expect(sampleValue(families, 'tiphub_outbound_sent_total', { channel: 'simulator' })).toBe(delivered.length);
      expect(sendsFailed).toBeGreaterThan(0);
      expect(attempts).toBeGreaterThanOrEqual(sendsFailed);
      expect(sampleValue(families, 'tiphub_outbound_failed_total', { channel: 'simulator', reason: 'TIPHUB_SEND_FAILED' })).toBe(sendsFailed);
      // Scrape-time gauges.
      expect(sampleValue(families, 'tiphub_queue_jobs', { queue: 'outbound-simulator', state: 'failed' })).toBe(failedJobs.length);
      expect(sampleValue(families, 'tiphub_queue_jobs', { queue: 'intake', state: 'waiting' })).toBe(0);
      expect(sampleValue(families, 'tiphub_channel_connected', { channel: 'simulator' })).toBe(1);
      const openCases = Number((await dbQuery(`SELECT count(*)::int AS n FROM cases WHERE status <> 'closed' AND merged_into IS NULL`)).rows[0]!.n);
      expect(openCases).toBeGreaterThanOrEqual(4);
      expect(sampleValue(families, 'tiphub_cases_open')).toBe(openCases);
      expect(sampleValue(families, 'tiphub_data_dir_free_bytes')).toBeGreaterThan(0);
      expect(sampleValue(families, 'tiphub_data_dir_size_bytes')).toBeGreaterThanOrEqual(sampleValue(families, 'tiphub_data_dir_free_bytes')!);
      expect(sampleValue(families, 'tiphub_process_resident_memory_bytes')).toBeGreaterThan(0);

      // Every metric the Grafana dashboard and the alert rules use is served.
      const served = new Set([...families.keys()]);
      const exprs = monitoringExpressions();
      expect(exprs.length).toBeGreaterThan(10);
      const missing = exprs.flatMap(({ file, expr }) => [...metricNamesIn(expr)].filter((n) => !served.has(n)).map((n) => `${path.basename(file)}: ${n}`));
      expect(missing).toEqual([]);

      // Nothing identifying: no address, name, text, message id, pseudonym or case reference.
      const ids = (await dbQuery('SELECT r.id, r.informant, c.ref FROM reports r JOIN cases c ON c.id = r.case_id')).rows;
      const secrets = [...senders, ...senders.map((a) => a.slice(1)), ...lines.map((l) => l.name), ...lines.map((l) => l.id), tag, ...texts.flatMap((t) => t.split(' ').filter((w) => w.length > 6)), ...ids.flatMap((r) => [r.id, r.informant, r.ref]), s.env.TIPHUB_SECRET!];
      for (const body of [text, readyz]) {
        for (const v of secrets) expect([v, body.includes(v)]).toEqual([v, false]);
      }
      // Every label value is a word of a fixed list.
      const ours = [...families.values()].filter((f) => !/^tiphub_(process|nodejs)_/.test(f.name));
      for (const f of ours) for (const x of f.samples) for (const [k, v] of Object.entries(x.labels)) if (k !== 'le') expect(`${k}=${v}`).toMatch(/^[a-z]+=([a-z][a-z0-9-]*|TIPHUB_[A-Z_]+)$/);
      } finally {
        await access.close();
      }
    } finally {
      await outbound.close();
    }
  });
});

