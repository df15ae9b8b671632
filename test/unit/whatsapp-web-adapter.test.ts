/**
 * Issue 12 (WhatsApp Web): the adapter's receive path (the shared inboundPath, with a recording
 * sink), LID learning, sending and media, on a fake whatsapp-web.js Client that emits real
 * `Message` objects built from the recorded data in test/fixtures/whatsapp-web.
 */
import * as fs from 'node:fs';
import { createRequire } from 'node:module';
import * as path from 'node:path';
import { createWebAdapter, chunks, type WebAdapter } from '../../adapters/whatsapp/web/adapter';
import { normalizeWeb, WebMessage } from '../../adapters/whatsapp/web/normalize';
import type { WebPayload } from '../../adapters/whatsapp/payload';
import { isTiphubError } from '../../src/errors';
import type { InboundMessage } from '../../src/contracts/inbound-message';
import { expectAbsent } from '../adapters/identifiers';
import { FakeClient, fakePorts, keyring, recordingSink, waitFor } from './whatsapp-web-fakes';

const FIXTURES = path.join(__dirname, '../fixtures/whatsapp-web');
const load = (n: string) => JSON.parse(fs.readFileSync(path.join(FIXTURES, `${n}.json`), 'utf8')) as WebPayload;
const identifiers = JSON.parse(fs.readFileSync(path.join(FIXTURES, 'identifiers.json'), 'utf8')) as Record<string, string[]>;
const everyone = [...new Set(Object.values(identifiers).flat())];
const KARIM = '9647701234567@c.us';
const KARIM_LID = '203962718459904@lid';
/** whatsapp-web.js's Reaction (not exported by the package's index). */
const Reaction = createRequire(__filename)('whatsapp-web.js/src/structures/Reaction') as new (client: null, data: object) => object;

type Env = ReturnType<typeof fakePorts>;
let adapter: WebAdapter | null = null;
let env: Env | null = null;
afterEach(async () => {
  await adapter?.stop();
  adapter = null;
  env?.cleanup();
  env = null;
});

async function started(opts: Parameters<typeof fakePorts>[0] = {}, ready = true) {
  env = fakePorts(opts);
  const client = new FakeClient(ready ? 'ready' : 'hang');
  adapter = createWebAdapter(env.ports, { makeClient: () => client, lidTimeoutMs: 200, closeTimeoutMs: 200 });
  const to = recordingSink();
  await adapter.start(to.sink);
  if (ready) await waitFor(() => adapter!.session.ready, 2000, 'ready');
  return { adapter, env, client, to };
}

const ctx = () => ({ account: 'test', receivedAt: new Date(), messageId: (p: readonly (string | number)[]) => keyring.messageId('whatsapp', p) });

