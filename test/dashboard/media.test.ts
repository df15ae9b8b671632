/**
 * Issue 11, item 6, media: the case page's thumbnails (re-encoded by sharp, no metadata), players
 * for allow-listed sniffed types (that exact type, byte ranges), downloads (octet-stream,
 * attachment) for everything else; the routes' refusals (not hex, unknown, anonymous, purged,
 * wrong type) and headers; each view and download in the operators' audit. On PostgreSQL and
 * PGlite, over real HTTP (app.inject does not load under this jest; see app.test.ts).
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import type { AddressInfo } from 'node:net';
import type { FastifyInstance } from 'fastify';
import sharp from 'sharp';
import { harness, type Harness } from '../helpers/harness';
import { buildApp } from '../../src/dashboard/app';
import { addOperator, changePassword, confirmTotpEnrolment, startTotpEnrolment } from '../../src/operators/accounts';
import { createSession } from '../../src/operators/sessions';
import { totpCode } from '../../src/operators/totp';
import { MediaStore } from '../../src/media/store';
import { setStatus } from '../../src/caselog/actions';
import { purgeCases } from '../../src/caselog/purge';
import { byteRange } from '../../src/dashboard/routes/media';
import type { InboundMessage } from '../../src/contracts/inbound-message';

jest.setTimeout(60_000);

const EXIF_MARK = 'exif-secret-camera-owner';
const SVG = '<svg xmlns="http://www.w3.org/2000/svg" onload="alert(1)"><script>alert(2)</script><rect width="10" height="10"/></svg>';
/** An Ogg page header and some bytes: sniffs as audio/ogg (the route serves it, whatever a player makes of it). */
const OGG = Buffer.concat([Buffer.from('OggS\u0000\u0002', 'latin1'), Buffer.alloc(994, 7)]);
const HTML_AS_MP4 = '<html><body><script>alert(3)</script></body></html>';

const NEAR = [
  'Three trucks with armed men were seen driving north on the highway past the cement factory this evening',
  'Three trucks with armed men were seen driving north on the highway past the cement factory this evening, heading on',
];

