/**
 * WhatsApp's kit: the recorded items of both back ends, test/fixtures/whatsapp-cloud (Cloud API
 * webhook items) and test/fixtures/whatsapp-web (whatsapp-web.js message data), named
 * `cloud/<name>` and `web/<name>`, with their golden files and the identifiers each holds
 * (identifiers.json beside them); the platform is the Cloud API on the local fake Graph API
 * (test/helpers/graph-api-fake.ts), the webhook on a free port.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { FAKE_APP_SECRET, FAKE_PHONE_NUMBER_ID, FAKE_VERIFY_TOKEN, GraphApiFake, type GraphFailure } from '../../helpers/graph-api-fake';
import { withChannel } from '../../helpers/env';
import type { WhatsAppCloudCredentials, WhatsAppSettings } from '../../../adapters/whatsapp';
import type { ChannelKit, Fixture, KeptPayload, Recorded } from './kit';

const FIXTURES = path.join(__dirname, '../../fixtures');
const BACKENDS = ['cloud', 'web'] as const;
const GOLDEN = 'normalized.golden.json';
const IDENTIFIERS = 'identifiers.json';
const KARIM = '9647701234567';

const readJson = (file: string): unknown => JSON.parse(fs.readFileSync(file, 'utf8'));

/** One back end's recordings; none when its folder is absent or still empty. */
function recordedOf(backend: (typeof BACKENDS)[number]): { fixtures: Fixture[]; golden: Record<string, unknown> } {
  const dir = path.join(FIXTURES, `whatsapp-${backend}`);
  const files = fs.existsSync(dir) ? fs.readdirSync(dir).filter((f) => f.endsWith('.json') && f !== GOLDEN && f !== IDENTIFIERS).sort() : [];
  if (!files.length) return { fixtures: [], golden: {} };
  const identifiers = readJson(path.join(dir, IDENTIFIERS)) as Record<string, string[]>;
  const golden = readJson(path.join(dir, GOLDEN)) as Record<string, unknown>;
  const fixtures = files.map((f) => {
    const name = f.slice(0, -'.json'.length);
    const ids = identifiers[name];
    if (!ids) throw new Error(`test/fixtures/whatsapp-${backend}/${f}: declare the identifiers it holds in its identifiers.json`);
    return { name: `${backend}/${name}`, payload: readJson(path.join(dir, f)), identifiers: ids };
  });
  return { fixtures, golden: Object.fromEntries(Object.entries(golden).map(([k, v]) => [`${backend}/${k}`, v])) };
}

function recorded(): Recorded {
  const parts = BACKENDS.map(recordedOf);
  return { fixtures: parts.flatMap((p) => p.fixtures), golden: Object.assign({}, ...parts.map((p) => p.golden)) as Record<string, unknown> };
}

function fixture(name: string): Fixture {
  const f = recorded().fixtures.find((x) => x.name === name);
  if (!f) throw new Error(`no recorded WhatsApp item ${name}`);
  return f;
}

/** The adapter quarantines a webhook item whole. */
const keptWhole = (name: string): KeptPayload => {
  const f = fixture(name);
  return { ...f, kept: f.payload };
};

/** Passes normalize, fails the InboundMessage schema (a latitude out of range), and names Karim. */
function outOfRangeLocation(): KeptPayload {
  const f = fixture('cloud/location');
  const item = structuredClone(f.payload) as { message: { location: { latitude: number } } };
  item.message.location.latitude = 200;
  return { name: 'cloud location with latitude 200', payload: item, kept: item, identifiers: f.identifiers };
}

export const whatsappKit: ChannelKit = {
  channel: 'whatsapp',
  account: FAKE_PHONE_NUMBER_ID,
  recorded,
  bad: [keptWhole('cloud/malformed'), outOfRangeLocation()],
  good: keptWhole('cloud/text'),
  remoteMedia: true,
  async platform() {
    const api = new GraphApiFake();
    await api.start();
    const refuse = (failure: GraphFailure) => () => {
      api.sendFailures.push(failure);
      return KARIM;
    };
    return {
      configure(base) {
        const current = base.channels.whatsapp!.settings as WhatsAppSettings;
        const credentials: WhatsAppCloudCredentials = {
          mode: 'cloud',
          token: api.token,
          appSecret: FAKE_APP_SECRET,
          verifyToken: FAKE_VERIFY_TOKEN,
          phoneNumberId: FAKE_PHONE_NUMBER_ID,
          apiRoot: api.apiRoot,
        };
        // The webhook on a free port: suites run side by side.
        return withChannel(base, 'whatsapp', credentials, {
          mode: 'cloud',
          mediaMaxBytes: 64 * 1024,
          cloud: { ...current.cloud, webhookListen: { ...current.cloud.webhookListen, host: '127.0.0.1', port: 0 } },
        });
      },
      reachable: () => ({ address: KARIM, delivered: () => api.textsTo(KARIM) }),
      refusals: [
        {
          what: '/messages answers 429 with error 130429 (the number sends too fast)',
          arrange: refuse({ status: 429, error: { code: 130429 } }),
          expected: { code: 'TIPHUB_SEND_RATE_LIMITED', retryable: true, retryAfterMs: null },
        },
        {
          what: '/messages answers 400 with error 131056 (too many to this user: one each 6 s)',
          arrange: refuse({ status: 400, error: { code: 131056 } }),
          expected: { code: 'TIPHUB_SEND_RATE_LIMITED', retryable: true, retryAfterMs: null },
        },
        {
          what: '/messages answers 400 with error 131026 (not a WhatsApp user)',
          arrange: refuse({ status: 400, error: { code: 131026 } }),
          expected: { code: 'TIPHUB_RECIPIENT_UNREACHABLE', retryable: false, retryAfterMs: null },
        },
        {
          what: '/messages answers 400 with error 131047 (outside the 24-hour window)',
          arrange: refuse({ status: 400, error: { code: 131047 } }),
          expected: { code: 'TIPHUB_WINDOW_CLOSED', retryable: false, retryAfterMs: null },
        },
        {
          what: '/messages answers 401 with error 190 (the token is rejected)',
          arrange: refuse({ status: 401, error: { code: 190 } }),
          expected: { code: 'TIPHUB_SEND_FAILED', retryable: false, retryAfterMs: null },
        },
        {
          what: '/messages answers 500',
          arrange: refuse({ status: 500, error: { code: 131000 } }),
          expected: { code: 'TIPHUB_SEND_FAILED', retryable: true, retryAfterMs: null },
        },
      ],
      putMedia: (bytes) => api.putMedia(bytes),
      stop: () => api.stop(),
    };
  },
};