describe('handleInbound (the shared inbound path)', () => {
  test('a message is enqueued once; the account is the clientId', async () => {
    const { adapter, to } = await started();
    await adapter.handleInbound(load('text'));
    expect(to.offered).toHaveLength(1);
    const m = to.offered[0]!;
    expect(m).toMatchObject({ channel: 'whatsapp', account: 'test', sender: { address: KARIM, name: 'Karim' }, text: expect.stringContaining('three trucks') });
    expect(m.id).toBe((normalizeWeb(load('text'), ctx()) as InboundMessage).id);
  });

  test('a revoke is recorded as a retraction (ports.events.record), not enqueued', async () => {
    const { adapter, env, to } = await started();
    await adapter.handleInbound(load('revoke'));
    expect(to.offered).toHaveLength(0);
    expect(env.events).toEqual([expect.objectContaining({ kind: 'retraction', sender: KARIM, target: keyring.messageId('whatsapp', ['wa', '1B2C3D4E5F60718293A4B5C6D7E8F90A']) })]);
  });

  test('group, own, status and service messages are ignored and counted by their word', async () => {
    const { adapter, env, to } = await started();
    for (const n of ['group', 'own', 'status', 'e2e-notification', 'gp2']) await adapter.handleInbound(load(n));
    expect(to.offered).toHaveLength(0);
    expect(env.counted).toEqual(['group', 'own', 'status', 'e2e_notification', 'gp2']);
    expect(adapter.ignored.get('group')).toBe(1);
  });

  test('reactions and acks of our messages are recorded as events (ports.events.record); ours, groups, pending and the informants\' acks counted', async () => {
    const { adapter, env, to } = await started();
    for (const n of ['reaction', 'reaction-removed', 'ack-sent', 'ack-error']) await adapter.handleInbound(load(n));
    for (const n of ['reaction-own', 'reaction-group', 'ack-pending', 'ack-inbound']) await adapter.handleInbound(load(n));
    expect(to.offered).toHaveLength(0);
    const ours = keyring.messageId('whatsapp', ['wa', '3EB0F00DBABE1234567890']);
    expect(env.events).toEqual([
      expect.objectContaining({ kind: 'reaction', sender: KARIM, target: ours, emoji: '👍' }),
      expect.objectContaining({ kind: 'reaction', sender: KARIM, target: ours, emoji: null }),
      { kind: 'delivery', sentId: ours, status: 'sent', at: expect.any(String), error: null },
      { kind: 'delivery', sentId: ours, status: 'failed', at: expect.any(String), error: { code: 'TIPHUB_SEND_FAILED', reason: 'WhatsApp Web reported an error' } },
    ]);
    expect(env.counted).toEqual(['reaction-own', 'reaction-group', 'ack-pending', 'ack-inbound']);
    expect(adapter.quarantined).toBe(0);
  });

  test('a bad payload is quarantined with a reason quoting nothing of it, from a source naming no one', async () => {
    const { adapter, env, to } = await started();
    await adapter.handleInbound(load('malformed'));
    const outOfRange = load('location');
    (outOfRange.msg as { lat: number }).lat = 200;
    await adapter.handleInbound(outOfRange);
    await adapter.handleInbound({ backend: 'web', event: 'message_create', msg: {} });
    await adapter.handleInbound({ backend: 'web', event: 'message_ack', msg: {}, ack: 3 });
    await adapter.handleInbound({ ...load('reaction'), reaction: { ...(load('reaction').reaction as object), senderId: 'Karim 9647701234567' } });
    expect(to.offered).toHaveLength(0);
    expect(env.quarantined.map((q) => [q.source, q.code])).toEqual([
      ['web message', 'TIPHUB_MESSAGE_INVALID'],
      ['web message', 'TIPHUB_MESSAGE_INVALID'],
      ['web item', 'TIPHUB_MESSAGE_INVALID'],
      ['web message_ack', 'TIPHUB_MESSAGE_INVALID'],
      ['web message_reaction', 'TIPHUB_MESSAGE_INVALID'],
    ]);
    expect(env.quarantined[1]!.reason).toMatch(/location\.lat/);
    expect(env.quarantined[0]!.payload).toEqual(load('malformed'));
    expectAbsent('reasons', env.quarantined.map((q) => q.reason + q.source).join('\n'), everyone);
    expect(adapter.quarantined).toBe(5);
  });

  test('after stop() a payload is refused (the platform would deliver it again), not dropped', async () => {
    const { adapter } = await started();
    await adapter.stop();
    await expect(adapter.handleInbound(load('text'))).rejects.toMatchObject({ code: 'TIPHUB_HUB_UNAVAILABLE' });
  });
});

