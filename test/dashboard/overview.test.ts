/**
 * Issue 11, item 9: the overview page over real HTTP, on PostgreSQL and PGlite. Reports go
 * through the real intake path (simulator and Telegram normalizers, sealed jobs, the intake
 * worker) at known receive times; the expectations are counted here from what was sent and from
 * the cases' rows, not from the page's own queries.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import type { AddressInfo } from 'node:net';
import type { FastifyInstance } from 'fastify';
import { BACKENDS, TEST_REDIS_URL } from '../helpers/env';
import { harness, type Harness } from '../helpers/harness';
import { normalizeTelegram } from '../../adapters/telegram';
import { isRejected, type InboundMessage } from '../../src/contracts/inbound-message';
import { buildApp } from '../../src/dashboard/app';
import { overviewAr, overviewEn } from '../../src/dashboard/i18n/overview';
import { overviewQueueNames, queueDepthReader } from '../../src/dashboard/overview';
import { MAP_HEIGHT, MAP_WIDTH } from '../../src/dashboard/map';
import { editTags, effectiveTags, setStatus } from '../../src/caselog/actions';
import { addOperator, setOperatorLanguage, type OperatorRole } from '../../src/operators/accounts';
import { createSession } from '../../src/operators/sessions';

jest.setTimeout(120_000);

const HOUR = 3_600_000;
const TELEGRAM_FIXTURE = fs.readFileSync(path.join(__dirname, '../fixtures/telegram/private-text.json'), 'utf8');

interface Sent {
  readonly key: string;
  readonly channel: 'simulator' | 'telegram';
  readonly from: string;
  readonly text: string;
  /** Hours before the start of the test. */
  readonly hoursAgo: number;
}

const CAMPAIGN_TEXT = 'Breaking: the dam will be blown up tonight, everyone must leave the city now';
const SENT: readonly Sent[] = [
  { key: 'A', channel: 'simulator', from: 'addr-ov-secret-a', text: 'A drone flew over the bridge in Mosul this morning', hoursAgo: 0.2 },
  { key: 'B', channel: 'simulator', from: 'addr-ov-secret-b', text: 'Another drone was seen above the airport road in Basra today', hoursAgo: 1.5 },
  { key: 'C', channel: 'telegram', from: '7700000001', text: 'A rocket was fired towards the base from outside Mosul overnight', hoursAgo: 3.4 },
  { key: 'D', channel: 'telegram', from: '7700000002', text: 'Gunmen with rifles stopped cars at a checkpoint in Kirkuk', hoursAgo: 30.5 },
  { key: 'E', channel: 'simulator', from: 'addr-ov-secret-e', text: 'Explosives were found in a car parked in Erbil near the market', hoursAgo: 12.2 },
  // Outside the 48 hours: not in the chart, still an open case.
  { key: 'F', channel: 'simulator', from: 'addr-ov-secret-f', text: 'The price of bread went up again at the market of Basra', hoursAgo: 50 },
  // Three new informants within minutes: the intake flags the case campaign (campaignMinInformants: 3).
  ...[0, 1, 2].map((i): Sent => ({ key: `K${i}`, channel: 'simulator', from: `addr-ov-secret-k${i}`, text: CAMPAIGN_TEXT, hoursAgo: 2 - i * 0.01 })),
];

interface Res {
  status: number;
  location: string | null;
  body: string;
}

/** Cells of the rows of the table with class `cls`: [link text, href, count]. */
function rankedRows(body: string, cls: string): [string, string, number][] {
  const table = new RegExp(`<table class="${cls}">([\\s\\S]*?)</table>`).exec(body);
  if (!table) return [];
  return [...table[1]!.matchAll(/<tr><td><a href="([^"]*)">([^<]*)<\/a><\/td><td>(\d+)<\/td><\/tr>/g)].map((m) => [m[2]!, m[1]!.replace(/&amp;/g, '&'), Number(m[3])]);
}

