/**
 * Fuzzing every channel of the registry (a channel added later must bring its payload generator
 * here, or this test fails): arbitrary JSON and near-valid payloads through the channel's one
 * inbound handler never throw, never put an identifier of the input in a log line or a quarantine
 * reason, and end as a valid report (checked as the intake queue checks it), an ignored update, one
 * recorded event, or one sealed quarantine entry.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import fc from 'fast-check';
import { channelNames, createChannel } from '../../adapters/registry';
import { BotApiStandin } from '../helpers/bot-api-standin';
import { FAKE_APP_SECRET, FAKE_PHONE_NUMBER_ID, FAKE_TOKEN, FAKE_VERIFY_TOKEN } from '../helpers/graph-api-fake';
import { SignalFake } from '../helpers/signal-fake';
import { capturingLogger, withChannel } from '../helpers/env';
import { Keyring } from '../../src/crypto/keyring';
import { loadConfig, type Config } from '../../app/config';
import { InboundMessage, isEventOnly, isIgnored, isRejected, type ChannelEvent, type ChannelName } from '../../src/contracts/inbound-message';
import { sealForIntake } from '../../src/queue/intake-queue';
import type { ChannelAdapter, NormalizeContext } from '../../src/contracts/channel-adapter';
import type { QuarantineEntry } from '../../src/caselog/quarantine';

const RUNS = 300;
const keyring = new Keyring('fuzz-secret-0123456789abcdef0123456789ab');
const ctx: NormalizeContext = { account: '7000000001', receivedAt: new Date('2026-06-10T06:00:00Z'), messageId: (p) => keyring.messageId('fuzz', p) };
/** The account each channel's adapter receives as (its normalize ignores another number's items). */
const SIGNAL_ACCOUNT = '+15550009999';
const ACCOUNTS: Partial<Record<string, string>> = { whatsapp: FAKE_PHONE_NUMBER_ID, signal: SIGNAL_ACCOUNT };
const ctxOf = (channel: string): NormalizeContext => ({ ...ctx, account: ACCOUNTS[channel] ?? ctx.account });

/** Identifiers a payload carries: they must never show in a log line or a quarantine reason. */
const marker = fc.stringMatching(/^[0-9a-f]{10}$/).map((h) => `ID${h}`);
const userId = fc.integer({ min: 1_000_000_000, max: 1_999_999_999 });
const anything = fc.jsonValue({ maxDepth: 3 });
const maybe = <T>(a: fc.Arbitrary<T>) => fc.oneof(a, anything);

interface Case {
  readonly payload: unknown;
  readonly identifiers: readonly string[];
}

const telegramCase: fc.Arbitrary<Case> = fc.oneof(
  anything.map((payload) => ({ payload, identifiers: [] })),
  fc
    .record({
      key: fc.constantFrom('message', 'edited_message', 'channel_post', 'callback_query', 'x'),
      updateId: maybe(fc.integer({ min: 0, max: 999_999 })),
      messageId: maybe(fc.integer({ min: 1, max: 999_999 })),
      id: userId,
      contactId: userId,
      name: marker,
      phone: marker,
      chatType: fc.oneof(fc.constantFrom('private', 'private', 'group', 'channel'), anything),
      date: fc.oneof(fc.integer({ min: 0, max: 2_000_000_000 }), fc.double(), anything),
      text: fc.option(fc.oneof(fc.string(), fc.string({ minLength: 65_000, maxLength: 66_000 }), anything), { nil: undefined }),
      location: fc.option(fc.record({ latitude: fc.double(), longitude: fc.double() }), { nil: undefined }),
      contact: fc.option(fc.constantFrom('self', 'other'), { nil: undefined }),
      language: fc.option(maybe(fc.string({ maxLength: 30 })), { nil: undefined }),
      group: fc.option(maybe(fc.string({ maxLength: 300 })), { nil: undefined }),
      photo: fc.option(fc.array(fc.record({ file_id: maybe(fc.string({ minLength: 1 })), file_size: maybe(fc.integer()) }), { maxLength: 3 }), { nil: undefined }),
      extra: fc.dictionary(fc.string({ maxLength: 12 }), anything, { maxKeys: 3 }),
    })
    .map((r) => {
      const message: Record<string, unknown> = {
        ...r.extra,
        message_id: r.messageId,
        from: { id: r.id, is_bot: false, first_name: r.name, username: r.name },
        chat: { id: r.id, type: r.chatType, first_name: r.name },
        date: r.date,
        edit_date: r.key === 'edited_message' ? r.date : undefined,
        ...(r.text !== undefined ? { text: r.text } : {}),
        ...(r.location ? { location: r.location } : {}),
        ...(r.contact ? { contact: { phone_number: r.phone, first_name: r.name, user_id: r.contact === 'self' ? r.id : r.contactId } } : {}),
        ...(r.photo ? { photo: r.photo } : {}),
        ...(r.group !== undefined ? { media_group_id: r.group } : {}),
        forward_origin: { type: 'user', date: 1, sender_user: { id: r.contactId, first_name: r.name } },
      };
      if (r.language !== undefined) (message.from as Record<string, unknown>).language_code = r.language;
      return { payload: { update_id: r.updateId, [r.key]: message }, identifiers: [String(r.id), String(r.contactId), r.name, r.phone] };
    }),
);

