/** The webhook route: right secret → enqueued (answer after the job is stored); wrong or missing → 401, nothing enqueued. */
import * as fs from 'node:fs';
import * as path from 'node:path';
import type { AddressInfo } from 'node:net';
import { buildWebhookApp } from '../../adapters/telegram/webhook';
import { harness, type Harness } from '../helpers/harness';
import { normalizeTelegram } from '../../adapters/telegram';
import type { InboundMessage } from '../../src/contracts/inbound-message';

const SECRET = 'hook_Secret-123_0123456789abcdefghij';
const update = JSON.parse(fs.readFileSync(path.join(__dirname, '../fixtures/telegram/private-text.json'), 'utf8')) as unknown;

describe('telegram webhook', () => {
  let h: Harness;
  beforeEach(async () => {
    h = await harness('postgres');
  });
  afterEach(async () => {
    await h.close();
  });

  test('right secret: enqueued before the answer; wrong or missing secret: 401 and nothing enqueued; replays add nothing', async () => {
    const handleUpdate = async (u: unknown) => {
      const m = normalizeTelegram(u, { account: '7000000001', receivedAt: new Date(), messageId: (p) => h.keyring.messageId('telegram', p) });
      await h.sink(m as InboundMessage);
    };
    const app = await buildWebhookApp({ path: '/telegram/webhook', secret: SECRET, handleUpdate });
    // Over real HTTP, as Telegram calls it.
    await app.listen({ host: '127.0.0.1', port: 0 });
    const url = `http://127.0.0.1:${(app.server.address() as AddressInfo).port}/telegram/webhook`;
    const send = async (headers: Record<string, string>, body: unknown) => {
      const r = await fetch(url, { method: 'POST', headers: { 'content-type': 'application/json', ...headers }, body: JSON.stringify(body) });
      return { statusCode: r.status };
    };
    const post = (headers: Record<string, string>) => send(headers, update);

    expect((await post({})).statusCode).toBe(401);
    expect((await post({ 'x-telegram-bot-api-secret-token': 'wrong' })).statusCode).toBe(401);
    expect(await h.queue.count()).toBe(0);

    const ok = await post({ 'x-telegram-bot-api-secret-token': SECRET });
    expect(ok.statusCode).toBe(200);
    expect(await h.queue.count()).toBe(1); // stored before the 200

    // Telegram delivering the same update three times, and again after the job was processed and removed.
    await post({ 'x-telegram-bot-api-secret-token': SECRET });
    await post({ 'x-telegram-bot-api-secret-token': SECRET });
    h.startWorker();
    await h.drained();
    const jobs = await h.queue.getJobs(['completed']);
    await Promise.all(jobs.map((j) => j.remove()));
    await post({ 'x-telegram-bot-api-secret-token': SECRET });
    await h.drained();
    expect(await h.count('SELECT count(*) AS n FROM reports')).toBe(1);

    const bad = await fetch(url, { method: 'POST', headers: { 'content-type': 'application/json', 'x-telegram-bot-api-secret-token': SECRET }, body: '{"update_id": 1, "message": {' });
    expect(bad.status).toBe(400);
    expect(await bad.text()).toBe('{"ok":false,"error":"bad request"}');
    await app.close();
  });
});

/** Over real HTTP (light-my-request's inject does not load under this jest). */
async function listening(app: Awaited<ReturnType<typeof buildWebhookApp>>) {
  await app.listen({ host: '127.0.0.1', port: 0 });
  const base = `http://127.0.0.1:${(app.server.address() as AddressInfo).port}`;
  return async (o: { url: string; headers: Record<string, string>; payload: string }) => {
    const r = await fetch(base + o.url, { method: 'POST', headers: o.headers, body: o.payload });
    return { statusCode: r.status, body: await r.text() };
  };
}

describe('telegram webhook secret (issue 10 item 9)', () => {
  const handleUpdate = jest.fn(async () => undefined);
  beforeEach(() => handleUpdate.mockClear());

  test('a secret shorter than 32 characters is refused when the webhook is built', async () => {
    for (const secret of ['x', 'hook_Secret-123', 'a'.repeat(31)]) {
      await expect(buildWebhookApp({ path: '/hook', secret, handleUpdate })).rejects.toMatchObject({ code: 'TIPHUB_CONFIG_INVALID' });
    }
    const ok = await buildWebhookApp({ path: '/hook', secret: 'a'.repeat(32), handleUpdate });
    await ok.close();
  });

  test('the secret is checked before the body is parsed: a wrong secret with a broken or invalid body is 401, never 400', async () => {
    const app = await buildWebhookApp({ path: '/hook', secret: SECRET, handleUpdate });
    const inject = await listening(app);
    const variants: Record<string, string>[] = [{}, { 'x-telegram-bot-api-secret-token': 'wrong' }, { 'x-telegram-bot-api-secret-token': SECRET.slice(0, -1) }, { 'x-telegram-bot-api-secret-token': SECRET + 'x' }];
    for (const headers of variants) {
      for (const payload of ['{"update_id": 1, "message": {', '{"nope": 1}', '[]']) {
        const r = await inject({ url: '/hook', headers: { 'content-type': 'application/json', ...headers }, payload });
        expect(r.statusCode).toBe(401);
      }
    }
    expect(handleUpdate).not.toHaveBeenCalled();
    await app.close();
  });
});

describe('telegram webhook with a bad update (issue 10 item 5)', () => {
  test('a handler that throws gets a generic answer that quotes nothing; a body that is not JSON is handed to quarantine', async () => {
    const failing = async () => {
      throw new Error('text "+9647712345678 saw them" failed');
    };
    const kept: string[] = [];
    const app = await buildWebhookApp({ path: '/hook', secret: SECRET, handleUpdate: failing, handleUnparsable: async (b) => void kept.push(b) });
    const inject = await listening(app);
    const headers = { 'content-type': 'application/json', 'x-telegram-bot-api-secret-token': SECRET };
    const r = await inject({ url: '/hook', headers, payload: JSON.stringify(update) });
    expect(r.statusCode).toBeGreaterThanOrEqual(500);
    expect(r.body).toBe('{"ok":false,"error":"try again"}');
    const broken = await inject({ url: '/hook', headers, payload: '{"message": {"text": "+9647712345678' });
    expect(broken.statusCode).toBe(200);
    expect(kept).toEqual(['{"message": {"text": "+9647712345678']);
    await app.close();
  });
});
