/**
 * Issue 12, first step: a media's platform reference is kept sealed with its media row when the
 * report is written, and the media step fetches by it (no worker re-reads a channel's raw
 * payload); migration 10 gives the pending media of an older log their reference.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { Readable } from 'node:stream';
import { BACKENDS, dumpPrefix, newSecret, setup, TEST_DATABASE_URL, TEST_REDIS_URL, waitFor, type TestSetup } from '../helpers/env';
import { harness, type Harness } from '../helpers/harness';
import { normalizeTelegram } from '../../adapters/telegram/normalize';
import type { InboundMessage } from '../../src/contracts/inbound-message';
import type { ChannelAdapter } from '../../src/contracts/channel-adapter';
import { Keyring, sealRow } from '../../src/crypto/keyring';
import { openPglite, openPostgres, type Db } from '../../src/caselog/db';
import { migrate } from '../../src/caselog/migrations';
import { resolveKeyring } from '../../src/caselog/open';
import { verifyCaseLog } from '../../src/caselog/verify';
import { createMediaQueue, SEAL_AAD_MEDIA, type MediaQueue } from '../../src/queue/media-queue';
import { startMediaWorker } from '../../workers/media/worker';

const load = (f: string) => JSON.parse(fs.readFileSync(path.join(__dirname, '../fixtures/telegram', `${f}.json`), 'utf8')) as Record<string, unknown>;
const JPEG = Buffer.concat([Buffer.from([0xff, 0xd8, 0xff, 0xe0]), Buffer.alloc(600, 7)]);
const BOT = '7000000001';

function telegram(update: unknown, keyring: Keyring): InboundMessage {
  const m = normalizeTelegram(update, { account: BOT, receivedAt: new Date(), messageId: (p) => keyring.messageId('telegram', p) });
  if (!('v' in m)) throw new Error('fixture not a message');
  return m;
}

/** A channel that fetches media from a map and records the references it was asked for. */
function fakeTelegram(files: Map<string, Buffer>) {
  const asked: string[] = [];
  const adapter = {
    channel: 'telegram',
    async openMedia(ref: string) {
      asked.push(ref);
      const bytes = files.get(ref);
      if (!bytes) throw new Error('no such file');
      return Readable.from([bytes]);
    },
  } as unknown as ChannelAdapter;
  return { adapter, asked };
}

