/**
 * Telegram's kit: the recorded updates of test/fixtures/telegram with their golden file, who each
 * names, and the Bot API stand-in (test/helpers/bot-api-standin.ts) as the platform.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { BotApiStandin } from '../../helpers/bot-api-standin';
import { withChannel } from '../../helpers/env';
import type { ChannelKit, Fixture, KeptPayload, Recorded } from './kit';

const FIXTURES = path.join(__dirname, '../../fixtures/telegram');
const GOLDEN = 'normalized.golden.json';

const read = (file: string): unknown => JSON.parse(fs.readFileSync(path.join(FIXTURES, file), 'utf8'));

/** The informant of the recordings (user id = private chat id, first name, user name). */
const KARIM = ['5511223344', 'Karim', 'karim_iq'];
/** A third person named in forwards, mentions, quotes and a replied-to message. */
const LAYLA = ['3344556677', 'Layla', 'Hassan', 'layla_h', '+9647711111111'];

/** Every fixture's identifying strings; a fixture added without its line here fails the suite. */
const IDENTIFIERS: Readonly<Record<string, readonly string[]>> = {
  'album-1': KARIM,
  'album-2': KARIM,
  audio: KARIM,
  'callback-query': KARIM,
  'channel-post': ['-1009876543210', 'Breaking'],
  'contact-self': [...KARIM, '+9647700000001'],
  contact: [...KARIM, '+9647712345678', '7788990011', 'Abu', 'Ahmed'],
  document: KARIM,
  edited: KARIM,
  'forward-channel': [...KARIM, '-1009876543210', 'Breaking', 'breaking_iq'],
  'forward-chat': [...KARIM, '-1001234567890', 'Mosul news'],
  'forward-hidden-user': [...KARIM, 'Hidden Person'],
  'forward-identities': [...KARIM, ...LAYLA, '-1001234567890', 'layla_street', '4455667788', 'layla_bot'],
  'forward-user': [...KARIM, '3344556677', 'Other'],
  'group-message': [...KARIM, '-1001112223334', 'Family'],
  location: KARIM,
  malformed: [],
  'photo-caption': KARIM,
  'private-text': KARIM,
  'reply-to-bot': KARIM,
  'service-message': KARIM,
  'start-payload': KARIM,
  sticker: KARIM,
  venue: KARIM,
  video: KARIM,
  voice: KARIM,
};

function fixture(name: string): Fixture {
  const identifiers = IDENTIFIERS[name];
  if (!identifiers) throw new Error(`test/fixtures/telegram/${name}.json: declare the identifiers it holds in test/adapters/kits/telegram.ts`);
  return { name, payload: read(`${name}.json`), identifiers };
}

function recorded(): Recorded {
  const names = fs
    .readdirSync(FIXTURES)
    .filter((f) => f.endsWith('.json') && !f.endsWith('.golden.json'))
    .map((f) => f.slice(0, -'.json'.length))
    .sort();
  return { fixtures: names.map(fixture), golden: read(GOLDEN) as Record<string, unknown> };
}

/** Passes normalize, fails the InboundMessage schema (a latitude out of range), and names Karim. */
function outOfRangeLocation(): KeptPayload {
  const update = structuredClone(read('private-text.json')) as { message: Record<string, unknown> };
  update.message.location = { latitude: 200, longitude: 44.1 };
  return { name: 'private text with latitude 200', payload: update, kept: update, identifiers: KARIM };
}

/** The adapter quarantines a whole update. */
const keptWhole = (name: string): KeptPayload => {
  const f = fixture(name);
  return { ...f, kept: f.payload };
};

export const telegramKit: ChannelKit = {
  channel: 'telegram',
  account: '7000000001',
  recorded,
  bad: [keptWhole('malformed'), outOfRangeLocation()],
  good: keptWhole('private-text'),
  remoteMedia: true,
  async platform() {
    const api = new BotApiStandin();
    await api.start();
    const refuse = (failure: BotApiStandin['sendFailures'][number]) => () => {
      api.sendFailures.push(failure);
      return KARIM[0]!;
    };
    return {
      configure: (base) =>
        withChannel(base, 'telegram', { token: api.token, apiRoot: api.apiRoot, webhookUrl: null, webhookSecret: null }, { pollTimeoutSeconds: 1, mediaMaxBytes: 64 * 1024 }),
      reachable: () => ({ address: KARIM[0]!, delivered: () => api.sent.map((m) => m.text) }),
      refusals: [
        {
          what: 'sendMessage answers 429 with retry_after 7',
          arrange: refuse({ error_code: 429, description: 'Too Many Requests: retry after 7', parameters: { retry_after: 7 } }),
          expected: { code: 'TIPHUB_SEND_RATE_LIMITED', retryable: true, retryAfterMs: 7000 },
        },
        {
          what: 'sendMessage answers 403: the user blocked the bot',
          arrange: refuse({ error_code: 403, description: 'Forbidden: bot was blocked by the user' }),
          expected: { code: 'TIPHUB_RECIPIENT_UNREACHABLE', retryable: false, retryAfterMs: null },
        },
        {
          what: 'sendMessage answers 500',
          arrange: refuse({ error_code: 500, description: 'Internal Server Error' }),
          expected: { code: 'TIPHUB_SEND_FAILED', retryable: true, retryAfterMs: null },
        },
      ],
      putMedia(bytes) {
        const ref = `conformance-file-${api.files.size + 1}`;
        api.files.set(ref, bytes);
        return ref;
      },
      stop: () => api.stop(),
    };
  },
};
