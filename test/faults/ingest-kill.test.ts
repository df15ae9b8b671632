/**
 * `tiphub ingest` while a worker is killed mid-batch (SIGKILL): a job whose batch committed but
 * whose worker died before saying so runs again and answers "present". The summary still counts
 * every line once as accepted, none as already present, and the case log holds each line once.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { loadConfig } from '../../app/config';
import { openPostgres } from '../../src/caselog/db';
import { createIntakeQueue } from '../../src/queue/intake-queue';
import { startCli, type Background } from '../helpers/cli';
import { newSecret, setup, waitFor, type TestSetup } from '../helpers/env';
import { secondsSince } from './kit';

const N = 1500;

describe('ingest while a worker is killed, on postgres', () => {
  let s: TestSetup;
  const procs: Background[] = [];
  afterEach(async () => {
    for (const p of procs.splice(0)) await p.stop('SIGKILL');
    await s.cleanup();
  });

  test('every line counted once as accepted, and stored once', async () => {
    const shipped = loadConfig({ env: { TIPHUB_SECRET: newSecret() }, cwd: '/' }).worker;
    s = await setup('postgres', { worker: { lockDurationMs: shipped.lockDurationMs, stalledIntervalMs: shipped.stalledIntervalMs, batchSize: 64 } });
    const file = path.join(s.dataDir, 'tips.jsonl');
    fs.writeFileSync(
      file,
      Array.from({ length: N }, (_, i) => JSON.stringify({ id: `t${i}`, from: `u${i % 300}`, text: `Tip ${i}: seen near kilometre ${i * 13}`, sentAt: new Date(Date.parse('2026-06-10T00:00:00Z') + i * 60_000).toISOString() })).join('\n') + '\n',
    );
    const spawn = (args: string[]) => {
      const p = startCli(args, { ...s.env, TIPHUB_LOG_LEVEL: 'info' });
      procs.push(p);
      return p;
    };
    const a = spawn(['worker']);
    const b = spawn(['worker']);
    await a.waitForOutput(/"msg":"hub ready"/);
    await b.waitForOutput(/"msg":"hub ready"/);
    const queue = createIntakeQueue(s.env.REDIS_URL!, s.cfg);
    const db = await openPostgres({ url: s.env.DATABASE_URL! });
    try {
      const ingest = spawn(['ingest', file]);
      await waitFor(async () => (await db.query<{ n: number }>('SELECT count(*)::int AS n FROM reports')).rows[0]!.n >= 300, 60_000, 5);
      const t0 = Date.now();
      a.child.kill('SIGKILL');
      await a.stop();
      const code = await waitFor(async () => (ingest.child.exitCode !== null ? { code: ingest.child.exitCode } : null), 120_000, 50);
      const took = secondsSince(t0);
      const completed = await queue.getCompleted(0, N * 2);
      const reRunPresent = completed.filter((j) => (j.returnvalue as { status?: string } | null)?.status === 'present').length;
      const { rows } = await db.query<{ n: number; d: number }>('SELECT count(*)::int AS n, count(DISTINCT id)::int AS d FROM reports');
      console.log(`ingest with a worker killed: ${N} lines, ${rows[0]!.d} stored, ${rows[0]!.n - rows[0]!.d} duplicates; ${reRunPresent} jobs re-run after the kill answered "present"; ingest ended ${took} s after the kill`);
      if (code.code !== 0) console.log(ingest.output().slice(-3000), b.output().slice(-3000));
      expect(code.code).toBe(0);
      expect(ingest.output()).toContain(`ingest: ${N} lines: ${N} accepted, 0 already present, 0 rejected`);
      expect(rows[0]).toEqual({ n: N, d: N });
    } finally {
      await queue.close();
      await db.close();
    }
  }, 300_000);
});
