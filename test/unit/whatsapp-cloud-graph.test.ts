/** The Cloud API back end against the local fake Graph API: media (bearer, caps, sha256, expiry), sends (body, split, ids, error mapping). */
import { createHash, randomBytes } from 'node:crypto';
import { createChannel } from '../../adapters/registry';
import type { CloudAdapter } from '../../adapters/whatsapp/cloud/adapter';
import type { WhatsAppCloudCredentials, WhatsAppSettings } from '../../adapters/whatsapp';
import { expectedDigest } from '../../adapters/whatsapp/cloud/graph';
import { loadConfig, type Config } from '../../app/config';
import { Keyring } from '../../src/crypto/keyring';
import { isTiphubError } from '../../src/errors';
import { capturingLogger, withChannel } from '../helpers/env';
import { FAKE_APP_SECRET, FAKE_PHONE_NUMBER_ID, FAKE_VERIFY_TOKEN, GraphApiFake, wamidFor } from '../helpers/graph-api-fake';
import { expectAbsent } from '../adapters/identifiers';

const KARIM = '9647701234567';
const keyring = new Keyring('graph-secret-0123456789abcdef0123456789ab');

async function readAll(stream: NodeJS.ReadableStream): Promise<Buffer> {
  const chunks: Buffer[] = [];
  for await (const c of stream) chunks.push(Buffer.from(c as Buffer));
  return Buffer.concat(chunks);
}
const failure = (p: Promise<unknown>) =>
  p.then(
    () => null,
    (e: unknown) => e,
  );