describe('events of the live session', () => {
  const emitted = (client: FakeClient, event: string, n: string, ...more: unknown[]) => client.emit(event, new WebMessage(null, load(n).msg as object), ...more);

  test('message, message_edit and message_revoke_everyone reach the sink / the case log; a LID is learned once and recorded as an alias', async () => {
    const { env, client, to } = await started();
    client.lids.set(KARIM, KARIM_LID);
    emitted(client, 'message', 'text');
    emitted(client, 'message', 'image');
    emitted(client, 'message_edit', 'edit', load('edit').newBody, 'the old text');
    emitted(client, 'message_revoke_everyone', 'revoke', new WebMessage(null, load('quoted').msg as object));
    emitted(client, 'message', 'lid-sender');
    client.emit('message_ciphertext_failed', new WebMessage(null, load('ciphertext').msg as object));
    await waitFor(() => to.offered.length === 4 && env.events.length === 2, 3000, 'delivery');
    expect(to.offered.map((m) => [m.sender.address, m.edited])).toEqual([
      [KARIM_LID, false],
      [KARIM_LID, false],
      [KARIM_LID, true],
      ['118844332211002@lid', false],
    ]);
    expect(to.offered[2]!.text).toContain('four trucks');
    // The alias first (once), then the retraction, under the LID too.
    expect(env.events[0]).toEqual({ kind: 'alias', id: keyring.messageId('whatsapp', ['alias', KARIM, KARIM_LID]), from: KARIM, to: KARIM_LID, reason: 'lid-learned', at: expect.any(String) });
    expect(env.events[1]).toMatchObject({ kind: 'retraction', sender: KARIM_LID });
    // Once for Karim's number, once for the LID sender (whose phone WhatsApp Web does not know here).
    expect(client.lidCalls).toBe(2);
    expect(env.counted).toEqual(['ciphertext']);
    // Nothing identifying in the log.
    expectAbsent('log', env.lines.join('\n'), everyone);
  });

  test('message_reaction and message_ack: a real Reaction and Message reach the case log; the reactor\'s LID is learned, an ack asks for none', async () => {
    const { env, client, to } = await started();
    client.lids.set(KARIM, KARIM_LID);
    const r = load('reaction').reaction as Record<string, unknown>;
    // What the page hands the library (Client.js onReaction), made into its Reaction.
    const page = { id: r.id, msgKey: r.id, parentMsgKey: r.msgId, senderUserJid: r.senderId, timestamp: r.timestamp, reactionText: r.reaction, orphan: r.orphan, orphanReason: r.orphanReason, read: r.read, ack: r.ack };
    client.emit('message_reaction', new Reaction(null, page));
    const own = load('reaction-own').reaction as Record<string, unknown>;
    client.emit('message_reaction', new Reaction(null, { ...own, msgKey: own.id, parentMsgKey: own.msgId, senderUserJid: own.senderId, reactionText: own.reaction }));
    client.emit('message_reaction', { ...(load('reaction-group').reaction as object) });
    // message_ack(message, ack): the Message as serialized, the new ack beside it.
    emitted(client, 'message_ack', 'own', 2);
    emitted(client, 'message_ack', 'own', 3);
    emitted(client, 'message_ack', 'own', 0);
    emitted(client, 'message_ack', 'text', 3);
    await waitFor(() => env.events.length === 4 && env.counted.length === 4, 3000, 'events');
    const ours = keyring.messageId('whatsapp', ['wa', '3EB0F00DBABE1234567890']);
    expect(env.events).toEqual([
      { kind: 'alias', id: keyring.messageId('whatsapp', ['alias', KARIM, KARIM_LID]), from: KARIM, to: KARIM_LID, reason: 'lid-learned', at: expect.any(String) },
      {
        kind: 'reaction',
        id: (normalizeWeb(load('reaction'), ctx()) as { event: { id: string } }).event.id,
        sender: KARIM_LID,
        target: ours,
        emoji: '👍',
        at: '2026-06-10T06:00:00.512Z',
      },
      { kind: 'delivery', sentId: ours, status: 'delivered', at: expect.any(String), error: null },
      { kind: 'delivery', sentId: ours, status: 'read', at: expect.any(String), error: null },
    ]);
    expect(env.counted).toEqual(['reaction-own', 'reaction-group', 'ack-pending', 'ack-inbound']);
    // One look-up, for the reactor; none for our own reaction, one in a group or an ack.
    expect(client.lidCalls).toBe(1);
    expect(to.offered).toHaveLength(0);
    expectAbsent('log', env.lines.join('\n'), everyone);
  });

  test('the ack of a reply we sent names the nativeId our send returned; a reaction to it targets the same', async () => {
    const { adapter, env, client } = await started();
    const sent = await adapter.send(KARIM, { text: 'Thank you. How many trucks?' });
    const stanza = '3EB0000000000000000001';
    const ours = { ...(load('own').msg as object), id: { fromMe: true, remote: KARIM, id: stanza, _serialized: `true_${KARIM}_${stanza}` } };
    client.emit('message_ack', new WebMessage(null, ours), 1);
    const r = load('reaction').reaction as Record<string, unknown>;
    client.emit('message_reaction', new Reaction(null, { ...r, msgKey: r.id, parentMsgKey: ours.id, senderUserJid: r.senderId, reactionText: '🙏' }));
    await waitFor(() => env.events.length === 2, 3000, 'events');
    expect(env.events).toEqual([
      expect.objectContaining({ kind: 'delivery', sentId: sent.nativeId, status: 'sent' }),
      expect.objectContaining({ kind: 'reaction', target: sent.nativeId, emoji: '🙏' }),
    ]);
  });

  test('a reaction the case log cannot take yet is tried again, then recorded once', async () => {
    let down = 2;
    const { env, client } = await started({ recordFails: () => down-- > 0 });
    client.emit('message_reaction', { ...(load('reaction-lid').reaction as object) });
    await waitFor(() => env.events.length === 1, 8000, 'recorded at last');
    expect(env.events[0]).toMatchObject({ kind: 'reaction', sender: '118844332211002@lid', emoji: '❤️' });
    expect(env.lines.filter((l) => l.includes('trying again'))).toHaveLength(2);
    expectAbsent('log', env.lines.join('\n'), everyone);
  });

  test('no LID known: the phone address stays; a failed alias record keeps it too, and is tried again', async () => {
    let down = true;
    const { env, client, to } = await started({ recordFails: () => down });
    emitted(client, 'message', 'text');
    await waitFor(() => to.offered.length === 1, 2000, 'first');
    expect(to.offered[0]!.sender.address).toBe(KARIM);
    client.lids.set('9647701234567@c.us', KARIM_LID);
    // No LID was the answer for this sender: cached, not asked again.
    emitted(client, 'message', 'image');
    await waitFor(() => to.offered.length === 2, 2000, 'second');
    expect(client.lidCalls).toBe(1);
    expect(to.offered[1]!.sender.address).toBe(KARIM);
    // Another sender whose alias cannot be recorded yet.
    const other = load('text');
    const m = other.msg as { from: { _serialized: string; user: string }; id: { _serialized: string; id: string } };
    m.from = { ...m.from, user: '9647700000002', _serialized: '9647700000002@c.us' };
    m.id = { ...m.id, id: 'FFEE0011', _serialized: 'false_9647700000002@c.us_FFEE0011' };
    client.lids.set('9647700000002@c.us', '555000111222333@lid');
    client.emit('message', new WebMessage(null, other.msg as object));
    await waitFor(() => to.offered.length === 3, 2000, 'third');
    expect(to.offered[2]!.sender.address).toBe('9647700000002@c.us');
    down = false;
    client.emit('message', new WebMessage(null, { ...(other.msg as object), id: { ...m.id, id: 'FFEE0012', _serialized: 'false_9647700000002@c.us_FFEE0012' } }));
    await waitFor(() => to.offered.length === 4, 2000, 'fourth');
    expect(to.offered[3]!.sender.address).toBe('555000111222333@lid');
    expect(env.events).toHaveLength(1);
  });

  test('a LID sender whose phone WhatsApp Web knows: the alias is recorded once, the address stays the LID', async () => {
    const { env, client, to } = await started();
    client.lids.set('118844332211002@lid', '118844332211002@lid');
    (client as unknown as { getContactLidAndPhone: (ids: string[]) => Promise<unknown> }).getContactLidAndPhone = async (ids: string[]) => {
      client.lidCalls++;
      return ids.map((i) => ({ lid: i, pn: '9647705550000@c.us' }));
    };
    emitted(client, 'message', 'lid-sender');
    emitted(client, 'message', 'lid-sender');
    await waitFor(() => to.offered.length === 2, 2000, 'both');
    expect(to.offered.map((m) => m.sender.address)).toEqual(['118844332211002@lid', '118844332211002@lid']);
    expect(env.events).toEqual([{ kind: 'alias', id: keyring.messageId('whatsapp', ['alias', '9647705550000@c.us', '118844332211002@lid']), from: '9647705550000@c.us', to: '118844332211002@lid', reason: 'lid-learned', at: expect.any(String) }]);
    expect(client.lidCalls).toBe(1);
  });

  test('a message the case log cannot take yet is tried again until it is kept', async () => {
    let down = 2;
    const { env, client, to } = await started({ quarantineFails: () => down-- > 0 });
    const bad = load('location');
    (bad.msg as { lat: number }).lat = 200;
    client.emit('message', new WebMessage(null, bad.msg as object));
    await waitFor(() => env.quarantined.length === 1, 8000, 'kept at last');
    expect(to.offered).toHaveLength(0);
    expect(env.lines.filter((l) => l.includes('trying again'))).toHaveLength(2);
  });
});