const simulatorCase: fc.Arbitrary<Case> = fc.oneof(
  anything.map((line) => ({ payload: { line, baseDir: '/ingest' }, identifiers: [] })),
  fc
    .record({
      id: maybe(fc.string({ minLength: 1, maxLength: 300 })),
      from: marker,
      name: marker,
      text: fc.option(maybe(fc.string()), { nil: undefined }),
      sentAt: fc.option(maybe(fc.date({ noInvalidDate: true }).map((d) => d.toISOString())), { nil: undefined }),
      location: fc.option(fc.record({ lat: fc.double(), lon: fc.double(), label: fc.option(fc.string()) }), { nil: undefined }),
      media: fc.option(fc.array(fc.record({ file: maybe(fc.string({ minLength: 1, maxLength: 40 })) }), { maxLength: 3 }), { nil: undefined }),
      extra: fc.dictionary(fc.string({ maxLength: 12 }), anything, { maxKeys: 2 }),
    })
    .map(({ extra, ...l }) => ({ payload: { line: { ...(Object.keys(extra).length % 2 ? extra : {}), ...l }, baseDir: '/ingest' }, identifiers: [l.from, l.name] })),
);

/** The recorded items of both WhatsApp back ends (test/fixtures/whatsapp-cloud, -web), with the identifiers each holds. */
function whatsappRecordings(): Case[] {
  const out: Case[] = [];
  for (const backend of ['cloud', 'web']) {
    const dir = path.join(__dirname, `../fixtures/whatsapp-${backend}`);
    if (!fs.existsSync(dir)) continue;
    const files = fs.readdirSync(dir).filter((f) => f.endsWith('.json') && f !== 'normalized.golden.json' && f !== 'identifiers.json');
    if (!files.length) continue;
    const ids = JSON.parse(fs.readFileSync(path.join(dir, 'identifiers.json'), 'utf8')) as Record<string, string[]>;
    for (const f of files.sort()) out.push({ payload: JSON.parse(fs.readFileSync(path.join(dir, f), 'utf8')), identifiers: ids[f.slice(0, -5)] ?? [] });
  }
  return out;
}

/** Sets or deletes the value at a path of indexes (each picks a key of the object or an item of the array met there). */
function mutate(payload: unknown, path: readonly number[], op: 'set' | 'delete', value: unknown): unknown {
  const root = structuredClone(payload);
  let node: unknown = root;
  for (const [depth, i] of path.entries()) {
    if (typeof node !== 'object' || node === null) break;
    const keys = Object.keys(node);
    if (!keys.length) break;
    const key = keys[i % keys.length]!;
    const last = depth === path.length - 1;
    const holder = node as Record<string, unknown>;
    if (last || typeof holder[key] !== 'object' || holder[key] === null) {
      if (op === 'delete') delete holder[key];
      else holder[key] = value;
      break;
    }
    node = holder[key];
  }
  return root;
}

const whatsappItems = whatsappRecordings();
const whatsappCase: fc.Arbitrary<Case> = fc.oneof(
  anything.map((payload) => ({ payload, identifiers: [] })),
  fc.record({ backend: fc.constantFrom('cloud', 'web'), phoneNumberId: fc.constantFrom(FAKE_PHONE_NUMBER_ID, 'x'), message: anything, status: fc.option(anything, { nil: undefined }), contacts: anything }).map((payload) => ({ payload, identifiers: [] })),
  fc
    .record({
      pick: fc.nat(),
      ops: fc.array(fc.record({ path: fc.array(fc.nat(), { minLength: 1, maxLength: 5 }), op: fc.constantFrom('set' as const, 'delete' as const), value: fc.oneof(anything, fc.string({ minLength: 65_000, maxLength: 66_000 }), fc.double(), marker) }), { minLength: 1, maxLength: 3 }),
    })
    .map(({ pick, ops }) => {
      const item = whatsappItems[pick % whatsappItems.length]!;
      return { payload: ops.reduce((p, o) => mutate(p, o.path, o.op, o.value), item.payload), identifiers: item.identifiers };
    }),
);

