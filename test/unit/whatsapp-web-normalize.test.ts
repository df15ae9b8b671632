/**
 * Issue 12 (WhatsApp Web): golden outputs of normalizeWeb on the recorded message data in
 * test/fixtures/whatsapp-web, rebuilt as real whatsapp-web.js `Message` objects, under the
 * conformance suite's context; and what each type gives, with no identifier in raw, id or nativeId.
 */
import * as fs from 'node:fs';
import { createRequire } from 'node:module';
import * as path from 'node:path';
import { normalizeWhatsApp } from '../../adapters/whatsapp';
import { normalizeWeb, readVcard, WebMessage } from '../../adapters/whatsapp/web/normalize';
import type { WebPayload } from '../../adapters/whatsapp/payload';
import { Keyring } from '../../src/crypto/keyring';
import { InboundMessage, isEventOnly, isIgnored, isRejected, type EventOnly, type Ignored, type Rejected } from '../../src/contracts/inbound-message';
import { GOLDEN_RECEIVED_AT, GOLDEN_SECRET } from '../adapters/kits/kit';
import { expectAbsent } from '../adapters/identifiers';

const FIXTURES = path.join(__dirname, '../fixtures/whatsapp-web');
const ACCOUNT = '106540352242922';
const keyring = new Keyring(GOLDEN_SECRET);
const ctx = { account: ACCOUNT, receivedAt: GOLDEN_RECEIVED_AT, messageId: (p: readonly (string | number)[]) => keyring.messageId('whatsapp', p) };
const names = fs
  .readdirSync(FIXTURES)
  .filter((f) => f.endsWith('.json') && !f.endsWith('.golden.json') && f !== 'identifiers.json')
  .map((f) => f.slice(0, -5))
  .sort();
const load = (n: string) => JSON.parse(fs.readFileSync(path.join(FIXTURES, `${n}.json`), 'utf8')) as WebPayload;
const identifiers = JSON.parse(fs.readFileSync(path.join(FIXTURES, 'identifiers.json'), 'utf8')) as Record<string, string[]>;
const norm = (n: string) => normalizeWeb(load(n), ctx);
type Out = InboundMessage | Rejected | Ignored | EventOnly;
const message = (n: string): InboundMessage => {
  const m = norm(n);
  if (isIgnored(m) || isRejected(m) || isEventOnly(m)) throw new Error(`${n}: not a message: ${JSON.stringify(m)}`);
  return m;
};
const stanzaOf = (n: string) => (load(n).msg as { id: { id: string } }).id.id;
const serializedOf = (n: string) => (load(n).msg as { id: { _serialized: string } }).id._serialized;

test('normalizeWeb gives the recorded golden outputs for every fixture (the module normalize the same)', () => {
  const actual: Record<string, Out> = Object.fromEntries(names.map((n) => [n, norm(n)]));
  const goldenFile = path.join(FIXTURES, 'normalized.golden.json');
  if (process.env.UPDATE_GOLDEN === '1') fs.writeFileSync(goldenFile, JSON.stringify(actual, null, 2) + '\n');
  expect(actual).toEqual(JSON.parse(fs.readFileSync(goldenFile, 'utf8')));
  for (const n of names) expect({ [n]: normalizeWhatsApp(load(n), ctx) }).toEqual({ [n]: actual[n] });
  expect(names.length).toBeGreaterThanOrEqual(25);
});

test('the fixtures are real Message data: the library builds Message objects from them', () => {
  for (const n of names.filter((x) => x !== 'malformed' && load(x).event !== 'message_reaction')) {
    const m = new WebMessage(null, load(n).msg as object);
    expect(m.id._serialized).toBe(serializedOf(n));
  }
  const image = new WebMessage(null, load('image').msg as object);
  expect(image.hasMedia).toBe(true);
  expect(image.body).toBe('smoke over the bridge');
  const loc = new WebMessage(null, load('location').msg as object);
  expect(typeof loc.location.latitude).toBe('number');
});

