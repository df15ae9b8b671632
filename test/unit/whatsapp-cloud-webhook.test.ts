/**
 * The Cloud API webhook over real HTTP, as Meta calls it, into the real pipeline (intake queue in
 * real Redis under this test's prefix, the intake worker, the case log on PGlite): verification,
 * the signature over the raw bytes, the body limit, every recorded item type, replays, a reply
 * quoting the report by its wamid, and nothing identifying in Redis or the log.
 */
import { createHash } from 'node:crypto';
import * as fs from 'node:fs';
import * as net from 'node:net';
import * as path from 'node:path';
import { createChannel } from '../../adapters/registry';
import type { CloudAdapter } from '../../adapters/whatsapp/cloud/adapter';
import type { CloudPayload, WhatsAppCloudCredentials, WhatsAppSettings } from '../../adapters/whatsapp';
import { normalizeCloud } from '../../adapters/whatsapp/cloud/normalize';
import { addQuarantine } from '../../src/caselog/quarantine';
import { recordChannelEvent } from '../../src/caselog/channel-events';
import type { ChannelEvent, InboundMessage } from '../../src/contracts/inbound-message';
import { isEventOnly, isIgnored, isRejected } from '../../src/contracts/inbound-message';
import { SEAL_AAD_INTAKE } from '../../src/queue/intake-queue';
import { connectRedis } from '../../src/queue/redis';
import { startOutboundWorker } from '../../workers/outbound/worker';
import { startMediaWorker } from '../../workers/media/worker';
import { OutboxRelay } from '../../src/queue/outbound-queue';
import { queueReply } from '../../src/conversation/operator';
import { loadTexts } from '../../src/conversation/texts';
import { dumpPrefix, TEST_REDIS_URL, waitFor, withChannel } from '../helpers/env';
import { harness, type Harness } from '../helpers/harness';
import { bodyOfItems, FAKE_APP_SECRET, FAKE_PHONE_NUMBER_ID, FAKE_VERIFY_TOKEN, GraphApiFake, metaJson, metaSignature, webhookBody } from '../helpers/graph-api-fake';
import { expectAbsent } from '../adapters/identifiers';

const FIXTURES = path.join(__dirname, '../fixtures/whatsapp-cloud');
const names = fs.readdirSync(FIXTURES).filter((f) => f.endsWith('.json') && f !== 'normalized.golden.json' && f !== 'identifiers.json').map((f) => f.slice(0, -5)).sort();
const load = (name: string) => JSON.parse(fs.readFileSync(path.join(FIXTURES, `${name}.json`), 'utf8')) as CloudPayload;
const IDENTIFIERS = [...new Set(Object.values(JSON.parse(fs.readFileSync(path.join(FIXTURES, 'identifiers.json'), 'utf8')) as Record<string, string[]>).flat())];
const KARIM = '9647701234567';
const CONV = { conversation: { ackDelayMs: 100, ackQuietMinutes: 10, outboxSweepMs: 500 }, outbound: { backoffMs: 100 } };

const textItem = (body: string, id: string): Record<string, unknown> => ({ from: KARIM, id, timestamp: '1781068400', type: 'text', text: { body } });

