/** Golden outputs of Telegram's pure normalize on the recorded updates in test/fixtures/telegram. */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { normalizeTelegram } from '../../adapters/telegram';
import { Keyring } from '../../src/crypto/keyring';
import { InboundMessage, isIgnored, isRejected } from '../../src/contracts/inbound-message';

const FIXTURES = path.join(__dirname, '../fixtures/telegram');
const keyring = new Keyring('golden-secret-0123456789abcdef0123456789');
const ctx = { account: '7000000001', receivedAt: new Date('2026-06-10T06:00:00Z'), messageId: (p: readonly (string | number)[]) => keyring.messageId('telegram', p) };
const names = fs.readdirSync(FIXTURES).filter((f) => f.endsWith('.json') && !f.endsWith('.golden.json')).sort();
const load = (f: string) => JSON.parse(fs.readFileSync(path.join(FIXTURES, f), 'utf8')) as unknown;

test('normalize gives the recorded golden outputs for every fixture', () => {
  const actual = Object.fromEntries(names.map((f) => [f.replace('.json', ''), normalizeTelegram(load(f), ctx)]));
  const goldenFile = path.join(FIXTURES, 'normalized.golden.json');
  if (process.env.UPDATE_GOLDEN === '1') fs.writeFileSync(goldenFile, JSON.stringify(actual, null, 2) + '\n');
  expect(actual).toEqual(JSON.parse(fs.readFileSync(goldenFile, 'utf8')));
  expect(names.length).toBeGreaterThanOrEqual(24);
});

test('no user id or name shows through: not in the id, not in raw', () => {
  for (const f of names) {
    const m = normalizeTelegram(load(f), ctx);
    if (isIgnored(m) || isRejected(m)) continue;
    expect(InboundMessage.safeParse(m).success).toBe(true);
    expect(m.sender.address).toBe('5511223344');
    expect(m.id).not.toContain('5511223344');
    expect(JSON.stringify(m.raw)).not.toContain('5511223344');
    expect(JSON.stringify(m.raw)).not.toContain('karim_iq');
    expect(JSON.stringify(m.raw)).not.toContain('Karim');
  }
});

test('kinds: groups, channels, service messages and callbacks are ignored; a malformed update is rejected', () => {
  const kind = (f: string) => {
    const m = normalizeTelegram(load(`${f}.json`), ctx);
    return isIgnored(m) ? `ignored: ${m.reason}` : isRejected(m) ? `rejected: ${m.reason}` : 'message';
  };
  expect(kind('group-message')).toBe('ignored: group chat');
  expect(kind('channel-post')).toBe('ignored: update kind channel_post');
  expect(kind('service-message')).toBe('ignored: service message new_chat_title');
  expect(kind('callback-query')).toBe('ignored: update kind callback_query');
  expect(kind('malformed')).toBe('rejected: message: message_id, chat.id and date are required');
});

test('an edit has its own id and points at the original; an album shares a group key; the largest photo is kept', () => {
  const original = normalizeTelegram(load('private-text.json'), ctx) as InboundMessage;
  const edit = normalizeTelegram(load('edited.json'), ctx) as InboundMessage;
  expect(edit.id).not.toBe(original.id);
  expect(edit.editOf).toBe(original.id);
  expect(edit.nativeId).toBe(original.nativeId);
  expect(edit.sentAt).toBe('2026-06-10T05:13:11.000Z'); // an edit is dated by its edit_date
  const a1 = normalizeTelegram(load('album-1.json'), ctx) as InboundMessage;
  const a2 = normalizeTelegram(load('album-2.json'), ctx) as InboundMessage;
  expect(a1.groupKey).toBe('13412345678901234');
  expect(a2.groupKey).toBe(a1.groupKey);
  expect((normalizeTelegram(load('photo-caption.json'), ctx) as InboundMessage).media[0]!.ref).toBe('AgACAgQAAxkBAAIBZmY1_large');
  expect((normalizeTelegram(load('start-payload.json'), ctx) as InboundMessage).text).toBe('/start appeal-mosul-06');
});
