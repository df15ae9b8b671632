/** Golden outputs of the simulator's pure normalize, on the recorded lines in test/fixtures/simulator. */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { normalizeSimulator } from '../../adapters/simulator';
import { Keyring } from '../../src/crypto/keyring';
import { InboundMessage, isRejected } from '../../src/contracts/inbound-message';

const FIXTURES = path.join(__dirname, '../fixtures/simulator');
const keyring = new Keyring('golden-secret-0123456789abcdef0123456789');
const ctx = { account: 'simulator', receivedAt: new Date('2026-06-10T06:00:00Z'), messageId: (p: readonly (string | number)[]) => keyring.messageId('simulator', p) };

function normalizeAll() {
  const lines = fs.readFileSync(path.join(FIXTURES, 'lines.jsonl'), 'utf8').trim().split('\n');
  return lines.map((l) => {
    const out = normalizeSimulator({ line: JSON.parse(l), baseDir: '/ingest' }, ctx);
    return out;
  });
}

test('normalize gives the recorded golden outputs', () => {
  const actual = normalizeAll();
  const goldenFile = path.join(FIXTURES, 'lines.golden.json');
  if (process.env.UPDATE_GOLDEN === '1') fs.writeFileSync(goldenFile, JSON.stringify(actual, null, 2) + '\n');
  expect(actual).toEqual(JSON.parse(fs.readFileSync(goldenFile, 'utf8')));
});

test('every accepted output satisfies the InboundMessage schema and keeps no sender field in raw', () => {
  for (const m of normalizeAll()) {
    if (isRejected(m)) continue;
    expect(InboundMessage.safeParse(m).success).toBe(true);
    expect(JSON.stringify(m.raw)).not.toContain(m.sender.address);
    if (m.sender.name) expect(JSON.stringify(m.raw)).not.toContain(m.sender.name);
    expect(m.id).not.toContain(m.nativeId);
  }
});

test('normalize is pure: the same payload gives the same message, another secret another id', () => {
  const line = { id: 'x1', from: 'a', text: 'hello' };
  const a = normalizeSimulator({ line, baseDir: '/' }, ctx) as InboundMessage;
  const b = normalizeSimulator({ line, baseDir: '/' }, ctx) as InboundMessage;
  expect(a).toEqual(b);
  const other = new Keyring('another-secret-0123456789abcdef012345678');
  const c = normalizeSimulator({ line, baseDir: '/' }, { ...ctx, messageId: (p) => other.messageId('simulator', p) }) as InboundMessage;
  expect(c.id).toMatch(/^m[0-9a-f]{32}$/);
  expect(c.id).not.toBe(a.id);
});
