/**
 * Fuzzing the ingest parser (`tiphub ingest FILE`, one JSONL line at a time): arbitrary strings,
 * arbitrary JSON and near-valid lines never throw, end as exactly one of accepted or rejected (a
 * rejection with its line number, a code and a reason), and no reason or log line quotes the
 * line's `from`, `name` or `text`. An accepted line can be sealed for the intake queue (a line that
 * could not would abort the whole import), and goes through the simulator channel's own receive
 * path as a report.
 */
import fc from 'fast-check';
import { createChannel } from '../../adapters/registry';
import { normalizeSimulator, type SimulatorPayload } from '../../adapters/simulator';
import { parseIngestLine, type IngestLineContext, type IngestLineResult } from '../../app/cli/ingest';
import { capturingLogger } from '../helpers/env';
import { Keyring } from '../../src/crypto/keyring';
import { loadConfig } from '../../app/config';
import { InboundMessage, isRejected } from '../../src/contracts/inbound-message';
import { sealForIntake } from '../../src/queue/intake-queue';
import type { ChannelAdapter } from '../../src/contracts/channel-adapter';
import type { QuarantineEntry } from '../../src/caselog/quarantine';

const RUNS = 400;
const keyring = new Keyring('fuzz-secret-0123456789abcdef0123456789ab');
const NOW = Date.parse('2026-06-10T06:00:00Z');
const ctx: IngestLineContext = {
  normalize: normalizeSimulator,
  baseDir: '/ingest',
  account: 'simulator',
  receivedAt: new Date(NOW),
  messageId: (p) => keyring.messageId('simulator', p),
  now: NOW,
};

/** Values of `from`, `name` and `text`: they must never show in a reason or a log line. */
const hex = fc.stringMatching(/^[0-9a-f]{10}$/);
const fromMarker = hex.map((h) => `FR${h}`);
const nameMarker = hex.map((h) => `NM${h}`);
const textMarker = hex.map((h) => `TX${h}`);
const unicode = fc.string({ unit: 'binary', maxLength: 40 });
const anything = fc.jsonValue({ maxDepth: 4 });
const maybe = <T>(a: fc.Arbitrary<T>) => fc.oneof({ weight: 6, arbitrary: a }, { weight: 1, arbitrary: anything });
const lineNo = fc.integer({ min: 1, max: 1_000_000_000 });

/** Number literals JSON.stringify cannot write: placed as tokens, then spliced into the text. */
const HUGE = /"@@num:([^@"]+)@@"/g;
const hugeNumber = fc.constantFrom('1e400', '-1e400', '1e-400', '123456789012345678901234567890', '-0', '9007199254740993').map((n) => `@@num:${n}@@`);
const number = fc.oneof(fc.double(), fc.integer(), hugeNumber);

/** An ISO datetime with any 4-digit year and offset: far past, far future, past what a Date holds once offset. */
const isoAnyYear = fc
  .record({
    year: fc.oneof(fc.constantFrom(0, 9999), fc.integer({ min: 0, max: 9999 })),
    month: fc.integer({ min: 1, max: 12 }),
    day: fc.integer({ min: 1, max: 28 }),
    hour: fc.integer({ min: 0, max: 23 }),
    offset: fc.oneof(fc.constant('Z'), fc.tuple(fc.constantFrom('+', '-'), fc.integer({ min: 0, max: 23 }), fc.integer({ min: 0, max: 59 })).map(([s, h, m]) => `${s}${pad(h)}:${pad(m)}`)),
  })
  .map((d) => `${String(d.year).padStart(4, '0')}-${pad(d.month)}-${pad(d.day)}T${pad(d.hour)}:00:00${d.offset}`);
const sentAt = fc.oneof(
  { weight: 6, arbitrary: fc.date({ min: new Date(NOW - 10 * 365 * 86_400_000), max: new Date(NOW + 3 * 86_400_000), noInvalidDate: true }).map((d) => d.toISOString()) },
  fc.date({ noInvalidDate: true }).map((d) => d.toISOString()), // includes +275760-… years
  isoAnyYear,
  { weight: 2, arbitrary: fc.constantFrom('9999-12-31T23:59:59Z', '0000-01-01T00:00:00+23:59', '9999-12-31T23:00:00-23:59', 'yesterday', '') },
  number,
);

interface Case {
  readonly text: string;
  /** The line's `from`, `name` and `text` values. */
  readonly secrets: readonly string[];
}