describe.each(BACKENDS)('media references on %s', (backend) => {
  let h: Harness;
  let queue: MediaQueue;
  const closers: (() => Promise<void>)[] = [];
  beforeEach(async () => {
    h = await harness(backend, { conversation: { outboxSweepMs: 200 } });
    queue = createMediaQueue(TEST_REDIS_URL, h.cfg, 'telegram');
  });
  afterEach(async () => {
    for (const c of closers.splice(0).reverse()) await c();
    await queue?.close();
    await h?.close();
  });

  /** Waits for the jobs the intake queued after commit, so that what a test does next comes after them. */
  const queued = (n: number) => waitFor(async () => (await queue.getJobs(['waiting', 'delayed', 'prioritized'])).length === n, 15_000, 20);

  const mediaWorker = (adapter: ChannelAdapter) => {
    const w = startMediaWorker({ cfg: h.cfg, redis: TEST_REDIS_URL, db: h.db, keyring: h.keyring, adapter, relay: null, maxBytes: 1_000_000, log: h.log });
    closers.push(() => w.close());
    return w;
  };

  test('a new report’s media row keeps its reference sealed to the row, never in clear, nor in Redis', async () => {
    const photo = telegram(load('photo-caption'), h.keyring);
    const fileId = photo.media[0]!.ref;
    expect(fileId).toBe('AgACAgQAAxkBAAIBZmY1_large');
    h.startWorker();
    await h.sink(photo);
    await h.drained();

    const { rows } = await h.db.query<Record<string, unknown>>('SELECT * FROM report_media WHERE report_id = $1', [photo.id]);
    expect(rows).toHaveLength(1);
    const row = rows[0]!;
    expect(row).toMatchObject({ idx: 0, state: 'pending', ref_sealed: expect.stringMatching(/^v2\./) });
    expect(h.keyring.unseal(row.ref_sealed as string, sealRow.mediaRef(photo.id, 0))).toBe(fileId);
    // Bound to its row: under another report's or index's context it does not open.
    expect(() => h.keyring.unseal(row.ref_sealed as string, sealRow.mediaRef(photo.id, 1))).toThrow();
    expect(() => h.keyring.unseal(row.ref_sealed as string, sealRow.raw(photo.id))).toThrow();
    // The file id (and its shorter siblings) shows nowhere in clear: not in the row, the report, Redis.
    const { rows: rep } = await h.db.query('SELECT * FROM reports WHERE id = $1', [photo.id]);
    const redis = await dumpPrefix(h.prefix);
    for (const clear of [JSON.stringify(row), JSON.stringify(rep), redis]) expect(clear).not.toContain('AgACAgQAAxkBAAIBZmY1');

    // The media job the intake queued: its payload sealed.
    const jobs = await waitFor(async () => {
      const js = await queue.getJobs(['waiting', 'delayed', 'prioritized']);
      return js.length ? js : null;
    }, 15_000);
    expect(jobs.map((j) => h.keyring.unseal(j.data.sealed, SEAL_AAD_MEDIA))).toEqual([{ reportId: photo.id, idx: 0, ref: fileId }]);
    expect((await verifyCaseLog(h.db)).problems).toEqual([]);
  });

  test('a pending media whose job was lost is queued again by the sweeper and fetched by the reference the case log keeps', async () => {
    const photo = telegram(load('photo-caption'), h.keyring);
    h.startWorker();
    await h.sink(photo);
    await h.drained();
    await queued(1);
    // The job is lost (Redis restarted without its data), and the report is older than the sweeper's grace.
    await queue.obliterate({ force: true });
    await h.db.query(`UPDATE reports SET created_at = now() - interval '10 minutes' WHERE id = $1`, [photo.id]);
    await queued(1);
    const [job] = await queue.getJobs(['waiting', 'delayed', 'prioritized']);
    expect(h.keyring.unseal(job!.data.sealed, SEAL_AAD_MEDIA)).toEqual({ reportId: photo.id, idx: 0, ref: photo.media[0]!.ref });

    const { adapter, asked } = fakeTelegram(new Map([[photo.media[0]!.ref, JPEG]]));
    mediaWorker(adapter);
    await waitFor(async () => (await h.count(`SELECT count(*) AS n FROM report_media WHERE state = 'stored'`)) === 1, 30_000, 50);
    expect(asked).toEqual([photo.media[0]!.ref]);
    expect((await verifyCaseLog(h.db)).problems).toEqual([]);
  });

  test('the stored reference wins over a job’s own; the job’s serves where the row has none or it does not open; a stored media is not fetched again', async () => {
    const [photo, voice, doc] = ['photo-caption', 'voice', 'document'].map((f) => telegram(load(f), h.keyring)) as [InboundMessage, InboundMessage, InboundMessage];
    const files = new Map([photo, voice, doc].map((m, i) => [m.media[0]!.ref, i === 0 ? JPEG : Buffer.from(`file ${i}`)]));
    const { adapter, asked } = fakeTelegram(files);
    h.startWorker();
    for (const m of [photo, voice, doc]) await h.sink(m);
    await h.drained();
    await queued(3);
    await queue.obliterate({ force: true });
    // The voice note's row as a log written before migration 10 had it (no reference); the
    // document's sealed under keys it no longer holds (as after a rotation). Their jobs carry one.
    await h.db.query('UPDATE report_media SET ref_sealed = NULL WHERE report_id = $1', [voice.id]);
    await h.db.query('UPDATE report_media SET ref_sealed = $2 WHERE report_id = $1', [doc.id, new Keyring(newSecret()).seal(doc.media[0]!.ref, sealRow.mediaRef(doc.id, 0))]);
    const job = (reportId: string, ref: string, jobId = `old-${reportId}`) => ({ name: 'media', data: { v: 1 as const, sealed: h.keyring.seal({ reportId, idx: 0, ref }, SEAL_AAD_MEDIA) }, opts: { jobId } });
    await queue.addBulk([job(photo.id, 'SOMETHING-ELSE'), job(voice.id, voice.media[0]!.ref), job(doc.id, doc.media[0]!.ref)]);
    mediaWorker(adapter);
    await waitFor(async () => (await h.count(`SELECT count(*) AS n FROM report_media WHERE state = 'stored'`)) === 3, 30_000, 50);
    expect(asked.sort()).toEqual([...files.keys()].sort());

    // Queued again (a second enqueue after the first job was removed): nothing is downloaded twice.
    await queue.addBulk([job(photo.id, photo.media[0]!.ref, 'again')]);
    await waitFor(async () => (await queue.getJobCounts('completed')).completed >= 4, 15_000, 50);
    expect(asked).toHaveLength(3);
    expect((await verifyCaseLog(h.db)).problems).toEqual([]);
  });
});

