/** The signal-cli-rest-api fake itself: requests checked against the OpenAPI file, receive in both modes, attachments, sends and their failures, pings. */
import * as fs from 'node:fs';
import { WebSocket } from 'ws';
import { envelopeProblems, envelopes, SignalFake, SPEC_FILE, type ReceivedMessage } from '../helpers/signal-fake';
import { waitFor } from '../helpers/env';

const NUMBER = '+4915112345678';
const AUTH = 'Basic dGlwaHViOnNlY3JldA==';
const KARIM = { uuid: '3b1f0c5e-8d0a-4c37-9a2e-6f1d2c3b4a59', number: null, name: 'Karim' };
const PNG_1PX = Buffer.from('iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mNk+M9QDwADhgGAWjR9awAAAABJRU5ErkJggg==', 'base64');

const post = (fake: SignalFake, path: string, body: unknown, headers: Record<string, string> = { authorization: AUTH }) =>
  fetch(`${fake.url}${path}`, { method: 'POST', headers: { 'content-type': 'application/json', ...headers }, body: JSON.stringify(body) });
const get = (fake: SignalFake, path: string, headers: Record<string, string> = { authorization: AUTH }) => fetch(`${fake.url}${path}`, { headers });
const account = encodeURIComponent(NUMBER);

/** A websocket client on the receive endpoint, keeping its frames. */
async function receiver(fake: SignalFake, headers: Record<string, string> = { authorization: AUTH }): Promise<{ ws: WebSocket; frames: ReceivedMessage[] }> {
  const ws = new WebSocket(`${fake.url.replace('http', 'ws')}/v1/receive/${account}`, { headers });
  const frames: ReceivedMessage[] = [];
  ws.on('message', (d: Buffer) => frames.push(JSON.parse(d.toString('utf8')) as ReceivedMessage));
  await new Promise<void>((resolve, reject) => {
    ws.once('open', () => resolve());
    ws.once('error', reject);
  });
  return { ws, frames };
}

function closed(ws: WebSocket): Promise<void> {
  return ws.readyState === ws.CLOSED ? Promise.resolve() : new Promise((r) => ws.once('close', () => r()));
}