test('identifiers.json lists what each fixture holds, and none shows in raw, id, nativeId or a reason', () => {
  expect(Object.keys(identifiers).sort()).toEqual(names);
  for (const n of names) {
    const payload = JSON.stringify(load(n));
    expect(identifiers[n]!.filter((id) => !payload.includes(id)).map((id) => `${n} does not hold ${id}`)).toEqual([]);
    const out = norm(n);
    if (isIgnored(out) || isRejected(out)) {
      expectAbsent(`${n}: reason`, JSON.stringify(out), identifiers[n]!);
      continue;
    }
    if (isEventOnly(out)) {
      const { sender, ...rest } = out.event as { sender?: string };
      if (sender !== undefined) expect(identifiers[n]).toContain(sender);
      expectAbsent(`${n}: event`, JSON.stringify(rest), identifiers[n]!);
      continue;
    }
    expect(InboundMessage.safeParse(out).success).toBe(true);
    expect({ [n]: identifiers[n]!.includes(out.sender.address) }).toEqual({ [n]: true });
    expectAbsent(`${n}: raw`, JSON.stringify(out.raw), identifiers[n]!);
    expectAbsent(`${n}: id`, JSON.stringify([out.id, out.editOf, out.replyTo]), identifiers[n]!);
    expectAbsent(`${n}: nativeId`, out.nativeId, identifiers[n]!);
    expect(out.platformRef).toBe(serializedOf(n));
  }
});

test('each type: text, media kinds, location, contact cards, forwarded, quoted', () => {
  expect(message('text')).toMatchObject({ text: expect.stringContaining('three trucks'), media: [], sender: { address: '9647701234567@c.us', name: 'Karim' }, account: ACCOUNT });
  expect(message('text').sentAt).toBe(new Date(1781070000 * 1000).toISOString());
  const kinds = Object.fromEntries(['image', 'video', 'audio', 'voice', 'document', 'sticker'].map((n) => [n, message(n).media.map((m) => [m.kind, m.mime, m.size, m.filename])]));
  expect(kinds).toEqual({
    image: [['photo', 'image/jpeg', 182734, null]],
    video: [['video', 'video/mp4', 2483921, null]],
    audio: [['audio', 'audio/mpeg', 1524000, null]],
    voice: [['voice', 'audio/ogg; codecs=opus', 38211, null]],
    document: [['document', 'application/pdf', 88123, 'checkpoint-list.pdf']],
    sticker: [['sticker', 'image/webp', 21008, null]],
  });
  expect(message('image').media[0]!.ref).toBe(serializedOf('image'));
  expect(message('image').text).toBe('smoke over the bridge');
  expect(message('voice').text).toBeNull();
  expect(message('video').raw).toMatchObject({ duration: 14, hasMedia: true });
  expect(message('location')).toMatchObject({ text: null, location: { lat: 36.3456, lon: 43.1457, label: 'Old bridge, Al-Nabi Younis, Mosul' } });
  expect(message('vcard')).toMatchObject({ text: null, contact: { self: false, name: 'Ahmed Saleh', phone: '+964 771 234 5678' } });
  expect(message('vcard-self').contact).toEqual({ self: true, name: null, phone: null });
  expect(message('multi-vcard')).toMatchObject({ contact: { self: false, name: 'Ahmed Saleh' }, raw: { vcardCount: 2 } });
  expect(message('forwarded')).toMatchObject({ forwarded: true, raw: { isForwarded: true, forwardingScore: 5 } });
  expect(message('text').forwarded).toBe(false);
  // A quote names the quoted message's stanza id: the same hash as that report's nativeId.
  const quoted = message('quoted');
  expect(quoted.replyTo).toBe(ctx.messageId(['wa', '3EB0F00DBABE1234567890']));
  const ownMessage = load('own').msg as { id: { id: string } };
  expect(ownMessage.id.id).toBe('3EB0F00DBABE1234567890');
  expect(message('text').replyTo).toBeNull();
});

