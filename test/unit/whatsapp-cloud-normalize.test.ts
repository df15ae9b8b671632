/** Golden outputs of the Cloud API normalize on the recorded webhook items in test/fixtures/whatsapp-cloud, and what each type becomes. */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { normalizeCloud } from '../../adapters/whatsapp/cloud/normalize';
import type { CloudPayload } from '../../adapters/whatsapp';
import { Keyring } from '../../src/crypto/keyring';
import { InboundMessage, isEventOnly, isIgnored, isRejected, type ChannelEvent } from '../../src/contracts/inbound-message';
import { GOLDEN_RECEIVED_AT, GOLDEN_SECRET } from '../adapters/kits/kit';

const FIXTURES = path.join(__dirname, '../fixtures/whatsapp-cloud');
const ACCOUNT = '106540352242922';
const keyring = new Keyring(GOLDEN_SECRET);
const ctx = { account: ACCOUNT, receivedAt: GOLDEN_RECEIVED_AT, messageId: (p: readonly (string | number)[]) => keyring.messageId('whatsapp', p) };
const names = fs.readdirSync(FIXTURES).filter((f) => f.endsWith('.json') && !f.endsWith('.golden.json') && f !== 'identifiers.json').sort();
const load = (f: string) => JSON.parse(fs.readFileSync(path.join(FIXTURES, f.endsWith('.json') ? f : `${f}.json`), 'utf8')) as CloudPayload;
const norm = (f: string) => normalizeCloud(load(f), ctx);
const msg = (f: string) => norm(f) as InboundMessage;
const ev = (f: string) => {
  const n = norm(f);
  if (!isEventOnly(n)) throw new Error(`${f} is not an event`);
  return n.event;
};
const KARIM = '9647701234567';
const wa = (wamid: string) => ctx.messageId(['wa', wamid]);

test('normalize gives the recorded golden outputs for every fixture', () => {
  const actual = Object.fromEntries(names.map((f) => [f.replace(/\.json$/, ''), normalizeCloud(load(f), ctx)]));
  const goldenFile = path.join(FIXTURES, 'normalized.golden.json');
  if (process.env.UPDATE_GOLDEN === '1') fs.writeFileSync(goldenFile, JSON.stringify(actual, null, 2) + '\n');
  expect(actual).toEqual(JSON.parse(fs.readFileSync(goldenFile, 'utf8')));
  expect(names.length).toBeGreaterThanOrEqual(30);
  // identifiers.json lists every fixture, and only fixtures.
  const ids = JSON.parse(fs.readFileSync(path.join(FIXTURES, 'identifiers.json'), 'utf8')) as Record<string, string[]>;
  expect(Object.keys(ids).sort()).toEqual(Object.keys(actual).sort());
});

test('ids: keyed hashes of the wamid, the wamid itself only in platformRef; a reply names the keyed id of what it answers', () => {
  const text = load('text');
  const wamid = (text.message as { id: string }).id;
  const m = msg('text');
  expect(m).toMatchObject({ id: ctx.messageId([ACCOUNT, wamid]), nativeId: wa(wamid), platformRef: wamid, account: ACCOUNT, channel: 'whatsapp' });
  expect(m.sender).toEqual({ address: KARIM, name: 'Karim Ali' });
  expect(m.sentAt).toBe(new Date(Number((text.message as { timestamp: string }).timestamp) * 1000).toISOString());
  expect(InboundMessage.safeParse(m).success).toBe(true);
  const reply = msg('reply');
  expect(reply.replyTo).toBe(wa((load('reply').message as { context: { id: string } }).context.id));
  expect(msg('forwarded')).toMatchObject({ forwarded: true, replyTo: null });
  expect(msg('text').forwarded).toBe(false);
  for (const f of names.map((n) => n.replace(/\.json$/, ''))) {
    const n = norm(f);
    if (isIgnored(n) || isRejected(n) || isEventOnly(n)) continue;
    const s = JSON.stringify({ id: n.id, nativeId: n.nativeId, raw: n.raw, replyTo: n.replyTo });
    expect({ [f]: s.includes(KARIM) || s.includes('wamid') || s.includes('Karim') }).toEqual({ [f]: false });
  }
});

test('media of each type, with its kind, mime, file name; a voice note is voice', () => {
  expect(msg('image').media).toEqual([expect.objectContaining({ ref: '1479537139650973', kind: 'photo', mime: 'image/jpeg', sha256: null })]);
  expect(msg('image').text).toBe('the checkpoint at 5am');
  expect(msg('video').media[0]).toMatchObject({ kind: 'video', mime: 'video/mp4' });
  expect(msg('audio').media[0]).toMatchObject({ kind: 'audio', mime: 'audio/mpeg' });
  expect(msg('voice').media[0]).toMatchObject({ kind: 'voice', mime: 'audio/ogg; codecs=opus' });
  expect(msg('document').media[0]).toMatchObject({ kind: 'document', filename: 'notice-june.pdf', mime: 'application/pdf' });
  expect(msg('document').text).toBe('the list they posted');
  expect(msg('sticker').media[0]).toMatchObject({ kind: 'sticker', mime: 'image/webp' });
  expect(msg('location').location).toEqual({ lat: 36.3456, lon: 43.1234, label: 'Old bridge, Corniche St, Mosul' });
});