const shapedLine: fc.Arbitrary<Case> = fc
  .record({
    id: fc.option(fc.oneof({ weight: 12, arbitrary: fc.string({ minLength: 1, maxLength: 40 }) }, fc.string({ maxLength: 300 }), unicode, number, anything), { freq: 20, nil: undefined }),
    from: fromMarker,
    name: fc.option(nameMarker, { nil: undefined }),
    textMarker,
    text: fc.oneof(
      { weight: 8, arbitrary: fc.tuple(unicode, unicode).map(([a, b]) => (m: string) => a + m + b) },
      fc.constant((m: string) => m.padEnd(66_000, 'x')),
      fc.constant((m: string) => ({ nested: [m] })),
    ),
    hasText: fc.oneof({ weight: 4, arbitrary: fc.constant(true) }, fc.constant(false)),
    sentAt: fc.option(sentAt, { nil: undefined }),
    location: fc.option(maybe(fc.record({ lat: fc.oneof(fc.double({ min: -90, max: 90 }), number), lon: fc.oneof(fc.double({ min: -180, max: 180 }), number), label: fc.option(maybe(unicode)) })), {
      freq: 2,
      nil: undefined,
    }),
    media: fc.option(maybe(fc.array(fc.record({ file: maybe(fc.oneof(fc.string({ minLength: 1, maxLength: 40 }), fc.constantFrom('../x.jpg', '/etc/passwd', 'a\u0000.jpg'))) }), { maxLength: 3 })), {
      freq: 2,
      nil: undefined,
    }),
    extra: fc.dictionary(fc.string({ maxLength: 12 }), anything, { maxKeys: 2 }),
    addExtra: fc.boolean(),
    cut: fc.oneof({ weight: 7, arbitrary: fc.constant(undefined) }, fc.nat()),
  })
  .map((r) => {
    const text = r.hasText ? r.text(r.textMarker) : undefined;
    const line = { ...(r.addExtra ? r.extra : {}), id: r.id, from: r.from, name: r.name, text, sentAt: r.sentAt, location: r.location, media: r.media };
    let json = JSON.stringify(line).replace(HUGE, '$1');
    // Now and then a line cut short: no longer JSON, and no marker may leak from it either.
    if (r.cut !== undefined) json = json.slice(0, r.cut % (json.length + 1));
    return { text: json, secrets: [r.from, ...(r.name ? [r.name] : []), ...(r.hasText ? [r.textMarker] : [])] };
  });

const anyLine: fc.Arbitrary<Case> = fc.oneof(
  fc.string({ unit: 'binary', maxLength: 200 }).map((text) => ({ text, secrets: [] })),
  fc.json({ maxDepth: 4 }).map((text) => ({ text, secrets: [] })),
  anything.map((v) => ({ text: JSON.stringify(v), secrets: [] })),
  { arbitrary: shapedLine, weight: 8 },
);

/** Lines the parser must accept: every field within its limits, sentAt at most a day ahead. */
const validLine = fc
  .record({
    id: fc.string({ unit: 'binary', minLength: 1, maxLength: 128 }),
    from: fromMarker,
    name: fc.option(nameMarker, { nil: null }),
    textMarker,
    before: unicode,
    sentAt: fc.option(
      fc.date({ min: new Date(NOW - 20 * 365 * 86_400_000), max: new Date(NOW + 86_000_000), noInvalidDate: true }).map((d) => d.toISOString()),
      { nil: undefined },
    ),
    location: fc.option(
      fc.record({ lat: fc.double({ min: -90, max: 90, noNaN: true }), lon: fc.double({ min: -180, max: 180, noNaN: true }), label: fc.option(unicode, { nil: undefined }) }),
      { nil: undefined },
    ),
    media: fc.option(fc.array(fc.record({ file: fc.stringMatching(/^[a-z0-9]{1,12}\.(jpg|png|ogg|txt|bin)$/) }), { maxLength: 3 }), { nil: undefined }),
  })
  .map(({ textMarker: m, before, ...l }) => ({ line: { ...l, text: before + m }, secrets: [l.from, ...(l.name ? [l.name] : []), m] }));

function pad(n: number): string {
  return String(n).padStart(2, '0');
}

function expectOneOutcome(r: IngestLineResult, line: number): void {
  expect(r.line).toBe(line);
  if (r.accepted) {
    expect(Object.keys(r).sort()).toEqual(['accepted', 'line', 'message', 'payload']);
    expect(InboundMessage.safeParse(r.message).success).toBe(true);
  } else {
    expect(r.accepted).toBe(false);
    expect(Object.keys(r).sort()).toEqual(['accepted', 'code', 'line', 'reason']);
    expect(r.code).toMatch(/^TIPHUB_[A-Z_]+$/);
    expect(typeof r.reason).toBe('string');
    expect(r.reason.trim()).not.toBe('');
  }
}

