/**
 * Issue 11, item 7: exports over real HTTP, on PostgreSQL and PGlite. The filtered list as CSV
 * (RFC 4180, formula guard) and JSON lines across every page; a case's evidence bundle (unzipped
 * with /usr/bin/unzip: the manifest's hashes match, the chain recomputes with the audit key, chosen
 * reports are left out with their media); who may; each export in the operators' audit.
 */
import { execFileSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import * as fs from 'node:fs';
import * as path from 'node:path';
import sharp from 'sharp';
import { BACKENDS } from '../helpers/env';
import { harness, type Harness } from '../helpers/harness';
import { MediaStore } from '../../src/media/store';
import { anchorHeads } from '../../src/caselog/anchor';
import { anchorMac, anchorTerm, eventHash } from '../../src/caselog/chain';
import { listOperatorAudit } from '../../src/operators/audit';
import { operator, serve, type Served, type Who } from './records-http';

const SHARED = 'Armed men in two white pickups at the checkpoint near the old bridge tonight';
const TEXTS = [
  '=HYPERLINK("http://evil.example/x","click") water cut in the east',
  'He said "stop, now", then the convoy left the market square',
  '@everyone the power station near the river is on fire',
  '-1 dead, two wounded near the school, people are gathering',
];

/** RFC 4180: fields split on commas outside quotes, "" inside quotes a quote, records end in CRLF. */
function parseCsv(text: string): string[][] {
  const rows: string[][] = [];
  let row: string[] = [];
  let cell = '';
  let quoted = false;
  for (let i = 0; i < text.length; i++) {
    const ch = text[i]!;
    if (quoted) {
      if (ch === '"' && text[i + 1] === '"') {
        cell += '"';
        i++;
      } else if (ch === '"') quoted = false;
      else cell += ch;
    } else if (ch === '"') quoted = true;
    else if (ch === ',') {
      row.push(cell);
      cell = '';
    } else if (ch === '\r' && text[i + 1] === '\n') {
      row.push(cell);
      rows.push(row);
      row = [];
      cell = '';
      i++;
    } else cell += ch;
  }
  if (cell || row.length) throw new Error('the last record does not end in CRLF');
  return rows;
}

const sha256 = (b: Buffer) => createHash('sha256').update(b).digest('hex');

describe.each(BACKENDS)('exports on %s', (backend) => {
  let h: Harness;
  let srv: Served;
  let admin: Who;
  let supervisor: Who;
  let analyst: Who;
  let sharedRef: string;
  const ids: Record<string, string> = {};
  const photos: Record<string, string> = {};

  beforeAll(async () => {
    h = await harness(backend, { conversation: { enabled: false } });
    const store = new MediaStore(path.join(h.dataDir, 'media'));
    let n = 0;
    const tip = async (id: string, from: string, text: string, file?: string) => {
      const m = h.message({ id, from, text, sentAt: `2026-06-10T05:${String(10 + n++).padStart(2, '0')}:00Z`, ...(file ? { media: [{ file }] } : {}) });
      for (const md of m.media) {
        const s = await store.putFile(md.ref, 1 << 20);
        Object.assign(md, { sha256: s.sha256, storedSize: s.size, sniffedMime: s.mime, size: s.size });
        photos[file!] = s.sha256;
      }
      ids[id] = m.id;
      await h.sink(m);
    };
    for (const [file, r] of [['p1.jpg', 200], ['p2.jpg', 20]] as const) {
      fs.writeFileSync(path.join(h.dataDir, file), await sharp({ create: { width: 32, height: 24, channels: 3, background: { r, g: 90, b: 30 } } }).jpeg().toBuffer());
    }
    await tip('s1', 'addr-export-0001', SHARED, 'p1.jpg');
    await tip('s2', 'addr-export-0002', SHARED, 'p2.jpg');
    for (const [i, t] of TEXTS.entries()) await tip(`t${i}`, `addr-export-1${i}00`, t);
    h.startWorker();
    await h.drained();
    await h.stopWorker();
    sharedRef = (await h.db.query<{ ref: string }>('SELECT c.ref FROM reports r JOIN cases c ON c.id = r.case_id WHERE r.id = $1', [ids.s1])).rows[0]!.ref;
    expect(await h.count('SELECT count(*) AS n FROM reports r JOIN cases c ON c.id = r.case_id WHERE c.ref = $1', [sharedRef])).toBe(2);
    admin = await operator(h, 'amina', 'admin');
    supervisor = await operator(h, 'bilal', 'supervisor');
    analyst = await operator(h, 'chen', 'analyst');
    srv = await serve(h);
  });
  afterAll(async () => {
    await srv?.close();
    await h?.close();
  });

  test('who may export: anonymous is sent to log in (401 under /api), an analyst is refused, supervisors and admins may', async () => {
    const pages = ['/export', '/export/cases.csv', '/export/cases.jsonl', `/cases/${sharedRef}/export`, `/cases/${sharedRef}/bundle.zip`];
    const api = ['/api/export/cases.csv', '/api/export/cases.jsonl', `/api/cases/${sharedRef}/bundle.zip`];
    for (const url of pages) {
      const anon = await srv.call({ url });
      expect([url, anon.status, anon.headers.get('location')]).toEqual([url, 302, '/login']);
      expect([url, (await srv.call({ url, as: analyst })).status]).toEqual([url, 403]);
    }
    for (const url of api) {
      expect([url, (await srv.call({ url })).status]).toEqual([url, 401]);
      const refused = await srv.call({ url, as: analyst });
      expect([url, refused.status, refused.json<{ error: string }>().error]).toEqual([url, 403, 'TIPHUB_DASHBOARD_FORBIDDEN']);
    }
    for (const who of [supervisor, admin]) for (const url of [...pages, ...api]) expect([url, who.role, (await srv.call({ url, as: who })).status]).toEqual([url, who.role, 200]);
    // Refusals export nothing and record nothing as an export by the analyst.
    expect((await listOperatorAudit(h.db, { operator: 'chen' })).filter((e) => e.action.startsWith('export'))).toEqual([]);
  });

  test('CSV: every case across pages, RFC 4180 quoting, formula cells defused, an attachment; recorded with its filters and counts', async () => {
    const res = await srv.call({ url: '/export/cases.csv?limit=2', as: supervisor });
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toBe('text/csv; charset=utf-8');
    expect(res.headers.get('content-disposition')).toMatch(/^attachment; filename="tiphub-cases-\d{4}-\d\d-\d\d\.csv"$/);
    const text = res.text();
    expect(text.startsWith('\uFEFF')).toBe(true);
    const [header, ...rows] = parseCsv(text.slice(1));
    expect(header).toEqual(['ref', 'status', 'priority', 'assignee', 'reportCount', 'informantCount', 'channels', 'tags', 'places', 'firstReportAt', 'lastReportAt', 'firstWords']);
    const all = await h.db.query<{ ref: string }>('SELECT ref FROM cases WHERE merged_into IS NULL');
    // limit=2 reads two per query: five cases come in three pages, each once.
    expect(rows.map((r) => r[0]).sort()).toEqual(all.rows.map((r) => r.ref).sort());
    const words = rows.map((r) => r[header!.indexOf('firstWords')]!);
    expect(words).toContain(`'${TEXTS[0]!.split(' ').slice(0, 12).join(' ')}`);
    expect(words.some((w) => w.startsWith("'@everyone"))).toBe(true);
    expect(words.some((w) => w.startsWith("'-1 dead"))).toBe(true);
    // The quoted cell came back whole, with its quotes and comma.
    expect(words).toContain(TEXTS[1]);
    expect(text).toContain(`"He said ""stop, now"", then`);
    expect(words.every((w) => !/^[=+\-@\t\r]/.test(w))).toBe(true);
    expect(rows.find((r) => r[0] === sharedRef)![header!.indexOf('reportCount')]).toBe('2');

    const filtered = await srv.call({ url: '/api/export/cases.csv?channel=simulator&priority=normal', as: admin });
    expect(filtered.status).toBe(200);
    const shown = parseCsv(filtered.text().slice(1)).length - 1;
    const entries = await listOperatorAudit(h.db, { action: 'export.cases' });
    expect(entries[0]).toMatchObject({ operator: 'amina', data: { format: 'csv', filters: { channel: 'simulator', priority: 'normal' }, cases: shown, complete: true } });
    expect(entries[1]).toMatchObject({ operator: 'bilal', data: { format: 'csv', filters: {}, cases: 5, reports: 6, complete: true } });
    // The record names what was asked and how much, never a tip's words.
    expect(JSON.stringify(entries)).not.toMatch(/HYPERLINK|convoy|pickups/);
  });

  test('JSON lines: one case per line across pages, the list rows, no address', async () => {
    const res = await srv.call({ url: '/api/export/cases.jsonl?limit=1', as: supervisor });
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toBe('application/x-ndjson; charset=utf-8');
    expect(res.headers.get('content-disposition')).toMatch(/^attachment; filename="tiphub-cases-.*\.jsonl"$/);
    const lines = res.text().split('\n');
    expect(lines.pop()).toBe('');
    const cases = lines.map((l) => JSON.parse(l) as { ref: string; reportCount: number; firstWords: string });
    const list = (await srv.call({ url: '/api/cases?limit=200', as: supervisor })).json<{ cases: { ref: string }[] }>();
    expect(cases.map((c) => c.ref)).toEqual(list.cases.map((c) => c.ref));
    expect(cases.find((c) => c.ref === sharedRef)).toMatchObject({ reportCount: 2, firstWords: expect.stringContaining('Armed men') });
    expect(res.text()).not.toContain('addr-export');
    const byStatus = await srv.call({ url: '/export/cases.jsonl?status=closed', as: supervisor });
    expect(byStatus.text()).toBe('');
    expect((await listOperatorAudit(h.db, { action: 'export.cases', limit: 1 }))[0]).toMatchObject({ data: { format: 'jsonl', filters: { status: 'closed' }, cases: 0 } });
    // A filter the list refuses is refused before anything is sent.
    const bad = await srv.call({ url: '/api/export/cases.csv?status=nonsense', as: supervisor });
    expect(bad.status).toBe(400);
  });

  async function unzip(res: { body: Buffer }): Promise<{ names: string[]; read(name: string): Buffer }> {
    const dir = fs.mkdtempSync(path.join(h.dataDir, 'bundle-'));
    const file = path.join(dir, 'b.zip');
    fs.writeFileSync(file, res.body);
    const names = execFileSync('/usr/bin/unzip', ['-Z1', file], { encoding: 'utf8' }).trim().split('\n').sort();
    return { names, read: (name) => execFileSync('/usr/bin/unzip', ['-p', file, name], { maxBuffer: 64 << 20 }) };
  }

  test('the evidence bundle: reports, media, events and the chain proof, every file in the manifest with its sha256', async () => {
    await anchorHeads(h.db, { full: true });
    const form = await srv.call({ url: `/cases/${sharedRef}/export`, as: supervisor });
    expect(form.status).toBe(200);
    expect(form.text()).toContain(`<input type="checkbox" name="omit" value="${ids.s1}"`);
    expect(form.text()).toContain(`action="/cases/${sharedRef}/bundle.zip"`);
    expect(form.text()).not.toContain('addr-export');

    const res = await srv.call({ url: `/cases/${sharedRef}/bundle.zip`, as: supervisor });
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toBe('application/zip');
    expect(res.headers.get('content-disposition')).toBe(`attachment; filename="tiphub-${sharedRef}-evidence.zip"`);
    const z = await unzip(res);
    expect(z.names).toEqual(['case.json', 'events.json', 'manifest.json', `media/${photos['p1.jpg']}`, `media/${photos['p2.jpg']}`, 'reports.json', 'verify.json'].sort());
    const manifest = JSON.parse(z.read('manifest.json').toString('utf8')) as {
      format: string; case: string; createdBy: string; chainOk: boolean; reports: { included: number; omitted: string[] }; files: { path: string; sha256: string; size: number }[];
    };
    expect(manifest).toMatchObject({ format: 'tiphub-evidence-bundle/1', case: sharedRef, createdBy: 'bilal', chainOk: true, reports: { included: 2, omitted: [] } });
    expect(manifest.files.map((f) => f.path).sort()).toEqual(z.names.filter((n) => n !== 'manifest.json'));
    for (const f of manifest.files) {
      const b = z.read(f.path);
      expect([f.path, sha256(b), b.length]).toEqual([f.path, f.sha256, f.size]);
    }
    // The photo is the one the informant sent, byte for byte.
    expect(z.read(`media/${photos['p1.jpg']}`).equals(fs.readFileSync(path.join(h.dataDir, 'p1.jpg')))).toBe(true);

    const reports = JSON.parse(z.read('reports.json').toString('utf8')) as { id: string; text: string; pseudonym: string; channel: string; duplicate: { kind: string } | null; media: { sha256: string; file: string }[] }[];
    expect(reports.map((r) => r.id)).toEqual([ids.s1, ids.s2]);
    expect(reports[0]).toMatchObject({ text: SHARED, channel: 'simulator', pseudonym: h.keyring.pseudonym('simulator', 'addr-export-0001'), media: [{ sha256: photos['p1.jpg'], file: `media/${photos['p1.jpg']}` }] });
    expect(reports[1]!.duplicate).toMatchObject({ kind: 'exact' });
    for (const n of z.names) expect([n, z.read(n).toString('latin1').includes('addr-export')]).toEqual([n, false]);

    // The chain, recomputed from events.json alone with the audit key, ends at the recorded head,
    // which is the anchored one, and the anchor root's mac checks.
    const events = JSON.parse(z.read('events.json').toString('utf8')) as { seq: number; at: string; kind: string; actor: string; data: unknown; prevHash: string | null; hash: string }[];
    const proof = JSON.parse(z.read('verify.json').toString('utf8')) as {
      chain: { ok: boolean; events: number }; head: { seq: number; hash: string };
      anchor: { case: { seq: number; hash: string; reportCount: number }; root: { at: string; cases: number; root: string; mac: string } };
    };
    let prev: string | null = null;
    for (const e of events) {
      expect(e.prevHash).toBe(prev);
      expect(eventHash(h.keyring, prev, { caseRef: sharedRef, seq: e.seq, at: e.at, kind: e.kind, actor: e.actor, data: e.data })).toBe(e.hash);
      prev = e.hash;
    }
    expect(events.filter((e) => e.kind === 'report.added')).toHaveLength(2);
    expect(proof.chain).toMatchObject({ ok: true, events: events.length });
    expect(proof.head).toEqual({ seq: events.length, hash: prev });
    expect(proof.anchor.case).toEqual({ seq: events.length, hash: prev, reportCount: 2 });
    expect(anchorMac(h.keyring, proof.anchor.root)).toBe(proof.anchor.root.mac);
    const caseId = (await h.db.query<{ id: number }>('SELECT id FROM cases WHERE ref = $1', [sharedRef])).rows[0]!.id;
    expect(anchorTerm(h.keyring, { caseId, seq: proof.anchor.case.seq, hash: proof.anchor.case.hash, reportCount: 2 })).toHaveLength(32);

    const audit = (await listOperatorAudit(h.db, { action: 'export.bundle', limit: 1 }))[0]!;
    expect(audit).toMatchObject({ operator: 'bilal', data: { ref: sharedRef, reports: 2, omitted: 0, media: 2, events: events.length, manifest: sha256(z.read('manifest.json')) } });
  });

  test('reports left out go with their media; the event chain stays whole; a report of another case is refused', async () => {
    const res = await srv.call({ url: `/api/cases/${sharedRef}/bundle.zip?omit=${encodeURIComponent(ids.s2!)}`, as: admin });
    expect(res.status).toBe(200);
    const z = await unzip(res);
    expect(z.names).toEqual(['case.json', 'events.json', 'manifest.json', `media/${photos['p1.jpg']}`, 'reports.json', 'verify.json'].sort());
    const manifest = JSON.parse(z.read('manifest.json').toString('utf8')) as { reports: { included: number; omitted: string[] }; files: { path: string; sha256: string }[] };
    expect(manifest.reports).toEqual({ included: 1, omitted: [ids.s2] });
    for (const f of manifest.files) expect(sha256(z.read(f.path))).toBe(f.sha256);
    const reports = JSON.parse(z.read('reports.json').toString('utf8')) as { id: string }[];
    expect(reports.map((r) => r.id)).toEqual([ids.s1]);
    expect(z.read('reports.json').toString('utf8')).not.toContain(photos['p2.jpg']);
    const events = JSON.parse(z.read('events.json').toString('utf8')) as unknown[];
    const all = await h.count('SELECT count(*) AS n FROM events e JOIN cases c ON c.id = e.case_id WHERE c.ref = $1', [sharedRef]);
    expect(events).toHaveLength(all);
    expect((await listOperatorAudit(h.db, { action: 'export.bundle', limit: 1 }))[0]).toMatchObject({ operator: 'amina', data: { reports: 1, omitted: 1, media: 1 } });

    const other = await srv.call({ url: `/api/cases/${sharedRef}/bundle.zip?omit=${encodeURIComponent(ids.t0!)}`, as: admin });
    expect(other.status).toBe(400);
    expect(other.json<{ error: string }>().error).toBe('TIPHUB_DASHBOARD_INVALID');
    expect((await srv.call({ url: '/api/cases/ZZZ-ZZZZ/bundle.zip', as: admin })).status).toBe(404);
  });

  test('no page or file of an export holds an informant address', () => {
    expect(srv.bodies.length).toBeGreaterThan(10);
    for (const b of srv.bodies) expect(b).not.toContain('addr-export');
  });
});