/** The recorded receive frames of signal-cli-rest-api (test/fixtures/signal), with the identifiers each holds. */
function signalRecordings(): Case[] {
  const dir = path.join(__dirname, '../fixtures/signal');
  const ids = JSON.parse(fs.readFileSync(path.join(dir, 'identifiers.json'), 'utf8')) as Record<string, string[]>;
  return fs
    .readdirSync(dir)
    .filter((f) => f.endsWith('.json') && f !== 'normalized.golden.json' && f !== 'identifiers.json')
    .sort()
    .map((f) => ({ payload: JSON.parse(fs.readFileSync(path.join(dir, f), 'utf8')), identifiers: ids[f.slice(0, -5)] ?? [] }));
}
const signalFrames = signalRecordings();
const stamp = fc.oneof(fc.integer({ min: 1, max: 2_000_000_000_000 }), fc.double(), anything);
const signalCase: fc.Arbitrary<Case> = fc.oneof(
  anything.map((payload) => ({ payload, identifiers: [] })),
  fc
    .record({
      uuid: marker,
      number: fc.option(marker, { nil: null }),
      name: fc.option(marker, { nil: null }),
      timestamp: stamp,
      kind: fc.constantFrom('dataMessage', 'editMessage', 'receiptMessage', 'reaction', 'remoteDelete', 'typingMessage', 'x'),
      text: fc.option(maybe(fc.string()), { nil: null }),
      stamps: fc.array(stamp, { maxLength: 4 }),
      attachments: fc.option(fc.array(fc.record({ id: maybe(fc.string({ minLength: 1, maxLength: 40 })), contentType: maybe(fc.string({ maxLength: 30 })), size: maybe(fc.integer()), filename: fc.option(marker, { nil: null }) }), { maxLength: 3 }), { nil: undefined }),
      group: fc.boolean(),
    })
    .map((r) => {
      const data: Record<string, unknown> = { timestamp: r.timestamp, message: r.text, ...(r.attachments ? { attachments: r.attachments } : {}), ...(r.group ? { groupInfo: { groupId: r.name ?? 'g', type: 'DELIVER' } } : {}) };
      const part: Record<string, unknown> =
        r.kind === 'editMessage'
          ? { editMessage: { targetSentTimestamp: r.stamps[0] ?? r.timestamp, dataMessage: data } }
          : r.kind === 'receiptMessage'
            ? { receiptMessage: { when: r.timestamp, isDelivery: true, isRead: false, isViewed: false, timestamps: r.stamps } }
            : r.kind === 'reaction'
              ? { dataMessage: { ...data, reaction: { emoji: r.text, targetAuthorUuid: r.uuid, targetAuthorNumber: r.number, targetSentTimestamp: r.stamps[0], isRemove: false } } }
              : r.kind === 'remoteDelete'
                ? { dataMessage: { ...data, remoteDelete: { timestamp: r.stamps[0] } } }
                : r.kind === 'typingMessage'
                  ? { typingMessage: { action: 'STARTED', timestamp: r.timestamp } }
                  : r.kind === 'x'
                    ? { other: data }
                    : { dataMessage: data };
      const envelope = { source: r.number ?? r.uuid, sourceNumber: r.number, sourceUuid: r.uuid, sourceName: r.name, sourceDevice: 1, timestamp: r.timestamp, ...part };
      return { payload: { envelope, account: SIGNAL_ACCOUNT }, identifiers: [r.uuid, r.number, r.name].filter((x): x is string => x !== null) };
    }),
  fc
    .record({
      pick: fc.nat(),
      ops: fc.array(fc.record({ path: fc.array(fc.nat(), { minLength: 1, maxLength: 5 }), op: fc.constantFrom('set' as const, 'delete' as const), value: fc.oneof(anything, fc.string({ minLength: 65_000, maxLength: 66_000 }), fc.double(), marker) }), { minLength: 1, maxLength: 3 }),
    })
    .map(({ pick, ops }) => {
      const item = signalFrames[pick % signalFrames.length]!;
      return { payload: ops.reduce((p, o) => mutate(p, o.path, o.op, o.value), item.payload), identifiers: item.identifiers };
    }),
);

