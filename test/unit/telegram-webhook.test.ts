/** The webhook route: right secret → enqueued (answer after the job is stored); wrong or missing → 401, nothing enqueued. */
import * as fs from 'node:fs';
import * as path from 'node:path';
import type { AddressInfo } from 'node:net';
import { buildWebhookApp } from '../../adapters/telegram/webhook';
import { harness, type Harness } from '../helpers/harness';
import { normalizeTelegram } from '../../adapters/telegram';
import type { InboundMessage } from '../../src/contracts/inbound-message';

const SECRET = 'hook_Secret-123';
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

    const bad = await send({ 'x-telegram-bot-api-secret-token': SECRET }, { nope: 1 });
    expect(bad.statusCode).toBe(400);
    await app.close();
  });
});
