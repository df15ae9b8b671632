/**
 * Issue 13, parts 1 and 3-5: the Signal adapter against the local fake of signal-cli-rest-api
 * (test/helpers/signal-fake.ts, every request checked against the OpenAPI file), with real Redis
 * under this test's prefix (intake queue, lease, channel state) and the case log on PGlite.
 * Both receive modes (json-rpc: websocket; normal: polling) take an informant's text, attachment,
 * edit, remote delete, reaction and receipts; a dropped websocket and a restarted server lose and
 * duplicate nothing that was sent while we were connected; a poll's batch survives a failing
 * receive path; replays add nothing; a second process on the same number stands by (the lease);
 * attachments are streamed and deleted; sends quote the report; 400 and 429 (the captcha) are
 * classified; and no uuid, number or name shows in Redis or in the log.
 */
import type { Socket } from 'node:net';
import type { WebSocket } from 'ws';
import { channelModule, createChannel } from '../../adapters/registry';
import type { SignalAdapter, SignalSettings } from '../../adapters/signal';
import type { ChannelEvent, InboundMessage } from '../../src/contracts/inbound-message';
import type { QuarantineEntry } from '../../src/caselog/quarantine';
import { readChannelStates } from '../../src/channels/state';
import { isTiphubError, type TiphubError } from '../../src/errors';
import { intakeJobId, SEAL_AAD_INTAKE } from '../../src/queue/intake-queue';
import { connectRedis } from '../../src/queue/redis';
import { dumpPrefix, TEST_REDIS_URL, waitFor, withChannel } from '../helpers/env';
import { harness, type Harness } from '../helpers/harness';
import { SignalFake, type Informant, envelopes } from '../helpers/signal-fake';
import { expectAbsent } from '../adapters/identifiers';

const NUMBER = '+15550009999';
const AUTH = 'Bearer proxy-token-0123456789';
const KARIM = { uuid: '6f1b8c2e-4d3a-4b7e-9c5f-2a8d1e0b7c34', number: '+9647701234567', name: 'Karim Ali' };
const NOOR = { uuid: 'b3e0a9d4-7c21-4f68-8e1a-5d9c6b2f0e47', number: null, name: 'Noor' };
const IDENTIFIERS = [KARIM.uuid, KARIM.number, KARIM.name, NOOR.uuid, NOOR.name, NUMBER];

type Quarantine = (e: QuarantineEntry) => Promise<void>;

