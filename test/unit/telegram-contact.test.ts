/** Issue 10 item 1: a contact the informant shares of themselves keeps no phone or name anywhere; another person's contact is content. */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { normalizeTelegram } from '../../adapters/telegram';
import { Keyring } from '../../src/crypto/keyring';
import { InboundMessage } from '../../src/contracts/inbound-message';

const FIXTURES = path.join(__dirname, '../fixtures/telegram');
const keyring = new Keyring('contact-secret-0123456789abcdef0123456789');
const ctx = { account: '7000000001', receivedAt: new Date('2026-06-10T06:00:00Z'), messageId: (p: readonly (string | number)[]) => keyring.messageId('telegram', p) };
const load = (f: string) => JSON.parse(fs.readFileSync(path.join(FIXTURES, f), 'utf8')) as Record<string, unknown>;

test('the sender sharing their own contact ("share my phone number"): only the fact is kept, no number or name in contact or raw', () => {
  const m = InboundMessage.parse(normalizeTelegram(load('contact-self.json'), ctx));
  expect(m.contact).toEqual({ self: true, name: null, phone: null });
  const everything = JSON.stringify({ contact: m.contact, raw: m.raw, text: m.text });
  expect(everything).not.toContain('9647700000001');
  expect(everything).not.toContain('Karim');
  expect(everything).not.toContain('VCARD');
});

test("another person's contact is report content: name and phone in the contact (sealed by the case log), none of it in raw", () => {
  const m = InboundMessage.parse(normalizeTelegram(load('contact.json'), ctx));
  expect(m.contact).toEqual({ self: false, name: 'Abu Ahmed', phone: '+9647712345678' });
  expect(JSON.stringify(m.raw)).not.toMatch(/9647712345678|Abu|Ahmed|7788990011/);
});

test('a self contact without phone or name fields and one with a different user id are told apart by user_id only', () => {
  const u = load('contact-self.json');
  const msg = u.message as Record<string, unknown>;
  const other = normalizeTelegram({ ...u, message: { ...msg, contact: { phone_number: '+33600000000', first_name: 'Karim', user_id: 1234 } } }, ctx) as InboundMessage;
  expect(other.contact).toEqual({ self: false, name: 'Karim', phone: '+33600000000' });
  const bare = normalizeTelegram({ ...u, message: { ...msg, contact: { user_id: 5511223344 } } }, ctx) as InboundMessage;
  expect(bare.contact).toEqual({ self: true, name: null, phone: null });
});