describe('send', () => {
  test('not ready → SEND_FAILED, retryable; not a WhatsApp address → RECIPIENT_UNREACHABLE', async () => {
    const { adapter } = await started({}, false);
    await expect(adapter.send(KARIM, { text: 'hello' })).rejects.toMatchObject({ code: 'TIPHUB_SEND_FAILED', retryable: true });
    await expect(adapter.send('+9647701234567', { text: 'hello' })).rejects.toMatchObject({ code: 'TIPHUB_RECIPIENT_UNREACHABLE', retryable: false });
  });

  test('quotes the report by its platformRef; the result is keyed like a report, and a quote of it replies to it', async () => {
    const { adapter, client } = await started();
    const report = normalizeWeb(load('text'), ctx()) as InboundMessage;
    const sent = await adapter.send(report.sender.address, { text: 'Thank you. How many trucks?', replyTo: report.platformRef });
    expect(client.sent).toEqual([{ chatId: KARIM, content: 'Thank you. How many trucks?', options: { quotedMessageId: report.platformRef, sendSeen: false } }]);
    const stanza = '3EB0000000000000000001';
    expect(sent).toEqual({ nativeId: keyring.messageId('whatsapp', ['wa', stanza]), platformRef: `true_${KARIM}_${stanza}` });
    // The informant answers quoting our message: its replyTo is our send's nativeId.
    const answer = load('quoted');
    (answer.msg as { quotedStanzaID: string }).quotedStanzaID = stanza;
    expect((normalizeWeb(answer, ctx()) as InboundMessage).replyTo).toBe(sent.nativeId);
    // A bare hash cannot be quoted: sent without a quote.
    await adapter.send(KARIM, { text: 'again', replyTo: report.nativeId });
    expect(client.sent[1]!.options).toEqual({ sendSeen: false });
  });

  test('over 4096 characters: split, the first part quoting', async () => {
    const { adapter, client } = await started();
    const text = 'a'.repeat(4095) + '😀' + 'b'.repeat(5000);
    const sent = await adapter.send(KARIM, { text, replyTo: `false_${KARIM}_A1B2` });
    expect(client.sent.map((s) => s.content.length)).toEqual([4095, 4096, 906]);
    expect(client.sent.map((s) => s.content).join('')).toBe(text);
    expect(client.sent.map((s) => s.options)).toEqual([{ quotedMessageId: `false_${KARIM}_A1B2`, sendSeen: false }, { sendSeen: false }, { sendSeen: false }]);
    expect(sent.nativeId).toBe(keyring.messageId('whatsapp', ['wa', '3EB0000000000000000001']));
    expect(chunks('')).toEqual(['']);
  });

  test('unknown number → RECIPIENT_UNREACHABLE; a page fault → SEND_FAILED retryable; messages name no one', async () => {
    const { adapter, client } = await started();
    client.sendResult = 'none';
    const none = await adapter.send('9647799999999@c.us', { text: 'x' }).catch((e: unknown) => e);
    expect(none).toMatchObject({ code: 'TIPHUB_RECIPIENT_UNREACHABLE', retryable: false });
    client.sendResult = { fail: new Error('Evaluation failed: invalid wid 9647799999999@c.us') };
    const wid = await adapter.send('9647799999999@c.us', { text: 'x' }).catch((e: unknown) => e);
    expect(wid).toMatchObject({ code: 'TIPHUB_RECIPIENT_UNREACHABLE' });
    client.sendResult = { fail: new Error('Attempted to use detached Frame') };
    const page = await adapter.send('9647799999999@c.us', { text: 'x' }).catch((e: unknown) => e);
    expect(page).toMatchObject({ code: 'TIPHUB_SEND_FAILED', retryable: true });
    // The library failing to resolve a phone chat is its fault, not the informant's: tried again, still reachable.
    client.sendResult = { fail: new Error('Evaluation failed: Error: No LID for user') };
    const lid = await adapter.send('9647799999999@c.us', { text: 'x' }).catch((e: unknown) => e);
    expect(lid).toMatchObject({ code: 'TIPHUB_SEND_FAILED', retryable: true });
    for (const e of [none, wid, page, lid]) expect(isTiphubError(e) && e.message).not.toContain('9647799999999');
  });
});

