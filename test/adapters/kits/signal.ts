/**
 * Signal's kit: the recorded receive frames of test/fixtures/signal (signal-cli-rest-api 0.100,
 * account +15550009999) with their golden file and the identifiers each holds (identifiers.json
 * beside them); the platform is the local fake of signal-cli-rest-api (test/helpers/signal-fake.ts)
 * in json-rpc mode (the websocket), which checks every request against the OpenAPI file.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { randomUUID } from 'node:crypto';
import { SignalFake } from '../../helpers/signal-fake';
import { withChannel } from '../../helpers/env';
import type { SignalCredentials } from '../../../adapters/signal';
import type { ChannelKit, Fixture, KeptPayload, Recorded } from './kit';

const FIXTURES = path.join(__dirname, '../../fixtures/signal');
const GOLDEN = 'normalized.golden.json';
const IDENTIFIERS = 'identifiers.json';
export const SIGNAL_KIT_ACCOUNT = '+15550009999';

const readJson = (file: string): unknown => JSON.parse(fs.readFileSync(path.join(FIXTURES, file), 'utf8'));

function recorded(): Recorded {
  const identifiers = readJson(IDENTIFIERS) as Record<string, string[]>;
  const fixtures: Fixture[] = fs
    .readdirSync(FIXTURES)
    .filter((f) => f.endsWith('.json') && f !== GOLDEN && f !== IDENTIFIERS)
    .sort()
    .map((f) => {
      const name = f.slice(0, -'.json'.length);
      const ids = identifiers[name];
      if (!ids) throw new Error(`test/fixtures/signal/${f}: declare the identifiers it holds in its identifiers.json`);
      return { name, payload: readJson(f), identifiers: ids };
    });
  return { fixtures, golden: readJson(GOLDEN) as Record<string, unknown> };
}

/** The adapter quarantines a receive frame whole. */
const keptWhole = (name: string): KeptPayload => {
  const f = recorded().fixtures.find((x) => x.name === name);
  if (!f) throw new Error(`no recorded Signal frame ${name}`);
  return { ...f, kept: f.payload };
};

export const signalKit: ChannelKit = {
  channel: 'signal',
  account: SIGNAL_KIT_ACCOUNT,
  recorded,
  bad: [keptWhole('malformed'), keptWhole('malformed-timestamp')],
  good: keptWhole('text'),
  remoteMedia: true,
  async platform() {
    const fake = await new SignalFake().start({ mode: 'json-rpc', number: SIGNAL_KIT_ACCOUNT });
    const informant = fake.informant({ number: '+9647700000042', name: 'Conformance' });
    const someone = () => randomUUID();
    return {
      configure(base) {
        const credentials: SignalCredentials = { url: fake.url, number: SIGNAL_KIT_ACCOUNT, auth: null };
        return withChannel(base, 'signal', credentials, { mediaMaxBytes: 64 * 1024, leaseMs: 3_000, reconnectBackoffMs: 100, reconnectBackoffMaxMs: 1_000 });
      },
      reachable: () => ({ address: informant.person.uuid, delivered: () => informant.received() }),
      refusals: [
        {
          what: '/v2/send answers 400 "Failed to send message: Invalid recipient"',
          arrange: () => {
            fake.sendFailures.push({ status: 400 });
            return someone();
          },
          expected: { code: 'TIPHUB_RECIPIENT_UNREACHABLE', retryable: false, retryAfterMs: null },
        },
        {
          what: '/v2/send answers 400 with another error (naming the recipient)',
          arrange: () => {
            const to = someone();
            fake.sendFailures.push({ status: 400, error: `Failed to send message: attachment too big for ${to}` });
            return to;
          },
          expected: { code: 'TIPHUB_SEND_FAILED', retryable: false, retryAfterMs: null },
        },
        {
          what: '/v2/send answers 429 with challenge_tokens (a captcha is needed)',
          arrange: () => {
            fake.sendFailures.push({ status: 429 });
            return someone();
          },
          expected: { code: 'TIPHUB_SEND_RATE_LIMITED', retryable: true, retryAfterMs: 60_000 },
        },
      ],
      putMedia: (bytes) => fake.putAttachment(bytes, 'image/jpeg'),
      async stop() {
        await fake.stop();
        fake.expectNoViolations();
      },
    };
  },
};