describe('fuzzing the ingest parser', () => {
  const cfg = loadConfig({ env: { TIPHUB_SECRET: 'x'.repeat(32) }, cwd: '/tmp' });
  const { log, lines } = capturingLogger('debug');
  const quarantined: QuarantineEntry[] = [];
  const enqueued: InboundMessage[] = [];
  // Typed by the contract: the receive path every channel has.
  const simulator: ChannelAdapter<SimulatorPayload> = createChannel('simulator', { keyring, log, cfg, redis: null, quarantine: async (e) => void quarantined.push(e) });
  beforeAll(() =>
    simulator.start(async (m) => {
      enqueued.push(m);
      return { status: 'enqueued' };
    }),
  );
  afterAll(() => simulator.stop());

  test('arbitrary lines never throw, end accepted or rejected with their line number, and quote no from, name or text', async () => {
    await fc.assert(
      fc.asyncProperty(anyLine, lineNo, async ({ text, secrets }, n) => {
        const before = { l: lines.length, q: quarantined.length, e: enqueued.length };
        const r = parseIngestLine(text, n, ctx);
        expectOneOutcome(r, n);
        if (r.accepted) {
          // What the import does next with it: sealed for the queue (a throw here would abort the import).
          expect(() => sealForIntake(keyring, r.message, 'import')).not.toThrow();
          await simulator.handleInbound(r.payload);
          expect(enqueued.length - before.e).toBe(1);
          expect(quarantined.length - before.q).toBe(0);
        } else {
          for (const s of secrets) expect(r.reason).not.toContain(s);
          // The same payload through the live receive path also keeps them out of its logs.
          let parsed: unknown;
          try {
            parsed = JSON.parse(text);
          } catch {
            return;
          }
          await simulator.handleInbound({ line: parsed, baseDir: ctx.baseDir });
        }
        const said = lines.slice(before.l).join('\n') + quarantined.slice(before.q).map((q) => q.source + q.reason).join('\n');
        for (const s of secrets) expect(said).not.toContain(s);
      }),
      { numRuns: RUNS },
    );
  });

  test('a valid line is accepted, as the message the simulator channel makes of it', async () => {
    await fc.assert(
      fc.asyncProperty(validLine, lineNo, async ({ line, secrets }, n) => {
        const before = { l: lines.length, q: quarantined.length, e: enqueued.length };
        const r = parseIngestLine(JSON.stringify(line), n, ctx);
        expectOneOutcome(r, n);
        if (!r.accepted) throw new Error(`refused a valid line: ${r.reason}`);
        const again = normalizeSimulator(r.payload, ctx);
        expect(isRejected(again)).toBe(false);
        expect(again).toEqual(r.message);
        expect(r.message.sender).toEqual({ address: line.from, name: line.name });
        expect(r.message.nativeId).toBe(line.id);
        expect(r.message.media).toHaveLength(line.media?.length ?? 0);
        expect(() => sealForIntake(keyring, r.message, 'import')).not.toThrow();

        await simulator.handleInbound(r.payload);
        expect(quarantined.length - before.q).toBe(0);
        expect(enqueued.slice(before.e).map((m) => [m.id, m.text, m.sender.address])).toEqual([[r.message.id, r.message.text, line.from]]);
        const said = lines.slice(before.l).join('\n');
        for (const s of secrets) expect(said).not.toContain(s);
      }),
      { numRuns: RUNS },
    );
  });

  test('the line number and the reason are kept; the reason is the same whatever the sender fields say', () => {
    const bad = (from: string) => JSON.stringify({ id: 'x', from, text: 42 });
    const a = parseIngestLine(bad('FRaaaaaaaaaa'), 7, ctx);
    const b = parseIngestLine(bad('FRbbbbbbbbbb'), 7, ctx);
    expect(a).toEqual({ accepted: false, line: 7, code: 'TIPHUB_INGEST_LINE_INVALID', reason: 'text: expected string' });
    expect(b).toEqual(a);
    expect(parseIngestLine('{"id": "l2", "from": oops}', 2, ctx)).toEqual({ accepted: false, line: 2, code: 'TIPHUB_INGEST_LINE_INVALID', reason: 'not valid JSON' });
    expect(parseIngestLine(JSON.stringify({ id: 'f', from: 'u', text: 't', sentAt: '2026-06-12T06:00:00Z' }), 3, ctx)).toMatchObject({
      accepted: false,
      reason: 'sentAt: more than a day in the future',
    });
  });
});
