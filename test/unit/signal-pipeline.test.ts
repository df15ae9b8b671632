/**
 * Issue 13, end to end over the signal-cli-rest-api fake in both receive modes (json-rpc: the
 * websocket; normal: polling), through the real pipeline: intake worker and case log (PGlite),
 * outbound worker, media worker, the case log's channel events. An informant's tip lands once;
 * the acknowledgement and an operator's reply (quoting the report) reach the informant; receipts
 * mark the reply delivered and read; a photo is stored, then deleted on the server; and every
 * request the adapter made is valid against the OpenAPI file.
 */
import { createHash } from 'node:crypto';
import { createChannel } from '../../adapters/registry';
import type { SignalAdapter } from '../../adapters/signal';
import { addQuarantine } from '../../src/caselog/quarantine';
import { recordChannelEvent } from '../../src/caselog/channel-events';
import { queueReply } from '../../src/conversation/operator';
import { loadTexts } from '../../src/conversation/texts';
import { OutboxRelay } from '../../src/queue/outbound-queue';
import { startMediaWorker } from '../../workers/media/worker';
import { startOutboundWorker } from '../../workers/outbound/worker';
import { dumpPrefix, TEST_REDIS_URL, waitFor, withChannel } from '../helpers/env';
import { harness, type Harness } from '../helpers/harness';
import { SignalFake } from '../helpers/signal-fake';
import { expectAbsent } from '../adapters/identifiers';

const NUMBER = '+15550009999';
const KARIM = { uuid: '6f1b8c2e-4d3a-4b7e-9c5f-2a8d1e0b7c34', number: '+9647701234567', name: 'Karim Ali' };
const CONV = { conversation: { ackDelayMs: 100, ackQuietMinutes: 10, outboxSweepMs: 500 }, outbound: { backoffMs: 100 } };

describe.each(['json-rpc', 'normal'] as const)('signal end to end, server in %s mode', (mode) => {
  let h: Harness;
  let fake: SignalFake;
  let adapter: SignalAdapter | null = null;
  const closers: { close(): Promise<void> }[] = [];

  beforeEach(async () => {
    h = await harness('pglite', CONV);
    fake = await new SignalFake().start({ mode, number: NUMBER });
  });
  afterEach(async () => {
    for (const c of closers.splice(0)) await c.close();
    await adapter?.stop();
    adapter = null;
    await fake.stop();
    await h.close();
  });

  test('a tip lands once, is acknowledged, answered quoting it; receipts mark the reply delivered and read; a photo is stored and deleted on the server', async () => {
    const cfg = withChannel(h.cfg, 'signal', { url: fake.url, number: NUMBER, auth: null }, { pollIntervalMs: 200, reconnectBackoffMs: 100, leaseMs: 3_000 });
    adapter = createChannel('signal', {
      keyring: h.keyring,
      log: h.log,
      cfg,
      redis: TEST_REDIS_URL,
      quarantine: (e) => addQuarantine(h.db, [e]),
      record: (channel, e) => recordChannelEvent(h.db, h.keyring, channel, e),
    }) as SignalAdapter;
    await adapter.start(h.sink);
    h.startWorker();
    closers.push(startOutboundWorker({ cfg, redis: TEST_REDIS_URL, db: h.db, keyring: h.keyring, adapter, texts: loadTexts(), log: h.log }));
    closers.push(startMediaWorker({ cfg, redis: TEST_REDIS_URL, db: h.db, keyring: h.keyring, adapter, relay: null, maxBytes: 1_000_000, log: h.log }));
    if (mode === 'json-rpc') await waitFor(async () => fake.connectedClients === 1);

    const karim = fake.informant(KARIM);
    const tip = karim.text('Three trucks crossed the bridge at dawn');
    expect(tip.delivered).toBe(1);
    // The bot's first words (welcome, acknowledgement) reach the informant.
    await waitFor(async () => karim.received().length >= 1, 20_000);
    for (let i = 0; i < 3; i++) fake.push(tip.envelope);
    await waitFor(async () => (await h.count('SELECT count(*) AS n FROM reports')) === 1, 20_000);

    const { rows } = await h.db.query<{ id: string; ref: string }>('SELECT r.id, c.ref FROM reports r JOIN cases c ON c.id = r.case_id');
    const relay = new OutboxRelay(TEST_REDIS_URL, cfg, h.keyring, h.caselog.instance);
    try {
      await relay.relay(h.db, (await queueReply(h.db, { ref: rows[0]!.ref, text: 'Which bridge?', actor: 'op', report: rows[0]!.id })).outbox);
    } finally {
      await relay.close();
    }
    const quoted = await waitFor(async () => fake.sent.find((s) => s.message === 'Which bridge?'), 20_000);
    expect(quoted).toMatchObject({ number: NUMBER, recipients: [KARIM.uuid], quote_timestamp: tip.timestamp, quote_author: KARIM.uuid });
    const replyTs = fake.sentTimestamps[fake.sent.indexOf(quoted)]!;
    const replyId = h.keyring.messageId('signal', ['sig-sent', replyTs]);
    await waitFor(async () => (await h.count('SELECT count(*) AS n FROM sent_messages WHERE sent_id = $1', [replyId])) === 1, 10_000);

    // Receipts of the reply (and of another of ours, in the same receipt): delivered, then read.
    karim.receipt('delivery', [replyTs]);
    karim.receipt('read', [fake.sentTimestamps[0]!, replyTs]);
    await waitFor(async () => (await h.count('SELECT count(*) AS n FROM deliveries WHERE sent_id = $1', [replyId])) === 2, 10_000);
    const { rows: statuses } = await h.db.query<{ status: string }>('SELECT status FROM deliveries WHERE sent_id = $1 ORDER BY status', [replyId]);
    expect(statuses.map((s) => s.status)).toEqual(['delivered', 'read']);

    // A photo: stored with its sha256, then deleted on the server (it never deletes attachments itself).
    const jpeg = Buffer.concat([Buffer.from([0xff, 0xd8, 0xff, 0xe0]), Buffer.alloc(3000, 7)]);
    const photo = karim.attachment([{ bytes: jpeg, contentType: 'image/jpeg', filename: null }], 'the trucks');
    await waitFor(async () => (await h.count(`SELECT count(*) AS n FROM report_media WHERE state = 'stored'`)) === 1, 20_000);
    const { rows: media } = await h.db.query<{ sha256: string }>('SELECT sha256 FROM report_media');
    expect(media[0]!.sha256).toBe(createHash('sha256').update(jpeg).digest('hex'));
    await waitFor(async () => fake.deletedAttachments.includes(photo.ids[0]!), 10_000);
    expect(fake.attachments.size).toBe(0);

    expect(await h.count('SELECT count(*) AS n FROM reports')).toBe(2);
    expect(await h.count('SELECT count(*) AS n FROM quarantine')).toBe(0);
    const ids = [KARIM.uuid, KARIM.number, KARIM.name, NUMBER];
    expectAbsent('redis', await dumpPrefix(h.cfg.queue.prefix), ids);
    expectAbsent('log', h.lines.join(''), ids);
    fake.expectNoViolations();
  });
});