describe('openMedia', () => {
  const ref = `false_${KARIM}_3EB0C767D26A1D8B3A2F01`;
  const read = async (s: NodeJS.ReadableStream) => {
    const parts: Buffer[] = [];
    for await (const c of s) parts.push(Buffer.from(c as Buffer));
    return Buffer.concat(parts);
  };

  test('streams the decoded bytes; at the cap whole, a byte over refused (TOO_LARGE)', async () => {
    const { adapter, client } = await started();
    const bytes = Buffer.from('\xff\xd8\xff\xe0 a jpeg, more or less', 'latin1');
    client.media.set(ref, { data: bytes.toString('base64'), mimetype: 'image/jpeg' });
    expect((await read(await adapter.openMedia!(ref, bytes.length))).equals(bytes)).toBe(true);
    await expect(adapter.openMedia!(ref, bytes.length - 1)).rejects.toMatchObject({ code: 'TIPHUB_MEDIA_TOO_LARGE', retryable: false });
    client.media.set('big', { data: 'AAAA', mimetype: 'video/mp4', filesize: 10_000_000 });
    await expect(adapter.openMedia!('big', 1000)).rejects.toMatchObject({ code: 'TIPHUB_MEDIA_TOO_LARGE' });
  });

  test('expired (downloadMedia resolves undefined) → UNREADABLE for good; gone → UNREADABLE; not ready → retryable', async () => {
    const { adapter, client } = await started();
    client.media.set(ref, undefined);
    const expired = await adapter.openMedia!(ref, 1000).catch((e: unknown) => e);
    expect(expired).toMatchObject({ code: 'TIPHUB_MEDIA_UNREADABLE', retryable: false });
    expect((expired as Error).message).toMatch(/expired/);
    await expect(adapter.openMedia!('false_x@c.us_NOPE', 1000)).rejects.toMatchObject({ code: 'TIPHUB_MEDIA_UNREADABLE', retryable: false });
    await adapter.stop();
    const notReady = createWebAdapter(env!.ports, { makeClient: () => new FakeClient('hang') });
    await expect(notReady.openMedia!(ref, 1000)).rejects.toMatchObject({ code: 'TIPHUB_MEDIA_UNREADABLE', retryable: true });
  });
});

test('start() makes the session directory, private (0700)', async () => {
  const { env } = await started();
  expect(fs.statSync(path.join(env.dataDir, 'whatsapp-web')).mode & 0o777).toBe(0o700);
});