const unescape = (s: string) => s.replace(/&quot;/g, '"').replace(/&#39;/g, "'").replace(/&lt;/g, '<').replace(/&gt;/g, '>').replace(/&amp;/g, '&');

/** The map's points: place, count, href and circle. */
function mapPoints(body: string) {
  return [
    ...body.matchAll(/<a class="map-point" href="([^"]*)" data-place="([^"]*)" data-cases="(\d+)"[^>]*><title>([^<]*)<\/title><circle cx="([-\d.]+)" cy="([-\d.]+)" r="([\d.]+)"/g),
  ].map((m) => ({ href: unescape(m[1]!), place: unescape(m[2]!), cases: Number(m[3]), title: unescape(m[4]!), cx: Number(m[5]), cy: Number(m[6]), r: Number(m[7]) }));
}

describe.each(BACKENDS)('the overview on %s', (backend) => {
  let h: Harness;
  let app: FastifyInstance;
  let base = '';
  const start = Date.now();
  const receivedAt = new Map<string, number>();
  const refOf = new Map<string, string>();
  const token: Record<string, string> = {};

  const get = async (url: string, as?: string): Promise<Res> => {
    const res = await fetch(base + url, { redirect: 'manual', headers: as ? { cookie: `tiphub=${token[as]}` } : {} });
    return { status: res.status, location: res.headers.get('location'), body: await res.text() };
  };
  const overview = async (as = 'ana1', at = base): Promise<string> => {
    const res = await fetch(`${at}/overview`, { headers: { cookie: `tiphub=${token[as]}` } });
    expect(res.status).toBe(200);
    return res.text();
  };

  function message(s: Sent, at: number): InboundMessage {
    const ctx = { receivedAt: new Date(at), messageId: (p: readonly (string | number)[]) => h.keyring.messageId(s.channel, p) };
    const sentAt = new Date(at - 30_000);
    let m;
    if (s.channel === 'simulator') {
      m = h.adapter.normalize({ line: { id: `ov-${s.key}`, from: s.from, text: s.text, sentAt: sentAt.toISOString() }, baseDir: h.dataDir }, { ...ctx, account: 'simulator' });
    } else {
      const u = JSON.parse(TELEGRAM_FIXTURE) as { update_id: number; message: { message_id: number; date: number; text: string; from: { id: number }; chat: { id: number } } };
      u.update_id += receivedAt.size;
      u.message.message_id = 1000 + receivedAt.size;
      u.message.from.id = u.message.chat.id = Number(s.from);
      u.message.date = Math.floor(sentAt.getTime() / 1000);
      u.message.text = s.text;
      m = normalizeTelegram(u, { ...ctx, account: '7000000001' });
    }
    if (isRejected(m) || 'ignored' in m) throw new Error(`fixture ${s.key} not normalized`);
    return m;
  }

  async function operator(name: string, role: OperatorRole, language?: string): Promise<void> {
    await addOperator(h.db, name, role);
    if (language) await setOperatorLanguage(h.db, name, language);
    token[name] = (await createSession(h.db, name)).token;
  }

  /** The open cases' rows as the list filters them: not closed, not merged. */
  const openCases = async () =>
    (
      await h.db.query<{ ref: string; tags: string[]; tags_added: string[]; tags_removed: string[]; places: string[] }>(
        `SELECT ref, tags, tags_added, tags_removed, places FROM cases WHERE status <> 'closed' AND merged_into IS NULL`,
      )
    ).rows;

  /** name → open cases, sorted as the page must: most first, then by name. */
  const ranked = (lists: string[][]): [string, number][] => {
    const n = new Map<string, number>();
    for (const l of lists) for (const x of new Set(l)) n.set(x, (n.get(x) ?? 0) + 1);
    return [...n].sort((a, b) => b[1] - a[1] || (a[0] < b[0] ? -1 : a[0] > b[0] ? 1 : 0));
  };

  beforeAll(async () => {
    h = await harness(backend, { conversation: { enabled: false }, grouping: { campaignMinInformants: 3 } });
    for (const s of SENT) {
      const at = start - s.hoursAgo * HOUR;
      const m = message(s, at);
      receivedAt.set(s.key, at);
      await h.sink(m);
    }
    h.startWorker();
    await h.drained();
    await h.stopWorker();
    const { rows } = await h.db.query<{ ref: string; text: string }>('SELECT c.ref, r.text FROM cases c JOIN reports r ON r.case_id = c.id');
    for (const s of SENT) refOf.set(s.key, rows.find((r) => r.text === s.text)!.ref);
    await operator('ana1', 'analyst');
    await operator('sup1', 'supervisor');
    await operator('arab1', 'analyst', 'ar');
    app = await buildApp({ db: h.db, log: h.log });
    await app.listen({ host: '127.0.0.1', port: 0 });
    base = `http://127.0.0.1:${(app.server.address() as AddressInfo).port}`;
  });

  afterAll(async () => {
    await app?.close();
    await h?.close();
  });

  test('the fixtures made the cases the test counts on', async () => {
    expect(new Set(SENT.map((s) => refOf.get(s.key))).size).toBe(SENT.length - 2); // the campaign's three reports are one case
    const flags = (await h.db.query<{ ref: string; flags: string[] }>('SELECT ref, flags FROM cases')).rows;
    expect(flags.filter((c) => c.flags.includes('campaign')).map((c) => c.ref)).toEqual([refOf.get('K0')]);
    const places = new Map((await openCases()).map((c) => [c.ref, c.places]));
    expect(places.get(refOf.get('A')!)).toContain('Mosul');
    expect(places.get(refOf.get('C')!)).toContain('Mosul');
    expect(places.get(refOf.get('B')!)).toContain('Basra');
  });

  test('reports per hour: the table and the bars count what was received, by channel and hour, over 48 hours', async () => {
    const body = await overview();
    const rows = [...body.matchAll(/<tr data-hour="([^"]+)">([\s\S]*?)<\/tr>/g)];
    expect(rows).toHaveLength(48);
    const hours = rows.map((r) => r[1]!);
    // The last row is the current hour (UTC), the first 47 hours before it.
    expect(Date.parse(hours[47]!)).toBe(Math.floor(Date.now() / HOUR) * HOUR);
    expect(Date.parse(hours[0]!)).toBe(Date.parse(hours[47]!) - 47 * HOUR);
    const expected = (hour: string, channel: string) =>
      SENT.filter((s) => s.channel === channel && Math.floor(receivedAt.get(s.key)! / HOUR) * HOUR === Date.parse(hour)).length;
    for (const [, hour, cells] of rows) {
      const got = Object.fromEntries([...cells!.matchAll(/<td data-channel="([^"]+)">(\d+)<\/td>/g)].map((m) => [m[1]!, Number(m[2])]));
      expect(got).toEqual({ simulator: expected(hour!, 'simulator'), telegram: expected(hour!, 'telegram') });
    }
    const inWindow = SENT.filter((s) => receivedAt.get(s.key)! >= Date.parse(hours[0]!));
    expect(inWindow).toHaveLength(SENT.length - 1);
    expect(body).toContain(`<p>${overviewEn.perHourTotal.replace('{n}', String(inWindow.length))}</p>`);
    // The picture holds the same numbers: one bar segment per channel and hour with reports.
    const bars = [...body.matchAll(/<rect class="bar" data-channel="([^"]+)" data-hour="([^"]+)" data-count="(\d+)" x="[\d.]+" y="([\d.]+)" width="[\d.]+" height="([\d.]+)"/g)];
    const segments = new Map<string, number>();
    for (const b of bars) segments.set(`${b[1]} ${b[2]}`, Number(b[3]));
    const want = new Map<string, number>();
    for (const s of inWindow) {
      const k = `${s.channel} ${new Date(Math.floor(receivedAt.get(s.key)! / HOUR) * HOUR).toISOString()}`;
      want.set(k, (want.get(k) ?? 0) + 1);
    }
    expect(segments).toEqual(want);
    // A taller bar for more reports: the campaign hour's three against one.
    const heightOf = (key: string) => Number(bars.find((b) => b[1] === 'simulator' && b[2] === new Date(Math.floor(receivedAt.get(key)! / HOUR) * HOUR).toISOString())![5]);
    expect(heightOf('K0')).toBeGreaterThan(heightOf('E') * 2.5);
    expect(body).toMatch(/<svg class="chart" dir="ltr" direction="ltr" viewBox="0 0 \d+ \d+"/);
  });

  test('top tags and places of the open cases follow tag edits and closing', async () => {
    const check = async () => {
      const open = await openCases();
      const body = await overview();
      const tags = ranked(open.map((c) => effectiveTags(c))).slice(0, 10);
      const places = ranked(open.map((c) => c.places)).slice(0, 10);
      expect(rankedRows(body, 'ov-tags')).toEqual(tags.map(([t, n]) => [t, `/?tag=${encodeURIComponent(t)}`, n]));
      expect(rankedRows(body, 'ov-places')).toEqual(places.map(([p, n]) => [p, `/?place=${encodeURIComponent(p)}`, n]));
      return { tags: new Map(tags), places: new Map(places) };
    };
    const before = await check();
    expect(before.places.get('Mosul')).toBe(2);
    expect(before.places.get('Basra')).toBe(2);
    const drone = before.tags.get('drone') ?? 0;
    expect(drone).toBeGreaterThanOrEqual(2);
    expect(before.tags.has('second-source')).toBe(false);

    await editTags(h.db, refOf.get('A')!, { remove: ['drone'] }, 'sup1');
    await editTags(h.db, refOf.get('D')!, { add: ['second-source'] }, 'sup1');
    await setStatus(h.db, refOf.get('C')!, 'closed', { reason: 'actioned', actor: 'sup1' });
    const after = await check();
    expect(after.tags.get('drone') ?? 0).toBe(drone - 1);
    expect(after.tags.get('second-source')).toBe(1);
    expect(after.places.get('Mosul')).toBe(1);
    // Reopened, it counts again.
    await setStatus(h.db, refOf.get('C')!, 'in_review', { actor: 'sup1' });
    expect((await check()).places.get('Mosul')).toBe(2);
  });

  test('the map: one point per place with open cases, sized by their number, each linking to the filtered list', async () => {
    await setStatus(h.db, refOf.get('D')!, 'closed', { reason: 'spam', actor: 'sup1' });
    const open = await openCases();
    const want = new Map(ranked(open.map((c) => c.places)));
    expect(want.has('Kirkuk')).toBe(false); // its one case is closed
    const body = await overview();
    const points = mapPoints(body);
    expect(new Map(points.map((p) => [p.place, p.cases]))).toEqual(want);
    expect(points).toHaveLength(want.size);
    const max = Math.max(...points.map((p) => p.cases));
    for (const p of points) {
      expect(p.href).toBe(`/?place=${encodeURIComponent(p.place)}`);
      expect(p.title).toBe(overviewEn.mapPoint.replace('{name}', p.place).replace('{n}', String(p.cases)));
      expect(p.cx).toBeGreaterThan(0);
      expect(p.cx).toBeLessThan(MAP_WIDTH);
      expect(p.cy).toBeGreaterThan(0);
      expect(p.cy).toBeLessThan(MAP_HEIGHT);
      // Area by count (square-root radius), never smaller than a finger can find.
      expect(p.r).toBeCloseTo(Math.max(4, (24 * Math.sqrt(p.cases / max))), 0);
      // The link is the list of that place's cases.
      const list = await get(p.href, 'ana1');
      expect(list.status).toBe(200);
      const refs = [...list.body.matchAll(/<tr class="case" data-ref="([^"]+)"/g)].map((m) => m[1]);
      const withPlace = (await h.db.query<{ ref: string }>('SELECT ref FROM cases WHERE $1 = ANY (places) AND merged_into IS NULL', [p.place])).rows.map((r) => r.ref);
      expect(refs.sort()).toEqual(withPlace.sort());
    }
    // North is up and east is right: Mosul above Basra and west of it, Erbil east of Mosul.
    const at = (name: string) => points.find((p) => p.place === name)!;
    expect(at('Mosul').cy).toBeLessThan(at('Basra').cy);
    expect(at('Mosul').cx).toBeLessThan(at('Basra').cx);
    expect(at('Erbil').cx).toBeGreaterThan(at('Mosul').cx);
    // The borders: drawn, from the region only (clipped to the picture).
    const land = /<path class="land" d="([^"]+)"/.exec(body)![1]!;
    const borders = /<path class="borders" d="([^"]+)"/.exec(body)![1]!;
    expect(borders.length).toBeGreaterThan(200);
    for (const d of [land, borders]) {
      const xs = [...d.matchAll(/-?\d+(?:\.\d+)?/g)].map((m) => Number(m[0]));
      expect(Math.min(...xs)).toBeGreaterThanOrEqual(0);
      expect(Math.max(...xs)).toBeLessThanOrEqual(Math.max(MAP_WIDTH, MAP_HEIGHT));
    }
    expect(body).toMatch(/<svg class="map" dir="ltr"/);
  });

  test('cases flagged as campaign: listed with links to the case and to the filtered list', async () => {
    const body = await overview();
    const section = /<section class="ov-campaign">([\s\S]*?)<\/section>/.exec(body)![1]!;
    const listed = [...section.matchAll(/<li class="campaign-case" data-ref="([^"]+)"><a href="([^"]+)">/g)].map((m) => [m[1], m[2]]);
    const ref = refOf.get('K0')!;
    expect(listed).toEqual([[ref, `/cases/${encodeURIComponent(ref)}`]]);
    expect(section).toContain('<a href="/?flag=campaign">');
    expect(section).toContain(`<div dir="auto" class="first-words">${CAMPAIGN_TEXT.split(/\s+/).slice(0, 12).join(' ')} …</div>`);
    const list = await get('/?flag=campaign', 'ana1');
    expect([...list.body.matchAll(/<tr class="case" data-ref="([^"]+)"/g)].map((m) => m[1])).toEqual([ref]);
  });

  test('refused to anonymous and to a dead session; no informant address on the page; any role reads it', async () => {
    const anon = await get('/overview');
    expect(anon.status).toBe(302);
    expect(anon.location).toBe('/login');
    const forged = await fetch(`${base}/overview`, { redirect: 'manual', headers: { cookie: 'tiphub=not-a-session' } });
    expect(forged.status).toBe(302);
    for (const who of ['ana1', 'sup1']) {
      const body = await overview(who);
      for (const s of SENT) expect(body).not.toContain(s.from);
      expect(body).not.toContain('karim');
      expect(body).not.toContain('Karim');
    }
  });

  test('Arabic: the strings of the operator language, place names in Arabic, the pictures left to right', async () => {
    const body = await overview('arab1');
    expect(body).toContain(`<h1>${overviewAr.title}</h1>`);
    expect(body).toContain(overviewAr.mapTitle);
    expect(body).toMatch(/<svg class="map" dir="ltr"/);
    expect(body).toMatch(/<svg class="chart" dir="ltr"/);
    const mosul = mapPoints(body).find((p) => p.place === 'Mosul')!;
    expect(mosul.href).toBe('/?place=Mosul');
    expect(mosul.title).toBe(overviewAr.mapPoint.replace('{name}', 'الموصل').replace('{n}', String(mosul.cases)));
    expect(rankedRows(body, 'ov-places').find((r) => r[1] === '/?place=Mosul')?.[0]).toBe('الموصل');
    expect(body).not.toContain(overviewEn.mapTitle);
  });

  test('queue depth: counts read from the queues when the dashboard has them, a plain notice when not', async () => {
    expect(await overview()).toContain(overviewEn.queuesUnavailable);
    // Two jobs wait in intake (no worker runs now).
    const extra: Sent[] = [0, 1].map((i) => ({ key: `Q${i}`, channel: 'simulator', from: `addr-ov-secret-q${i}`, text: `Queued report number ${i} about the water supply`, hoursAgo: 0 }));
    for (const s of extra) await h.sink(message(s, Date.now()));
    const reader = queueDepthReader(TEST_REDIS_URL, h.prefix, overviewQueueNames(['simulator', 'telegram']));
    const withQueues = await buildApp({ db: h.db, log: h.log, queueDepth: reader.read });
    const failing = await buildApp({ db: h.db, log: h.log, queueDepth: () => Promise.reject(new Error('redis down')) });
    try {
      await withQueues.listen({ host: '127.0.0.1', port: 0 });
      await failing.listen({ host: '127.0.0.1', port: 0 });
      const body = await overview('ana1', `http://127.0.0.1:${(withQueues.server.address() as AddressInfo).port}`);
      const rows = [...body.matchAll(/<tr data-queue="([^"]+)">([\s\S]*?)<\/tr>/g)].map((m) => [
        m[1],
        Object.fromEntries([...m[2]!.matchAll(/<td data-count="(\w+)"[^>]*>(\d+)<\/td>/g)].map((c) => [c[1], Number(c[2])])),
      ]);
      expect(rows.map((r) => r[0])).toEqual(['intake', 'outbound-simulator', 'media-simulator', 'outbound-telegram', 'media-telegram']);
      expect(rows[0]![1]).toEqual({ waiting: 2, active: 0, delayed: 0, failed: 0 });
      for (const r of rows.slice(1)) expect(r[1]).toEqual({ waiting: 0, active: 0, delayed: 0, failed: 0 });
      expect(body).not.toContain(overviewEn.queuesUnavailable);
      const down = await overview('ana1', `http://127.0.0.1:${(failing.server.address() as AddressInfo).port}`);
      expect(down).toContain(overviewEn.queuesFailed);
    } finally {
      await withQueues.close();
      await failing.close();
      await reader.close();
    }
    await expect(reader.read()).rejects.toThrow();
  });
});