test('ids: keyed hashes of the full id under the account; nativeId of the stanza id, as quotes and revokes name it', () => {
  const m = message('text');
  expect(m.id).toBe(ctx.messageId([ACCOUNT, serializedOf('text')]));
  expect(m.nativeId).toBe(ctx.messageId(['wa', stanzaOf('text')]));
  expect(m.nativeId).toMatch(/^m[0-9a-f]{32}$/);
  // Another account (linked number) gives another id for the same data.
  expect(normalizeWeb(load('text'), { ...ctx, account: 'other' })).toMatchObject({ nativeId: m.nativeId });
  expect((normalizeWeb(load('text'), { ...ctx, account: 'other' }) as InboundMessage).id).not.toBe(m.id);
});

test('@c.us and @lid senders; a LID the adapter learned becomes the address', () => {
  expect(message('lid-sender').sender).toEqual({ address: '118844332211002@lid', name: 'Noor' });
  expect(message('lid-learned').sender).toEqual({ address: '203962718459904@lid', name: 'Karim' });
  const noLid = { ...load('lid-learned'), lid: null };
  expect((normalizeWeb(noLid, ctx) as InboundMessage).sender.address).toBe('9647701234567@c.us');
  const badLid = { ...load('lid-learned'), lid: 'not a lid' };
  expect((normalizeWeb(badLid, ctx) as InboundMessage).sender.address).toBe('9647701234567@c.us');
});

test('an edit is a new report linked to the original, keyed by the edit time', () => {
  const e = message('edit');
  const original = message('text');
  expect(e).toMatchObject({ edited: true, editOf: original.id, nativeId: original.nativeId, text: expect.stringContaining('four trucks') });
  expect(e.id).not.toBe(original.id);
  expect(e.id).toBe(ctx.messageId([ACCOUNT, serializedOf('text'), 'edit', (1781070000 + 900) * 1000 + 250]));
  expect(e.sentAt).toBe(new Date((1781070000 + 900) * 1000 + 250).toISOString());
});

test('a revoke for everyone is a retraction event of the revoked report', () => {
  const out = norm('revoke');
  expect(isEventOnly(out)).toBe(true);
  const ev = (out as EventOnly).event;
  expect(ev).toEqual({
    kind: 'retraction',
    id: ctx.messageId([ACCOUNT, 'revoke', serializedOf('revoke')]),
    sender: '9647701234567@c.us',
    target: message('quoted').nativeId,
    at: new Date((1781070000 + 960) * 1000).toISOString(),
  });
});

test('groups, status, our own, service types and unknown types are ignored by a fixed word; a malformed one rejected', () => {
  const kind = (n: string) => {
    const m = norm(n);
    return isIgnored(m) ? `ignored: ${m.reason}` : isRejected(m) ? 'rejected' : isEventOnly(m) ? 'event' : 'message';
  };
  expect(Object.fromEntries(['group', 'status', 'own', 'e2e-notification', 'notification-template', 'gp2', 'ciphertext', 'protocol', 'call-log', 'unknown-type', 'malformed'].map((n) => [n, kind(n)]))).toEqual({
    group: 'ignored: group',
    status: 'ignored: status',
    own: 'ignored: own',
    'e2e-notification': 'ignored: e2e_notification',
    'notification-template': 'ignored: notification_template',
    gp2: 'ignored: gp2',
    ciphertext: 'ignored: ciphertext',
    protocol: 'ignored: protocol',
    'call-log': 'ignored: call_log',
    'unknown-type': 'ignored: unknown',
    malformed: 'rejected',
  });
  // Groups asked for: the member is the sender.
  expect(normalizeWeb(load('group'), ctx, { groups: true })).toMatchObject({ sender: { address: '9647701234567@c.us' }, text: 'who is going to the market?' });
  // A type nobody listed is counted as unknown, never by its own (sender-chosen) name.
  const odd = load('text');
  (odd.msg as { type: string }).type = 'Karim 9647701234567';
  expect(normalizeWeb(odd, ctx)).toEqual({ ignored: true, reason: 'unknown' });
  for (const bad of [null, 7, { backend: 'web', event: 'message_ack', msg: {} }, { backend: 'web', event: 'message', msg: { id: {} } }, { backend: 'web', event: 'message', msg: { ...(load('text').msg as object), t: 'x' } }]) {
    expect(isRejected(normalizeWeb(bad as never, ctx))).toBe(true);
  }
});

