/**
 * Issue 10, item 2: whoever can write to the database but does not hold the secret cannot rewrite
 * the log unseen. Each attack is made as an owner of the tables would make it (the append-only
 * triggers switched off), and verify names the kind of tampering.
 */
import { Client } from 'pg';
import { randomUUID } from 'node:crypto';
import { BACKENDS, TEST_DATABASE_URL, capturingLogger, newSecret, tmpDir } from '../helpers/env';
import { harness, type Harness } from '../helpers/harness';
import { verifyCaseLog, type VerifyKind } from '../../src/caselog/verify';
import { anchorHeads } from '../../src/caselog/anchor';
import { canonicalJson, isoMs, sha256Hex } from '../../src/caselog/chain';
import { openCaseLogHere } from '../../src/caselog/open';
import { loadConfig } from '../../app/config';
import type { Queryable } from '../../src/caselog/db';

const kinds = async (h: Harness): Promise<VerifyKind[]> => [...new Set((await verifyCaseLog(h.db)).problems.map((p) => p.kind))].sort();

/** The attack today's verify accepted: edit, then recompute the chain as plain SHA-256. */
async function rechainWithoutKey(q: Queryable, caseId: number): Promise<void> {
  const { rows: c } = await q.query<{ ref: string }>('SELECT ref FROM cases WHERE id = $1', [caseId]);
  const { rows: evs } = await q.query<{ id: number; seq: number; at: Date; kind: string; actor: string; data: unknown }>(
    'SELECT id, seq, at, kind, actor, data FROM events WHERE case_id = $1 ORDER BY seq',
    [caseId],
  );
  let prev: string | null = null;
  for (const e of evs) {
    const hash = sha256Hex(`${prev ?? ''}\n${canonicalJson({ case: c[0]!.ref, seq: e.seq, at: isoMs(e.at), kind: e.kind, actor: e.actor, data: e.data })}`);
    await q.query('UPDATE events SET prev_hash = $2, hash = $3 WHERE id = $1', [e.id, prev, hash]);
    prev = hash;
  }
  await q.query('UPDATE cases SET head_hash = $2 WHERE id = $1', [caseId, prev]);
}