describe('signal adapter on the signal-cli-rest-api fake', () => {
  let h: Harness;
  let fake: SignalFake;
  const adapters: SignalAdapter[] = [];
  const events: ChannelEvent[] = [];
  const quarantined: QuarantineEntry[] = [];
  const fakes: SignalFake[] = [];

  const startFake = async (mode: 'json-rpc' | 'normal', authorization: string | undefined = AUTH) => {
    const f = await new SignalFake().start({ mode, number: NUMBER, ...(authorization ? { authorization } : {}) });
    fakes.push(f);
    return f;
  };

  const make = (o: { fake?: SignalFake; url?: string; auth?: string | null; settings?: Record<string, unknown>; quarantine?: Quarantine } = {}) => {
    const f = o.fake ?? fake;
    const cfg = withChannel(
      h.cfg,
      'signal',
      { url: o.url ?? f.url, number: NUMBER, auth: o.auth === undefined ? AUTH : o.auth },
      { pollIntervalMs: 200, pingIntervalMs: 1_000, reconnectBackoffMs: 100, reconnectBackoffMaxMs: 1_000, leaseMs: 3_000, mediaMaxBytes: 64 * 1024, requestTimeoutMs: 5_000, ...o.settings },
    );
    const a = createChannel('signal', {
      keyring: h.keyring,
      log: h.log,
      cfg,
      redis: TEST_REDIS_URL,
      quarantine:
        o.quarantine ??
        (async (e) => {
          quarantined.push(e);
        }),
      record: async (_channel, e) => {
        events.push(e);
        return 'recorded';
      },
    }) as SignalAdapter;
    adapters.push(a);
    return a;
  };

  const jobs = async () => h.queue.getJobs(['waiting', 'active', 'delayed', 'completed', 'prioritized']);
  const texts = async () => (await jobs()).map((j) => h.keyring.unseal<InboundMessage>(j.data.sealed, SEAL_AAD_INTAKE)).sort((a, b) => a.sentAt.localeCompare(b.sentAt));
  const state = async () => {
    const r = connectRedis(TEST_REDIS_URL);
    try {
      return (await readChannelStates(r, h.cfg.queue.prefix, ['signal']))[0]!;
    } finally {
      r.disconnect();
    }
  };
  const sentId = (ts: number) => h.keyring.messageId('signal', ['sig-sent', ts]);
  const failure = (p: Promise<unknown>) =>
    p.then(
      () => null,
      (e: unknown) => e as TiphubError,
    );

  beforeEach(async () => {
    h = await harness('pglite');
    events.length = 0;
    quarantined.length = 0;
  });
  afterEach(async () => {
    for (const a of adapters.splice(0)) await a.stop();
    for (const f of fakes.splice(0)) await f.stop();
    await h.close();
  });

  /** The informant's side of a conversation: text, attachment, edit, remote delete, reaction and receipts of our two replies. */
  async function conversation(a: SignalAdapter, karim: Informant, noor: Informant) {
    const t = karim.text('I saw three trucks near the bridge');
    const photo = Buffer.from('a photo of the trucks');
    const att = karim.attachment([{ bytes: photo, contentType: 'image/jpeg', filename: null }], 'the trucks');
    await waitFor(async () => (await jobs()).length === 2);
    const reply1 = await a.send(KARIM.uuid, { text: 'Thank you. How many people?', replyTo: `${t.timestamp}:${KARIM.uuid}` });
    const reply2 = await a.send(NOOR.uuid, { text: 'Thank you, Noor.' });
    const [ts1, ts2] = fake.sentTimestamps.slice(-2) as [number, number];
    expect(reply1).toEqual({ nativeId: sentId(ts1), platformRef: String(ts1) });
    expect(reply2).toEqual({ nativeId: sentId(ts2), platformRef: String(ts2) });
    karim.edit(t.timestamp, 'I saw four trucks near the bridge');
    karim.remoteDelete(att.timestamp);
    karim.reaction('👍', ts1);
    karim.receipt('delivery', [ts1]);
    noor.receipt('read', [ts2, ts1]);
    karim.typing();
    await waitFor(async () => (await jobs()).length === 3 && events.length === 5, 15_000);

    const messages = await texts();
    expect(messages.map((m) => [m.text, m.edited, m.media.length])).toEqual([
      ['I saw three trucks near the bridge', false, 0],
      ['the trucks', false, 1],
      ['I saw four trucks near the bridge', true, 0],
    ]);
    expect(messages.every((m) => m.sender.address === KARIM.uuid && m.channel === 'signal')).toBe(true);
    expect(messages[2]!.editOf).toBe(messages[0]!.id);
    expect(messages[1]!.media[0]).toMatchObject({ ref: att.ids[0], kind: 'photo', mime: 'image/jpeg', size: photo.length });
    expect(events.map((e) => e.kind)).toEqual(['retraction', 'reaction', 'delivery', 'delivery', 'delivery']);
    expect(events[0]).toMatchObject({ kind: 'retraction', target: messages[1]!.nativeId });
    expect(events[1]).toMatchObject({ kind: 'reaction', target: sentId(ts1), emoji: '👍' });
    expect(events.slice(2)).toMatchObject([
      { sentId: sentId(ts1), status: 'delivered' },
      { sentId: sentId(ts2), status: 'read' },
      { sentId: sentId(ts1), status: 'read' },
    ]);
    // The reply quoted the report; the other did not quote.
    expect(fake.sent.slice(-2)).toMatchObject([{ number: NUMBER, recipients: [KARIM.uuid], quote_timestamp: t.timestamp, quote_author: KARIM.uuid }, { recipients: [NOOR.uuid] }]);
    expect(fake.sent.at(-1)).not.toHaveProperty('quote_timestamp');

    // The attachment: streamed within the cap, then deleted on the server; gone for good afterwards.
    const chunks: Buffer[] = [];
    for await (const c of await a.openMedia!(att.ids[0]!, 64 * 1024)) chunks.push(Buffer.from(c as Buffer));
    expect(Buffer.concat(chunks).equals(photo)).toBe(true);
    await a.releaseMedia!(att.ids[0]!);
    expect(fake.deletedAttachments).toEqual([att.ids[0]]);
    const gone = await failure(a.openMedia!(att.ids[0]!, 64 * 1024));
    expect(isTiphubError(gone, 'TIPHUB_MEDIA_UNREADABLE') && gone.retryable).toBe(false);
    await a.releaseMedia!(att.ids[0]!); // already gone: nothing to do

    // The same envelopes again, three times: nothing added.
    for (let i = 0; i < 3; i++) fake.push(t.envelope);
    for (let i = 0; i < 3; i++) await a.handleInbound({ envelope: t.envelope, account: NUMBER });
    await new Promise((r) => setTimeout(r, 600));
    expect((await jobs()).map((j) => j.id).sort()).toEqual(messages.map((m) => intakeJobId(m.id)).sort());

    expect(quarantined).toHaveLength(0);
    expectAbsent('redis', await dumpPrefix(h.cfg.queue.prefix), IDENTIFIERS);
    expectAbsent('log', h.lines.join(''), IDENTIFIERS);
    fake.expectNoViolations();
  }

  test('websocket (json-rpc): text, attachment, edit, remote delete, reaction, receipts; replies quote; replays add nothing; the Authorization header on every request and the upgrade', async () => {
    fake = await startFake('json-rpc');
    const a = make();
    await a.start(h.sink);
    expect(a.mode).toBe('websocket');
    await waitFor(async () => fake.connectedClients === 1);
    await waitFor(async () => (await state()).state === 'connected');
    await conversation(a, fake.informant(KARIM), fake.informant(NOOR));
    expect(fake.requests.every((r) => r.headers.authorization === AUTH)).toBe(true);
    expect(fake.requests.some((r) => r.status === 101)).toBe(true);
    expect(fake.dropped).toHaveLength(0);
  });

  test('polling (normal mode): the same conversation; each batch handed on before the next poll', async () => {
    fake = await startFake('normal');
    const a = make();
    await a.start(h.sink);
    expect(a.mode).toBe('polling');
    await conversation(a, fake.informant(KARIM), fake.informant(NOOR));
    expect(fake.pending()).toBe(0);
    expect(fake.requests.filter((r) => r.path.startsWith('/v1/receive/')).every((r) => r.query.timeout === '1' && r.headers.authorization === AUTH)).toBe(true);
  });

  test('settings.mode overrides the server\'s mode; an exception frame is counted; a frame that is not JSON, or for another account, is quarantined', async () => {
    fake = await startFake('json-rpc');
    const a = make();
    await a.start(h.sink);
    await waitFor(async () => fake.connectedClients === 1);
    fake.pushFrame(JSON.stringify({ exception: { message: 'org.whispersystems.libsignal.InvalidMessageException', type: 'ProtocolInvalidMessageException' } }));
    fake.pushFrame('not json at all');
    const karim = fake.informant(KARIM);
    karim.text('after the odd frames');
    await waitFor(async () => (await jobs()).length === 1);
    expect(a.notEnvelopes).toBe(2);
    expect(quarantined.map((q) => q.reason)).toEqual(['frame has no envelope']);
    // A frame the server received for another number it serves: kept aside, never a tip of this line.
    const other = envelopes.text({ uuid: '1b7f5a0e-9f0c-4c1e-8d2a-3e4f5a6b7c8d', number: '+9647705550000', name: 'Someone' }, 'meant for another number');
    fake.pushFrame(JSON.stringify({ envelope: other.envelope, account: '+15550001111' }));
    await waitFor(async () => quarantined.length === 2);
    expect(quarantined[1]).toMatchObject({ code: 'TIPHUB_MESSAGE_INVALID', reason: 'frame for another account of the server' });
    expect(await jobs()).toHaveLength(1);
    fake.expectNoViolations();
    await a.stop();

    const polled = await startFake('normal');
    const b = make({ fake: polled, settings: { mode: 'polling' } });
    await b.start(h.sink);
    expect(b.mode).toBe('polling');
    polled.informant(KARIM).text('polled');
    await waitFor(async () => (await jobs()).length === 2);
    polled.expectNoViolations();
  });

  test('the websocket dropped mid-stream, then the server restarted: it reconnects at once, nothing sent while connected is lost or duplicated; the gap is counted and said without identifiers', async () => {
    fake = await startFake('json-rpc');
    const a = make();
    await a.start(h.sink);
    await waitFor(async () => fake.connectedClients === 1);
    const karim = fake.informant(KARIM);
    const delivered: string[] = [];
    const say = (text: string) => {
      if (karim.text(text).delivered > 0) delivered.push(text);
    };
    for (let i = 0; i < 5; i++) say(`before ${i}`);
    await waitFor(async () => (await jobs()).length === 5);

    // A network drop: the next connection comes at once.
    fake.dropClients();
    await waitFor(async () => fake.connectedClients === 1 && fake.connections === 2, 5_000);
    for (let i = 0; i < 5; i++) say(`between ${i}`);
    await waitFor(async () => (await jobs()).length === 10);

    // The server goes away for a while and comes back: what it sent to no one is lost (its nature), the rest lands once.
    await fake.restart(1_500);
    await waitFor(async () => fake.connectedClients === 1, 10_000);
    for (let i = 0; i < 5; i++) say(`after ${i}`);
    await waitFor(async () => (await jobs()).length === 15);
    await new Promise((r) => setTimeout(r, 300));
    expect((await texts()).map((m) => m.text)).toEqual(delivered);
    expect(delivered).toHaveLength(15);

    expect(a.disconnectedSeconds).toBeGreaterThanOrEqual(1);
    const drops = h.lines.filter((l) => l.includes('Signal receive websocket dropped'));
    expect(drops.length).toBeGreaterThanOrEqual(2);
    const s = await state();
    expect(s.state).toBe('connected');
    expect(s.detail).toMatch(/^disconnected \d+ s since start$/);
    expectAbsent('log', h.lines.join(''), IDENTIFIERS);
    fake.expectNoViolations();
  });

  test('two pongs missed count as a drop: the receiver cuts the connection and connects again', async () => {
    fake = await startFake('json-rpc');
    const a = make();
    await a.start(h.sink);
    await waitFor(async () => fake.connectedClients === 1);
    // The server side stops reading: our pings go unanswered.
    const clients = (fake as unknown as { clients: Map<WebSocket, number> }).clients;
    for (const ws of clients.keys()) (ws as unknown as { _socket: Socket })._socket.pause();
    await waitFor(async () => fake.connections === 2 && fake.connectedClients >= 1, 10_000);
    expect(h.lines.some((l) => l.includes('"reason":"pongs missed"'))).toBe(true);
    fake.informant(KARIM).text('after the silent connection');
    await waitFor(async () => (await jobs()).length === 1);
    expect(a.disconnectedSeconds).toBeGreaterThanOrEqual(0);
    fake.expectNoViolations();
  });

  test('polling: while the receive path fails (sink and quarantine down) the batch stays in memory and is retried before the next poll; nothing lost, nothing twice', async () => {
    fake = await startFake('normal');
    let down = true;
    const a = make({
      quarantine: async (e) => {
        if (down) throw new Error('case log down');
        quarantined.push(e);
      },
    });
    await a.start(async (m, meta) => {
      if (down) throw new Error('redis down');
      return h.sink(m, meta);
    });
    const karim = fake.informant(KARIM);
    for (let i = 0; i < 3; i++) karim.text(`tip ${i}`);
    await waitFor(async () => fake.pending() === 0);
    await waitFor(async () => h.lines.some((l) => l.includes('kept in memory and tried again')));
    const polls = () => fake.requests.filter((r) => r.path.startsWith('/v1/receive/')).length;
    const before = polls();
    await new Promise((r) => setTimeout(r, 1_200));
    // No poll while the batch is not handed on: the server would have nothing of it to give again.
    expect(polls()).toBe(before);
    down = false;
    await waitFor(async () => (await jobs()).length === 3, 10_000);
    karim.text('tip 3');
    await waitFor(async () => (await jobs()).length === 4);
    expect((await texts()).map((m) => m.text)).toEqual(['tip 0', 'tip 1', 'tip 2', 'tip 3']);
    expect(quarantined).toHaveLength(0);
    expectAbsent('log', h.lines.join(''), IDENTIFIERS);
    fake.expectNoViolations();
  });

  test('stop while Redis and the case log are down: it returns within its 10 s and says what it could not keep; with the case log back, it is kept', async () => {
    fake = await startFake('normal');
    let caseLogDown = true;
    const a = make({
      quarantine: async (e) => {
        if (caseLogDown) throw new Error('case log down');
        quarantined.push(e);
      },
    });
    await a.start(async () => {
      throw new Error('redis down');
    });
    fake.informant(KARIM).text('held when the hub stops');
    await waitFor(async () => h.lines.some((l) => l.includes('kept in memory and tried again')));
    const t0 = Date.now();
    await a.stop();
    expect(Date.now() - t0).toBeLessThan(15_000);
    expect(h.lines.filter((l) => l.includes('not handed on at stop')).map((l) => JSON.parse(l) as { kept: number; lost: number })).toMatchObject([{ kept: 0, lost: 1 }]);

    // The same with the case log answering: the refused enqueue is quarantined by the receive path.
    caseLogDown = false;
    const b = make({ quarantine: async (e) => void quarantined.push(e) });
    await b.start(async () => {
      throw new Error('redis down');
    });
    fake.informant(KARIM).text('kept although Redis is down');
    await waitFor(async () => quarantined.length === 1);
    await b.stop();
    expect(quarantined[0]!.reason).toMatch(/^not enqueued/);
    expectAbsent('log', h.lines.join(''), IDENTIFIERS);
  }, 40_000);

  test('one receiver per number: a second process waits (the lease) and takes over when the first stops', async () => {
    fake = await startFake('json-rpc');
    const first = make();
    const second = make();
    await first.start(h.sink);
    await waitFor(async () => fake.connectedClients === 1);
    await second.start(h.sink);
    await new Promise((r) => setTimeout(r, 1_200));
    expect(fake.connections).toBe(1);
    expect(first.receiving).toBe(true);
    expect(second.receiving).toBe(false);
    const karim = fake.informant(KARIM);
    expect(karim.text('one receiver').delivered).toBe(1);
    await waitFor(async () => (await jobs()).length === 1);
    // The standby's "connecting" does not hide the active one's state.
    expect((await state()).state).toBe('connected');

    await first.stop();
    await waitFor(async () => second.receiving && fake.connectedClients === 1, 10_000);
    expect(fake.connections).toBe(2);
    karim.text('the second one now');
    await waitFor(async () => (await jobs()).length === 2);
    expectAbsent('redis', await dumpPrefix(h.cfg.queue.prefix), IDENTIFIERS);
    fake.expectNoViolations();
  });

  test('send: a long text is split in 2000-character parts (the first quotes); a nativeId is not quoted; 400 and unknown recipients classified without quoting the server', async () => {
    fake = await startFake('json-rpc');
    const a = make();
    await a.start(h.sink);
    const long = 'x'.repeat(4_500);
    const r = await a.send(KARIM.uuid, { text: long, replyTo: `1781068400000:${KARIM.uuid}` });
    expect(fake.sent.map((s) => s.message.length)).toEqual([2000, 2000, 500]);
    expect(fake.sent.map((s) => s.quote_timestamp ?? null)).toEqual([1781068400000, null, null]);
    expect(r.nativeId).toBe(sentId(fake.sentTimestamps[0]!));
    await a.send(KARIM.uuid, { text: 'no quote', replyTo: h.keyring.messageId('signal', ['sig', KARIM.uuid, 1]) });
    expect(fake.sent.at(-1)).not.toHaveProperty('quote_author');

    fake.sendFailures.push({ status: 400 });
    const unknown = await failure(a.send(KARIM.uuid, { text: 'a' }));
    expect(unknown).toMatchObject({ code: 'TIPHUB_RECIPIENT_UNREACHABLE', retryable: false });
    fake.sendFailures.push({ status: 400, error: `Failed to send message: ${KARIM.number} (${KARIM.uuid}) something odd` });
    const refused = await failure(a.send(KARIM.uuid, { text: 'a' }));
    expect(refused).toMatchObject({ code: 'TIPHUB_SEND_FAILED', retryable: false });
    expect(refused!.message).toMatch(/^signal-cli-rest-api refused the message \(400\)/);
    expectAbsent('error', refused!.message, IDENTIFIERS);
    expectAbsent('error', refused!.message, ['9647701234567', '7701234567']);

    // The server unreachable: retryable.
    await fake.stop();
    const unreachable = await failure(a.send(KARIM.uuid, { text: 'a' }));
    expect(unreachable).toMatchObject({ code: 'TIPHUB_SEND_FAILED', retryable: true });
    const media = await failure(a.openMedia!('abc.jpeg', 1000));
    expect(media).toMatchObject({ code: 'TIPHUB_MEDIA_UNREADABLE', retryable: true });
    expectAbsent('log', h.lines.join(''), IDENTIFIERS);
  });

  test('429 with challenge tokens: the channel needs a captcha (state, log, pendingChallenge), sends wait; submitChallenge lifts it and the channel is connected again', async () => {
    fake = await startFake('json-rpc');
    const a = make();
    await a.start(h.sink);
    await waitFor(async () => (await state()).state === 'connected');
    const [token] = fake.requireChallenge(['challenge-token-1']);
    const err = await failure(a.send(KARIM.uuid, { text: 'are you safe?' }));
    expect(err).toMatchObject({ code: 'TIPHUB_SEND_RATE_LIMITED', retryable: true, retryAfterMs: 60_000 });
    expect(a.pendingChallenge).toBe(token);
    await waitFor(async () => (await state()).state === 'needs-captcha');
    expect((await state()).detail).toBe(`Signal asks for a captcha: tiphub signal challenge ${token} CAPTCHA`);
    expect(h.lines.some((l) => l.includes('tiphub signal challenge TOKEN CAPTCHA'))).toBe(true);
    expect(h.lines.join('')).not.toContain(token);
    // A reconnect does not hide it.
    fake.dropClients();
    await waitFor(async () => fake.connections === 2 && fake.connectedClients === 1);
    await new Promise((r) => setTimeout(r, 200));
    expect((await state()).state).toBe('needs-captcha');

    const wrong = await failure(a.submitChallenge('another-token', 'signalcaptcha://solved'));
    expect(wrong).toMatchObject({ code: 'TIPHUB_SEND_FAILED', retryable: false });
    expect(a.pendingChallenge).toBe(token);

    await a.submitChallenge(token!, 'signalcaptcha://signal-hcaptcha.solved');
    expect(fake.challenges.at(-1)).toEqual({ challenge_token: token, captcha: 'signalcaptcha://signal-hcaptcha.solved' });
    expect(fake.challengePending).toBe(false);
    expect(a.pendingChallenge).toBeNull();
    await waitFor(async () => (await state()).state === 'connected');
    await a.send(KARIM.uuid, { text: 'are you safe?' });
    expect(fake.sent.at(-1)!.message).toBe('are you safe?');
    fake.expectNoViolations();
  });

  test('account operations without an adapter (tiphub signal link / challenge): the link URI, and a challenge answered', async () => {
    fake = await startFake('json-rpc');
    const m = channelModule('signal');
    const settings = withChannel(h.cfg, 'signal', { url: fake.url, number: NUMBER, auth: AUTH }).channels.signal!.settings as SignalSettings;
    const cred = { url: fake.url, number: NUMBER, auth: AUTH };
    const uri = await m.account!.linkUri!(settings, cred, 'tiphub');
    expect(uri).toMatch(/^sgnl:\/\/linkdevice\?/);
    expect(uri).toBe(fake.linkUri);
    expect(fake.linkRequests).toEqual(['tiphub']);
    const [token] = fake.requireChallenge(['challenge-token-2']);
    await expect(m.account!.submitChallenge!(settings, cred, 'not-it', 'signalcaptcha://x')).rejects.toMatchObject({ code: 'TIPHUB_SEND_FAILED', retryable: false });
    await m.account!.submitChallenge!(settings, cred, token!, 'signalcaptcha://x');
    expect(fake.challengePending).toBe(false);
    await expect(m.account!.linkUri!(settings, { ...cred, auth: 'Bearer wrong' }, 'tiphub')).rejects.toMatchObject({ code: 'TIPHUB_CONFIG_INVALID' });
    fake.violations.splice(0); // the wrong header, on purpose
    fake.expectNoViolations();
  });

  test('start: a refused Authorization header is a configuration error; an unreachable server is retryable; neither leaves anything running', async () => {
    fake = await startFake('json-rpc', 'Bearer the-right-one');
    const wrong = make({ auth: 'Bearer a-wrong-one' });
    const e1 = await failure(wrong.start(h.sink));
    expect(e1).toMatchObject({ code: 'TIPHUB_CONFIG_INVALID', retryable: false });
    expect(e1!.message).toMatch(/TIPHUB_SIGNAL_AUTH/);
    expect(fake.connections).toBe(0);

    const closed = await startFake('json-rpc');
    const url = closed.url;
    await closed.stop();
    const away = make({ url });
    const e2 = await failure(away.start(h.sink));
    expect(isTiphubError(e2) && e2.retryable).toBe(true);
    expect(e2!.message).not.toContain(url);
    expect((await state()).state).toBe('disconnected');
  });
});
