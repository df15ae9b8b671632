/** Golden outputs of the simulator's pure normalize, on the recorded lines in test/fixtures/simulator. */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { createChannel } from '../../adapters/registry';
import { normalizeSimulator } from '../../adapters/simulator';
import { loadConfig } from '../../app/config';
import { capturingLogger } from '../helpers/env';
import type { QuarantineEntry } from '../../src/caselog/quarantine';
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

test('the receive path isolates a bad message (issue 10 item 5): quarantined sealed and counted, the session goes on', async () => {
  const quarantined: QuarantineEntry[] = [];
  const { log, lines } = capturingLogger();
  const cfg = loadConfig({ env: { TIPHUB_SECRET: 'x'.repeat(32) }, cwd: '/tmp' });
  const adapter = createChannel('simulator', { keyring, log, cfg, redis: null, quarantine: async (e) => void quarantined.push(e) });
  const enqueued: InboundMessage[] = [];
  await adapter.start(async (m) => {
    if (m.text === 'poison') throw new Error('cannot seal');
    enqueued.push(m);
    return { status: 'enqueued' };
  });
  await adapter.receive({ from: '+9647700000009', text: 'x'.repeat(70_000) }); // over the text limit
  await adapter.receive({ from: '+9647700000009', text: 'poison' });
  await adapter.receive({ from: '+9647700000009', text: 'smoke near the bridge' });
  expect(enqueued.map((m) => m.text)).toEqual(['smoke near the bridge']);
  expect(quarantined.map((q) => q.code)).toEqual(['TIPHUB_MESSAGE_INVALID', 'TIPHUB_MESSAGE_INVALID']);
  expect((keyring.unseal(quarantined[1]!.payloadSealed!, 'quarantine') as { text: string }).text).toBe('poison');
  expect(adapter.quarantined).toBe(2);
  expect(lines.join('\n') + quarantined.map((q) => q.reason).join('\n')).not.toMatch(/9647700000009|poison/);
  await adapter.stop();
});