describe.each(BACKENDS)('tampering with the case log on %s', (backend) => {
  let h: Harness;
  beforeEach(async () => {
    h = await harness(backend);
    // Three cases: two reports in the first, one each in the others.
    const lines = [
      { id: 'a1', from: 'u1', text: 'Armed men at the checkpoint near the old bridge tonight', sentAt: '2026-06-10T05:00:00Z' },
      { id: 'a2', from: 'u2', text: 'Armed men at the checkpoint near the old bridge tonight', sentAt: '2026-06-10T05:01:00Z' },
      { id: 'b1', from: 'u3', text: 'The water station in the east district has been closed since Monday', sentAt: '2026-06-10T06:00:00Z' },
      { id: 'c1', from: 'u4', text: 'Prices of flour doubled at the market near the stadium this week', sentAt: '2026-06-10T07:00:00Z' },
    ];
    for (const l of lines) await h.sink(h.message(l));
    h.startWorker();
    await h.drained();
    await h.stopWorker();
    expect(await anchorHeads(h.db)).toMatchObject({ written: true, cases: 3 });
    expect(await verifyCaseLog(h.db)).toMatchObject({ ok: true, cases: 3, reports: 4 });
  });
  afterEach(async () => {
    await h.close();
  });
  const caseOf = async (nativeId: string) =>
    (await h.db.query<{ case_id: number; id: string }>('SELECT case_id, id FROM reports WHERE native_id = $1', [nativeId])).rows[0]!;
  const ownerMode = () => h.db.query('ALTER TABLE events DISABLE TRIGGER USER');

  test('the history refuses UPDATE, DELETE and TRUNCATE, for the tables’ owner too', async () => {
    await expect(h.db.query(`UPDATE events SET actor = 'someone'`)).rejects.toThrow(/events is append-only \(UPDATE refused\)/);
    await expect(h.db.query('DELETE FROM events')).rejects.toThrow(/append-only \(DELETE refused\)/);
    await expect(h.db.query('TRUNCATE events CASCADE')).rejects.toThrow(/append-only \(TRUNCATE refused\)/);
    await expect(h.db.query('DELETE FROM anchors')).rejects.toThrow(/anchors is append-only/);
    await expect(h.db.query('TRUNCATE informant_log')).rejects.toThrow(/informant_log is append-only/);
    expect((await verifyCaseLog(h.db)).ok).toBe(true);
  });

  test('a report edited and its chain recomputed without the key: rewritten', async () => {
    const r = await caseOf('b1');
    await ownerMode();
    await h.db.query(`UPDATE reports SET text = 'Nothing happened at the water station' WHERE id = $1`, [r.id]);
    await rechainWithoutKey(h.db, r.case_id);
    const v = await verifyCaseLog(h.db);
    expect(v.ok).toBe(false);
    expect(v.problems.every((p) => p.kind === 'rewritten')).toBe(true);
    expect(v.problems.map((p) => p.what).join('\n')).toMatch(/event hash mismatch/);
  });

  test('a report deleted with its counters adjusted: deleted-report', async () => {
    const r = await caseOf('a2');
    await h.db.query('DELETE FROM report_bands WHERE report_id = $1', [r.id]);
    await h.db.query('DELETE FROM reports WHERE id = $1', [r.id]);
    await h.db.query(`DELETE FROM case_informants WHERE case_id = $1 AND pseudonym = $2`, [r.case_id, h.keyring.pseudonym('simulator', 'u2')]);
    await h.db.query('UPDATE cases SET report_count = 1, informant_count = 1, last_report_at = first_report_at WHERE id = $1', [r.case_id]);
    expect(await kinds(h)).toEqual(['deleted-report']);
  });

  test('a whole case deleted with its events: deleted-case; its anchor removed as well: anchor', async () => {
    const r = await caseOf('c1');
    await ownerMode();
    await h.db.query('DELETE FROM report_bands WHERE report_id = $1', [r.id]);
    await h.db.query('DELETE FROM reports WHERE case_id = $1', [r.case_id]);
    await h.db.query('DELETE FROM case_informants WHERE case_id = $1', [r.case_id]);
    await h.db.query('DELETE FROM outbox WHERE case_id = $1', [r.case_id]);
    await h.db.query('DELETE FROM events WHERE case_id = $1', [r.case_id]);
    await h.db.query('DELETE FROM cases WHERE id = $1', [r.case_id]);
    expect(await kinds(h)).toEqual(['deleted-case']);
    await h.db.query('DELETE FROM case_anchors WHERE case_id = $1', [r.case_id]);
    expect(await kinds(h)).toEqual(['anchor']);
  });

  test('the last events of a chain removed and the case re-headed: truncated', async () => {
    const r = await caseOf('a1');
    await ownerMode();
    const { rows } = await h.db.query<{ seq: number; prev_hash: string }>('SELECT seq, prev_hash FROM events WHERE case_id = $1 ORDER BY seq DESC LIMIT 1', [r.case_id]);
    // The second copy's report.added is the last event: remove it and the report, fix every counter.
    const second = await caseOf('a2');
    await h.db.query('DELETE FROM events WHERE case_id = $1 AND seq = $2', [r.case_id, rows[0]!.seq]);
    await h.db.query('UPDATE cases SET head_hash = $2, event_seq = $3 WHERE id = $1', [r.case_id, rows[0]!.prev_hash, rows[0]!.seq - 1]);
    await h.db.query('DELETE FROM report_bands WHERE report_id = $1', [second.id]);
    await h.db.query('DELETE FROM reports WHERE id = $1', [second.id]);
    await h.db.query(`DELETE FROM case_informants WHERE case_id = $1 AND pseudonym = $2`, [r.case_id, h.keyring.pseudonym('simulator', 'u2')]);
    await h.db.query('UPDATE cases SET report_count = 1, informant_count = 1, last_report_at = first_report_at WHERE id = $1', [r.case_id]);
    const v = await verifyCaseLog(h.db);
    expect(v.problems.map((p) => p.kind)).toContain('truncated');
    expect(v.problems.find((p) => p.kind === 'truncated')!.what).toMatch(/were anchored/);
  });

  test('fields an operator relies on: tags, priority, entities, duplicate link, media state, blocked flag', async () => {
    const a2 = await caseOf('a2');
    const alter = async (sql: string, params: unknown[]) => {
      await h.db.query(sql, params);
      const v = await verifyCaseLog(h.db);
      return v.problems.map((p) => p.kind);
    };
    expect(await alter(`UPDATE reports SET tags = '{weapons}' WHERE id = $1`, [a2.id])).toContain('rewritten');
    await h.db.query(`UPDATE reports SET tags = '{}' WHERE id = $1`, [a2.id]);
    await h.db.query(`UPDATE reports SET tags = (SELECT tags FROM reports WHERE native_id = 'a1') WHERE id = $1`, [a2.id]);
    expect((await verifyCaseLog(h.db)).ok).toBe(true);
    for (const [sql, undo] of [
      [`UPDATE reports SET priority = 'urgent' WHERE id = $1`, `UPDATE reports SET priority = 'normal' WHERE id = $1`],
      [`UPDATE reports SET entities = '{"phones":["+000"],"urls":[],"emails":[],"wallets":[]}' WHERE id = $1`, `UPDATE reports SET entities = (SELECT entities FROM reports WHERE native_id = 'a1') WHERE id = $1`],
      [`UPDATE reports SET duplicate_of = NULL, duplicate_kind = NULL WHERE id = $1`, null],
    ] as const) {
      expect(await alter(sql, [a2.id])).toContain('rewritten');
      if (undo) await h.db.query(undo, [a2.id]);
    }
    const { rows } = await h.db.query<{ pseudonym: string }>('SELECT pseudonym FROM informants LIMIT 1');
    expect(await alter('UPDATE informants SET blocked = true WHERE pseudonym = $1', [rows[0]!.pseudonym])).toContain('rewritten');
    expect((await verifyCaseLog(h.db)).problems.find((p) => p.caseRef.startsWith('informant '))!.what).toMatch(/blocked is true, the log records false/);
  });
});

