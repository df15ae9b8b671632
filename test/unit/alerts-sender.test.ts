/**
 * The alert sender (src/alerts/sender.ts) against a real HTTP receiver and the real Redis: an
 * answer 500 is posted again after backoff and delivered once; a 4xx other than 408/429 is
 * refused for good after one POST and logged without the webhook's path or query; the signature
 * verifies with the key; an unreachable webhook is retried.
 */
import { createHmac } from 'node:crypto';
import { QueueEvents } from 'bullmq';
import { loadConfig } from '../../src/config';
import { createAlertsQueue, ALERTS_QUEUE } from '../../src/alerts/queue';
import { startAlertSender } from '../../src/alerts/sender';
import type { Alert } from '../../src/alerts/payload';
import { capturingLogger, dropPrefix, freePort, newPrefix, TEST_REDIS_URL } from '../helpers/env';
import { startReceiver, type Receiver } from './alerts-receiver';

const key = Buffer.from('k'.repeat(32));
const alert: Alert = { kind: 'case.high-priority', case: '6W2-JV9B', priority: 'high', tags: ['threat'], channels: ['simulator'], reportCount: 1, at: '2026-12-07T23:00:00.000Z' };

let receiver: Receiver;
const prefix = newPrefix();
beforeEach(async () => {
  receiver = await startReceiver('/hook/T0KEN0123456789abcdef?token=s3cr3t-query');
});
afterEach(() => receiver.close());
afterAll(() => dropPrefix(prefix));

function configFor(url: string) {
  return loadConfig({ env: {}, cwd: '/', overrides: { queue: { prefix }, alerts: { webhookUrl: url, backoffMs: 50, attempts: 4 } } });
}

async function run(url: string, jobId: string) {
  const cfg = configFor(url);
  const { log, lines } = capturingLogger('debug');
  const queue = createAlertsQueue(TEST_REDIS_URL, cfg);
  const events = new QueueEvents(ALERTS_QUEUE, { connection: { url: TEST_REDIS_URL }, prefix });
  await events.waitUntilReady();
  const sender = startAlertSender({ cfg, redis: TEST_REDIS_URL, key, log });
  const job = await queue.add(alert.kind, alert, { jobId });
  const outcome = await new Promise<string>((resolve) => {
    events.on('completed', ({ jobId: id }) => id === job.id && resolve('completed'));
    events.on('failed', async ({ jobId: id }) => {
      if (id !== job.id) return;
      const j = await queue.getJob(id);
      if (j && (j.finishedOn || j.attemptsMade >= 4)) resolve('failed');
    });
  });
  await sender.close();
  await events.close();
  await queue.close();
  return { outcome, lines };
}

test('a 500 is posted again and delivered once; the signature verifies', async () => {
  receiver.answers = [500];
  const { outcome } = await run(receiver.url, 'retry-1');
  expect(outcome).toBe('completed');
  await new Promise((r) => setTimeout(r, 300));
  expect(receiver.got).toHaveLength(2);
  const [a, b] = receiver.got;
  expect(a!.body).toBe(b!.body);
  expect(a!.headers['x-tiphub-delivery']).toBe('retry-1');
  expect(JSON.parse(b!.body)).toEqual(alert);
  expect(b!.headers['content-type']).toBe('application/json');
  expect(b!.headers['x-tiphub-signature']).toBe(`sha256=${createHmac('sha256', key).update(b!.body).digest('hex')}`);
});

test('a 404 is refused for good after one POST, logged without the path or query', async () => {
  receiver.answers = [404];
  const { outcome, lines } = await run(receiver.url, 'refused-1');
  expect(outcome).toBe('failed');
  await new Promise((r) => setTimeout(r, 300));
  expect(receiver.got).toHaveLength(1);
  const log = lines.join('\n');
  expect(log).toContain('TIPHUB_ALERT_REJECTED');
  expect(log).toContain('answered 404');
  expect(log).not.toContain('s3cr3t-query');
  expect(log).not.toContain('T0KEN0123456789abcdef');
});

test('429 and 408 are retried like a 5xx', async () => {
  receiver.answers = [429, 408];
  const { outcome } = await run(receiver.url, 'slow-1');
  expect(outcome).toBe('completed');
  expect(receiver.got).toHaveLength(3);
});

test('an unreachable webhook is tried again until its attempts are used up', async () => {
  const port = await freePort();
  const { outcome, lines } = await run(`http://127.0.0.1:${port}/x?token=s3cr3t-query`, 'down-1');
  expect(outcome).toBe('failed');
  const log = lines.join('\n');
  expect(log).toContain('TIPHUB_ALERT_UNDELIVERED');
  expect(log).toContain('attempts used up');
  expect(log).not.toContain('s3cr3t-query');
});
