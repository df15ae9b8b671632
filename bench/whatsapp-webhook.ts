/**
 * The WhatsApp Cloud API webhook under load (`npm run bench:webhook`): signed deliveries of one
 * text message each, as Meta sends them, POSTed to the real adapter (its own Fastify listener,
 * signature over the raw bytes, normalize, seal, enqueue into Redis) until each answers 200, one
 * at a time and 16 at a time; then one body of 50 messages. Prints the answer time (p50, p95,
 * p99) and the rate. Nothing is written to the case log (no intake worker runs); the jobs go to a
 * queue prefix of its own in the Redis at REDIS_URL (default 127.0.0.1:6379), deleted afterwards.
 */
import { createHmac, randomBytes } from 'node:crypto';
import * as fs from 'node:fs';
import * as net from 'node:net';
import * as os from 'node:os';
import * as path from 'node:path';
import { loadConfig } from '../app/config';
import { createChannel } from '../adapters/registry';
import { Keyring } from '../src/crypto/keyring';
import { createLogger } from '../src/log';
import { createIntakeQueue, createIntakeSink } from '../src/queue/intake-queue';
import { deleteKeysWithPrefix } from '../src/queue/redis';

const REDIS = process.env.REDIS_URL ?? 'redis://127.0.0.1:6379';
const APP_SECRET = randomBytes(16).toString('hex');
const PHONE_ID = '106540352242922';
const N = Number(process.env.BENCH_WEBHOOK_DELIVERIES ?? 2000);

/** Meta's serialisation: non-ASCII as \uXXXX, "/" as "\/". */
const metaJson = (v: unknown) => JSON.stringify(v).replace(/[\u007f-\uffff]/g, (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`).replace(/\//g, '\\/');

function body(i: number, messages = 1): string {
  const msgs = Array.from({ length: messages }, (_, k) => ({
    from: String(9647700000000 + ((i * messages + k) % 50_000)),
    id: `wamid.${Buffer.from(`bench-${i}-${k}-${randomBytes(6).toString('hex')}`).toString('base64')}`,
    timestamp: String(Math.floor(Date.now() / 1000)),
    type: 'text',
    text: { body: `رأيت سيارات عسكرية قرب الجسر ${i}-${k} / convoy near the bridge` },
  }));
  return metaJson({
    object: 'whatsapp_business_account',
    entry: [{ id: '1', changes: [{ field: 'messages', value: { messaging_product: 'whatsapp', metadata: { display_phone_number: '15550001234', phone_number_id: PHONE_ID }, contacts: msgs.map((m) => ({ profile: { name: 'Bench' }, wa_id: m.from })), messages: msgs } }] }],
  });
}

async function post(url: string, bytes: string): Promise<number> {
  const sig = 'sha256=' + createHmac('sha256', APP_SECRET).update(bytes).digest('hex');
  const t = performance.now();
  const r = await fetch(url, { method: 'POST', headers: { 'content-type': 'application/json', 'x-hub-signature-256': sig }, body: bytes });
  await r.arrayBuffer();
  if (r.status !== 200) throw new Error(`webhook answered ${r.status}`);
  return performance.now() - t;
}

const pct = (xs: number[], p: number) => [...xs].sort((a, b) => a - b)[Math.min(xs.length - 1, Math.floor((p / 100) * xs.length))]!;
const fmt = (ms: number) => `${ms.toFixed(1)} ms`;

async function freePort(): Promise<number> {
  const srv = net.createServer();
  await new Promise<void>((r) => srv.listen(0, '127.0.0.1', () => r()));
  const port = (srv.address() as net.AddressInfo).port;
  await new Promise((r) => srv.close(r));
  return port;
}

async function main() {
  const dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'tiphub-bench-webhook-'));
  const prefix = `bench-webhook-${randomBytes(4).toString('hex')}`;
  const port = await freePort();
  const cfgFile = path.join(dataDir, 'tiphub.yaml');
  fs.writeFileSync(cfgFile, JSON.stringify({ queue: { prefix } }));
  const cfg = loadConfig({
    env: {
      TIPHUB_CONFIG: cfgFile,
      TIPHUB_DATA_DIR: dataDir,
      REDIS_URL: REDIS,
      TIPHUB_SECRET: randomBytes(32).toString('hex'),
      TIPHUB_WHATSAPP_MODE: 'cloud',
      TIPHUB_WHATSAPP_CLOUD_TOKEN: `EAAGbench${randomBytes(16).toString('hex')}`,
      TIPHUB_WHATSAPP_APP_SECRET: APP_SECRET,
      TIPHUB_WHATSAPP_VERIFY_TOKEN: randomBytes(16).toString('hex'),
      TIPHUB_WHATSAPP_PHONE_NUMBER_ID: PHONE_ID,
      TIPHUB_WHATSAPP_API_ROOT: 'http://127.0.0.1:9',
      TIPHUB_WHATSAPP_WEBHOOK_LISTEN: `127.0.0.1:${port}`,
    },
    cwd: dataDir,
  });
  const log = createLogger('error');
  const keyring = new Keyring(randomBytes(32).toString('hex'));
  const queue = createIntakeQueue(REDIS, cfg);
  const adapter = createChannel('whatsapp', { keyring, log, cfg, redis: REDIS, quarantine: async () => undefined });
  await adapter.start(createIntakeSink(queue, keyring, log));
  const url = `http://127.0.0.1:${port}/whatsapp/webhook`;
  try {
    for (let i = 0; i < 50; i++) await post(url, body(-1 - i)); // warm-up
    const one: number[] = [];
    let t0 = performance.now();
    for (let i = 0; i < N; i++) one.push(await post(url, body(i)));
    const oneRate = N / ((performance.now() - t0) / 1000);
    const many: number[] = [];
    let next = N;
    t0 = performance.now();
    await Promise.all(Array.from({ length: 16 }, async () => {
      while (next < 2 * N) many.push(await post(url, body(next++)));
    }));
    const manyRate = N / ((performance.now() - t0) / 1000);
    const big: number[] = [];
    for (let i = 0; i < 20; i++) big.push(await post(url, body(10 * N + i, 50)));
    const jobs = await queue.count();
    console.log(`WhatsApp Cloud API webhook, ${N} deliveries of one message each (answer when the job is in Redis):`);
    console.log(`  one at a time:  p50 ${fmt(pct(one, 50))}  p95 ${fmt(pct(one, 95))}  p99 ${fmt(pct(one, 99))}  ${oneRate.toFixed(0)} messages/s`);
    console.log(`  16 at a time:   p50 ${fmt(pct(many, 50))}  p95 ${fmt(pct(many, 95))}  p99 ${fmt(pct(many, 99))}  ${manyRate.toFixed(0)} messages/s`);
    console.log(`  a body of 50 messages (20 bodies): p50 ${fmt(pct(big, 50))}  p95 ${fmt(pct(big, 95))}  ${(50_000 / (big.reduce((a, b) => a + b, 0) / 20)).toFixed(0)} messages/s`);
    console.log(`  jobs in the queue: ${jobs} (expected ${2 * N + 50 + 20 * 50})`);
    console.log(`  rss ${(process.memoryUsage().rss / 1048576).toFixed(0)} MiB`);
  } finally {
    await adapter.stop();
    await queue.close();
    await deleteKeysWithPrefix(REDIS, prefix);
    fs.rmSync(dataDir, { recursive: true, force: true });
  }
}

main().then(
  () => process.exit(0),
  (err: unknown) => {
    console.error(err);
    process.exit(1);
  },
);