test('vCards: name from FN (else N), first phone, the waid number', () => {
  expect(readVcard('BEGIN:VCARD\r\nVERSION:3.0\r\nN:Saleh;Ahmed;;;\r\nitem1.TEL;type=CELL;waid=9647712345678:+964 771 234 5678\r\nEND:VCARD')).toEqual({ name: 'Ahmed Saleh', phone: '+964 771 234 5678', number: '9647712345678' });
  expect(readVcard('BEGIN:VCARD\nFN:A\\, B\nTEL:+1 (650) 555-0100\nEND:VCARD')).toEqual({ name: 'A, B', phone: '+1 (650) 555-0100', number: '16505550100' });
  expect(readVcard('garbage')).toEqual({ name: null, phone: null, number: null });
});

// --- message_reaction and message_ack -------------------------------------------------------------

/** whatsapp-web.js's Reaction (not exported by the package's index). */
const Reaction = createRequire(__filename)('whatsapp-web.js/src/structures/Reaction') as new (client: null, data: object) => Record<string, unknown>;
const reactionOf = (n: string) => load(n).reaction as Record<string, unknown> & { id: { id: string; _serialized: string }; msgId: { id: string }; senderId: string; timestamp: number };
const eventOf = (n: string) => {
  const out = norm(n);
  if (!isEventOnly(out)) throw new Error(`${n}: not an event: ${JSON.stringify(out)}`);
  return out.event;
};

test('the reaction fixtures are what the library\'s Reaction makes of the page\'s data', () => {
  for (const n of names.filter((x) => load(x).event === 'message_reaction')) {
    const r = reactionOf(n);
    // What the page hands onReaction (Client.js: the reaction model, msgKey, parentMsgKey, senderUserJid, timestamp in s).
    const page = { id: r.id, msgKey: r.id, parentMsgKey: r.msgId, senderUserJid: r.senderId, timestamp: r.timestamp, reactionText: r.reaction, orphan: r.orphan, orphanReason: r.orphanReason, read: r.read, ack: r.ack };
    expect({ [n]: { ...new Reaction(null, page) } }).toEqual({ [n]: r });
    // The page's own names normalize the same.
    const asPage = { ...load(n), reaction: page };
    expect({ [n]: normalizeWeb(asPage, ctx) }).toEqual({ [n]: norm(n) });
  }
});

test('a reaction is an event on the message reacted to, keyed by its own key and time; taken back: emoji null', () => {
  const r = reactionOf('reaction');
  const set = eventOf('reaction');
  expect(set).toEqual({
    kind: 'reaction',
    id: ctx.messageId([ACCOUNT, 'reaction', r.id._serialized, r.msgId.id, '9647701234567@c.us', 1781071200512]),
    sender: '9647701234567@c.us',
    // Our reply's nativeId (the send's SendResult uses the same scheme), and a report's alike.
    target: ctx.messageId(['wa', '3EB0F00DBABE1234567890']),
    emoji: '👍',
    at: '2026-06-10T06:00:00.512Z',
  });
  const back = eventOf('reaction-removed');
  expect(back).toMatchObject({ kind: 'reaction', sender: '9647701234567@c.us', target: set.kind === 'reaction' && set.target, emoji: null, at: '2026-06-10T06:05:00.040Z' });
  expect(back.kind === 'reaction' && back.id).not.toBe(set.kind === 'reaction' && set.id);
  // A LID reactor keeps the LID; a phone reactor whose LID the adapter learned is known by it.
  expect(eventOf('reaction-lid')).toMatchObject({ sender: '118844332211002@lid', emoji: '❤️', target: ctx.messageId(['wa', '3EB0AB12CD34EF567890AB']) });
  const learned = normalizeWeb({ ...load('reaction'), lid: '203962718459904@lid' }, ctx);
  expect(isEventOnly(learned) && learned.event).toMatchObject({ sender: '203962718459904@lid', id: set.kind === 'reaction' && set.id });
  // The same reaction handed over again (WhatsApp Web upserts it when read) has the same id.
  const again = normalizeWeb({ ...load('reaction'), reaction: { ...reactionOf('reaction'), read: true } }, ctx);
  expect(isEventOnly(again) && again.event.kind === 'reaction' && again.event.id).toBe(set.kind === 'reaction' && set.id);
  // A key in its serialized form (as a page may hand it over) reads the same.
  const serialized = normalizeWeb({ ...load('reaction'), reaction: { ...r, id: r.id._serialized, msgId: (r.msgId as unknown as { _serialized: string })._serialized } }, ctx);
  expect(serialized).toEqual(norm('reaction'));
});

