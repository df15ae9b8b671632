/**
 * Issue 10 item 5: one bad update never stops the Telegram receive loop (it is quarantined, sealed
 * and counted, and the offset passes it only then); a loop that dies releases the polling lease.
 * In process, against the local Bot API stand-in and real Redis.
 */
import { createChannel } from '../../adapters/registry';
import { BotApiStandin, textUpdate } from '../helpers/bot-api-standin';
import { capturingLogger, setup, TEST_REDIS_URL, waitFor, withChannel, type TestSetup } from '../helpers/env';
import { type TelegramAdapter } from '../../adapters/telegram';
import { Keyring } from '../../src/crypto/keyring';
import { createIntakeQueue, createIntakeSink, type IntakeQueue } from '../../src/queue/intake-queue';
import { connectRedis } from '../../src/queue/redis';
import type { InboundSink } from '../../src/contracts/channel-adapter';
import type { QuarantineEntry } from '../../src/caselog/quarantine';

describe('telegram receive loop', () => {
  let s: TestSetup;
  let api: BotApiStandin;
  let queue: IntakeQueue;
  let adapter: TelegramAdapter | null = null;
  const redis = connectRedis(TEST_REDIS_URL);
  const keyring = new Keyring('receive-secret-0123456789abcdef0123456789');
  const { log, lines } = capturingLogger();
  const quarantined: QuarantineEntry[] = [];

  const make = () => {
    const cfg = withChannel(s.cfg, 'telegram', { token: api.token, apiRoot: api.apiRoot, webhookUrl: null, webhookSecret: null });
    return createChannel('telegram', { keyring, log, cfg, redis: TEST_REDIS_URL, quarantine: async (e) => void quarantined.push(e) });
  };

  beforeEach(async () => {
    s = await setup('pglite', { channels: { telegram: { leaseMs: 1500, pollTimeoutSeconds: 1 } } });
    api = new BotApiStandin();
    await api.start();
    queue = createIntakeQueue(TEST_REDIS_URL, s.cfg);
    quarantined.length = 0;
    lines.length = 0;
  });
  afterEach(async () => {
    await adapter?.stop();
    adapter = null;
    await queue.close();
    await api.stop();
    await s.cleanup();
  });
  afterAll(() => redis.disconnect());

  test('an update that fails validation and one the sink refuses are quarantined sealed and counted; the next is enqueued', async () => {
    const real = createIntakeSink(queue, keyring, log);
    // A sink that throws for one message (a bug in sealing, a value the queue refuses).
    const sink: InboundSink = async (m, meta) => {
      if (m.text === 'poison') throw new Error(`cannot seal ${m.sender.address}`);
      return real(m, meta);
    };
    const bad = textUpdate(1100220033, 1, 'where') as { message: Record<string, unknown> };
    bad.message.location = { latitude: 200, longitude: 44.1 }; // passes normalize, fails the schema
    const badId = api.push(bad);
    const poisonId = api.push(textUpdate(1100220044, 2, 'poison'));
    const goodId = api.push(textUpdate(1100220055, 3, 'smoke over the bridge'));
    adapter = make();
    await adapter.start(sink);
    await waitFor(async () => (await queue.getJobCounts('waiting')).waiting === 1, 10_000);
    await waitFor(async () => api.confirmed > goodId, 10_000);

    expect(quarantined.map((q) => q.source)).toEqual([`update ${badId}`, `update ${poisonId}`]);
    expect(quarantined[0]).toMatchObject({ channel: 'telegram', code: 'TIPHUB_MESSAGE_INVALID' });
    expect(quarantined[0]!.reason).toMatch(/location\.lat/);
    expect(quarantined[1]!.reason).toMatch(/not enqueued/);
    expect(keyring.unseal(quarantined[0]!.payloadSealed!, 'quarantine')).toEqual({ update_id: badId, ...bad });
    expect(adapter.quarantined).toBe(2);
    expect(await redis.hgetall(`${s.prefix}:quarantined:telegram`)).toEqual({ TIPHUB_MESSAGE_INVALID: '2' });
    // Nothing of the senders in the log lines or the reasons.
    const said = lines.join('\n') + quarantined.map((q) => q.reason).join('\n');
    for (const id of ['1100220033', '1100220044', '1100220055', 'poison', 'smoke']) expect(said).not.toContain(id);
  });

  test('a polling loop that dies (Telegram now refuses the token) releases its lease at once', async () => {
    adapter = make();
    await adapter.start(createIntakeSink(queue, keyring, log));
    const key = `${s.prefix}:lease:telegram:${api.botId}`;
    await waitFor(async () => (await redis.exists(key)) === 1, 10_000);
    // Its state for `tiphub status`: receiving, by polling; words and times only.
    const state = `${s.prefix}:channel:telegram`;
    await waitFor(async () => (await redis.hget(state, 'state')) === 'connected', 10_000);
    expect(await redis.hget(state, 'mode')).toBe('polling');
    Object.assign(api, { token: `${api.botId}:AArevokedrevokedrevokedrevokedrevoked0` }); // every call now answers 401
    await waitFor(async () => (await redis.exists(key)) === 0, 5_000);
    expect(lines.join('\n')).toMatch(/polling stopped/);
    const after = await redis.hgetall(state);
    expect(after).toMatchObject({ state: 'disconnected', detail: 'token rejected', mode: 'polling' });
    expect(Number(after.since)).toBeGreaterThan(Date.now() - 10_000);
    expect(JSON.stringify(after)).not.toContain(api.token.split(':')[1]!);
  });
});