describe('PostgreSQL roles: the runtime role cannot rewrite the history', () => {
  const id = randomUUID().replace(/-/g, '').slice(0, 10);
  const owner = `t_owner_${id}`;
  const app = `t_app_${id}`;
  const schema = `t_roles_${id}`;
  const admin = new Client({ connectionString: TEST_DATABASE_URL });
  const urlAs = (role: string) => {
    const u = new URL(TEST_DATABASE_URL);
    u.username = role;
    u.searchParams.set('options', `-c search_path=${schema},public`);
    return u.toString();
  };
  beforeAll(async () => {
    await admin.connect();
    await admin.query(`CREATE ROLE ${owner} LOGIN`);
    await admin.query(`CREATE ROLE ${app} LOGIN`);
    await admin.query(`CREATE SCHEMA ${schema} AUTHORIZATION ${owner}`);
  });
  afterAll(async () => {
    await admin.query(`DROP SCHEMA IF EXISTS ${schema} CASCADE`);
    for (const r of [app, owner]) {
      await admin.query(`DROP OWNED BY ${r}`).catch(() => undefined);
      await admin.query(`DROP ROLE IF EXISTS ${r}`);
    }
    await admin.end();
  });

  test('migrations run as the owner; the runtime role writes reports but cannot change events', async () => {
    const dir = tmpDir();
    const env = { TIPHUB_SECRET: newSecret(), TIPHUB_DATA_DIR: dir, DATABASE_URL: urlAs(app), TIPHUB_MIGRATE_DATABASE_URL: urlAs(owner), TIPHUB_LOG_LEVEL: 'warn' };
    const cfg = loadConfig({ env, cwd: dir });
    const caselog = await openCaseLogHere(cfg, { log: capturingLogger().log });
    try {
      const { rows } = await admin.query<{ tableowner: string }>(`SELECT DISTINCT tableowner FROM pg_tables WHERE schemaname = $1`, [schema]);
      expect(rows.map((r) => r.tableowner)).toEqual([owner]);
      await caselog.db.query(`INSERT INTO cases (ref) VALUES ('AAA-AAAA')`);
      await caselog.db.query(`INSERT INTO events (case_id, seq, at, kind, actor, data, hash) SELECT id, 1, now(), 'case.opened', 't', '{}', 'x' FROM cases`);
      await expect(caselog.db.query(`UPDATE events SET actor = 'u'`)).rejects.toThrow(/permission denied/);
      await expect(caselog.db.query(`DELETE FROM events`)).rejects.toThrow(/permission denied/);
      await expect(caselog.db.query(`TRUNCATE events CASCADE`)).rejects.toThrow(/permission denied/);
      await expect(caselog.db.query(`ALTER TABLE events DISABLE TRIGGER USER`)).rejects.toThrow(/must be owner/);
      await caselog.db.query(`UPDATE cases SET priority = 'high'`); // the rest stays writable
    } finally {
      await caselog.close();
    }
  });
});
