/**
 * Issue 13 (Signal, signal-cli-rest-api 0.100), part 2: golden outputs of normalizeSignal on the
 * recorded receive frames in test/fixtures/signal under the conformance suite's context; what each
 * kind becomes; and no uuid, number or name in raw, ids, reasons or events (plainly or in base64).
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { normalizeSignal } from '../../adapters/signal/normalize';
import { Keyring } from '../../src/crypto/keyring';
import { InboundMessage, isEventOnly, isIgnored, isRejected, type ChannelEvent, type EventOnly, type Ignored, type Rejected } from '../../src/contracts/inbound-message';
import { GOLDEN_RECEIVED_AT, GOLDEN_SECRET } from '../adapters/kits/kit';
import { expectAbsent } from '../adapters/identifiers';

const FIXTURES = path.join(__dirname, '../fixtures/signal');
const ACCOUNT = '+15550009999';
const keyring = new Keyring(GOLDEN_SECRET);
const ctx = { account: ACCOUNT, receivedAt: GOLDEN_RECEIVED_AT, messageId: (p: readonly (string | number)[]) => keyring.messageId('signal', p) };
const names = fs
  .readdirSync(FIXTURES)
  .filter((f) => f.endsWith('.json') && !f.endsWith('.golden.json') && f !== 'identifiers.json')
  .map((f) => f.slice(0, -5))
  .sort();
type Frame = { envelope: Record<string, unknown> & { timestamp: number; sourceUuid: string }; account: string };
const load = (n: string) => JSON.parse(fs.readFileSync(path.join(FIXTURES, `${n}.json`), 'utf8')) as Frame;
const identifiers = JSON.parse(fs.readFileSync(path.join(FIXTURES, 'identifiers.json'), 'utf8')) as Record<string, string[]>;
type Out = InboundMessage | Rejected | Ignored | EventOnly;
const norm = (n: string): Out => normalizeSignal(load(n), ctx);
const message = (n: string): InboundMessage => {
  const m = norm(n);
  if (isIgnored(m) || isRejected(m) || isEventOnly(m)) throw new Error(`${n}: not a message: ${JSON.stringify(m)}`);
  return m;
};
const ev = (n: string): ChannelEvent => {
  const m = norm(n);
  if (!isEventOnly(m)) throw new Error(`${n}: not an event: ${JSON.stringify(m)}`);
  return m.event;
};
const KARIM = '6f1b8c2e-4d3a-4b7e-9c5f-2a8d1e0b7c34';
const NOOR = 'b3e0a9d4-7c21-4f68-8e1a-5d9c6b2f0e47';
const T = load('text').envelope.timestamp;
const OUR_SEND = T + 30 * 60_000;
const sig = (uuid: string, ts: number) => ctx.messageId(['sig', uuid, ts]);
const sent = (ts: number) => ctx.messageId(['sig-sent', ts]);

test('normalizeSignal gives the recorded golden outputs for every fixture', () => {
  const actual: Record<string, Out> = Object.fromEntries(names.map((n) => [n, norm(n)]));
  const goldenFile = path.join(FIXTURES, 'normalized.golden.json');
  if (process.env.UPDATE_GOLDEN === '1') fs.writeFileSync(goldenFile, JSON.stringify(actual, null, 2) + '\n');
  expect(actual).toEqual(JSON.parse(fs.readFileSync(goldenFile, 'utf8')));
  expect(names.length).toBeGreaterThanOrEqual(30);
  // Pure: the same frame gives the same result.
  for (const n of names) expect({ [n]: norm(n) }).toEqual({ [n]: actual[n] });
});

test('identifiers.json lists what each fixture holds, and none shows in raw, ids, a reason or an event but as its sender', () => {
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
    expect({ [n]: InboundMessage.safeParse(out).success }).toEqual({ [n]: true });
    expect({ [n]: identifiers[n]!.includes(out.sender.address) }).toEqual({ [n]: true });
    expectAbsent(`${n}: raw`, JSON.stringify(out.raw), identifiers[n]!);
    expectAbsent(`${n}: id`, JSON.stringify([out.id, out.editOf, out.replyTo]), identifiers[n]!);
    expectAbsent(`${n}: nativeId`, out.nativeId, identifiers[n]!);
  }
});

test('ids: keyed hashes of bot number, sender uuid and timestamp; platformRef is what a quote needs', () => {
  const m = message('text');
  expect(m).toMatchObject({
    v: 1,
    channel: 'signal',
    account: ACCOUNT,
    id: ctx.messageId([ACCOUNT, KARIM, T]),
    nativeId: sig(KARIM, T),
    platformRef: `${T}:${KARIM}`,
    sender: { address: KARIM, name: 'Karim Ali' },
    sentAt: new Date(T).toISOString(),
    receivedAt: '2026-06-10T06:00:00.000Z',
    text: expect.stringContaining('Three army trucks'),
    media: [],
    replyTo: null,
    edited: false,
    editOf: null,
  });
  expect(m.raw).toMatchObject({ kind: 'dataMessage', envelope: { timestamp: T, sourceDevice: 1 }, dataMessage: { timestamp: T, expiresInSeconds: 0, viewOnce: false } });
  expect(message('text-arabic').text).toBe('شاهدت ثلاث شاحنات عسكرية قرب المدرسة في الطريق القديم منذ الصباح');
  expect(message('text-arabic').sender.name).toBe('أحمد الجبوري');
});

test('a sender who hides their number is known by their uuid', () => {
  const m = message('number-hidden');
  expect(m.sender).toEqual({ address: NOOR, name: 'Noor' });
  expect(m.nativeId).toBe(sig(NOOR, load('number-hidden').envelope.timestamp));
});

test('attachments: media refs by attachment id, kind from the content type, file name may be null; a caption is text', () => {
  const media = (n: string) => message(n).media.map((x) => [x.ref, x.kind, x.mime, x.size, x.filename]);
  expect(media('image')).toEqual([['Xk2q9Lw0vBn7RtYp3sHd.jpg', 'photo', 'image/jpeg', 183422, null]]);
  expect(message('image').text).toBe('the checkpoint at 5am');
  expect(message('image').media[0]).toMatchObject({ sha256: null, sniffedMime: null, storedSize: null });
  expect(media('image-caption')).toEqual([['Pq8Zr4Tn1cVm6WxKe2Ja.png', 'photo', 'image/png', 54210, 'screenshot.png']]);
  expect(message('image-caption').text).toBe('the notice on the mosque door');
  expect(media('attachments-several').map((x) => x[1])).toEqual(['photo', 'video']);
  expect(media('voice')).toEqual([['Vn5Bc8Xz1Lk4Jh7Gf0Ds.aac', 'voice', 'audio/aac', 38112, null]]);
  expect(media('audio')).toEqual([['Au9Dx2Mp3Qw5Er7Ty1Ui.mp3', 'audio', 'audio/mpeg', 1204331, 'recording-market.mp3']]);
  expect(media('document')).toEqual([['Dc6Pf8Gh0Jk2Lm4Nb6Vc.pdf', 'document', 'application/pdf', 93211, 'notice-june.pdf']]);
  // Signal sends a long text as an attachment beside its beginning.
  expect(media('long-text').map((x) => [x[1], x[2]])).toEqual([['document', 'text/x-signal-plain']]);
  expect(message('view-once').media[0]!.kind).toBe('photo');
  expect(message('view-once').raw).toMatchObject({ dataMessage: { viewOnce: true } });
  expect(message('image').raw).toMatchObject({ dataMessage: { attachments: [{ contentType: 'image/jpeg', size: 183422, width: 1536, height: 2048 }] } });
  // An audio file flagged as a voice note is one whatever its type or name.
  const flagged = load('audio');
  (flagged.envelope.dataMessage as { attachments: Record<string, unknown>[] }).attachments[0]!.voiceNote = true;
  expect((normalizeSignal(flagged, ctx) as InboundMessage).media[0]!.kind).toBe('voice');
});

test('a quote: replyTo names the quoted message as its nativeId does (ours as our send does); its text and author stay out of raw', () => {
  const q = message('quote');
  expect(q.replyTo).toBe(sig(KARIM, T));
  expect(q.replyTo).toBe(message('text').nativeId);
  expect(q.raw).toMatchObject({ dataMessage: { quote: { id: T, attachments: [] } } });
  expect(JSON.stringify(q.raw)).not.toContain('Three army trucks');
  const ours = message('quote-ours');
  expect(ours.replyTo).toBe(sent(OUR_SEND));
  expect(JSON.stringify(ours.raw)).not.toMatch(/good time|0a7d5e3c/);
});

test('mentions: the placeholder becomes words that name no one', () => {
  const m = message('mention');
  expect(m.text).toBe('@[mention] please read this: the bridge is closed');
  expect(m.raw).toMatchObject({ dataMessage: { mentions: [{ start: 0, length: 1 }] } });
});

test('a sticker without an image to fetch is a report without text or media, the sticker in raw; with an attachment id, media of kind sticker', () => {
  const s = message('sticker');
  expect(s).toMatchObject({ text: null, media: [], contact: null });
  expect(s.raw).toMatchObject({ dataMessage: { sticker: { packId: '9acc9e8aba563d26a4994e69263e3b25', stickerId: 4 } } });
  const withImage = load('sticker');
  (withImage.envelope.dataMessage as { sticker: Record<string, unknown> }).sticker.attachment = { id: 'St1Ck3rAtt4chm3nt0Id', contentType: 'image/webp', size: 20110 };
  expect((normalizeSignal(withImage, ctx) as InboundMessage).media).toEqual([
    { ref: 'St1Ck3rAtt4chm3nt0Id', kind: 'sticker', mime: 'image/webp', size: 20110, filename: null, sha256: null, sniffedMime: null, storedSize: null },
  ]);
});

test("shared contacts: a third party is content, the sender's own card keeps only that fact", () => {
  expect(message('contact').contact).toEqual({ self: false, name: 'Layla Hassan', phone: '+964 771 111 1111' });
  expect(message('contact').raw).toMatchObject({ dataMessage: { contacts: { self: false, count: 1 } } });
  expect(JSON.stringify(message('contact').raw)).not.toMatch(/Layla|Hassan|1111/);
  expect(message('contact-self').contact).toEqual({ self: true, name: null, phone: null });
  expect(JSON.stringify(message('contact-self').raw)).not.toMatch(/Karim|4567/);
});

test('an edit is a new report, edited, linked to the original by its message id; a reply quotes it by its first timestamp', () => {
  const e = message('edit');
  const ts = load('edit').envelope.timestamp;
  expect(e).toMatchObject({
    edited: true,
    editOf: message('text').id,
    id: ctx.messageId([ACCOUNT, KARIM, ts]),
    nativeId: sig(KARIM, ts),
    platformRef: `${T}:${KARIM}`,
    text: expect.stringContaining('Four army trucks'),
  });
  expect(e.id).not.toBe(message('text').id);
  expect(e.raw).toMatchObject({ kind: 'editMessage', editMessage: { targetSentTimestamp: T, dataMessage: { timestamp: ts } } });
});

test('events: a remote delete is a retraction of the report, a reaction (taken back: null) names the report reacted to', () => {
  const del = ev('remote-delete') as Extract<ChannelEvent, { kind: 'retraction' }>;
  const delTs = load('remote-delete').envelope.timestamp;
  expect(del).toEqual({ kind: 'retraction', id: ctx.messageId([ACCOUNT, 'retraction', KARIM, delTs]), sender: KARIM, target: sig(KARIM, T + 3 * 60_000), at: new Date(delTs).toISOString() });
  expect(del.target).toBe(message('image').nativeId);
  const r = ev('reaction') as Extract<ChannelEvent, { kind: 'reaction' }>;
  const rTs = load('reaction').envelope.timestamp;
  expect(r).toEqual({ kind: 'reaction', id: ctx.messageId([ACCOUNT, 'reaction', KARIM, rTs]), sender: KARIM, target: message('text').nativeId, emoji: '👍', at: new Date(rTs).toISOString() });
  expect(ev('reaction-removed')).toMatchObject({ kind: 'reaction', emoji: null, target: message('text').nativeId });
  expect((ev('reaction-removed') as { id: string }).id).not.toBe(r.id);
  expect(ev('reaction-number-hidden')).toMatchObject({ kind: 'reaction', sender: NOOR, target: message('number-hidden').nativeId, emoji: '❤️' });
});

test('receipts: delivery events of our sends, named as our send names them (the first of several)', () => {
  const at = (n: string) => new Date(load(n).envelope.timestamp).toISOString();
  expect(ev('receipt-delivered')).toEqual({ kind: 'delivery', sentId: sent(OUR_SEND), status: 'delivered', at: at('receipt-delivered'), error: null });
  expect(ev('receipt-read')).toMatchObject({ sentId: sent(OUR_SEND), status: 'read' });
  expect(ev('receipt-viewed')).toMatchObject({ sentId: sent(OUR_SEND), status: 'played' });
  // A receipt of several sends: the first is the event, each other one of `more`, in order.
  expect(ev('receipt-several')).toMatchObject({ sentId: sent(OUR_SEND), status: 'read' });
  const several = norm('receipt-several') as EventOnly;
  const stamps = (load('receipt-several').envelope.receiptMessage as { timestamps: number[] }).timestamps;
  expect(several.more?.map((e) => e.kind === 'delivery' && e.sentId)).toEqual(stamps.slice(1).map(sent));
  expect(several.more?.every((e) => e.kind === 'delivery' && e.status === 'read')).toBe(true);
  expect(norm('receipt-read')).not.toHaveProperty('more');
  // The adapter's send hashes the timestamp /v2/send answers (a string): the same id.
  expect(ctx.messageId(['sig-sent', String(OUR_SEND)])).toBe(sent(OUR_SEND));
});

test('sync, typing, call and story messages, group messages and content-less updates are ignored by fixed words; malformed frames rejected', () => {
  expect(['sync-sent', 'sync-read', 'typing', 'call', 'story', 'group', 'expiration-update'].map(norm)).toEqual(
    ['sync', 'sync', 'typing', 'call', 'story', 'group', 'unknown'].map((reason) => ({ ignored: true, reason })),
  );
  expect(norm('malformed')).toEqual({ rejected: true, reason: 'envelope: sourceUuid is required' });
  expect(norm('malformed-timestamp')).toEqual({ rejected: true, reason: 'envelope: timestamp missing or out of range' });
});

test('odd frames never throw: wrong types, null parts, huge numbers', () => {
  const base = load('text');
  const e = base.envelope;
  const variants: unknown[] = [
    null,
    [],
    'frame',
    { account: ACCOUNT },
    { ...base, envelope: { ...e, dataMessage: null } },
    { ...base, envelope: { ...e, timestamp: 1e300 } },
    { ...base, envelope: { ...e, dataMessage: { message: 5, attachments: 'x', mentions: [null, { start: 'a' }], contacts: [null] } } },
    { ...base, envelope: { ...e, dataMessage: { reaction: { emoji: '👍' } } } },
    { ...base, envelope: { ...e, dataMessage: { remoteDelete: {} } } },
    { ...base, envelope: { ...e, editMessage: { targetSentTimestamp: 'x' } } },
    { ...base, envelope: { ...e, dataMessage: undefined, receiptMessage: { isRead: true, timestamps: [] } } },
    { ...base, envelope: { ...e, dataMessage: undefined, receiptMessage: { timestamps: [T] } } },
    { ...base, envelope: { ...e, dataMessage: { message: 'x'.repeat(70_000) } } },
    { ...base, envelope: { ...e, dataMessage: { message: 'hi', attachments: [{ id: 'a', size: -1, contentType: 7 }] } } },
  ];
  const out = variants.map((v) => normalizeSignal(v, ctx));
  expect(out.map((o) => (isRejected(o) ? 'rejected' : isIgnored(o) ? o.reason : isEventOnly(o) ? o.event.kind : 'message'))).toEqual([
    'rejected',
    'rejected',
    'rejected',
    'rejected',
    'unknown',
    'rejected',
    'unknown',
    'rejected',
    'rejected',
    'rejected',
    'rejected',
    'unknown',
    'rejected',
    'message',
  ]);
  expect((out.at(-1) as InboundMessage).media).toEqual([{ ref: 'a', kind: 'document', mime: null, size: null, filename: null, sha256: null, sniffedMime: null, storedSize: null }]);
  for (const o of out) if (!isRejected(o) && !isIgnored(o) && !isEventOnly(o)) expect(InboundMessage.safeParse(o).success).toBe(true);
});
