/**
 * Issue 12: the adapter conformance suite. Every channel of adapters/registry.ts runs the same
 * checks of the channel contract (src/contracts/channel-adapter.ts), fed by its kit
 * (test/adapters/kits/<channel>.ts): golden normalizations of test/fixtures/<channel>/, stable
 * keyed ids (a platform id that names its sender only as a keyed nativeId, in full in
 * platformRef; events' ids keyed too), no identifier in raw / id / nativeId nor in an event
 * outside its addresses, a bad payload quarantined sealed (and the next good one enqueued once),
 * media opened within the cap, send errors classified, and coverage by
 * the fuzz test (test/unit/fuzz-normalizers.test.ts). The adapters are made as the core makes
 * them (`createChannel`, on their ports), against real Redis under this test's prefix and the
 * channel's stand-in of its platform; no log line may carry an identifier of the fixtures, plainly
 * or inside base64 (test/adapters/identifiers.ts). And the loss-prevention paths of handleInbound:
 * a sink that refuses, a quarantine that fails, a payload that arrives after stop().
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { randomBytes } from 'node:crypto';
import { channelModule, channelNames, createChannel } from '../../adapters/registry';
import type { Config } from '../../app/config';
import { capturingLogger, dumpPrefix, setup, TEST_REDIS_URL, type TestSetup } from '../helpers/env';
import { base64Decodings, expectAbsent, identifiersIn } from './identifiers';
import { kits } from './kits';
import { GOLDEN_RECEIVED_AT, GOLDEN_SECRET, type ChannelKit, type Fixture, type Platform } from './kits/kit';
import type { QuarantineEntry } from '../../src/caselog/quarantine';
import type { ChannelAdapter, ChannelModule, InboundSink, NormalizeContext } from '../../src/contracts/channel-adapter';
import { InboundMessage, isEventOnly, isIgnored, isRejected, MessageId, type EventOnly, type Ignored, type Rejected } from '../../src/contracts/inbound-message';
import { SEAL_AAD_QUARANTINE } from '../../src/crypto/aad';
import { Keyring } from '../../src/crypto/keyring';
import { errorCodes, isTiphubError, TiphubError } from '../../src/errors';
import { createIntakeQueue, createIntakeSink, intakeJobId, SEAL_AAD_INTAKE, type IntakeQueue } from '../../src/queue/intake-queue';
import { connectRedis } from '../../src/queue/redis';

const FUZZ_TEST = path.join(__dirname, '../unit/fuzz-normalizers.test.ts');
const goldenKeyring = new Keyring(GOLDEN_SECRET);
const otherKeyring = new Keyring('another-secret-0123456789abcdef012345678');

const contextOf = (kit: ChannelKit, receivedAt = GOLDEN_RECEIVED_AT, keyring = goldenKeyring): NormalizeContext => ({
  account: kit.account,
  receivedAt,
  messageId: (parts) => keyring.messageId(kit.channel, parts),
});

const messageOf = (out: InboundMessage | Rejected | Ignored | EventOnly): InboundMessage | null => (isIgnored(out) || isRejected(out) || isEventOnly(out) ? null : out);

/**
 * What a quarantine reason would quote of a payload: its string and number values (short ones,
 * and lower-case words that may be a kind of a fixed list such as `private`, aside).
 */
function quotable(payload: unknown): string[] {
  if (typeof payload === 'string') return payload.length >= 4 && !/^[a-z_]+$/.test(payload) ? [payload] : [];
  if (typeof payload === 'number') return String(payload).length >= 4 ? [String(payload)] : [];
  if (payload && typeof payload === 'object') return Object.values(payload).flatMap(quotable);
  return [];
}

/**
 * Where an adapter breaks a check of this suite today, by channel and check, and how: that check
 * runs there as `test.failing`, so it is still written as it should be and the run says the day
 * the adapter is fixed (the entry then goes). A new channel gets no entry: it meets every check.
 */
type LossCheck = 'after stop: every payload';
const KNOWN_BREACHES: Readonly<Partial<Record<string, Readonly<Partial<Record<LossCheck, string>>>>>> = {};

