/**
 * What the fault suite breaks, each limited to what this test owns: its own redis-server (a free
 * port, AOF on, never the machine's shared one), and the PostgreSQL connections of its own
 * processes only (found by an application_name made for the test).
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { Client } from 'pg';
import { redisAnswers } from '../../src/queue/redis';
import { freePort, TEST_DATABASE_URL, tmpDir, waitFor } from '../helpers/env';

export interface OwnRedis {
  readonly url: string;
  readonly dir: string;
  /** Kills it (SIGKILL: with appendfsync always, every acknowledged write is on disk). */
  kill(): Promise<void>;
  /** Starts it again on the same port and files. */
  start(): Promise<void>;
  /** Stops it and removes its files. */
  cleanup(): Promise<void>;
}

export async function startOwnRedis(): Promise<OwnRedis> {
  const port = await freePort();
  const dir = tmpDir('tiphub-fault-redis');
  const url = `redis://127.0.0.1:${port}`;
  let child: ChildProcess | null = null;
  const args = ['--port', String(port), '--bind', '127.0.0.1', '--appendonly', 'yes', '--appendfsync', 'always', '--save', '', '--dir', dir, '--daemonize', 'no', '--logfile', path.join(dir, 'redis.log')];
  const start = async () => {
    child = spawn('redis-server', args, { stdio: 'ignore' });
    await waitFor(() => redisAnswers(url, 300), 15_000, 50);
  };
  const kill = async () => {
    const c = child;
    child = null;
    if (!c || c.exitCode !== null) return;
    const exited = new Promise((r) => c.once('exit', r));
    c.kill('SIGKILL');
    await exited;
  };
  await start();
  return {
    url,
    dir,
    kill,
    start,
    async cleanup() {
      await kill();
      fs.rmSync(dir, { recursive: true, force: true });
    },
  };
}

/** An application_name for one test's processes, and their DATABASE_URL carrying it. */
export function tagConnections(databaseUrl: string): { app: string; url: string } {
  const app = `tiphub-fault-${randomUUID().slice(0, 8)}`;
  const u = new URL(databaseUrl);
  u.searchParams.set('application_name', app);
  return { app, url: u.toString() };
}

/** Terminates the connections of `app` (this test's processes), as a failover does; how many. */
export async function terminateConnections(app: string): Promise<number> {
  if (!/^tiphub-fault-[0-9a-f]{8}$/.test(app)) throw new Error('only a fault test\'s own connections');
  const c = new Client({ connectionString: TEST_DATABASE_URL });
  await c.connect();
  try {
    const { rows } = await c.query<{ n: number }>('SELECT count(pg_terminate_backend(pid))::int AS n FROM pg_stat_activity WHERE application_name = $1', [app]);
    return rows[0]!.n;
  } finally {
    await c.end();
  }
}

/** Milliseconds since `t0`, as seconds with one decimal. */
export const secondsSince = (t0: number) => Math.round((Date.now() - t0) / 100) / 10;