/** Every channel of the registry needs a payload generator here. */
const generators: Record<ChannelName, fc.Arbitrary<Case>> = { telegram: telegramCase, simulator: simulatorCase, whatsapp: whatsappCase, signal: signalCase };

describe('fuzzing each channel normalizer and receive path', () => {
  const api = new BotApiStandin();
  const signal = new SignalFake();
  let cfg: Readonly<Config>;
  beforeAll(async () => {
    await api.start();
    await signal.start({ mode: 'json-rpc', number: SIGNAL_ACCOUNT });
    const base = loadConfig({ env: { TIPHUB_SECRET: 'x'.repeat(32) }, cwd: '/tmp' });
    cfg = withChannel(base, 'telegram', { token: api.token, apiRoot: api.apiRoot, webhookUrl: null, webhookSecret: null }, { pollTimeoutSeconds: 1 });
    // The Cloud API back end, its webhook on a free port (nothing here calls the Graph API).
    const wa = cfg.channels.whatsapp!.settings as { cloud: { webhookListen: object } };
    cfg = withChannel(
      cfg,
      'whatsapp',
      { mode: 'cloud', token: FAKE_TOKEN, appSecret: FAKE_APP_SECRET, verifyToken: FAKE_VERIFY_TOKEN, phoneNumberId: FAKE_PHONE_NUMBER_ID, apiRoot: 'http://127.0.0.1:9' },
      { mode: 'cloud', cloud: { ...wa.cloud, webhookListen: { ...wa.cloud.webhookListen, host: '127.0.0.1', port: 0 } } },
    );
    // Signal on the local fake of signal-cli-rest-api (its receive websocket stays idle here).
    cfg = withChannel(cfg, 'signal', { url: signal.url, number: SIGNAL_ACCOUNT, auth: null });
  });
  afterAll(async () => {
    await api.stop();
    await signal.stop();
  });

  test('every registered channel has a generator and one inbound handler', () => {
    for (const channel of channelNames) expect(generators[channel]).toBeDefined();
  });

  test.each(channelNames)('%s: arbitrary payloads never throw nor leak, and end as a report, ignored or quarantined', async (channel) => {
    const { log, lines } = capturingLogger('debug');
    const quarantined: QuarantineEntry[] = [];
    const enqueued: unknown[] = [];
    const recorded: ChannelEvent[] = [];
    // Through the contract only: every channel's one inbound handler is `ChannelAdapter.handleInbound`.
    const record = async (_channel: string, e: ChannelEvent) => {
      recorded.push(e);
      return 'recorded' as const;
    };
    const adapter: ChannelAdapter = createChannel(channel, { keyring, log, cfg, redis: null, quarantine: async (e) => void quarantined.push(e), record });
    await adapter.start(async (m, meta) => {
      enqueued.push(sealForIntake(keyring, m, meta?.origin ?? 'live')); // the queue's own check and seal
      return { status: 'enqueued' };
    });
    try {
      await fc.assert(
        fc.asyncProperty(generators[channel], async ({ payload, identifiers }) => {
          // The pure normalizer never throws.
          const n = adapter.normalize(payload, ctxOf(channel));
          const before = { q: quarantined.length, e: enqueued.length, l: lines.length, r: recorded.length };
          await adapter.handleInbound(payload);
          const kept = quarantined.length - before.q;
          const sent = enqueued.length - before.e;
          // An event (a reaction, a delivery status…) is recorded on its case, not enqueued.
          const rec = recorded.length - before.r;
          // One payload, one outcome: a report, a quarantine entry, or its events (the first and any in `more`).
          const events = isEventOnly(n) ? 1 + (n.more?.length ?? 0) : 0;
          expect(kept + sent + Math.min(rec, 1)).toBeLessThanOrEqual(1);
          if (rec > 0) expect(rec).toBe(events);
          if (kept + sent + rec === 0) expect(isIgnored(n)).toBe(true);
          if (sent === 1) expect(InboundMessage.safeParse(n).success).toBe(true);
          if (isRejected(n)) expect(kept).toBe(1);
          const said = lines.slice(before.l).join('\n') + quarantined.slice(before.q).map((q) => q.source + q.reason).join('\n');
          for (const id of identifiers) expect(said).not.toContain(id);
        }),
        { numRuns: RUNS },
      );
    } finally {
      await adapter.stop();
    }
  });
});
