/**
 * Alerts end to end with the real program: `tiphub start` with alerts.webhookUrl pointing at a
 * local HTTP receiver, `tiphub ingest` of simulator messages whose text matches the shipped
 * high-priority rules (config/priority.yaml). Exactly one signed POST per case the rules make
 * high for the first time (at its creation, or as a report joins it), none for a normal case or
 * a copy joining a case already alerted; no tip word, sender, name or pseudonym in any body; the
 * webhook's token masked in `tiphub config check` and absent from the hub's log.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { createHmac } from 'node:crypto';
import { BACKENDS, setup, waitFor, type TestSetup } from '../helpers/env';
import { runCli, startCli, type Background } from '../helpers/cli';
import { openPglite, openPostgres, type Db } from '../../src/caselog/db';
import { startReceiver, type Receiver } from '../unit/alerts-receiver';

const TOKEN_PATH = 'T0KEN0123456789abcdef';
const TOKEN_QUERY = 's3cr3t-query-token';

const tips = [
  { id: 'a1', from: '+9647701234567', name: 'Layla Haddad', text: 'They threaten to blow up the bridge with a car bomb tonight' },
  { id: 'a2', from: 'kurdish-sender-22', name: 'Karwan Aziz', text: 'Armed men kidnapped two teachers near the school this morning' },
  { id: 'a3', from: 'baker-sender-33', name: 'Omar Saleh', text: 'The bakery on main street has fresh bread today' },
  // The same words as a1 from someone else: joins a1's case, already high, no second alert.
  { id: 'a4', from: '+9647709876543', name: 'Samir Nouri', text: 'They threaten to blow up the bridge with a car bomb tonight' },
];
// Later, from a3's sender: a follow-up that joins their normal case and makes it high.
const followUp = { id: 'a5', from: 'baker-sender-33', name: 'Omar Saleh', text: 'Now a drone strike hit the market in Mosul an hour ago' };

describe.each(BACKENDS)('alerts on %s', (backend) => {
  let s: TestSetup;
  let hub: Background | null = null;
  let receiver: Receiver;
  beforeEach(async () => {
    receiver = await startReceiver(`/hook/${TOKEN_PATH}?token=${TOKEN_QUERY}`);
    s = await setup(backend, { alerts: { webhookUrl: receiver.url, backoffMs: 100 } });
    s.env.TIPHUB_LOG_LEVEL = 'info';
  });
  afterEach(async () => {
    await hub?.stop('SIGKILL');
    hub = null;
    await receiver.close();
    await s.cleanup();
  });

  const openDb = (): Promise<Db> => (s.env.DATABASE_URL ? openPostgres({ url: s.env.DATABASE_URL }) : openPglite(path.join(s.dataDir, 'caselog')));

  test('one signed POST per case made high, with its reference and counts and nothing identifying', async () => {
    // A 500 first: the alert is posted again and still arrives once.
    receiver.answers = [500];
    hub = startCli(['start'], s.env);
    await hub.waitForOutput(/"msg":"hub ready"/, 120_000);

    const file = path.join(s.dataDir, 'tips.jsonl');
    fs.writeFileSync(file, tips.map((t) => JSON.stringify(t)).join('\n') + '\n');
    const first = await runCli(['ingest', file], s.env);
    // (Under load a job may run twice and count as "already present": the report is there once either way.)
    expect(first.stdout).toMatch(/ingest: 4 lines: \d accepted, \d already present, 0 rejected/);
    const posts = () => receiver.got.filter((g) => g.headers['x-tiphub-delivery']);
    const delivered = () => [...new Map(posts().map((g) => [g.headers['x-tiphub-delivery'], g])).values()];
    await waitFor(async () => delivered().length >= 2 && posts().length >= 3, 30_000);

    fs.writeFileSync(file, JSON.stringify(followUp) + '\n');
    expect((await runCli(['ingest', file], s.env)).stdout).toMatch(/ingest: 1 lines: \d accepted, \d already present, 0 rejected/);
    await waitFor(async () => delivered().length >= 3, 30_000);
    await new Promise((r) => setTimeout(r, 1500)); // nothing more comes

    const db = await openDbWhenHub(openDb, backend, hub);
    let cases: { ref: string; priority: string; tags: string[]; channels: string[]; report_count: number; natives: string[] }[];
    let pseudonyms: string[];
    try {
      cases = (
        await db.query<(typeof cases)[number]>(
          `SELECT c.ref, c.priority, c.tags, c.channels, c.report_count, array_agg(r.native_id ORDER BY r.native_id) AS natives
             FROM cases c JOIN reports r ON r.case_id = c.id GROUP BY c.id ORDER BY min(r.native_id)`,
        )
      ).rows;
      pseudonyms = (await db.query<{ pseudonym: string }>('SELECT pseudonym FROM informants')).rows.map((r) => r.pseudonym);
    } finally {
      await db?.close();
    }
    // Three cases, all high now: a1+a4, a2, a3+a5.
    expect(cases.map((c) => [c.natives, c.priority, c.report_count])).toEqual([
      [['a1', 'a4'], 'high', 2],
      [['a2'], 'high', 1],
      [['a3', 'a5'], 'high', 2],
    ]);
    const bodies = delivered().map((g) => JSON.parse(g.body) as Record<string, unknown>);
    expect(posts()).toHaveLength(4); // three alerts, one of them posted twice (the 500)
    expect(bodies.map((b) => b.case).sort()).toEqual(cases.map((c) => c.ref).sort());
    for (const b of bodies) {
      expect(Object.keys(b).sort()).toEqual(['at', 'case', 'channels', 'kind', 'priority', 'reportCount', 'tags']);
      const c = cases.find((x) => x.ref === b.case)!;
      expect(b).toMatchObject({ kind: 'case.high-priority', priority: 'high', tags: c.tags, channels: ['simulator'] });
      expect(Date.parse(String(b.at))).toBeGreaterThan(Date.now() - 120_000);
    }
    // The follow-up's case was alerted when the follow-up raised it: with both its reports.
    expect(bodies.find((b) => b.case === cases[2]!.ref)!.reportCount).toBe(2);
    expect(bodies.find((b) => b.case === cases[1]!.ref)!.reportCount).toBe(1);

    // Nothing identifying: no word of a tip, no sender, name or pseudonym.
    // (The tags are vocabulary words, some of them in the tips: "armed" of armed-group.)
    const all = receiver.got.map((g) => JSON.stringify({ ...(JSON.parse(g.body) as object), tags: undefined })).join('\n').toLowerCase();
    const words = [...tips, followUp].flatMap((t) => t.text.toLowerCase().split(/\W+/).filter((w) => w.length >= 5));
    for (const w of new Set(words)) expect(all).not.toContain(w);
    for (const t of [...tips, followUp]) {
      expect(all).not.toContain(t.from.toLowerCase());
      expect(all).not.toContain(t.name.toLowerCase());
    }
    for (const p of pseudonyms) expect(all).not.toContain(p);

    // The signature verifies with the key `tiphub alerts key` prints (derived from the hub's secret).
    const keyOut = await runCli(['alerts', 'key'], s.env);
    expect(keyOut.code).toBe(0);
    const key = Buffer.from(keyOut.stdout.trim(), 'hex');
    expect(key).toHaveLength(32);
    for (const g of receiver.got) expect(g.headers['x-tiphub-signature']).toBe(`sha256=${createHmac('sha256', key).update(g.body).digest('hex')}`);
    expect(receiver.got[0]!.url).toBe(`/hook/${TOKEN_PATH}?token=${TOKEN_QUERY}`);

    // The webhook's tokens: masked in `config check`, never in the hub's log.
    const check = await runCli(['config', 'check'], s.env);
    expect(check.code).toBe(0);
    expect(check.stdout).toContain('"webhookUrl": "http://127.0.0.1:');
    expect(check.stdout).toContain('/hook/***?token=***');
    for (const out of [check.stdout, hub.output(), first.stderr]) {
      expect(out).not.toContain(TOKEN_PATH);
      expect(out).not.toContain(TOKEN_QUERY);
    }
  }, 300_000); // two hubs' starts (or PGlite) on a loaded machine: more than the default 120 s
});

/** PGlite is held by the running hub: stop it first (PostgreSQL is shared). */
async function openDbWhenHub(open: () => Promise<Db>, backend: string, hub: Background | null): Promise<Db> {
  if (backend === 'pglite' && hub) await hub.stop('SIGTERM');
  return open();
}