/** A sink that records what it is offered, enqueues nothing and, while `refuse` is set, rejects with it. */
function recordingSink(): { sink: InboundSink; offered: InboundMessage[]; refuse: Error | null } {
  const r = {
    offered: [] as InboundMessage[],
    refuse: null as Error | null,
    sink: async (m: InboundMessage) => {
      r.offered.push(m);
      if (r.refuse) throw r.refuse;
      return { status: 'enqueued' as const };
    },
  };
  return r;
}

/** What a promise settled with, without an unhandled rejection. */
const settled = (p: Promise<unknown>): Promise<{ rejected: boolean; value: unknown }> =>
  p.then(
    (value) => ({ rejected: false, value }),
    (value: unknown) => ({ rejected: true, value }),
  );

async function jobsIn(queue: IntakeQueue): Promise<number> {
  return Object.values(await queue.getJobCounts()).reduce((a, b) => a + b, 0);
}

async function readAll(stream: NodeJS.ReadableStream): Promise<Buffer> {
  const chunks: Buffer[] = [];
  for await (const c of stream) chunks.push(Buffer.from(c as Buffer));
  return Buffer.concat(chunks);
}

test('every registered channel has a conformance kit, and every kit is of a registered channel', () => {
  expect(Object.keys(kits).sort()).toEqual([...channelNames].sort());
  for (const [name, kit] of Object.entries(kits)) expect(kit.channel).toBe(name);
});

describe('the "no identifier" check sees through base64 (test/adapters/identifiers.ts)', () => {
  const NUMBER = '16505076520';
  /**
   * A record like a WhatsApp Cloud API message id's: the sender's number in digits, then a random
   * part; led by bytes that need `+` and `/` (`-` and `_`), so a decoder that stopped at a character
   * of the other alphabet would miss the number.
   */
  const record = (number: string) =>
    Buffer.concat([Buffer.from([0xfb, 0xef, 0xff, 0x1c, 0x18, 0x0b]), Buffer.from(number), Buffer.from([0x15, 0x02, 0x00, 0x11, 0x18, 0x12]), Buffer.from('9A3CA5B3D4CD6E67E7')]);
  const standard = record(NUMBER).toString('base64');
  const url = record(NUMBER).toString('base64url');

  test(`a wamid. holding ${NUMBER} is caught, in either alphabet, padded or not, quoted in JSON, without a separator`, () => {
    // The variants differ where they should: the alphabets, and the padding.
    expect(standard).toMatch(/[+/]/);
    expect(url).toMatch(/[-_]/);
    expect(standard).toMatch(/=$/);
    expect(url).not.toMatch(/=/);
    for (const text of [`wamid.${standard}`, `wamid.${standard.replace(/=+$/, '')}`, `wamid.${url}`, `wamid.${url}==`, JSON.stringify({ nativeId: `wamid.${url}` }), `wamid${standard}`, `id:x${url}`]) {
      const found = identifiersIn('nativeId', text, [`+${NUMBER}`, NUMBER]).map((f) => f.replace(/ \(base64 in .*\)$/, ' (base64)'));
      expect({ [text]: found }).toEqual({ [text]: [`nativeId: +${NUMBER} (base64)`, `nativeId: ${NUMBER} (base64)`] });
    }
    expect(() => expectAbsent('nativeId', `wamid.${url}`, [`+${NUMBER}`])).toThrow(/base64 in/);
    // A name in base64 too, as UTF-8.
    expect(identifiersIn('raw', Buffer.from('{"name":"أبو علي"}').toString('base64url'), ['أبو علي'])).toHaveLength(1);
  });

  test('a number is caught by its digits in plain text too; a plain, unrelated base64 string is not caught', () => {
    expect(identifiersIn('raw', `"from":"${NUMBER}"`, [`+${NUMBER}`])).toEqual([`raw: +${NUMBER} (as ${NUMBER})`]);
    const unrelated = [
      // Another number's record, bytes of no text, a pipeline message id, a text in base64.
      `wamid.${record('16505076521').toString('base64')}`,
      Buffer.from('a1f9c3e87b2d4a6f0e5c9b8d7a6f5e4c3b2a1908f7e6d5c4', 'hex').toString('base64'),
      'm0123456789abcdef0123456789abcdef',
      Buffer.from('the informant sent a photo of the road').toString('base64'),
    ];
    for (const text of unrelated) {
      expect(base64Decodings(text).length).toBeGreaterThan(0);
      expect({ [text]: identifiersIn('nativeId', text, [`+${NUMBER}`, NUMBER, '+9647701234567', 'Karim']) }).toEqual({ [text]: [] });
    }
  });
});

