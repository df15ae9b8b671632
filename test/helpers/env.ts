/** Test isolation: each test gets its own queue prefix, PostgreSQL schema or PGlite folder. */
import * as fs from 'node:fs';
import * as net from 'node:net';
import * as os from 'node:os';
import * as path from 'node:path';
import { randomBytes, randomUUID } from 'node:crypto';
import { Writable } from 'node:stream';
import { Client } from 'pg';
import { Redis } from 'ioredis';
import { loadConfig, type Config } from '../../app/config';
import { createLogger, type Logger } from '../../src/log';
import { deleteKeysWithPrefix } from '../../src/queue/redis';

export const TEST_DATABASE_URL = process.env.TEST_DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/test';
export const TEST_REDIS_URL = process.env.TEST_REDIS_URL ?? 'redis://127.0.0.1:6379';

export type Backend = 'postgres' | 'pglite';
export const BACKENDS: Backend[] = ['postgres', 'pglite'];

export function tmpDir(label = 'tiphub'): string {
  return fs.mkdtempSync(path.join(os.tmpdir(), `${label}-`));
}

export function newSecret(): string {
  return randomBytes(32).toString('hex');
}

export function newPrefix(): string {
  return `test-${randomUUID().slice(0, 12)}`;
}

export function newSchema(): string {
  return `t_${randomUUID().replace(/-/g, '').slice(0, 16)}`;
}

/** A DATABASE_URL whose connections work in `schema` (created here). */
export async function createSchema(schema: string): Promise<string> {
  const c = new Client({ connectionString: TEST_DATABASE_URL });
  await c.connect();
  await c.query(`CREATE SCHEMA ${schema}`);
  await c.end();
  const u = new URL(TEST_DATABASE_URL);
  u.searchParams.set('options', `-c search_path=${schema},public`);
  return u.toString();
}

/** Drops only the schema this test created. */
export async function dropSchema(schema: string): Promise<void> {
  const c = new Client({ connectionString: TEST_DATABASE_URL });
  await c.connect();
  await c.query(`DROP SCHEMA IF EXISTS ${schema} CASCADE`);
  await c.end();
}

/** Deletes the keys under this test's BullMQ prefix, and nothing else. */
export function dropPrefix(prefix: string): Promise<void> {
  return deleteKeysWithPrefix(TEST_REDIS_URL, prefix);
}

/** Every value stored under a prefix, as text: what a Redis dump would show. */
export async function dumpPrefix(prefix: string): Promise<string> {
  const r = new Redis(TEST_REDIS_URL);
  const out: string[] = [];
  let cursor = '0';
  do {
    const [next, keys] = await r.scan(cursor, 'MATCH', `${prefix}:*`, 'COUNT', 1000);
    cursor = next;
    for (const k of keys) {
      out.push(k);
      const type = await r.type(k);
      if (type === 'string') out.push(String(await r.get(k)));
      else if (type === 'hash') out.push(JSON.stringify(await r.hgetall(k)));
      else if (type === 'list') out.push(JSON.stringify(await r.lrange(k, 0, -1)));
      else if (type === 'set') out.push(JSON.stringify(await r.smembers(k)));
      else if (type === 'zset') out.push(JSON.stringify(await r.zrange(k, 0, -1, 'WITHSCORES')));
      else if (type === 'stream') out.push(JSON.stringify(await r.xrange(k, '-', '+')));
    }
  } while (cursor !== '0');
  r.disconnect();
  return out.join('\n');
}

export interface TestSetup {
  cfg: Readonly<Config>;
  env: Record<string, string>;
  prefix: string;
  dataDir: string;
  schema: string | null;
  cleanup(): Promise<void>;
}

/** A configuration for one test on one back end, with the environment a child process needs. */
export async function setup(backend: Backend, overrides: Record<string, unknown> = {}): Promise<TestSetup> {
  const prefix = newPrefix();
  const dataDir = tmpDir();
  const schema = backend === 'postgres' ? newSchema() : null;
  const env: Record<string, string> = { TIPHUB_SECRET: newSecret(), TIPHUB_DATA_DIR: dataDir, REDIS_URL: TEST_REDIS_URL, TIPHUB_LOG_LEVEL: 'warn' };
  if (schema) env.DATABASE_URL = await createSchema(schema);
  const defaults: Record<string, Record<string, unknown>> = {
    queue: { prefix, backoffMs: 100 },
    worker: { lockDurationMs: 2000, stalledIntervalMs: 1000, batchWaitMs: 2 },
    hub: { lockWaitMs: 5000 },
    // Tests run hubs side by side: each dashboard on a free port.
    dashboard: { listen: { host: '127.0.0.1', port: 0 } },
    // and each operations listener (/metrics, /readyz) too.
    ops: { listen: { host: '127.0.0.1', port: 0 } },
  };
  const fileOverrides: Record<string, unknown> = { ...defaults };
  for (const [k, v] of Object.entries(overrides)) fileOverrides[k] = { ...(defaults[k] ?? {}), ...(v as object) };
  // Child processes read the same values from a YAML file.
  const cfgFile = path.join(dataDir, 'tiphub.yaml');
  fs.writeFileSync(cfgFile, JSON.stringify(fileOverrides));
  env.TIPHUB_CONFIG = cfgFile;
  const cfg = loadConfig({ env, cwd: dataDir });
  return {
    cfg,
    env,
    prefix,
    dataDir,
    schema,
    async cleanup() {
      await dropPrefix(prefix);
      if (schema) await dropSchema(schema);
      fs.rmSync(dataDir, { recursive: true, force: true });
    },
  };
}

/** A logger whose lines are kept, to check what was logged. */
export function capturingLogger(level = 'debug'): { log: Logger; lines: string[] } {
  const lines: string[] = [];
  const stream = new Writable({
    write(chunk: Buffer, _enc, cb) {
      lines.push(chunk.toString('utf8'));
      cb();
    },
  });
  return { log: createLogger(level, stream), lines };
}

export async function waitFor<T>(fn: () => Promise<T | null | undefined | false>, timeoutMs = 30_000, stepMs = 50): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const v = await fn();
    if (v) return v;
    if (Date.now() > deadline) throw new Error('timed out waiting');
    await new Promise((r) => setTimeout(r, stepMs));
  }
}

/**
 * A configuration with one channel enabled on these credentials (what its environment variables
 * would give), its settings as configured, changed by `settings`: for tests that build an adapter
 * against a stand-in of the platform.
 */
export function withChannel(cfg: Readonly<Config>, channel: string, credentials: unknown, settings: Record<string, unknown> = {}): Readonly<Config> {
  const c = cfg.channels[channel];
  if (!c) throw new Error(`no channel ${channel} in this configuration`);
  return { ...cfg, channels: { ...cfg.channels, [channel]: { enabled: true, settings: { ...(c.settings as object), ...settings }, credentials } } };
}

/** A TCP port free on 127.0.0.1 now (for a listener a test starts, or points a child process at). */
export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = net.createServer();
    s.once('error', reject);
    s.listen(0, '127.0.0.1', () => {
      const { port } = s.address() as net.AddressInfo;
      s.close(() => resolve(port));
    });
  });
}