describe('signal-cli-rest-api fake', () => {
  let fake: SignalFake;
  const sockets: WebSocket[] = [];
  afterEach(async () => {
    for (const ws of sockets.splice(0)) ws.terminate();
    await fake.stop();
  });

  test('good requests pass with no violation: about, health, a send with a quote and attachments, a challenge, the link QR code', async () => {
    fake = await new SignalFake().start({ mode: 'json-rpc', number: NUMBER, authorization: AUTH });
    const about = await get(fake, '/v1/about');
    expect(about.status).toBe(200);
    expect(await about.json()).toEqual({ versions: ['v1', 'v2'], build: 2, mode: 'json-rpc', version: '0.100', capabilities: { 'v2/send': ['quotes', 'mentions'] } });
    expect((await get(fake, '/v1/health')).status).toBe(204);

    const r = await post(fake, '/v2/send', {
      number: NUMBER,
      recipients: [KARIM.uuid],
      message: 'Thank you, we read it.',
      quote_timestamp: 1733580000123,
      quote_author: KARIM.uuid,
      base64_attachments: [`data:image/png;filename=map.png;base64,${PNG_1PX.toString('base64')}`, PNG_1PX.toString('base64')],
    });
    expect(r.status).toBe(201);
    const answer = (await r.json()) as { timestamp: unknown };
    expect(typeof answer.timestamp).toBe('string');
    expect(Number(answer.timestamp)).toBe(fake.sentTimestamps[0]);
    expect(fake.sent[0]!.quote_timestamp).toBe(1733580000123);
    expect(fake.sentAttachments[0]!.map((a) => [a.mime, a.filename, a.bytes.equals(PNG_1PX)])).toEqual([
      ['image/png', 'map.png', true],
      [null, null, true],
    ]);

    expect((await post(fake, `/v1/accounts/${account}/rate-limit-challenge`, { challenge_token: 'tok', captcha: 'signalcaptcha://abc' })).status).toBe(204);
    expect(fake.challenges).toEqual([{ challenge_token: 'tok', captcha: 'signalcaptcha://abc' }]);

    const qr = await get(fake, '/v1/qrcodelink?device_name=tiphub');
    expect(qr.status).toBe(200);
    expect(qr.headers.get('content-type')).toBe('image/png');
    expect(Buffer.from(await qr.arrayBuffer()).subarray(0, 8).equals(PNG_1PX.subarray(0, 8))).toBe(true);
    expect(fake.linkUri).toMatch(/^sgnl:\/\/linkdevice\?uuid=[^&]+&pub_key=[^&]+$/);
    expect(fake.linkRequests).toEqual(['tiphub']);
    const raw = await get(fake, '/v1/qrcodelink/raw?device_name=tiphub');
    expect(await raw.json()).toEqual({ device_link_uri: fake.linkUri });

    fake.expectNoViolations();
  });

  test('each bad request is answered as the server would and recorded: no recipients, a wrong type, an unknown field, an unknown path, no auth', async () => {
    fake = await new SignalFake().start({ mode: 'json-rpc', number: NUMBER, authorization: AUTH });
    const noRecipients = await post(fake, '/v2/send', { number: NUMBER, message: 'hi' });
    expect(noRecipients.status).toBe(400);
    expect(await noRecipients.json()).toEqual({ error: expect.any(String) });
    expect(fake.violations).toEqual([expect.stringMatching(/^POST \/v2\/send: body \/ must have required property 'recipients'/)]);

    fake.violations.length = 0;
    expect((await post(fake, '/v2/send', { number: NUMBER, recipients: KARIM.uuid, message: 'hi', quote_timestamp: '1733580000123', quote_author: KARIM.uuid })).status).toBe(400);
    expect([...fake.violations].sort()).toEqual(['POST /v2/send: body /quote_timestamp must be integer', 'POST /v2/send: body /recipients must be array']);

    fake.violations.length = 0;
    expect((await post(fake, '/v2/send', { number: NUMBER, recipients: [KARIM.uuid], message: 'hi', quoteTimestamp: 1 })).status).toBe(400);
    expect(fake.violations).toEqual([expect.stringContaining('must NOT have additional properties (quoteTimestamp)')]);

    fake.violations.length = 0;
    expect((await post(fake, '/v2/send', { number: NUMBER, recipients: [], message: 'hi', base64_attachments: ['not base64!'] })).status).toBe(400);
    expect(fake.violations).toEqual([expect.stringContaining('no recipient'), expect.stringContaining('neither base64 nor a data URI')]);

    fake.violations.length = 0;
    expect((await get(fake, '/v1/nothing-here')).status).toBe(404);
    expect((await fetch(`${fake.url}/v1/about`, { method: 'POST', headers: { authorization: AUTH } })).status).toBe(404);
    expect((await get(fake, `/v1/receive/${encodeURIComponent('+4900000000')}`)).status).toBe(400);
    expect((await get(fake, '/v1/qrcodelink')).status).toBe(400);
    expect((await get(fake, '/v1/about?verbose=1')).status).toBe(400);
    expect(fake.violations).toEqual([
      'GET /v1/nothing-here: path not in the spec',
      'POST /v1/about: method not in the spec for this path',
      expect.stringMatching(/^GET \/v1\/receive\/%2B4900000000: account \+4900000000 is not the fake's/),
      'GET /v1/qrcodelink: query parameter device_name missing',
      'GET /v1/about: query parameter verbose is not declared',
    ]);

    fake.violations.length = 0;
    expect((await get(fake, '/v1/about', {})).status).toBe(401);
    expect((await get(fake, '/v1/about', { authorization: 'Basic wrong' })).status).toBe(401);
    await expect(receiver(fake, {})).rejects.toThrow(/401/);
    expect(fake.violations).toEqual(['GET /v1/about: no Authorization header', 'GET /v1/about: wrong Authorization header', `GET /v1/receive/${account}: no Authorization header`]);
    expect(() => fake.expectNoViolations()).toThrow(/3 request\(s\) departed from the spec/);
    expect(fake.sent).toEqual([]);
  });

  test('normal mode: a poll gives the queued envelopes as an array and clears them; the informant envelopes fit the spec once nulls are stripped', async () => {
    fake = await new SignalFake().start({ mode: 'normal', number: NUMBER });
    const karim = fake.informant(KARIM);
    const first = karim.text('There is a checkpoint on the north road.');
    const pic = karim.attachment([{ bytes: PNG_1PX, contentType: 'image/png', caption: 'the checkpoint' }]);
    const edited = karim.edit(first.timestamp, 'There is a checkpoint on the north road, since 6 am.');
    const deleted = karim.remoteDelete(pic.timestamp);
    const reacted = karim.reaction('👍', 1733580000999);
    const receipts = [karim.receipt('delivery', [1733580000999]), karim.receipt('read', [1733580000999]), karim.receipt('viewed', [1733580000999])];
    karim.typing();
    karim.sync('Noted, thanks.');
    expect(fake.pending()).toBe(10);

    const r = await get(fake, `/v1/receive/${account}?timeout=1&ignore_stories=true`, {});
    expect(r.status).toBe(200);
    const got = (await r.json()) as ReceivedMessage[];
    expect(got).toHaveLength(10);
    expect(got.every((m) => m.account === NUMBER)).toBe(true);
    for (const m of got) expect(envelopeProblems(m)).toEqual([]);
    expect(got[0]!.envelope).toMatchObject({ source: KARIM.uuid, sourceNumber: null, sourceUuid: KARIM.uuid, sourceName: 'Karim', timestamp: first.timestamp, dataMessage: { message: 'There is a checkpoint on the north road.' } });
    expect(got[1]!.envelope.dataMessage).toMatchObject({ message: null, attachments: [{ id: pic.ids[0], contentType: 'image/png', filename: null, size: PNG_1PX.length, caption: 'the checkpoint' }] });
    expect(got[2]!.envelope).toMatchObject({ timestamp: edited.timestamp, editMessage: { targetSentTimestamp: first.timestamp } });
    expect(got[3]!.envelope).toMatchObject({ timestamp: deleted.timestamp, dataMessage: { remoteDelete: { timestamp: pic.timestamp } } });
    expect(got[4]!.envelope).toMatchObject({ timestamp: reacted.timestamp, dataMessage: { reaction: { emoji: '👍', targetAuthorUuid: fake.self.uuid, targetSentTimestamp: 1733580000999, isRemove: false } } });
    expect(got.slice(5, 8).map((m) => m.envelope.receiptMessage)).toEqual(
      receipts.map((x, i) => ({ when: x.timestamp, isDelivery: i === 0, isRead: i === 1, isViewed: i === 2, timestamps: [1733580000999] })),
    );
    expect(got[8]!.envelope.typingMessage).toMatchObject({ action: 'STARTED' });
    expect(got[9]!.envelope).toMatchObject({ sourceUuid: fake.self.uuid, syncMessage: { sentMessage: { destinationUuid: KARIM.uuid, message: 'Noted, thanks.' } } });
    // Each timestamp is its own (the message id with the sender).
    expect(new Set(got.map((m) => m.envelope.timestamp)).size).toBe(10);

    const again = await get(fake, `/v1/receive/${account}?timeout=0`, {});
    expect(await again.json()).toEqual([]);

    // A poll waits for a message up to its timeout, and max_messages leaves the rest for the next.
    const waiting = get(fake, `/v1/receive/${account}?timeout=5&max_messages=1`, {});
    setTimeout(() => {
      karim.text('one');
      karim.text('two');
    }, 100);
    expect(((await (await waiting).json()) as ReceivedMessage[]).map((m) => m.envelope.dataMessage)).toEqual([expect.objectContaining({ message: 'one' })]);
    expect(fake.pending()).toBe(1);

    // The websocket is not there in normal mode.
    await expect(receiver(fake, {})).rejects.toThrow(/400/);
    expect(fake.violations).toEqual([`GET /v1/receive/${account}: websocket receive in normal mode: poll GET /v1/receive/{number}`]);
  });

  test('json-rpc mode: every connected client gets each envelope as a frame; what is pushed with no client connected is lost', async () => {
    fake = await new SignalFake().start({ mode: 'json-rpc', number: NUMBER });
    const karim = fake.informant(KARIM);
    expect(karim.text('before anyone listens').delivered).toBe(0);

    const a = await receiver(fake, {});
    const b = await receiver(fake, {});
    sockets.push(a.ws, b.ws);
    expect(fake.connectedClients).toBe(2);
    const sent = karim.text('hello');
    expect(sent.delivered).toBe(2);
    await waitFor(async () => a.frames.length === 1 && b.frames.length === 1, 5000, 10);
    expect(a.frames[0]).toEqual({ envelope: sent.envelope, account: NUMBER });
    expect(envelopeProblems(a.frames[0]!)).toEqual([]);

    fake.dropClients();
    await Promise.all([closed(a.ws), closed(b.ws)]);
    const lost = karim.text('while nobody reads');
    expect(lost.delivered).toBe(0);
    expect(fake.dropped.map((e) => e.timestamp)).toEqual([expect.any(Number), lost.timestamp]);

    const c = await receiver(fake, {});
    sockets.push(c.ws);
    const after = karim.text('after the reconnect');
    await waitFor(async () => c.frames.length === 1, 5000, 10);
    expect(c.frames.map((f) => f.envelope.timestamp)).toEqual([after.timestamp]);
    expect(fake.pushFrame('{"exception":{"message":"decryption failed","type":"ProtocolInvalidMessageException"}}')).toBe(1);
    await waitFor(async () => c.frames.length === 2, 5000, 10);

    // A plain GET on the websocket path is refused as gorilla does.
    expect((await get(fake, `/v1/receive/${account}`, {})).status).toBe(400);
    expect(fake.violations).toEqual([expect.stringContaining('plain GET on the receive websocket')]);
  });

  test('restart: the fake comes back on the same port; clients reconnect there', async () => {
    fake = await new SignalFake().start({ mode: 'json-rpc', number: NUMBER });
    const url = fake.url;
    const a = await receiver(fake, {});
    sockets.push(a.ws);
    await fake.restart(50);
    await closed(a.ws);
    expect(fake.url).toBe(url);
    const b = await receiver(fake, {});
    sockets.push(b.ws);
    const m = fake.informant(KARIM).text('back');
    await waitFor(async () => b.frames.length === 1, 5000, 10);
    expect(b.frames[0]!.envelope.timestamp).toBe(m.timestamp);
    expect(fake.connections).toBe(2);
    fake.expectNoViolations();
  });

  test('attachments: GET gives the bytes, DELETE removes them (recorded), a second GET or DELETE is 404', async () => {
    fake = await new SignalFake().start({ mode: 'normal', number: NUMBER, authorization: AUTH });
    const id = fake.putAttachment(PNG_1PX, 'image/png');
    expect(id).toMatch(/^[\w-]+\.png$/);
    const r = await get(fake, `/v1/attachments/${encodeURIComponent(id)}`);
    expect(r.status).toBe(200);
    expect(r.headers.get('content-type')).toBe('image/png');
    expect(Buffer.from(await r.arrayBuffer()).equals(PNG_1PX)).toBe(true);
    expect((await fetch(`${fake.url}/v1/attachments/${id}`, { method: 'DELETE', headers: { authorization: AUTH } })).status).toBe(204);
    expect(fake.deletedAttachments).toEqual([id]);
    const gone = await get(fake, `/v1/attachments/${id}`);
    expect(gone.status).toBe(404);
    expect(await gone.json()).toEqual({ error: 'No attachment with that name found' });
    expect((await fetch(`${fake.url}/v1/attachments/${id}`, { method: 'DELETE', headers: { authorization: AUTH } })).status).toBe(404);
    fake.expectNoViolations();
  });

  test('send failures: 400 {error}; 429 {error, challenge_tokens, account} until the challenge is posted, then 201', async () => {
    fake = await new SignalFake().start({ mode: 'json-rpc', number: NUMBER });
    const body = { number: NUMBER, recipients: [KARIM.uuid], message: 'reply' };
    fake.sendFailures.push({ status: 400, error: 'Failed to send message: Unregistered user' });
    const bad = await post(fake, '/v2/send', body, {});
    expect(bad.status).toBe(400);
    expect(await bad.json()).toEqual({ error: 'Failed to send message: Unregistered user' });

    fake.sendFailures.push({ status: 429, challengeTokens: ['t-1'] });
    const limited = await post(fake, '/v2/send', body, {});
    expect(limited.status).toBe(429);
    expect(await limited.json()).toEqual({ error: expect.any(String), challenge_tokens: ['t-1'], account: NUMBER });

    const [token] = fake.requireChallenge(['t-2']);
    expect((await post(fake, '/v2/send', body, {})).status).toBe(429);
    expect((await post(fake, `/v1/accounts/${account}/rate-limit-challenge`, { challenge_token: 'other', captcha: 'signalcaptcha://x' }, {})).status).toBe(400);
    expect(fake.challengePending).toBe(true);
    expect((await post(fake, `/v1/accounts/${account}/rate-limit-challenge`, { challenge_token: token, captcha: 'signalcaptcha://x' }, {})).status).toBe(204);
    expect(fake.challengePending).toBe(false);
    const ok = await post(fake, '/v2/send', body, {});
    expect(ok.status).toBe(201);
    expect(fake.sent).toEqual([body]);
    expect(fake.informant(KARIM).received()).toEqual(['reply']);
    // A challenge body missing its captcha is a violation.
    expect((await post(fake, `/v1/accounts/${account}/rate-limit-challenge`, { challenge_token: token }, {})).status).toBe(400);
    expect(fake.violations).toEqual([expect.stringContaining("must have required property 'captcha'")]);
  });

  test('pings: the fake pings each client on its interval and records the pongs; pings from a client are recorded too', async () => {
    fake = await new SignalFake().start({ mode: 'json-rpc', number: NUMBER, pingIntervalMs: 30 });
    const a = await receiver(fake, {});
    sockets.push(a.ws);
    await waitFor(async () => fake.pongs.length >= 2, 5000, 10);
    expect(fake.pongs.every((p) => p.client === 1)).toBe(true);
    a.ws.ping();
    await waitFor(async () => fake.clientPings.length === 1, 5000, 10);
    fake.expectNoViolations();
  });

  test('the spec flaws the fake works around are still in the file', () => {
    const file = JSON.parse(fs.readFileSync(SPEC_FILE, 'utf8')) as { paths: Record<string, Record<string, { parameters?: { name: string; in: string }[]; responses: Record<string, unknown> }>> };
    const contact = file.paths['/v1/contacts/{number}/{uuid}']!.get!;
    expect(contact.parameters!.some((p) => p.in === 'path' && p.name === 'uuid')).toBe(false);
    expect(Object.keys(file.paths['/v2/send']!.post!.responses)).toEqual(['201', '400']);
    expect(file.paths['/v1/configuration/{number}/settings']!.get!.parameters!.some((p) => p.in === 'body')).toBe(true);
    // Nulls as the server sends them do not pass the spec unstripped.
    const m = { envelope: envelopes.text(KARIM, 'x').envelope, account: NUMBER };
    expect(envelopeProblems(m)).toEqual([]);
    expect(JSON.stringify(m)).toContain('"sourceNumber":null');
  });
});
