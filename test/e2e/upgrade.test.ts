/**
 * Issue 14, item 6: a new version starts on an old log. The fixture is a case log as tiphub
 * 5bb50b4 (2026-11-24, case log schema 3) left it, made by that version's own commands
 * (test/fixtures/caselog-v3/make.sh): 62 tips from the sample file, a photo sent twice, a reply
 * queued, two cases merged. This version opens it, runs every later migration once (the keyed
 * chains re-anchor the history under the audit key), and then: verify passes, the export has the
 * same cases, reports, pseudonyms and texts as the old version's, the old media still belong to
 * their reports, and the hub started on it groups a new copy of an old tip into the old case.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { gunzipSync } from 'node:zlib';
import { Client } from 'pg';
import { BACKENDS, setup, TEST_DATABASE_URL, type Backend, type TestSetup } from '../helpers/env';
import { runCli, startCli } from '../helpers/cli';
import { openPglite } from '../../src/caselog/db';
import { pgliteDir } from '../../src/caselog/open';
import { migrations } from '../../src/caselog/migrations';

const FIXTURE = path.join(__dirname, '../fixtures/caselog-v3');
/** The test secret the fixture was made under (make.sh). */
const OLD_SECRET = 'f'.repeat(64);
const LATEST = Math.max(...migrations.map((m) => m.id));

interface ExportedCase {
  ref: string;
  reportCount: number;
  informantCount: number;
  reports: { id: string; nativeId: string; informant: string; text: string | null; media?: { sha256: string }[] }[];
}

const parseExport = (jsonl: string): ExportedCase[] =>
  jsonl
    .trim()
    .split('\n')
    .map((l) => JSON.parse(l) as ExportedCase);

/** What must survive an upgrade: which reports make each case, and each report's informant, text and media. */
const essence = (cases: ExportedCase[]) =>
  cases
    .map((c) => ({
      ref: c.ref,
      reportCount: c.reportCount,
      informantCount: c.informantCount,
      reports: c.reports.map((r) => ({ id: r.id, nativeId: r.nativeId, informant: r.informant, text: r.text, media: (r.media ?? []).map((m) => m.sha256) })).sort((a, b) => a.id.localeCompare(b.id)),
    }))
    .sort((a, b) => a.ref.localeCompare(b.ref));

/** The old version's statements, into this test's schema (PostgreSQL) or its embedded folder. */
async function loadOldLog(s: TestSetup, backend: Backend): Promise<void> {
  const dump = gunzipSync(fs.readFileSync(path.join(FIXTURE, 'dump.sql.gz'))).toString('utf8').replace(/^CREATE SCHEMA __SCHEMA__;$/m, '');
  if (backend === 'postgres') {
    const c = new Client({ connectionString: TEST_DATABASE_URL });
    await c.connect();
    try {
      await c.query(dump.replaceAll('__SCHEMA__', s.schema!));
    } finally {
      await c.end();
    }
  } else {
    const db = await openPglite(pgliteDir(s.dataDir));
    try {
      // pg_dump's plain statements, one per line end with ";" (schema 3 has no function bodies).
      for (const stmt of dump.replaceAll('__SCHEMA__', 'public').split(/;\n/).map((x) => x.trim()).filter(Boolean)) await db.query(stmt);
    } finally {
      await db.close();
    }
  }
  fs.cpSync(path.join(FIXTURE, 'media'), path.join(s.dataDir, 'media'), { recursive: true });
}

async function schemaVersion(s: TestSetup, backend: Backend): Promise<number> {
  const sql = 'SELECT max(id)::int AS v FROM schema_migrations';
  if (backend === 'postgres') {
    const c = new Client({ connectionString: s.env.DATABASE_URL });
    await c.connect();
    try {
      return (await c.query<{ v: number }>(sql)).rows[0]!.v;
    } finally {
      await c.end();
    }
  }
  const db = await openPglite(pgliteDir(s.dataDir));
  try {
    return (await db.query<{ v: number }>(sql)).rows[0]!.v;
  } finally {
    await db.close();
  }
}

jest.setTimeout(300_000);

describe.each(BACKENDS)('a case log left by tiphub at schema 3 opens in this version, on %s', (backend: Backend) => {
  let s: TestSetup;
  let env: Record<string, string>;
  beforeAll(async () => {
    s = await setup(backend);
    env = { ...s.env, TIPHUB_SECRET: OLD_SECRET };
    await loadOldLog(s, backend);
  });
  afterAll(async () => {
    await s.cleanup();
  });

  test('migrated once; verify, export and media as the old version left them; the hub on it groups a new copy into the old case', async () => {
    const old = parseExport(fs.readFileSync(path.join(FIXTURE, 'export.jsonl'), 'utf8'));
    expect(await schemaVersion(s, backend)).toBe(3);

    const v = await runCli(['verify'], env);
    expect(v.stderr).toBe('');
    expect(v.stdout).toMatch(/^verify: intact: 38 cases, 62 reports/m);
    expect(v.code).toBe(0);
    expect(await schemaVersion(s, backend)).toBe(LATEST);

    const ex = await runCli(['export'], env);
    expect(ex.code).toBe(0);
    const now = parseExport(ex.stdout);
    expect(essence(now)).toEqual(essence(old));
    // The photo sent twice: both reports still name the file the old version stored, and it is there.
    const photo = now.flatMap((c) => c.reports).filter((r) => (r.media ?? []).length);
    expect(photo.map((r) => r.nativeId).sort()).toEqual(['m-1', 'm-2']);
    const sha = photo[0]!.media![0]!.sha256;
    expect(fs.existsSync(path.join(s.dataDir, 'media', sha.slice(0, 2), sha.slice(2, 4), sha))).toBe(true);

    // A second opening applies nothing more and changes nothing.
    expect((await runCli(['export'], env)).stdout).toBe(ex.stdout);

    // The hub runs on it: a new copy of an old tip, from a new sender, joins the old case.
    const first = old.find((c) => c.reports.some((r) => r.nativeId === 'c-0001'))!;
    const hub = startCli(['start'], env);
    try {
      await hub.waitForOutput(/tiphub is running/);
      const tips = path.join(s.dataDir, 'new.jsonl');
      const text = first.reports.find((r) => r.nativeId === 'c-0001')!.text!;
      fs.writeFileSync(tips, JSON.stringify({ id: 'n-1', from: '+9647700000999', text, sentAt: '2026-12-08T08:00:00Z' }) + '\n');
      const ing = await runCli(['ingest', tips], env);
      expect(ing.stdout).toMatch(/^ingest: 1 lines: 1 accepted/m);
      const shown = await runCli(['case', 'show', first.ref], env);
      expect(shown.code).toBe(0);
      expect(shown.stdout).toMatch(new RegExp(`^  reports: +${first.reportCount + 1} from ${first.informantCount + 1} informant`, 'm'));
      expect(shown.stdout).toMatch(/ exact of mbf4ece048e5412fa8687f17a1ee29b6a\n.*\n$/);
    } finally {
      expect(await hub.stop()).toBe(0);
    }
    const after = await runCli(['verify'], env);
    expect(after.stdout).toMatch(/^verify: intact: 38 cases, 63 reports/m);
    const grown = parseExport((await runCli(['export'], env)).stdout).find((c) => c.ref === first.ref)!;
    expect(grown).toMatchObject({ reportCount: first.reportCount + 1, informantCount: first.informantCount + 1 });
  });
});