describe.each(channelNames)('channel %s conforms to the channel contract', (channel) => {
  const kit = (kits as Partial<Record<string, ChannelKit>>)[channel];
  if (!kit) {
    test('has a kit in test/adapters/kits/index.ts', () => {
      throw new Error(`the registered channel ${channel} has no conformance kit: add test/adapters/kits/${channel}.ts and its line in kits/index.ts`);
    });
    return;
  }
  const module = channelModule(channel) as ChannelModule;
  const normalize = (f: Pick<Fixture, 'payload'>, ctx = contextOf(kit)) => module.normalize(structuredClone(f.payload), ctx);
  const accepted = () =>
    kit
      .recorded()
      .fixtures.map((f) => ({ f, m: messageOf(normalize(f)) }))
      .filter((x): x is { f: Fixture; m: InboundMessage } => x.m !== null);

  let s: TestSetup;
  let platform: Platform;
  let cfg: Readonly<Config>;
  let keyring: Keyring;
  beforeAll(async () => {
    s = await setup('pglite');
    keyring = new Keyring(s.env.TIPHUB_SECRET!);
    platform = await kit.platform();
    cfg = platform.configure(s.cfg);
  });
  afterAll(async () => {
    await platform?.stop();
    await s?.cleanup();
  });

  /** The adapter as the core makes it: through the registry, on its ports, Redis under this test's prefix. */
  const make = (quarantineFails: () => Error | null = () => null) => {
    const { log, lines } = capturingLogger('debug');
    const quarantined: QuarantineEntry[] = [];
    const quarantine = async (e: QuarantineEntry) => {
      const err = quarantineFails();
      if (err) throw err;
      quarantined.push(e);
    };
    const adapter: ChannelAdapter = createChannel(channel, { keyring, log, cfg, redis: TEST_REDIS_URL, quarantine });
    return { adapter, log, lines, quarantined };
  };
  /** `test`, or `test.failing` where KNOWN_BREACHES says this adapter breaks the check today. */
  const lossCheck = (check: LossCheck, title: string, fn: () => Promise<void>) => {
    const breach = KNOWN_BREACHES[channel]?.[check];
    if (breach) test.failing(`${title} [known breach: ${breach}]`, fn);
    else test(title, fn);
  };

  test('1. golden normalizations: every recorded payload gives its golden output, the adapter the same', async () => {
    const { fixtures, golden } = kit.recorded();
    expect(fixtures.length).toBeGreaterThan(0);
    // A golden for every fixture and a fixture for every golden.
    expect(fixtures.map((f) => f.name).sort()).toEqual(Object.keys(golden).sort());
    const { adapter } = make();
    try {
      for (const f of fixtures) {
        const out = normalize(f);
        expect({ [f.name]: out }).toEqual({ [f.name]: golden[f.name] });
        expect({ [f.name]: adapter.normalize(structuredClone(f.payload), contextOf(kit)) }).toEqual({ [f.name]: out });
        const m = messageOf(out);
        if (!m) continue;
        expect({ [f.name]: InboundMessage.safeParse(m).success }).toEqual({ [f.name]: true });
        expect({ channel: m.channel, account: m.account }).toEqual({ channel, account: kit.account });
      }
    } finally {
      await adapter.stop();
    }
    expect(accepted().length).toBeGreaterThanOrEqual(2);
  });

  test('2. idempotent ids: the same payload gives the same id and nativeId whenever it is received; others other ids; ids are keyed', () => {
    const messages = accepted();
    expect(messages.length).toBeGreaterThanOrEqual(2);
    const later = new Date(GOLDEN_RECEIVED_AT.getTime() + 3_600_000);
    for (const { f, m } of messages) {
      expect({ [f.name]: MessageId.safeParse(m.id).success }).toEqual({ [f.name]: true });
      if (m.editOf !== null) expect(MessageId.safeParse(m.editOf).success).toBe(true);
      const again = messageOf(normalize(f, contextOf(kit, later)))!;
      expect(again.receivedAt).toBe(later.toISOString());
      expect({ [f.name]: { id: again.id, nativeId: again.nativeId } }).toEqual({ [f.name]: { id: m.id, nativeId: m.nativeId } });
      // A keyed hash: another secret gives another id (the platform's own id stays what it is).
      const keyedOtherwise = messageOf(normalize(f, contextOf(kit, GOLDEN_RECEIVED_AT, otherKeyring)))!;
      expect(keyedOtherwise.id).not.toBe(m.id);
      if (m.platformRef === undefined) expect(keyedOtherwise.nativeId).toBe(m.nativeId);
      else {
        // The platform's id names its sender (a wamid): nativeId is its keyed hash, the full id travels in platformRef.
        expect({ [f.name]: { keyed: keyedOtherwise.nativeId !== m.nativeId, platformRef: keyedOtherwise.platformRef, again: again.platformRef } }).toEqual({
          [f.name]: { keyed: true, platformRef: m.platformRef, again: m.platformRef },
        });
      }
    }
    const ids = messages.map(({ m }) => m.id);
    expect(new Set(ids).size).toBe(ids.length);
  });

  test('2b. events (reactions, retractions, statuses, aliases): their ids are keyed and stable, whenever received', () => {
    const idsOf = (e: EventOnly['event']): string[] => {
      const ids = e.kind === 'delivery' ? [e.sentId] : e.kind === 'reaction' || e.kind === 'retraction' ? [e.id, e.target] : [e.id];
      return ids;
    };
    const later = new Date(GOLDEN_RECEIVED_AT.getTime() + 3_600_000);
    for (const f of kit.recorded().fixtures) {
      const out = normalize(f);
      if (!isEventOnly(out)) continue;
      // Every event of the payload: the first, and any further ones (`more`, a receipt of several sends).
      const allIds = (o: EventOnly) => [o.event, ...(o.more ?? [])].flatMap(idsOf);
      const ids = allIds(out);
      expect({ [f.name]: ids.every((id) => MessageId.safeParse(id).success) }).toEqual({ [f.name]: true });
      const again = normalize(f, contextOf(kit, later));
      expect({ [f.name]: isEventOnly(again) && allIds(again) }).toEqual({ [f.name]: ids });
      const otherwise = normalize(f, contextOf(kit, GOLDEN_RECEIVED_AT, otherKeyring));
      const keyed = isEventOnly(otherwise) && allIds(otherwise).every((id, i) => id !== ids[i]);
      expect({ [f.name]: keyed }).toEqual({ [f.name]: true });
    }
  });

  test("3. no identifier in raw, id or nativeId (the sender's address only in sender); none in a reason", () => {
    const { fixtures } = kit.recorded();
    expect(fixtures.some((f) => f.identifiers.length > 0)).toBe(true);
    for (const f of fixtures) {
      // The kit's list is of what the payload really holds.
      const payload = JSON.stringify(f.payload);
      expect(f.identifiers.filter((id) => !payload.includes(id)).map((id) => `${f.name} does not hold ${id}`)).toEqual([]);
      const out = normalize(f);
      if (isEventOnly(out)) {
        // Each event of the payload (the first and any in `more`) is checked alike.
        for (const e of [out.event, ...(out.more ?? [])]) {
          // An event names its informant in its address fields only (sender; from and to of an alias).
          const { sender, from, to, name: _name, ...rest } = e as { sender?: string; from?: string; to?: string; name?: string | null };
          for (const address of [sender, from].filter((a): a is string => a !== undefined)) expect({ [f.name]: f.identifiers.includes(address) }).toEqual({ [f.name]: true });
          expect({ [f.name]: to === undefined || to.length > 0 }).toEqual({ [f.name]: true });
          expectAbsent(`${f.name}: event`, JSON.stringify(rest), f.identifiers);
        }
        continue;
      }
      const m = messageOf(out);
      if (!m) {
        // An ignored or rejected payload is counted and logged by its reason: words of a fixed list.
        expectAbsent(`${f.name}: reason`, JSON.stringify(out), f.identifiers);
        continue;
      }
      expect({ [f.name]: f.identifiers.includes(m.sender.address) }).toEqual({ [f.name]: true });
      expectAbsent(`${f.name}: raw`, JSON.stringify(m.raw), f.identifiers);
      expectAbsent(`${f.name}: id`, JSON.stringify([m.id, m.editOf]), f.identifiers);
      expectAbsent(`${f.name}: nativeId`, m.nativeId, f.identifiers);
    }
  });

  test('4. bad payload → quarantine: sealed, counted, a reason quoting nothing of it, nothing enqueued; the next good payload is enqueued, once', async () => {
    expect(kit.bad.length).toBeGreaterThan(0);
    const queue = createIntakeQueue(TEST_REDIS_URL, cfg);
    const redis = connectRedis(TEST_REDIS_URL);
    const { adapter, log, lines, quarantined } = make();
    try {
      await adapter.start(createIntakeSink(queue, keyring, log));
      for (const [i, bad] of kit.bad.entries()) {
        await adapter.handleInbound(structuredClone(bad.payload));
        expect({ [bad.name]: quarantined.length }).toEqual({ [bad.name]: i + 1 });
        const q = quarantined[i]!;
        expect(q.channel).toBe(channel);
        expect(Object.keys(errorCodes)).toContain(q.code);
        expect(keyring.unseal(q.payloadSealed!, 'quarantine')).toEqual(bad.kept);
        // Bound to its context: it does not open as another kind of sealed value.
        expect(() => keyring.unseal(q.payloadSealed!, SEAL_AAD_INTAKE)).toThrow();
        expectAbsent(`${bad.name}: reason`, q.reason, [...bad.identifiers, ...quotable(bad.payload)]);
        expectAbsent(`${bad.name}: source`, q.source, bad.identifiers);
        expectAbsent(`${bad.name}: sealed`, q.payloadSealed!, bad.identifiers);
        expect(await jobsIn(queue)).toBe(0);
      }
      // Counted by code, for operators: `HGETALL <prefix>:quarantined:<channel>`.
      const byCode: Record<string, string> = {};
      for (const q of quarantined) byCode[q.code] = String(Number(byCode[q.code] ?? 0) + 1);
      expect(await redis.hgetall(`${s.prefix}:quarantined:${channel}`)).toEqual(byCode);

      // The good payload, then the same again (a redelivery): one job, under the id its message has.
      await adapter.handleInbound(structuredClone(kit.good.payload));
      await adapter.handleInbound(structuredClone(kit.good.payload));
      expect(quarantined).toHaveLength(kit.bad.length);
      const expected = messageOf(module.normalize(structuredClone(kit.good.payload), { account: kit.account, receivedAt: new Date(), messageId: (p) => keyring.messageId(channel, p) }))!;
      expect(expected).not.toBeNull();
      const jobs = await queue.getJobs();
      expect(jobs.map((j) => j.id)).toEqual([intakeJobId(expected.id)]);
      const sealed = keyring.unseal<InboundMessage>(jobs[0]!.data.sealed, SEAL_AAD_INTAKE);
      expect(sealed).toMatchObject({ id: expected.id, nativeId: expected.nativeId, sender: expected.sender, text: expected.text, raw: expected.raw });

      // Nothing identifying in a Redis dump nor in a log line.
      const everyone = [...kit.bad.flatMap((b) => b.identifiers), ...kit.good.identifiers];
      expect(everyone.length).toBeGreaterThan(0);
      expectAbsent('redis', await dumpPrefix(s.prefix), everyone);
      expectAbsent('log', lines.join(''), everyone);
      expect(lines.join('')).toMatch(/payload quarantined/);
    } finally {
      await adapter.stop();
      await queue.close();
      redis.disconnect();
    }
  });

  const mediaTitle = kit.remoteMedia
    ? '5. media within the cap: a file at the cap streams whole, one a byte over is refused (TIPHUB_MEDIA_TOO_LARGE)'
    : `5. media within the cap: no remote media (${kit.noRemoteMediaBecause}), so the adapter has no openMedia`;
  test(mediaTitle, async () => {
    const { adapter } = make();
    try {
      if (!kit.remoteMedia) {
        expect(adapter.openMedia).toBeUndefined();
        expect(platform.putMedia).toBeUndefined();
        return;
      }
      expect(typeof adapter.openMedia).toBe('function');
      expect(typeof platform.putMedia).toBe('function');
      const cap = module.limits.mediaMaxBytes(cfg.channels[channel]!.settings);
      expect(cap).toBeGreaterThan(0);
      const whole = randomBytes(cap);
      const got = await readAll(await adapter.openMedia!(platform.putMedia!(whole), cap));
      expect(got.length).toBe(cap);
      expect(got.equals(whole)).toBe(true);
      const over = platform.putMedia!(randomBytes(cap + 1));
      const refused = await adapter.openMedia!(over, cap).then(
        () => null,
        (e: unknown) => e,
      );
      expect(isTiphubError(refused, 'TIPHUB_MEDIA_TOO_LARGE')).toBe(true);
      expect(refused).toMatchObject({ retryable: false });
    } finally {
      await adapter.stop();
    }
  });

  test('6. send: a reachable address gets the text; each refusal of the platform is a TiphubError that says whether a retry helps', async () => {
    const { adapter, lines } = make();
    try {
      const to = platform.reachable(adapter);
      const text = 'conformance: how many cars were there?';
      const sent = await adapter.send(to.address, { text });
      expect(sent.nativeId).toMatch(/\S/);
      expect(to.delivered()).toContain(text);

      expect(platform.refusals.length).toBeGreaterThan(0);
      const addresses = [to.address];
      for (const refusal of platform.refusals) {
        const address = refusal.arrange(adapter);
        addresses.push(address);
        const err = await adapter.send(address, { text: 'a' }).then(
          () => null,
          (e: unknown) => e,
        );
        expect({ [refusal.what]: isTiphubError(err) }).toEqual({ [refusal.what]: true });
        if (!isTiphubError(err)) continue;
        expect({ [refusal.what]: { code: err.code, retryable: err.retryable, retryAfterMs: err.retryAfterMs } }).toEqual({ [refusal.what]: refusal.expected });
        expectAbsent(`${refusal.what}: message`, err.message, addresses);
      }
      expectAbsent('log', lines.join(''), addresses);
    } finally {
      await adapter.stop();
    }
  });

  test('7. fuzzed: test/unit/fuzz-normalizers.test.ts runs over every registered channel and has a payload generator for this one', () => {
    // The generators stay in that file (moving them here would change it); this checks it covers the registry.
    const src = fs.readFileSync(FUZZ_TEST, 'utf8');
    expect(src).toMatch(/import \{[^}]*\bchannelNames\b[^}]*\} from '\.\.\/\.\.\/adapters\/registry'/);
    expect(src).toContain('test.each(channelNames)');
    const generators = src.match(/const generators: Record<ChannelName, .*?> = \{([^}]*)\}/);
    expect(generators).not.toBeNull();
    const keys = [...generators![1]!.matchAll(/(\w+)\s*:/g)].map((k) => k[1]);
    expect(keys).toContain(channel);
  });

  // --- 8. Loss prevention (the contract's handleInbound): a payload is enqueued, ignored or kept in
  // quarantine, or handleInbound rejects so that the platform delivers it again; never dropped.

  test("8a. the sink rejects (Redis down, not stopping): the payload is quarantined under the error's code, handleInbound resolves, nothing lost", async () => {
    const { adapter, lines, quarantined } = make();
    const to = recordingSink();
    const refusals: { err: Error; code: string | null }[] = [
      { err: new TiphubError('TIPHUB_REDIS_UNAVAILABLE', 'Redis could not be reached'), code: 'TIPHUB_REDIS_UNAVAILABLE' },
      // A foreign error: some code of errors.ts, and a reason that does not quote its message (a
      // TiphubError's message may be quoted: it never holds an identifier).
      { err: Object.assign(new Error(`connect ECONNREFUSED (${kit.good.identifiers.join(', ')})`), { code: 'ECONNREFUSED' }), code: null },
    ];
    try {
      await adapter.start(to.sink);
      for (const [i, { err, code }] of refusals.entries()) {
        to.refuse = err;
        expect(await settled(adapter.handleInbound(structuredClone(kit.good.payload)))).toEqual({ rejected: false, value: undefined });
        expect(to.offered).toHaveLength(i + 1);
        expect(quarantined).toHaveLength(i + 1);
        const q = quarantined[i]!;
        expect(q.channel).toBe(channel);
        if (code) expect(q.code).toBe(code);
        else expect(Object.keys(errorCodes)).toContain(q.code);
        expect(keyring.unseal(q.payloadSealed!, SEAL_AAD_QUARANTINE)).toEqual(kit.good.kept);
        expectAbsent(`${err.message}: reason`, q.reason, [...kit.good.identifiers, ...quotable(kit.good.payload), ...(code ? [] : [err.message])]);
        expectAbsent(`${err.message}: source`, q.source, kit.good.identifiers);
      }
      expectAbsent('log', lines.join(''), kit.good.identifiers);
    } finally {
      await adapter.stop();
    }
  });

  test('8b. the quarantine itself fails: handleInbound rejects (the platform delivers again), for a bad payload and for one the sink refused; once it is back the redelivery is kept', async () => {
    let down = true;
    const { adapter, quarantined } = make(() => (down ? new TiphubError('TIPHUB_CASELOG_UNAVAILABLE', 'the case log could not be reached') : null));
    const to = recordingSink();
    try {
      await adapter.start(to.sink);
      for (const bad of kit.bad) {
        expect({ [bad.name]: (await settled(adapter.handleInbound(structuredClone(bad.payload)))).rejected }).toEqual({ [bad.name]: true });
      }
      to.refuse = new TiphubError('TIPHUB_REDIS_UNAVAILABLE', 'Redis could not be reached');
      expect({ [kit.good.name]: (await settled(adapter.handleInbound(structuredClone(kit.good.payload)))).rejected }).toEqual({ [kit.good.name]: true });
      expect(quarantined).toHaveLength(0);
      expect(to.offered).toHaveLength(1);

      // The platform delivers them again, the quarantine is back: each is kept, the adapter goes on.
      down = false;
      for (const bad of kit.bad) await adapter.handleInbound(structuredClone(bad.payload));
      await adapter.handleInbound(structuredClone(kit.good.payload));
      expect(quarantined.map((q) => keyring.unseal(q.payloadSealed!, SEAL_AAD_QUARANTINE))).toEqual([...kit.bad.map((b) => b.kept), kit.good.kept]);
      to.refuse = null;
      await adapter.handleInbound(structuredClone(kit.good.payload));
      expect(to.offered).toHaveLength(3);
    } finally {
      await adapter.stop();
    }
  });

  /** Started, then stopped: what handleInbound does with each payload then (it must reject each). */
  const afterStop = async (payloads: readonly Fixture[]) => {
    const { adapter, quarantined } = make();
    const to = recordingSink();
    const outcomes: Record<string, string> = {};
    try {
      await adapter.start(to.sink);
      await adapter.stop();
      for (const f of payloads) {
        const before = { offered: to.offered.length, quarantined: quarantined.length };
        const { rejected } = await settled(adapter.handleInbound(structuredClone(f.payload)));
        const offered = to.offered.length > before.offered ? ', offered to the sink' : '';
        const kept = quarantined.length > before.quarantined ? ', quarantined' : '';
        outcomes[f.name] = `${rejected ? 'rejected' : 'resolved'}${offered}${kept}`;
      }
    } finally {
      // Again: closes what a breach may have opened since (the ports' Redis connection).
      await adapter.stop();
    }
    return outcomes;
  };
  const rejectedEach = (payloads: readonly Fixture[]) => Object.fromEntries(payloads.map((f) => [f.name, 'rejected']));

  test('8c. after stop(), a good payload: handleInbound rejects, nothing enqueued nor quarantined', async () => {
    expect(await afterStop([kit.good])).toEqual(rejectedEach([kit.good]));
  });

  lossCheck('after stop: every payload', '8d. after stop(), every payload (bad, ignored, recorded): handleInbound rejects, nothing enqueued nor quarantined', async () => {
    // By name: a bad payload may be a recorded one too.
    const payloads = [...new Map([...kit.bad, ...kit.recorded().fixtures].map((f) => [f.name, f])).values()];
    expect(await afterStop(payloads)).toEqual(rejectedEach(payloads));
  });
});
