/** Issue 10 item 4: `raw` is an allow-list of what the hub uses; fields that name a person are dropped, whatever they are called. */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { mediaOfRaw, normalizeTelegram } from '../../adapters/telegram/normalize';
import { Keyring } from '../../src/crypto/keyring';
import { InboundMessage, isIgnored, isRejected } from '../../src/contracts/inbound-message';

const FIXTURES = path.join(__dirname, '../fixtures/telegram');
const keyring = new Keyring('evidence-secret-0123456789abcdef012345678');
const ctx = { account: '7000000001', receivedAt: new Date('2026-06-10T06:00:00Z'), messageId: (p: readonly (string | number)[]) => keyring.messageId('telegram', p) };
const load = (f: string) => JSON.parse(fs.readFileSync(path.join(FIXTURES, f), 'utf8')) as Record<string, unknown>;

test('forward_origin.sender_user, forward_from, forward_sender_name, text_mention users, external_reply, reply_to_message content: none in raw', () => {
  const m = InboundMessage.parse(normalizeTelegram(load('forward-identities.json'), ctx));
  const raw = JSON.stringify(m.raw);
  // The third party's id, names, username, phone; the group it came from; the inline bot.
  for (const s of ['3344556677', 'Layla', 'Hassan', 'layla', '9647711111111', '1001234567890', '4455667788', 'sender_user', 'forward_from', 'external_reply', 'quote', 'via_bot', 'author_signature']) {
    expect(raw).not.toContain(s);
  }
  // What the hub uses is still there: it was forwarded (and when), what it answers, the entity kinds.
  expect(m.forwarded).toBe(true);
  expect(m.replyTo).toBe('99');
  const msg = (m.raw as { message: Record<string, unknown> }).message;
  expect(msg.forward_origin).toEqual({ type: 'user', date: 1781060000 });
  expect(msg.reply_to_message).toEqual({ message_id: 99 });
  expect(msg.entities).toEqual([{ type: 'text_mention', offset: 0, length: 3 }, { type: 'url', offset: 10, length: 3 }]);
});

test('a field Telegram may add tomorrow is dropped (allow-list, not deny-list); the media step still finds every media reference', () => {
  const u = load('private-text.json');
  const m = normalizeTelegram({ ...u, message: { ...(u.message as object), sender_business_bot: { id: 1 }, future_identity: { phone: '+1555' } } }, ctx) as InboundMessage;
  expect(Object.keys((m.raw as { message: object }).message).sort()).toEqual(['chat', 'date', 'message_id', 'text']);
  for (const f of fs.readdirSync(FIXTURES).filter((x) => x.endsWith('.json') && !x.endsWith('.golden.json'))) {
    const n = normalizeTelegram(load(f), ctx);
    if (isIgnored(n) || isRejected(n)) continue;
    expect(mediaOfRaw(n.raw)).toEqual(n.media);
  }
});