test('reactions: ours and in groups ignored by a fixed word (groups taken when asked); a broken one rejected, naming no one', () => {
  expect(norm('reaction-own')).toEqual({ ignored: true, reason: 'reaction-own' });
  expect(norm('reaction-group')).toEqual({ ignored: true, reason: 'reaction-group' });
  expect(normalizeWeb(load('reaction-group'), ctx, { groups: true })).toMatchObject({ event: { kind: 'reaction', sender: '9647701234567@c.us', emoji: '😮' } });
  const status = { ...load('reaction'), reaction: { ...reactionOf('reaction'), msgId: { fromMe: false, remote: 'status@broadcast', id: '3A99', _serialized: 'false_status@broadcast_3A99_9647701234567@c.us' } } };
  expect(normalizeWeb(status, ctx)).toEqual({ ignored: true, reason: 'reaction-status' });
  const r = reactionOf('reaction');
  const bad = [
    { ...load('reaction'), reaction: null },
    { ...load('reaction'), reaction: { ...r, msgId: null } },
    { ...load('reaction'), reaction: { ...r, senderId: 'Karim 9647701234567' } },
    { ...load('reaction'), reaction: { ...r, timestamp: 'soon' } },
    { ...load('reaction'), reaction: { ...r, reaction: 42 } },
  ];
  for (const b of bad) {
    const out = normalizeWeb(b as WebPayload, ctx);
    expect(isRejected(out)).toBe(true);
    expectAbsent('reason', JSON.stringify(out), identifiers.reaction!);
  }
});

test('an ack of our message is its delivery status (the sentId our send returned); error → failed; pending and the informants\' ignored', () => {
  const sentId = ctx.messageId(['wa', '3EB0F00DBABE1234567890']);
  const statuses = Object.fromEntries(['ack-sent', 'ack-delivered', 'ack-read', 'ack-played', 'ack-error'].map((n) => [n, eventOf(n)]));
  expect(statuses).toEqual({
    'ack-sent': { kind: 'delivery', sentId, status: 'sent', at: GOLDEN_RECEIVED_AT.toISOString(), error: null },
    'ack-delivered': { kind: 'delivery', sentId, status: 'delivered', at: GOLDEN_RECEIVED_AT.toISOString(), error: null },
    'ack-read': { kind: 'delivery', sentId, status: 'read', at: GOLDEN_RECEIVED_AT.toISOString(), error: null },
    'ack-played': { kind: 'delivery', sentId, status: 'played', at: GOLDEN_RECEIVED_AT.toISOString(), error: null },
    'ack-error': { kind: 'delivery', sentId, status: 'failed', at: GOLDEN_RECEIVED_AT.toISOString(), error: { code: 'TIPHUB_SEND_FAILED', reason: 'WhatsApp Web reported an error' } },
  });
  expect(norm('ack-pending')).toEqual({ ignored: true, reason: 'ack-pending' });
  expect(norm('ack-inbound')).toEqual({ ignored: true, reason: 'ack-inbound' });
  // The event's ack wins over the message's (serialized before the change); without it, the message's.
  expect(normalizeWeb({ ...load('ack-read'), ack: 2 }, ctx)).toMatchObject({ event: { status: 'delivered' } });
  const { ack: _ack, ...noArg } = load('ack-read');
  expect(normalizeWeb(noArg as WebPayload, ctx)).toMatchObject({ event: { status: 'read' } });
  expect(normalizeWeb({ ...load('ack-read'), ack: 9 }, ctx)).toEqual({ ignored: true, reason: 'ack-unknown' });
  expect(isRejected(normalizeWeb({ backend: 'web', event: 'message_ack', msg: {}, ack: 3 }, ctx))).toBe(true);
});
