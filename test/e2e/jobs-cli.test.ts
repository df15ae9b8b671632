/**
 * Issue 14, item 4: `tiphub jobs failed` and `tiphub jobs retry`, the real program on the real
 * Redis. An intake job whose payload cannot be opened fails for real in a running worker; it is
 * listed with its code (never its data or its failure's message); once its data is fixed, a retry
 * makes the worker run it again and it lands in the case log.
 */
import { Queue } from 'bullmq';
import { capturingLogger, setup, TEST_REDIS_URL, waitFor, type TestSetup } from '../helpers/env';
import { runCli, startCli, type Background } from '../helpers/cli';
import { openCaseLogAccess, type CaseLogAccess } from '../../app/hub/access';
import { INTAKE_QUEUE, sealForIntake } from '../../src/queue/intake-queue';
import { channelModule } from '../../adapters/registry';
import { redisOptions } from '../../src/queue/redis';
import { InboundMessage } from '../../src/contracts/inbound-message';
import type { FailedJob } from '../../app/cli/jobs';

const TEXT = 'JOBTEXTMARKER convoy near the bridge';

describe('tiphub jobs failed / retry (postgres, real Redis, a real worker)', () => {
  jest.setTimeout(600_000);
  let s: TestSetup;
  let worker: Background | null = null;
  let access: CaseLogAccess;
  let queue: Queue;
  beforeAll(async () => {
    s = await setup('postgres');
    access = await openCaseLogAccess(s.cfg, capturingLogger().log, { role: 'test' });
    queue = new Queue(INTAKE_QUEUE, { connection: redisOptions(TEST_REDIS_URL), prefix: s.prefix });
  });
  afterAll(async () => {
    await worker?.stop('SIGKILL');
    await queue.close();
    await access.close();
    await s.cleanup();
  });

  test('a failed job is listed by code, retried, and runs again', async () => {
    worker = startCli(['worker'], { ...s.env, TIPHUB_LOG_LEVEL: 'info' });
    // Sealed with another key: the worker cannot open it, quarantines it, and the job fails for good.
    await queue.add('message', { v: 1, sealed: 'v1.bm90LWEtc2VhbGVkLXZhbHVl', origin: 'import' }, { jobId: 'in-broken-1', attempts: 1 });
    await waitFor(async () => (await queue.getJob('in-broken-1'))?.isFailed(), 30_000, 200);

    const listed = await runCli(['jobs', 'failed'], s.env);
    expect(listed.code).toBe(0);
    const row = listed.stdout.split('\n').find((l) => l.includes('in-broken-1')) ?? '';
    expect(row).toMatch(/^intake\s+in-broken-1\s+1\s+\d{4}-\d\d-\d\dT\S+\s+TIPHUB_\w+\s+no$/);
    const json = await runCli(['jobs', 'failed', '--queue', 'intake', '--json'], s.env);
    const rows = JSON.parse(json.stdout) as FailedJob[];
    expect(rows).toEqual([{ queue: 'intake', id: 'in-broken-1', attempts: 1, code: expect.stringMatching(/^TIPHUB_/), retryable: false, kind: null, failedAt: expect.any(String) }]);
    // The failure's own message is not shown, only its code.
    const job = (await queue.getJob('in-broken-1'))!;
    const message = job.failedReason.replace(/^TIPHUB_\w+: /, '');
    expect(message.length).toBeGreaterThan(0);
    expect(listed.stdout + json.stdout).not.toContain(message);
    expect((await runCli(['jobs', 'failed', '--queue', 'outbound-telegram'], s.env)).stdout).toContain('no failed job');
    expect((await runCli(['jobs', 'failed', '--queue', 'nope'], s.env)).code).toBe(1);

    // Fixed (the data a worker can open), then retried: it runs again and its report is stored.
    const m = channelModule('simulator').normalize(
      { line: { id: 'job-1', from: 'u1', text: TEXT }, baseDir: s.dataDir },
      { account: 'simulator', receivedAt: new Date(), messageId: (parts) => access.keyring.messageId('simulator', parts) },
    );
    const fixed = sealForIntake(access.keyring, InboundMessage.parse(m), 'import');
    await job.updateData(fixed.data as never);
    expect((await runCli(['jobs', 'retry'], s.env)).code).toBe(1); // an id or --all
    const retried = await runCli(['jobs', 'retry', 'in-broken-1'], s.env);
    expect(retried.code).toBe(0);
    expect(retried.stdout).toContain('retried intake in-broken-1');
    await waitFor(async () => (await access.service.presentReports([InboundMessage.parse(m).id])).length === 1 || null, 30_000, 200);
    expect((await runCli(['jobs', 'failed'], s.env)).stdout).not.toContain('in-broken-1');
    expect((await runCli(['jobs', 'retry', 'in-broken-1'], s.env)).code).toBe(1); // no longer failed

    // --all moves every failed job back.
    await queue.add('message', { v: 1, sealed: 'v1.YW5vdGhlcg', origin: 'import' }, { jobId: 'in-broken-2', attempts: 1 });
    await queue.add('message', { v: 1, sealed: 'v1.dGhpcmQ', origin: 'import' }, { jobId: 'in-broken-3', attempts: 1 });
    await waitFor(async () => (await queue.getFailedCount()) === 2 || null, 30_000, 200);
    const all = await runCli(['jobs', 'retry', '--all', '--queue', 'intake'], s.env);
    expect(all.stdout).toContain('jobs: 2 jobs moved back to waiting');
    // They run again (and fail again: nothing fixed them), each quarantined a second time.
    await waitFor(async () => {
      const { rows } = await access.local!.db.query<{ n: number }>("SELECT count(*)::int AS n FROM quarantine WHERE source IN ('intake job in-broken-2', 'intake job in-broken-3')");
      return rows[0]!.n === 4 || null;
    }, 30_000, 200);
    expect(worker.output()).not.toContain(TEXT);
  });
});