describe.each(['postgres', 'pglite'] as const)('media routes on %s', (backend) => {
  let h: Harness;
  let app: FastifyInstance;
  let base = '';
  let cookie = '';
  let operator = '';
  const sha: Record<'jpeg' | 'svg' | 'ogg' | 'html' | 'purged', string> = {} as never;
  let ref = '';
  let purgedRef = '';

  /** A simulator message whose files are already in the media store, as `tiphub ingest` leaves them. */
  async function withStored(m: InboundMessage): Promise<InboundMessage> {
    const store = new MediaStore(path.join(h.cfg.dataDir, 'media'));
    const media = [];
    for (const md of m.media) {
      const s = await store.putFile(md.ref, 10_000_000);
      media.push({ ...md, sha256: s.sha256, sniffedMime: s.mime, storedSize: s.size });
    }
    return { ...m, media };
  }

  beforeAll(async () => {
    h = await harness(backend, { conversation: { enabled: false } });
    const dir = path.join(h.dataDir, 'inbox');
    fs.mkdirSync(dir, { recursive: true });
    const jpeg = await sharp({ create: { width: 900, height: 600, channels: 3, background: '#c83' } })
      .jpeg()
      .withExif({ IFD0: { Copyright: EXIF_MARK, Artist: EXIF_MARK } })
      .toBuffer();
    expect(jpeg.includes(EXIF_MARK)).toBe(true);
    fs.writeFileSync(path.join(dir, 'photo.jpg'), jpeg);
    fs.writeFileSync(path.join(dir, 'drawing.svg'), SVG);
    fs.writeFileSync(path.join(dir, 'voice.ogg'), OGG);
    fs.writeFileSync(path.join(dir, 'clip.mp4'), HTML_AS_MP4);
    fs.writeFileSync(path.join(dir, 'gone.png'), await sharp({ create: { width: 20, height: 20, channels: 3, background: '#00f' } }).png().toBuffer());
    await h.sink(
      await withStored(
        h.message({
          id: 'm1',
          from: 'addr-media-secret-01',
          text: 'Photo, drawing, voice note and a clip from the market',
          sentAt: '2026-06-10T05:00:00Z',
          media: [{ file: 'inbox/photo.jpg' }, { file: 'inbox/drawing.svg' }, { file: 'inbox/voice.ogg' }, { file: 'inbox/clip.mp4' }],
        }),
      ),
    );
    await h.sink(await withStored(h.message({ id: 'm2', from: 'addr-media-secret-02', text: 'An old picture of the checkpoint at the river', sentAt: '2026-06-10T05:01:00Z', media: [{ file: 'inbox/gone.png' }] })));
    // A voice note the platform still holds: pending.
    await h.sink(h.message({ id: 'm3', from: 'addr-media-secret-03', text: 'Voice note about the convoy on the highway tonight', sentAt: '2026-06-10T05:02:00Z', media: [{ file: 'inbox/later.ogg' }] }));
    // What a report carries besides media: a location, entities, a near copy; a file that went missing.
    await h.sink(h.message({ id: 'm4', from: 'addr-media-secret-04', text: 'Smoke rising over the west bank of the river', sentAt: '2026-06-10T05:03:00Z', location: { lat: 36.36, lon: 43.15, label: '<b>by the bridge</b>' } }));
    await h.sink(h.message({ id: 'm5', from: 'addr-media-secret-05', text: 'Call +9647701234567 or see https://t.me/fake_channel_news about the convoy', sentAt: '2026-06-10T05:04:00Z' }));
    await h.sink(h.message({ id: 'm6', from: 'addr-media-secret-06', text: NEAR[0], sentAt: '2026-06-10T05:05:00Z' }));
    await h.sink(h.message({ id: 'm7', from: 'addr-media-secret-07', text: NEAR[1], sentAt: '2026-06-10T05:06:00Z' }));
    await h.sink(h.message({ id: 'm8', from: 'addr-media-secret-08', text: 'Video of the flooded underpass by the university', sentAt: '2026-06-10T05:07:00Z', media: [{ file: 'inbox/big.mp4' }] }));
    h.startWorker();
    await h.drained();
    await h.stopWorker();
    await h.db.query(`UPDATE report_media SET state = 'missing', reason = 'larger than the limit' WHERE filename = 'big.mp4'`);
    const { rows } = await h.db.query<{ ref: string; text: string; sha256: string | null; filename: string }>(
      'SELECT c.ref, r.text, rm.sha256, rm.filename FROM report_media rm JOIN reports r ON r.id = rm.report_id JOIN cases c ON c.id = r.case_id',
    );
    const by = (f: string) => rows.find((r) => r.filename === f)!;
    sha.jpeg = by('photo.jpg').sha256!;
    sha.svg = by('drawing.svg').sha256!;
    sha.ogg = by('voice.ogg').sha256!;
    sha.html = by('clip.mp4').sha256!;
    sha.purged = by('gone.png').sha256!;
    ref = by('photo.jpg').ref;
    purgedRef = by('gone.png').ref;
    expect(by('later.ogg').sha256).toBeNull();
    expect(new Set([ref, purgedRef, by('later.ogg').ref]).size).toBe(3);

    operator = `sup-${backend}`;
    const c = await addOperator(h.db, operator, 'supervisor');
    await changePassword(h.db, operator, c.password, 'correct horse battery staple');
    const e = await startTotpEnrolment(h.db, operator);
    await confirmTotpEnrolment(h.db, operator, totpCode(e.secret));
    cookie = `tiphub=${(await createSession(h.db, operator)).token}`;
    app = await buildApp({ db: h.db, mediaRoot: path.join(h.cfg.dataDir, 'media') });
    await app.listen({ host: '127.0.0.1', port: 0 });
    base = `http://127.0.0.1:${(app.server.address() as AddressInfo).port}`;
  });

  afterAll(async () => {
    await app?.close();
    await h?.close();
  });

  const get = (url: string, headers: Record<string, string> = {}, as: string | null = cookie) =>
    fetch(base + url, { headers: { ...(as ? { cookie: as } : {}), ...headers }, redirect: 'manual' });
  const audits = async (action: string) =>
    (await h.db.query<{ operator: string; data: { sha256: string; as?: string } }>('SELECT operator, data FROM operator_audit WHERE action = $1 ORDER BY seq', [action])).rows;

  test('the case page shows a thumbnail from our route, a player for the voice note, downloads only for the SVG and the HTML dressed as MP4, pending as such', async () => {
    const res = await get(`/cases/${ref}`);
    expect(res.status).toBe(200);
    const page = await res.text();
    expect(page).toContain(`<img class="thumb" src="/media/${sha.jpeg}/thumb" alt=`);
    expect(page).toContain(`<a class="download" href="/media/${sha.jpeg}/download" download>Download the original</a>`);
    expect(page).toContain(`<audio controls preload="metadata" src="/media/${sha.ogg}/play"></audio>`);
    for (const s of [sha.svg, sha.html]) {
      expect(page).toMatch(new RegExp(`<li class="media-item media-download">[a-z ]+: <a class="download" href="/media/${s}/download" download>Download</a>`));
      expect(page).not.toContain(`/media/${s}/thumb`);
      expect(page).not.toContain(`/media/${s}/play`);
    }
    expect(page).not.toContain('<video');
    expect(page).not.toContain('<svg');
    expect(page).not.toContain('addr-media-secret');
    // The sender's file names stay out of the page.
    expect(page).not.toContain('photo.jpg');
    const pendingRef = (await h.db.query<{ ref: string }>(`SELECT c.ref FROM cases c JOIN reports r ON r.case_id = c.id WHERE r.text LIKE 'Voice note%'`)).rows[0]!.ref;
    expect(await (await get(`/cases/${pendingRef}`)).text()).toContain('<li class="media-item media-pending">voice note: not fetched yet</li>');
  });

  test('a thumbnail: WebP, at most 320 px, re-encoded without the original metadata, nosniff; the view audited', async () => {
    const before = (await audits('media.view')).length;
    const res = await get(`/media/${sha.jpeg}/thumb`);
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toBe('image/webp');
    expect(res.headers.get('x-content-type-options')).toBe('nosniff');
    expect(res.headers.get('content-security-policy')).toBe("default-src 'none'; frame-ancestors 'none'; sandbox");
    const body = Buffer.from(await res.arrayBuffer());
    const meta = await sharp(body).metadata();
    expect(meta.format).toBe('webp');
    expect(Math.max(meta.width!, meta.height!)).toBe(320);
    expect(meta.exif).toBeUndefined();
    expect(body.includes(EXIF_MARK)).toBe(false);
    const original = fs.readFileSync(new MediaStore(path.join(h.cfg.dataDir, 'media')).pathOf(sha.jpeg));
    expect(body.equals(original)).toBe(false);
    const after = await audits('media.view');
    expect(after).toHaveLength(before + 1);
    expect(after.at(-1)).toEqual({ operator, data: { sha256: sha.jpeg, as: 'thumbnail' } });
  });

  test('no thumbnail and no player for what is not an allow-listed image or medium: 415', async () => {
    for (const s of [sha.svg, sha.html, sha.ogg]) expect((await get(`/media/${s}/thumb`)).status).toBe(415);
    for (const s of [sha.svg, sha.html, sha.jpeg]) expect((await get(`/media/${s}/play`)).status).toBe(415);
  });

  test('a voice note plays with its sniffed type and byte ranges', async () => {
    const whole = await get(`/media/${sha.ogg}/play`);
    expect(whole.status).toBe(200);
    expect(whole.headers.get('content-type')).toBe('audio/ogg');
    expect(whole.headers.get('accept-ranges')).toBe('bytes');
    expect(whole.headers.get('x-content-type-options')).toBe('nosniff');
    expect(Buffer.from(await whole.arrayBuffer()).equals(OGG)).toBe(true);
    const part = await get(`/media/${sha.ogg}/play`, { range: 'bytes=4-9' });
    expect(part.status).toBe(206);
    expect(part.headers.get('content-range')).toBe(`bytes 4-9/${OGG.length}`);
    expect(Buffer.from(await part.arrayBuffer()).equals(OGG.subarray(4, 10))).toBe(true);
    const tail = await get(`/media/${sha.ogg}/play`, { range: 'bytes=-10' });
    expect(tail.status).toBe(206);
    expect(Buffer.from(await tail.arrayBuffer()).equals(OGG.subarray(OGG.length - 10))).toBe(true);
    const beyond = await get(`/media/${sha.ogg}/play`, { range: `bytes=${OGG.length}-` });
    expect(beyond.status).toBe(416);
    expect(beyond.headers.get('content-range')).toBe(`bytes */${OGG.length}`);
  });

  test('downloads: application/octet-stream, attachment named by the hash and the real type, the exact bytes; audited', async () => {
    for (const [s, ext, bytes] of [
      [sha.svg, 'txt', Buffer.from(SVG)],
      [sha.html, 'txt', Buffer.from(HTML_AS_MP4)],
      [sha.ogg, 'ogg', OGG],
    ] as const) {
      const res = await get(`/media/${s}/download`);
      expect(res.status).toBe(200);
      expect(res.headers.get('content-type')).toBe('application/octet-stream');
      expect(res.headers.get('content-disposition')).toBe(`attachment; filename="${s.slice(0, 12)}.${ext}"`);
      expect(res.headers.get('x-content-type-options')).toBe('nosniff');
      expect(Buffer.from(await res.arrayBuffer()).equals(bytes)).toBe(true);
    }
    const jpeg = await get(`/media/${sha.jpeg}/download`);
    expect(jpeg.headers.get('content-disposition')).toBe(`attachment; filename="${sha.jpeg.slice(0, 12)}.jpg"`);
    await jpeg.arrayBuffer();
    const downloads = await audits('media.download');
    expect(downloads.map((d) => d.data.sha256)).toEqual([sha.svg, sha.html, sha.ogg, sha.jpeg]);
    expect(downloads.every((d) => d.operator === operator)).toBe(true);
  });

  test('refusals: not hex, a hash no report names, anonymous, a purged report’s file (still on disk)', async () => {
    for (const what of ['thumb', 'play', 'download']) {
      expect((await get(`/media/${sha.jpeg.toUpperCase()}/${what}`)).status).toBe(400);
      expect((await get(`/media/..%2F..%2Fetc%2Fpasswd/${what}`)).status).toBe(400);
      expect((await get(`/media/${'0'.repeat(63)}/${what}`)).status).toBe(400);
      expect((await get(`/media/${'ab'.repeat(32)}/${what}`)).status).toBe(404);
      const anon = await get(`/media/${sha.jpeg}/${what}`, {}, null);
      expect(anon.status).toBe(302);
      expect(anon.headers.get('location')).toBe('/login');
    }
    const store = new MediaStore(path.join(h.cfg.dataDir, 'media'));
    // A file in the store that no report names (left by an import that failed): not served.
    fs.mkdirSync(path.dirname(store.pathOf('cd'.repeat(32))), { recursive: true });
    fs.writeFileSync(store.pathOf('cd'.repeat(32)), 'stray');
    expect((await get(`/media/${'cd'.repeat(32)}/download`)).status).toBe(404);

    expect((await get(`/media/${sha.purged}/thumb`)).status).toBe(200);
    await setStatus(h.db, purgedRef, 'closed', { reason: 'no-information', actor: operator });
    const r = await purgeCases(h.db, { olderThanDays: 1, now: new Date(Date.now() + 3 * 86_400_000), actor: 'test' }, null);
    expect(r.cases).toBe(1);
    expect(fs.existsSync(store.pathOf(sha.purged))).toBe(true);
    for (const what of ['thumb', 'download']) expect((await get(`/media/${sha.purged}/${what}`)).status).toBe(404);
    // The others are still there.
    expect((await get(`/media/${sha.jpeg}/thumb`)).status).toBe(200);
  });

  const pageOf = async (text: string) => {
    const r = (await h.db.query<{ ref: string }>('SELECT c.ref FROM cases c JOIN reports r ON r.case_id = c.id WHERE r.text = $1', [text])).rows[0]!.ref;
    const res = await get(`/cases/${r}`);
    expect(res.status).toBe(200);
    return res.text();
  };

  test('a location: its coordinates, its label escaped, the nearest place of the gazetteer and how far', async () => {
    const page = await pageOf('Smoke rising over the west bank of the river');
    expect(page).toContain(
      '<p class="location">Location: <span class="coords">36.36000, 43.15000</span> <span dir="auto">(&lt;b&gt;by the bridge&lt;/b&gt;)</span> · nearest place: <span class="nearest">Mosul</span>, 2.9 km away</p>',
    );
  });

  test('entities as text, never as links', async () => {
    const page = await pageOf('Call +9647701234567 or see https://t.me/fake_channel_news about the convoy');
    expect(page).toContain('<dd><span class="entity-kind">phone numbers:</span> <bdi class="entity" dir="auto">+9647701234567</bdi></dd>');
    expect(page).toContain('<dd><span class="entity-kind">links:</span> <bdi class="entity" dir="auto">https://t.me/fake_channel_news</bdi></dd>');
    expect(page).not.toContain('href="https://t.me');
  });

  test('a near copy: its kind, the report it copies and the estimated similarity', async () => {
    const { rows } = await h.db.query<{ id: string; duplicate_of: string | null; duplicate_kind: string | null }>('SELECT id, duplicate_of, duplicate_kind FROM reports WHERE text = $1', [NEAR[1]]);
    expect(rows[0]!.duplicate_kind).toBe('near');
    const page = await pageOf(NEAR[1]);
    const m = new RegExp(`<span class="dup-kind">near</span> of report <code>${rows[0]!.duplicate_of!.slice(0, 12)}</code>, similarity <span class="similarity">([0-9.]+)</span>`).exec(page);
    expect(m).not.toBeNull();
    const sim = Number(m![1]);
    expect(sim).toBeGreaterThanOrEqual(h.cfg.grouping.nearThreshold);
    expect(sim).toBeLessThan(1);
  });

  test('a file that went missing says so, with the reason', async () => {
    expect(await pageOf('Video of the flooded underpass by the university')).toContain('<li class="media-item media-missing">video: missing (larger than the limit)</li>');
  });

  test('byteRange: single ranges only, clamped to the file', () => {
    expect(byteRange(undefined, 100)).toBeNull();
    expect(byteRange('bytes=0-', 100)).toEqual({ start: 0, end: 99 });
    expect(byteRange('bytes=10-2000', 100)).toEqual({ start: 10, end: 99 });
    expect(byteRange('bytes=-1', 100)).toEqual({ start: 99, end: 99 });
    expect(byteRange('bytes=0-1,5-6', 100)).toBeNull();
    expect(byteRange('items=0-1', 100)).toBeNull();
    expect(byteRange('bytes=100-', 100)).toBe('unsatisfiable');
    expect(byteRange('bytes=5-2', 100)).toBe('unsatisfiable');
  });
});
