/**
 * The media step with Telegram's getFile served by the local Bot API stand-in: a photo is stored
 * content-addressed, a file over the cap and a download that fails are recorded missing and the
 * informant is told, and a forwarded copy of a stored photo joins the case of the first one.
 */
import { addQuarantine } from '../../src/caselog/quarantine';
import { createChannel } from '../../adapters/registry';
import { createHash } from 'node:crypto';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { BotApiStandin } from '../helpers/bot-api-standin';
import { harness, type Harness } from '../helpers/harness';
import { TEST_REDIS_URL, waitFor } from '../helpers/env';
import { normalizeTelegram } from '../../adapters/telegram';
import { loadConfig } from '../../app/config';
import { loadTexts } from '../../src/conversation/texts';
import { startMediaWorker } from '../../workers/media/worker';
import { startOutboundWorker } from '../../workers/outbound/worker';
import { OutboxRelay } from '../../src/queue/outbound-queue';
import { verifyCaseLog } from '../../src/caselog/verify';
import type { InboundMessage } from '../../src/contracts/inbound-message';

const JPEG = Buffer.concat([Buffer.from([0xff, 0xd8, 0xff, 0xe0]), Buffer.alloc(600, 7)]);

function photo(userId: number, messageId: number, fileId: string, kind: 'photo' | 'video' = 'photo', size = 600): Record<string, unknown> {
  const file = { file_id: fileId, file_unique_id: `u${fileId}`, file_size: size, width: 10, height: 10 };
  return {
    update_id: messageId,
    message: {
      message_id: messageId,
      from: { id: userId, is_bot: false, first_name: 'U', language_code: 'en' },
      chat: { id: userId, type: 'private' },
      date: 1781068331 + userId,
      ...(kind === 'photo' ? { photo: [file] } : { video: { ...file, mime_type: 'video/mp4', duration: 3 } }),
    },
  };
}

describe('telegram media step', () => {
  let h: Harness;
  let api: BotApiStandin;
  const closers: (() => Promise<void>)[] = [];
  beforeEach(async () => {
    api = new BotApiStandin();
    await api.start();
    h = await harness('postgres', { conversation: { ackDelayMs: 100 }, channels: { telegram: { mediaMaxBytes: 1000 } } });
  });
  afterEach(async () => {
    for (const c of closers.splice(0).reverse()) await c();
    await h.close();
    await api.stop();
  });

  test('stored, too large, failed download, and a forwarded copy joining the first case', async () => {
    api.files.set('PHOTO1', JPEG);
    api.files.set('BIG1', Buffer.alloc(5000, 1));
    const cfg = loadConfig({ env: { ...h.env, TIPHUB_TELEGRAM_TOKEN: api.token, TIPHUB_TELEGRAM_API_ROOT: api.apiRoot }, cwd: h.dataDir });
    const tg = createChannel('telegram', { keyring: h.keyring, log: h.log, cfg, redis: TEST_REDIS_URL, quarantine: (e) => addQuarantine(h.db, [e]) });
    const relay = new OutboxRelay(TEST_REDIS_URL, cfg, h.keyring, h.caselog.instance);
    const media = startMediaWorker({ cfg, redis: TEST_REDIS_URL, db: h.db, keyring: h.keyring, adapter: tg, relay, maxBytes: 1000, log: h.log });
    const out = startOutboundWorker({ cfg, redis: TEST_REDIS_URL, db: h.db, keyring: h.keyring, adapter: tg, texts: loadTexts(), log: h.log });
    closers.push(() => relay.close(), () => media.close(), () => out.close());
    h.startWorker();

    const ctx = { account: String(api.botId), receivedAt: new Date(), messageId: (p: readonly (string | number)[]) => h.keyring.messageId('telegram', p) };
    const send = (u: unknown) => h.sink(normalizeTelegram(u, ctx) as InboundMessage);
    await send(photo(11, 1, 'PHOTO1'));
    await send(photo(12, 2, 'BIG1', 'video', 5000));
    await send(photo(13, 3, 'GONE'));
    api.files.set('DOC1', Buffer.from('%PDF-1.4 list of names'));
    await send({ update_id: 5, message: { message_id: 5, from: { id: 15, is_bot: false, first_name: 'U' }, chat: { id: 15, type: 'private' }, date: 1781068400, document: { file_id: 'DOC1', file_unique_id: 'uD', file_name: 'list.pdf', mime_type: 'application/pdf', file_size: 22 } } });
    await waitFor(async () => (await h.count(`SELECT count(*) AS n FROM report_media WHERE state <> 'pending'`)) === 4, 30_000, 50);
    await send(photo(14, 4, 'PHOTO1')); // the same photo, forwarded by someone else an hour later
    await waitFor(async () => (await h.count(`SELECT count(*) AS n FROM report_media WHERE state <> 'pending'`)) === 5, 30_000, 50);

    const { rows } = await h.db.query<{ native_id: string; state: string; reason: string | null; sha256: string | null; mime: string | null; ref: string }>(
      `SELECT r.native_id, rm.state, rm.reason, rm.sha256, m.mime, c.ref FROM report_media rm JOIN reports r ON r.id = rm.report_id
         JOIN cases c ON c.id = r.case_id LEFT JOIN media m ON m.sha256 = rm.sha256 ORDER BY r.native_id`,
    );
    const sha = createHash('sha256').update(JPEG).digest('hex');
    expect(rows.map((r) => [r.native_id, r.state, r.reason, r.sha256, r.mime])).toEqual([
      ['1', 'stored', null, sha, 'image/jpeg'],
      ['2', 'missing', 'larger than 1 KB', null, null],
      ['3', 'missing', 'Telegram getFile answered 400', null, null],
      ['4', 'stored', null, sha, 'image/jpeg'],
      ['5', 'stored', null, createHash('sha256').update('%PDF-1.4 list of names').digest('hex'), 'application/pdf'],
    ]);
    expect(rows[3]!.ref).toBe(rows[0]!.ref); // moved into the first photo's case
    expect(fs.readFileSync(path.join(h.dataDir, 'media', sha.slice(0, 2), sha.slice(2, 4), sha))).toEqual(JPEG);
    const moved = await h.db.query<{ duplicate_kind: string }>(`SELECT duplicate_kind FROM reports WHERE native_id = '4'`);
    expect(moved.rows[0]!.duplicate_kind).toBe('media');

    // The informants whose files did not arrive were told, in their language.
    await waitFor(async () => api.sent.filter((m) => m.text.startsWith('We could not receive your file')).length === 2, 30_000, 50);
    expect(api.sent.filter((m) => m.text.startsWith('We could not receive your file')).map((m) => m.chat_id).sort()).toEqual([12, 13]);
    expect((await verifyCaseLog(h.db)).problems).toEqual([]);
  });
});