describe.each(BACKENDS)('migration 10 (media references) on %s', (backend) => {
  let s: TestSetup;
  let db: Db;
  const ctx = { keyring: (tx: Parameters<typeof resolveKeyring>[0]) => resolveKeyring(tx, s.cfg) };
  beforeEach(async () => {
    s = await setup(backend);
    // The log itself, not a hub's access to it: migrated here step by step.
    db = s.schema ? await openPostgres({ url: TEST_DATABASE_URL, schema: s.schema }) : await openPglite(path.join(s.dataDir, 'caselog'));
  });
  afterEach(async () => {
    await db?.close();
    await s?.cleanup();
  });

  /** A report and its media rows as a log at migration 9 held them (raw SQL: today's writer knows ref_sealed). */
  async function report(keys: Keyring, m: InboundMessage, caseId: number, state: 'pending' | 'stored' | 'missing' = 'pending'): Promise<void> {
    const pseudonym = keys.pseudonym(m.channel, m.sender.address);
    await db.query(`INSERT INTO informants (pseudonym, channel, first_seen, last_seen) VALUES ($1, $2, $3, $3) ON CONFLICT DO NOTHING`, [pseudonym, m.channel, m.sentAt]);
    await db.query(
      `INSERT INTO reports (id, case_id, informant, channel, account, native_id, origin, sent_at, received_at, text, raw_sealed)
       VALUES ($1, $2, $3, $4, $5, $6, 'live', $7, $8, $9, $10)`,
      [m.id, caseId, pseudonym, m.channel, m.account, m.nativeId, m.sentAt, m.receivedAt, m.text, keys.seal(m.raw ?? null, sealRow.raw(m.id))],
    );
    for (const [idx, md] of m.media.entries()) {
      if (state === 'stored') await db.query(`INSERT INTO media (sha256, size) VALUES ($1, 1) ON CONFLICT DO NOTHING`, ['a'.repeat(64)]);
      await db.query(`INSERT INTO report_media (report_id, idx, kind, state, sha256) VALUES ($1, $2, $3, $4, $5)`, [m.id, idx, md.kind, state, state === 'stored' ? 'a'.repeat(64) : null]);
    }
  }

  test('fills the reference of every pending Telegram media from its raw payload, as the adapter reads it; nothing else', async () => {
    await migrate(db, ctx, { upTo: 9 });
    const keys = await resolveKeyring(db, s.cfg);
    const { rows: c } = await db.query<{ id: number }>(`INSERT INTO cases (ref) VALUES ('AAA-MEDI') RETURNING id`);
    const caseId = c[0]!.id;

    // Every kind of Telegram media the fixtures have, an edited photo, and an animation (whose document is not a second media).
    const pending = ['photo-caption', 'album-1', 'album-2', 'audio', 'document', 'sticker', 'video', 'voice'].map((f) => telegram(load(f), keys));
    const photo = load('photo-caption') as { message: Record<string, unknown> };
    pending.push(telegram({ update_id: 1, edited_message: { ...photo.message, message_id: 777, edit_date: 1781068400 } }, keys));
    const anim = { file_id: 'CgACAgQAAxkBAAIBanim', file_unique_id: 'uanim', file_size: 1000, mime_type: 'video/mp4', file_name: 'a.mp4' };
    pending.push(telegram({ update_id: 2, message: { message_id: 778, from: { id: 42, is_bot: false }, chat: { id: 42, type: 'private' }, date: 1781068400, animation: anim, document: anim } }, keys));
    for (const m of pending) await report(keys, m, caseId);
    expect(pending.every((m) => m.media.length === 1)).toBe(true);
    // Stored and missing media never need their reference again; a simulator's file path was never a platform's.
    const stored = telegram({ update_id: 3, message: { ...photo.message, message_id: 779 } }, keys);
    const missing = telegram({ update_id: 4, message: { ...photo.message, message_id: 780 } }, keys);
    await report(keys, stored, caseId, 'stored');
    await report(keys, missing, caseId, 'missing');
    const sim: InboundMessage = { ...pending[0]!, id: 'msimulator1', channel: 'simulator' as InboundMessage['channel'], raw: { id: 'x', media: [{ file: 'a.jpg' }] } };
    await report(keys, sim, caseId);
    // A pending Telegram media whose raw payload does not open stays as it was (no reference).
    const broken = telegram({ update_id: 5, message: { ...photo.message, message_id: 781 } }, keys);
    await report(keys, broken, caseId);
    await db.query('UPDATE reports SET raw_sealed = $2 WHERE id = $1', [broken.id, keys.seal({ other: true }, sealRow.raw('someone-else'))]);

    // Migration 10, then the later ones.
    expect((await migrate(db, ctx))[0]).toBe(10);
    const { rows } = await db.query<{ report_id: string; idx: number; ref_sealed: string | null }>('SELECT report_id, idx, ref_sealed FROM report_media');
    const refOf = new Map(rows.map((r) => [r.report_id, r.ref_sealed === null ? null : keys.unseal<string>(r.ref_sealed, sealRow.mediaRef(r.report_id, r.idx))]));
    for (const m of pending) expect([m.id, refOf.get(m.id)]).toEqual([m.id, m.media[0]!.ref]);
    expect(refOf.get(pending[pending.length - 1]!.id)).toBe('CgACAgQAAxkBAAIBanim');
    expect([stored, missing, sim, broken].map((m) => refOf.get(m.id))).toEqual([null, null, null, null]);
    expect(await migrate(db, ctx)).toEqual([]);
  });
});