test('contacts: a third party is content, the sender\'s own card keeps only that fact', () => {
  expect(msg('contacts').contact).toEqual({ self: false, name: 'Layla Hassan', phone: '+964 771 111 1111' });
  expect(JSON.stringify(msg('contacts').raw)).not.toMatch(/Layla|1111/);
  expect(msg('contacts-self').contact).toEqual({ self: true, name: null, phone: null });
  expect(JSON.stringify(msg('contacts-self').raw)).not.toMatch(/4567|Karim/);
});

test('replies to buttons, lists, flows and orders are reports with their text; a referral keeps only its source', () => {
  expect(msg('interactive-button').text).toBe('Yes, still there');
  expect(msg('interactive-list').text).toBe('Old city');
  expect(msg('interactive-nfm').text).toContain('armed men at the school');
  expect(msg('button').text).toBe('Tell me more');
  expect(msg('order').text).toBe('Order: water-24 × 3, blanket × 10\nfor the shelter');
  const referral = msg('referral');
  expect(referral.text).toBe('I saw your ad, here is what happened');
  expect((referral.raw as { message: { referral: unknown } }).message.referral).toEqual({ source_type: 'ad', headline: 'Report what you see', media_type: 'image' });
  expect(JSON.stringify(referral.raw)).not.toMatch(/ctwa|fbcdn|fb\.me|120223456789012345/);
});

test('an unsupported message and request_welcome are events about their sender, not reports; unknown types and another number are ignored', () => {
  // Its sender is told it could not be read; opening the chat is greeted (src/caselog/channel-events.ts).
  expect(ev('unsupported')).toMatchObject({ kind: 'unreadable', sender: '9647701234567', name: 'Karim Ali' });
  expect(ev('request-welcome')).toMatchObject({ kind: 'first-contact', sender: '9647701234567', name: 'Karim Ali' });
  expect((ev('request-welcome') as { id: string }).id).not.toBe((ev('unsupported') as { id: string }).id);
  expect(norm('unknown-type')).toEqual({ ignored: true, reason: 'unknown' });
  expect(norm('other-number')).toEqual({ ignored: true, reason: 'other-number' });
  expect(norm('malformed')).toEqual({ rejected: true, reason: 'message: id, type and from (or from_user_id) are required' });
});

test('a sender known by a username: address is the business-scoped user id, name from the matching contact', () => {
  expect(msg('username-sender').sender).toEqual({ address: 'IQ.1234567890123456789', name: 'Noor' });
});

test('events: reactions (taken back: null), number and user id changes, delivery statuses with our own error codes', () => {
  const target = (load('reaction').message as { reaction: { message_id: string } }).reaction.message_id;
  const r = ev('reaction') as Extract<ChannelEvent, { kind: 'reaction' }>;
  expect(r).toMatchObject({ kind: 'reaction', sender: KARIM, target: wa(target), emoji: '👍' });
  expect(r.id).toBe(ctx.messageId([ACCOUNT, 'reaction', (load('reaction').message as { id: string }).id]));
  expect(ev('reaction-removed')).toMatchObject({ kind: 'reaction', emoji: null, target: wa(target) });
  expect(ev('system-changed-number')).toMatchObject({ kind: 'alias', from: KARIM, to: '9647702223344', reason: 'changed-number' });
  expect(ev('system-changed-user-id')).toMatchObject({ kind: 'alias', from: 'IQ.1234567890123456789', to: 'IQ.9876543210987654321', reason: 'changed-user-id' });
  const ours = (load('status-sent').status as { id: string }).id;
  for (const s of ['sent', 'delivered', 'read']) expect(ev(`status-${s}`)).toMatchObject({ kind: 'delivery', sentId: wa(ours), status: s, error: null });
  expect(ev('status-failed-window')).toMatchObject({ status: 'failed', error: { code: 'TIPHUB_WINDOW_CLOSED', reason: 'the informant must write first (24-hour window)' } });
  expect(ev('status-failed-other')).toMatchObject({ status: 'failed', error: { code: 'TIPHUB_SEND_FAILED', reason: 'Meta error 131026' } });
});

test('odd items never throw: wrong types, huge timestamps, missing parts', () => {
  const base = load('text');
  const variants: unknown[] = [
    { ...base, message: { ...(base.message as object), timestamp: '99999999999999999' } },
    { ...base, message: { ...(base.message as object), text: 'not an object' } },
    { ...base, contacts: 'nope' },
    { ...base, message: null },
    { ...base, message: undefined, status: { id: 5 } },
    { ...base, message: undefined, status: { id: 'x', status: 'deleted' } },
    { ...base, message: { ...(base.message as object), type: 'reaction', reaction: {} } },
  ];
  const out = variants.map((v) => normalizeCloud(v as CloudPayload, ctx));
  expect(out.map((o) => (isRejected(o) ? 'rejected' : isIgnored(o) ? o.reason : 'other'))).toEqual(['rejected', 'rejected', 'other', 'rejected', 'rejected', 'status-other', 'rejected']);
});