describe('whatsapp cloud webhook', () => {
  let h: Harness;
  let api: GraphApiFake;
  let adapter: CloudAdapter | null = null;
  const events: ChannelEvent[] = [];
  let recordFails: Error | null = null;

  const make = async (settings: { bodyLimitBytes?: number; port?: number } = {}) => {
    const current = h.cfg.channels.whatsapp!.settings as WhatsAppSettings;
    const credentials: WhatsAppCloudCredentials = { mode: 'cloud', token: api.token, appSecret: FAKE_APP_SECRET, verifyToken: FAKE_VERIFY_TOKEN, phoneNumberId: FAKE_PHONE_NUMBER_ID, apiRoot: api.apiRoot };
    const cfg = withChannel(h.cfg, 'whatsapp', credentials, {
      mode: 'cloud',
      cloud: { ...current.cloud, bodyLimitBytes: settings.bodyLimitBytes ?? current.cloud.bodyLimitBytes, webhookListen: { host: '127.0.0.1', port: settings.port ?? 0, path: '/whatsapp/webhook' } },
    });
    const a = createChannel('whatsapp', {
      keyring: h.keyring,
      log: h.log,
      cfg,
      redis: TEST_REDIS_URL,
      quarantine: (e) => addQuarantine(h.db, [e]),
      record: async (channel, e) => {
        if (recordFails) throw recordFails;
        events.push(e);
        return recordChannelEvent(h.db, h.keyring, channel, e);
      },
    }) as CloudAdapter;
    return { a, cfg };
  };

  const jobs = async () => Object.values(await h.queue.getJobCounts('waiting', 'active', 'delayed', 'completed', 'prioritized')).reduce((x, y) => x + y, 0);
  const quarantined = () => h.count('SELECT count(*) AS n FROM quarantine');

  beforeEach(async () => {
    h = await harness('pglite', CONV);
    api = new GraphApiFake();
    await api.start();
    events.length = 0;
    recordFails = null;
  });
  afterEach(async () => {
    await adapter?.stop();
    adapter = null;
    await api.stop();
    await h.close();
  });

  test('verification: the right token gets the challenge as text; a wrong one, another mode or no challenge gets 403', async () => {
    adapter = (await make()).a;
    await adapter.start(h.sink);
    const url = adapter.webhookUrl!;
    const get = (q: Record<string, string>) => fetch(`${url}?${new URLSearchParams(q).toString()}`);
    const ok = await get({ 'hub.mode': 'subscribe', 'hub.verify_token': FAKE_VERIFY_TOKEN, 'hub.challenge': '1158201444' });
    expect(ok.status).toBe(200);
    expect(ok.headers.get('content-type')).toMatch(/^text\/plain/);
    expect(await ok.text()).toBe('1158201444');
    const refused: Record<string, string>[] = [
      { 'hub.mode': 'subscribe', 'hub.verify_token': 'wrong', 'hub.challenge': '1' },
      { 'hub.mode': 'subscribe', 'hub.verify_token': FAKE_VERIFY_TOKEN.slice(0, -1), 'hub.challenge': '1' },
      { 'hub.mode': 'unsubscribe', 'hub.verify_token': FAKE_VERIFY_TOKEN, 'hub.challenge': '1' },
      { 'hub.mode': 'subscribe', 'hub.verify_token': FAKE_VERIFY_TOKEN },
      { 'hub.mode': 'subscribe', 'hub.challenge': '1' },
      { 'hub.mode': 'subscribe', 'hub.verify_token': FAKE_VERIFY_TOKEN, 'hub.challenge': '<script>' },
    ];
    for (const q of refused) {
      const r = await get(q);
      expect({ q, status: r.status }).toEqual({ q, status: 403 });
    }
  });

  test('signature over the raw bytes: an Arabic text signed as Meta signs it lands once; missing, wrong, or over re-serialized JSON: 401, nothing enqueued', async () => {
    adapter = (await make()).a;
    await adapter.start(h.sink);
    const url = adapter.webhookUrl!;
    const body = webhookBody({ contacts: [{ profile: { name: 'كريم' }, wa_id: KARIM }], messages: [textItem('رأيت سيارات قرب الجسر/المدخل', 'wamid.HBgNOTY0NzcwMTIzNDU2NxUCABIYFDNFQjBBUkFCSUMwMDAwMDAwMDAxAA==')] });
    const bytes = metaJson(body);
    expect(bytes).toContain('\\u0631'); // Meta's escaping: what is signed is not what JSON.stringify gives
    expect(bytes).toContain('\\/');

    expect((await api.deliver(url, body, { signature: null })).status).toBe(401);
    expect((await api.deliver(url, body, { signature: 'sha256=' + '0'.repeat(64) })).status).toBe(401);
    expect((await api.deliver(url, body, { signature: metaSignature(bytes, 'f'.repeat(32)) })).status).toBe(401);
    expect((await api.deliver(url, body, { signature: 'sha1=abc' })).status).toBe(401);
    // Signed over JSON.stringify(body) (Meta's own Fastify sample), sent as Meta sends it: refused.
    expect((await api.deliver(url, body, { signature: metaSignature(JSON.stringify(body)) })).status).toBe(401);
    // A wrong signature with a body that is not JSON is 401 too, never a parse error.
    expect((await api.deliver(url, null, { rawBody: '{"entry": [', signature: 'sha256=' + '1'.repeat(64) })).status).toBe(401);
    expect(await jobs()).toBe(0);
    expect(await quarantined()).toBe(0);

    const ok = await api.deliver(url, body);
    expect(ok).toEqual({ status: 200, text: '{"ok":true}' });
    const [job] = await h.queue.getJobs(['waiting']);
    expect(await jobs()).toBe(1); // stored before the 200
    const m = h.keyring.unseal<InboundMessage>(job!.data.sealed, SEAL_AAD_INTAKE);
    expect(m).toMatchObject({ channel: 'whatsapp', text: 'رأيت سيارات قرب الجسر/المدخل', sender: { address: KARIM, name: 'كريم' } });
    // Said once (a wrong app secret would refuse everything), nothing of the body in a log line, refused or taken.
    expect(h.lines.filter((l) => l.includes('webhook POST refused'))).toHaveLength(1);
    expectAbsent('log', h.lines.join(''), [KARIM, 'كريم', 'رأيت', 'wamid']);
  });

  test('the body limit: a larger body is 413 and nothing is read into the pipeline; signed but not JSON is kept whole in quarantine, 200', async () => {
    adapter = (await make({ bodyLimitBytes: 2048 })).a;
    await adapter.start(h.sink);
    const url = adapter.webhookUrl!;
    const big = webhookBody({ messages: [textItem('x'.repeat(4000), 'wamid.big')] });
    expect((await api.deliver(url, big)).status).toBe(413);
    expect(await jobs()).toBe(0);
    const r = await api.deliver(url, null, { rawBody: `{"entry": [{"text": "${KARIM} at the bridge"` });
    expect(r.status).toBe(200);
    expect(await quarantined()).toBe(1);
    const { rows } = await h.db.query<{ reason: string; source: string; payload_sealed: string }>('SELECT reason, source, payload_sealed FROM quarantine');
    expect(rows[0]).toMatchObject({ reason: 'webhook body is not JSON', source: 'webhook body' });
    expect(h.keyring.unseal(rows[0]!.payload_sealed, 'quarantine')).toEqual({ unparsable: `{"entry": [{"text": "${KARIM} at the bridge"` });
    // JSON, signed, but not a WhatsApp notification: kept too.
    expect((await api.deliver(url, { object: 'page', entry: [] })).status).toBe(200);
    expect(await quarantined()).toBe(2);
    expectAbsent('log', h.lines.join(''), [KARIM]);
  });

  test('every recorded item lands as what it is (a job, an event, ignored, quarantined), once; the same body three times adds no job', async () => {
    adapter = (await make()).a;
    await adapter.start(h.sink);
    const url = adapter.webhookUrl!;
    const items = names.map(load);
    const ctx = { account: FAKE_PHONE_NUMBER_ID, receivedAt: new Date(), messageId: (p: readonly (string | number)[]) => h.keyring.messageId('whatsapp', p) };
    const outcomes = items.map((i) => normalizeCloud(i, ctx));
    const expected = {
      jobs: outcomes.filter((o) => !isEventOnly(o) && !isIgnored(o) && !isRejected(o)).length,
      events: outcomes.filter(isEventOnly).length,
      ignored: outcomes.filter(isIgnored).length,
      rejected: outcomes.filter(isRejected).length,
    };
    expect(expected).toEqual({ jobs: 20, events: 11, ignored: 2, rejected: 1 });
    const body = bodyOfItems(items);
    const redis = connectRedis(TEST_REDIS_URL);
    try {
      for (let i = 1; i <= 3; i++) {
        expect(await api.deliver(url, body)).toEqual({ status: 200, text: '{"ok":true}' });
        expect(await jobs()).toBe(expected.jobs);
        expect(events).toHaveLength(expected.events * i);
        // The malformed item is kept each time Meta delivers it.
        expect(await quarantined()).toBe(expected.rejected * i);
      }
      // Each event is the same event each time (its ids are keyed hashes of the wamid): the case log keeps it once.
      const first = JSON.stringify(events.slice(0, expected.events));
      expect(JSON.stringify(events.slice(expected.events, 2 * expected.events))).toBe(first);
      const ignored = await redis.hgetall(`${h.prefix}:ignored:whatsapp`);
      // (The core counts what an event concerned nothing of ours as well: the reports are not written yet.)
      expect(ignored).toMatchObject({ 'other-number': '3', unknown: '3' });
      // Said, once a minute at most: a wrong phone number id would otherwise lose every tip silently.
      expect(h.lines.filter((l) => l.includes('another phone number id'))).toHaveLength(1);
      // The intake worker writes each report once.
      h.startWorker();
      await h.drained();
      expect(await h.count('SELECT count(*) AS n FROM reports')).toBe(expected.jobs);
      // Nothing of who wrote in Redis (keys and values) nor in a log line.
      expectAbsent('redis', await dumpPrefix(h.prefix), IDENTIFIERS);
      expectAbsent('log', h.lines.join(''), IDENTIFIERS);
    } finally {
      redis.disconnect();
    }
  });

  test('an item the case log cannot take (recording an event fails) answers 500, and Meta delivering again is answered 200 without a second job', async () => {
    adapter = (await make()).a;
    await adapter.start(h.sink);
    const url = adapter.webhookUrl!;
    const body = bodyOfItems([load('text'), load('reaction')]);
    recordFails = new Error('case log down');
    const r = await api.deliver(url, body);
    expect(r).toEqual({ status: 500, text: '{"ok":false,"error":"try again"}' });
    expect(await jobs()).toBe(1);
    recordFails = null;
    expect((await api.deliver(url, body)).status).toBe(200);
    expect(await jobs()).toBe(1);
    expect(events).toHaveLength(1);
  });

  test('state: connected by webhook once listening, stopped after stop; after stop Meta gets an error, not a 200; a taken port fails start naming it', async () => {
    const redis = connectRedis(TEST_REDIS_URL);
    try {
      adapter = (await make()).a;
      await adapter.start(h.sink);
      const url = adapter.webhookUrl!;
      const key = `${h.prefix}:channel:whatsapp`;
      await waitFor(async () => (await redis.hget(key, 'state')) === 'connected', 5000);
      expect(await redis.hget(key, 'mode')).toBe('webhook');
      await adapter.stop();
      adapter = null;
      await waitFor(async () => (await redis.hget(key, 'state')) === 'stopped', 5000);
      const after = await api.deliver(url, bodyOfItems([load('text')])).catch(() => ({ status: 0 }));
      expect(after.status).not.toBe(200);
      expect(await jobs()).toBe(0);

      const blocker = net.createServer();
      await new Promise<void>((r) => blocker.listen(0, '127.0.0.1', () => r()));
      const port = (blocker.address() as net.AddressInfo).port;
      try {
        const taken = (await make({ port })).a;
        await expect(taken.start(h.sink)).rejects.toMatchObject({ code: 'TIPHUB_CONFIG_INVALID', message: expect.stringContaining(`127.0.0.1:${port}`) });
      } finally {
        blocker.close();
      }
    } finally {
      redis.disconnect();
    }
  });

  test('a report that came by webhook is answered quoting it by its wamid (context.message_id), through the outbound worker', async () => {
    const made = await make();
    adapter = made.a;
    await adapter.start(h.sink);
    h.startWorker();
    const outbound = startOutboundWorker({ cfg: made.cfg, redis: TEST_REDIS_URL, db: h.db, keyring: h.keyring, adapter, texts: loadTexts(), log: h.log });
    try {
      const item = load('text');
      const wamid = (item.message as { id: string }).id;
      expect((await api.deliver(adapter.webhookUrl!, bodyOfItems([item]))).status).toBe(200);
      // The welcome and the acknowledgement, then an operator's reply to that report, which quotes it.
      await waitFor(async () => api.sent.length >= 2, 20_000);
      const { rows } = await h.db.query<{ id: string; ref: string }>('SELECT r.id, c.ref FROM reports r JOIN cases c ON c.id = r.case_id');
      const relay = new OutboxRelay(TEST_REDIS_URL, made.cfg, h.keyring, h.caselog.instance);
      try {
        await relay.relay(h.db, (await queueReply(h.db, { ref: rows[0]!.ref, text: 'Which bridge?', actor: 'op', report: rows[0]!.id })).outbox);
      } finally {
        await relay.close();
      }
      const quoted = await waitFor(async () => api.sent.find((b) => (b.text as { body: string }).body === 'Which bridge?'), 20_000);
      expect(quoted).toMatchObject({ messaging_product: 'whatsapp', recipient_type: 'individual', to: KARIM, type: 'text', text: { body: 'Which bridge?', preview_url: false }, context: { message_id: wamid } });
      expect(api.sent.filter((b) => b.context)).toHaveLength(1);
      expect(api.auth.filter((a) => a.kind === 'send').every((a) => a.header === `Bearer ${api.token}`)).toBe(true);
      // What was sent is kept by the keyed hash of its wamid, which the statuses name.
      await waitFor(async () => (await h.count('SELECT count(*) AS n FROM sent_messages')) >= 1, 10_000);
      expectAbsent('redis', await dumpPrefix(h.prefix), [KARIM, wamid, 'Karim Ali']);
      expectAbsent('log', h.lines.join(''), [KARIM, wamid, 'Karim Ali']);
    } finally {
      await outbound.close();
    }
  });

  test('a photo that came by webhook is fetched from the Graph API with the bearer token and stored by the media step', async () => {
    const made = await make();
    adapter = made.a;
    await adapter.start(h.sink);
    h.startWorker();
    const jpeg = Buffer.concat([Buffer.from([0xff, 0xd8, 0xff, 0xe0]), Buffer.alloc(3000, 9)]);
    const item = structuredClone(load('image')) as { message: { image: { id: string; sha256: string } } };
    item.message.image.id = api.putMedia(jpeg, 'image/jpeg');
    item.message.image.sha256 = createHash('sha256').update(jpeg).digest('base64');
    const media = startMediaWorker({ cfg: made.cfg, redis: TEST_REDIS_URL, db: h.db, keyring: h.keyring, adapter, relay: null, maxBytes: 1_000_000, log: h.log });
    try {
      expect((await api.deliver(adapter.webhookUrl!, bodyOfItems([item as unknown as CloudPayload]))).status).toBe(200);
      await waitFor(async () => (await h.count(`SELECT count(*) AS n FROM report_media WHERE state = 'stored'`)) === 1, 20_000);
      const { rows } = await h.db.query<{ sha256: string }>('SELECT sha256 FROM report_media');
      expect(rows[0]!.sha256).toBe(createHash('sha256').update(jpeg).digest('hex'));
      expect(api.auth.filter((a) => a.kind !== 'send').map((a) => [a.kind, a.header])).toEqual([
        ['media', `Bearer ${api.token}`],
        ['download', `Bearer ${api.token}`],
      ]);
    } finally {
      await media.close();
    }
  });
});