describe('whatsapp cloud: Graph API', () => {
  let api: GraphApiFake;
  let cfg: Readonly<Config>;
  let adapter: CloudAdapter;
  const { log, lines } = capturingLogger();

  const make = (apiRoot: string, token = api.token) => {
    const base = loadConfig({ env: { TIPHUB_SECRET: 'x'.repeat(32) }, cwd: '/tmp' });
    const current = base.channels.whatsapp!.settings as WhatsAppSettings;
    const credentials: WhatsAppCloudCredentials = { mode: 'cloud', token, appSecret: FAKE_APP_SECRET, verifyToken: FAKE_VERIFY_TOKEN, phoneNumberId: FAKE_PHONE_NUMBER_ID, apiRoot };
    cfg = withChannel(base, 'whatsapp', credentials, { mode: 'cloud', cloud: { ...current.cloud, webhookListen: { ...current.cloud.webhookListen, port: 0 } } });
    return createChannel('whatsapp', { keyring, log, cfg, redis: null, quarantine: async () => undefined }) as CloudAdapter;
  };

  beforeEach(async () => {
    api = new GraphApiFake();
    await api.start();
    adapter = make(api.apiRoot);
    lines.length = 0;
  });
  afterEach(async () => {
    await adapter.stop();
    await api.stop();
  });

  test('media: metadata and download both with the bearer token; the bytes stream whole', async () => {
    const bytes = randomBytes(200_000);
    const id = api.putMedia(bytes, 'image/jpeg');
    const got = await readAll(await adapter.openMedia!(id, 1024 * 1024));
    expect(got.equals(bytes)).toBe(true);
    expect(api.auth.map((a) => a.kind)).toEqual(['media', 'download']);
    expect(api.auth.every((a) => a.header === `Bearer ${api.token}`)).toBe(true);
  });

  test('media: refused before downloading when Meta says it is too large; stopped past the cap when it lied', async () => {
    const id = api.putMedia(randomBytes(5000));
    const big = await failure(adapter.openMedia!(id, 4999));
    expect(isTiphubError(big, 'TIPHUB_MEDIA_TOO_LARGE')).toBe(true);
    expect(api.auth.map((a) => a.kind)).toEqual(['media']); // never downloaded
    const liar = api.putMedia(randomBytes(300_000), 'video/mp4', { fileSize: 10 });
    const err = await failure(readAll(await adapter.openMedia!(liar, 100_000)));
    expect(isTiphubError(err, 'TIPHUB_MEDIA_TOO_LARGE')).toBe(true);
  });

  test("media: bytes that do not match Meta's sha256 fail the stream (retryable); hex and base64 digests are both understood", async () => {
    const bytes = randomBytes(1000);
    const wrong = api.putMedia(bytes, 'image/jpeg', { sha256: createHash('sha256').update('other').digest('hex') });
    const err = await failure(readAll(await adapter.openMedia!(wrong, 1_000_000)));
    expect(err).toMatchObject({ code: 'TIPHUB_MEDIA_UNREADABLE', retryable: true });
    const b64 = api.putMedia(bytes, 'image/jpeg', { sha256: createHash('sha256').update(bytes).digest('base64') });
    expect((await readAll(await adapter.openMedia!(b64, 1_000_000))).equals(bytes)).toBe(true);
    const d = createHash('sha256').update(bytes).digest();
    expect(expectedDigest(d.toString('hex'))!.equals(d)).toBe(true);
    expect(expectedDigest(d.toString('base64url'))!.equals(d)).toBe(true);
    expect(expectedDigest('not a digest')).toBeNull();
  });

  test('media: an unknown or expired id (400/404) is unreadable for good; 5xx and a network fault may pass later; an id that is not one is never sent', async () => {
    expect(await failure(adapter.openMedia!('1234567', 1000))).toMatchObject({ code: 'TIPHUB_MEDIA_UNREADABLE', retryable: false });
    api.mediaFailures.push({ status: 404, error: { code: 100 } });
    expect(await failure(adapter.openMedia!(api.putMedia(randomBytes(10)), 1000))).toMatchObject({ code: 'TIPHUB_MEDIA_UNREADABLE', retryable: false });
    api.mediaFailures.push({ status: 500, error: { code: 1 } });
    expect(await failure(adapter.openMedia!(api.putMedia(randomBytes(10)), 1000))).toMatchObject({ code: 'TIPHUB_MEDIA_UNREADABLE', retryable: true });
    api.downloadFailures.push({ status: 503 });
    expect(await failure(adapter.openMedia!(api.putMedia(randomBytes(10)), 1000).then(readAll))).toMatchObject({ code: 'TIPHUB_MEDIA_UNREADABLE', retryable: true });
    const calls = api.auth.length;
    expect(await failure(adapter.openMedia!('../phone_numbers', 1000))).toMatchObject({ code: 'TIPHUB_MEDIA_UNREADABLE', retryable: false });
    expect(api.auth.length).toBe(calls);
    const down = make('http://127.0.0.1:9');
    try {
      expect(await failure(down.openMedia!('1234567', 1000))).toMatchObject({ code: 'TIPHUB_MEDIA_UNREADABLE', retryable: true });
    } finally {
      await down.stop();
    }
  });

  test("send: Meta's body, the quote only on the first part of a long text; the result is the keyed hash of the wamid and the wamid itself", async () => {
    const report = wamidFor(KARIM);
    const r = await adapter.send(KARIM, { text: 'Which bridge?', replyTo: report });
    expect(api.sent[0]).toEqual({ messaging_product: 'whatsapp', recipient_type: 'individual', to: KARIM, type: 'text', text: { body: 'Which bridge?', preview_url: false }, context: { message_id: report } });
    expect(r.platformRef).toMatch(/^wamid\./);
    expect(r.nativeId).toBe(keyring.messageId('whatsapp', ['wa', r.platformRef!]));
    await adapter.send(KARIM, { text: 'no quote' });
    expect(api.sent[1]).not.toHaveProperty('context');
    const long = 'a'.repeat(4095) + '😀' + 'b'.repeat(100);
    await adapter.send(KARIM, { text: long, replyTo: report });
    const parts = api.sent.slice(2);
    expect(parts.map((p) => (p.text as { body: string }).body.length)).toEqual([4095, 102]);
    expect(parts.map((p) => (p.text as { body: string }).body).join('')).toBe(long);
    expect(parts.map((p) => 'context' in p)).toEqual([true, false]);
  });

  test('send errors: rate limits, the 24-hour window, unreachable recipients, a rejected token, server and network faults; no number in a message or a log line', async () => {
    const cases: [Parameters<GraphApiFake['sendFailures']['push']>[0], object][] = [
      [{ status: 429, error: { code: 130429 } }, { code: 'TIPHUB_SEND_RATE_LIMITED', retryable: true, retryAfterMs: null }],
      [{ status: 400, error: { code: 131056 } }, { code: 'TIPHUB_SEND_RATE_LIMITED', retryable: true, retryAfterMs: null }],
      [{ status: 400, error: { code: 80007 } }, { code: 'TIPHUB_SEND_RATE_LIMITED', retryable: true }],
      [{ status: 400, error: { code: 131047 } }, { code: 'TIPHUB_WINDOW_CLOSED', retryable: false }],
      [{ status: 400, error: { code: 131026 } }, { code: 'TIPHUB_RECIPIENT_UNREACHABLE', retryable: false }],
      [{ status: 400, error: { code: 131030 } }, { code: 'TIPHUB_RECIPIENT_UNREACHABLE', retryable: false }],
      [{ status: 400, error: { code: 131021 } }, { code: 'TIPHUB_RECIPIENT_UNREACHABLE', retryable: false }],
      [{ status: 401, error: { code: 190 } }, { code: 'TIPHUB_SEND_FAILED', retryable: false }],
      [{ status: 500, error: { code: 131000 } }, { code: 'TIPHUB_SEND_FAILED', retryable: true }],
      [{ status: 400, error: { code: 100 } }, { code: 'TIPHUB_SEND_FAILED', retryable: false }],
    ];
    for (const [f, expected] of cases) {
      api.sendFailures.push({ ...f, error: { ...f.error, message: `(#${f.error?.code}) Recipient ${KARIM} is not allowed` } });
      const err = await failure(adapter.send(KARIM, { text: 'a' }));
      expect({ f, err }).toEqual({ f, err: expect.objectContaining(expected) });
      expectAbsent('message', (err as Error).message, [KARIM, 'Recipient', 'allowed']);
    }
    const wrongToken = make(api.apiRoot, 'EAAGwrongwrongwrongwrongwrong0000');
    const down = make('http://127.0.0.1:9');
    try {
      expect(await failure(wrongToken.send(KARIM, { text: 'a' }))).toMatchObject({ code: 'TIPHUB_SEND_FAILED', retryable: false });
      expect(await failure(down.send(KARIM, { text: 'a' }))).toMatchObject({ code: 'TIPHUB_SEND_FAILED', retryable: true });
    } finally {
      await wrongToken.stop();
      await down.stop();
    }
    expectAbsent('log', lines.join(''), [KARIM]);
    expect(lines.join('')).toMatch(/WhatsApp send failed/);
  });
});
