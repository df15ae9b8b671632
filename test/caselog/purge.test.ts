/**
 * Issue 10, item 17: retention. A closed case unchanged for N days loses its reports, sealed
 * payloads, media no other report uses (row and file), texts and queued messages; its chain ends
 * in a tombstone and still verifies. Open cases, recently closed ones, and media shared with a
 * live case stay.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import sharp from 'sharp';
import { BACKENDS } from '../helpers/env';
import { harness, type Harness } from '../helpers/harness';
import { planPurge, purgeCases } from '../../src/caselog/purge';
import { verifyCaseLog } from '../../src/caselog/verify';
import { appendCaseEvent } from '../../src/caselog/events';
import { splitReport } from '../../src/caselog/corrections';
import { queueReply } from '../../src/conversation/operator';
import { MediaStore } from '../../src/media/store';
import { anchorHeads } from '../../src/caselog/anchor';

const TEXT_A = 'Armed men in two white pickups at the checkpoint near the old bridge tonight';
const TEXT_B = 'The water station in the east district has been closed since Monday morning';
const TEXT_C = 'Prices of flour doubled at the market near the stadium this week, people are angry';

async function photo(r: number): Promise<Buffer> {
  return sharp({ create: { width: 32, height: 24, channels: 3, background: { r, g: 90, b: 30 } } }).jpeg().toBuffer();
}

describe.each(BACKENDS)('purging closed cases on %s', (backend) => {
  let h: Harness;
  let store: MediaStore;
  const sha: Record<string, string> = {};

  /** Sinks a tip whose photo is copied into the media store first, as ingest does. */
  async function tip(id: string, from: string, text: string, file?: string) {
    const m = h.message({ id, from, text, sentAt: `2026-06-10T05:0${Object.keys(sha).length}:00Z`, ...(file ? { media: [{ file }] } : {}) });
    for (const md of m.media) {
      const s = await store.putFile(md.ref, 1 << 20);
      Object.assign(md, { sha256: s.sha256, storedSize: s.size, sniffedMime: s.mime, size: s.size });
      sha[file!] = s.sha256;
    }
    await h.sink(m);
  }
  const caseOf = async (nativeId: string) =>
    (await h.db.query<{ case_id: number; ref: string; id: string; informant: string }>(
      'SELECT r.case_id, c.ref, r.id, r.informant FROM reports r JOIN cases c ON c.id = r.case_id WHERE r.native_id = $1',
      [nativeId],
    )).rows[0]!;
  const close = (caseId: number) =>
    h.db.transaction(async (tx) => {
      await tx.query(`UPDATE cases SET status = 'closed' WHERE id = $1`, [caseId]);
      await appendCaseEvent(tx, caseId, 'case.status', 'op-amina', { status: 'closed' });
    });
  const age = (caseId: number, days: number) => h.db.query(`UPDATE cases SET updated_at = now() - make_interval(days => $2) WHERE id = $1`, [caseId, days]);

  beforeEach(async () => {
    h = await harness(backend);
    store = new MediaStore(path.join(h.dataDir, 'media'));
    for (const k of Object.keys(sha)) delete sha[k];
    fs.writeFileSync(path.join(h.dataDir, 'p1.jpg'), await photo(200));
    fs.writeFileSync(path.join(h.dataDir, 'p2.jpg'), await photo(20));
    await tip('a1', 'u1', TEXT_A, 'p1.jpg');
    await tip('a2', 'u2', TEXT_A, 'p2.jpg');
    await tip('a3', 'u3', TEXT_A, 'p1.jpg');
    await tip('b1', 'u4', TEXT_B);
    await tip('c1', 'u5', TEXT_C);
    h.startWorker();
    await h.drained();
    await h.stopWorker();
  });
  afterEach(async () => {
    await h.close();
  });

  test('a closed case unchanged for longer than the limit loses its content; its chain ends in a tombstone and verifies', async () => {
    const a = await caseOf('a1');
    expect((await caseOf('a2')).case_id).toBe(a.case_id);
    expect((await caseOf('a3')).case_id).toBe(a.case_id);
    // a3 (same photo as a1) goes to a case of its own that stays open: p1 is still in use there.
    const d = await splitReport(h.db, a.ref, (await caseOf('a3')).id, 'op-amina');
    await queueReply(h.db, { ref: a.ref, text: 'Which checkpoint exactly, the north or the south one?', all: true, actor: 'op-amina' });
    const b = await caseOf('b1');
    await queueReply(h.db, { ref: b.ref, text: 'Is the station still closed today?', actor: 'op-amina' });
    const c = await caseOf('c1');
    await close(a.case_id);
    await close(b.case_id);
    await age(a.case_id, 40);
    await age(c.case_id, 40); // old but open
    // b: closed, but only just.

    const plan = await planPurge(h.db, { olderThanDays: 30 });
    expect(plan.cases.map((x) => x.ref)).toEqual([a.ref]);
    expect(plan).toMatchObject({ reports: 2, media: 2, texts: 1 });
    expect(await h.count('SELECT count(*) AS n FROM reports WHERE case_id = $1', [a.case_id])).toBe(2); // a dry run changes nothing

    const before = await h.count('SELECT count(*) AS n FROM reports');
    const s = await purgeCases(h.db, { olderThanDays: 30, actor: 'retention' }, (x) => store.remove(x));
    expect(s).toMatchObject({ cases: 1, reports: 2, texts: 1, media: 1, files: 1 });
    expect(await h.count('SELECT count(*) AS n FROM reports')).toBe(before - 2);
    for (const t of ['case_informants', 'outbox']) expect(await h.count(`SELECT count(*) AS n FROM ${t} WHERE case_id = $1`, [a.case_id])).toBe(0);
    expect(await h.count('SELECT count(*) AS n FROM case_texts WHERE case_id = $1 AND text_sealed IS NOT NULL', [a.case_id])).toBe(0);
    expect(await h.count('SELECT count(*) AS n FROM report_bands b WHERE NOT EXISTS (SELECT 1 FROM reports r WHERE r.id = b.report_id)')).toBe(0);
    // p2 was used only there: row and file gone. p1 is still a3's, in the open case.
    expect(await h.count('SELECT count(*) AS n FROM media WHERE sha256 = $1', [sha['p2.jpg']])).toBe(0);
    expect(fs.existsSync(store.pathOf(sha['p2.jpg']!))).toBe(false);
    expect(await h.count('SELECT count(*) AS n FROM media WHERE sha256 = $1', [sha['p1.jpg']])).toBe(1);
    expect(fs.existsSync(store.pathOf(sha['p1.jpg']!))).toBe(true);
    // u1 and u2 have no report left: pseudonym and log stay, the address goes. u3 still has a3.
    const { rows: inf } = await h.db.query<{ pseudonym: string; address_sealed: string | null }>('SELECT pseudonym, address_sealed FROM informants');
    const addr = new Map(inf.map((i) => [i.pseudonym, i.address_sealed]));
    expect(addr.get(h.keyring.pseudonym('simulator', 'u1'))).toBeNull();
    expect(addr.get(h.keyring.pseudonym('simulator', 'u2'))).toBeNull();
    expect(addr.get(h.keyring.pseudonym('simulator', 'u3'))).toEqual(expect.any(String));

    const { rows: tail } = await h.db.query<{ kind: string; actor: string; data: Record<string, unknown> }>(
      'SELECT kind, actor, data FROM events WHERE case_id = $1 ORDER BY seq DESC LIMIT 1',
      [a.case_id],
    );
    expect(tail[0]).toMatchObject({ kind: 'case.purged', actor: 'retention', data: { reports: 2, texts: 1, media: 1 } });
    const { rows: cs } = await h.db.query<{ ref: string; status: string; report_count: number }>('SELECT ref, status, report_count FROM cases WHERE id = $1', [a.case_id]);
    expect(cs[0]).toEqual({ ref: a.ref, status: 'closed', report_count: 0 });
    // The others are untouched.
    expect(await h.count('SELECT count(*) AS n FROM reports WHERE case_id IN ($1, $2)', [b.case_id, c.case_id])).toBe(2);
    expect(d.to).not.toBe(a.ref);

    await anchorHeads(h.db);
    expect(await verifyCaseLog(h.db)).toMatchObject({ ok: true });
    // A second run finds nothing left to do.
    expect((await planPurge(h.db, { olderThanDays: 30 })).cases).toEqual([]);
    expect(await purgeCases(h.db, { olderThanDays: 30 }, null)).toMatchObject({ cases: 0 });
  });

  test('a text removed without a purge is a deletion verify names', async () => {
    const b = await caseOf('b1');
    await queueReply(h.db, { ref: b.ref, text: 'Is the station still closed today?', actor: 'op-amina' });
    expect((await verifyCaseLog(h.db)).ok).toBe(true);
    await h.db.query('UPDATE case_texts SET text_sealed = NULL WHERE case_id = $1', [b.case_id]);
    const v = await verifyCaseLog(h.db);
    expect(v.ok).toBe(false);
    expect(v.problems.map((p) => `${p.kind}: ${p.what}`)).toEqual([expect.stringMatching(/^deleted-report: text t[0-9a-f]+ was removed, and no purge records it/)]);
  });
});
