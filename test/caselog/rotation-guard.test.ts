/**
 * The key-rotation guard (src/caselog/open.ts): every process with the case log open on PostgreSQL
 * holds a shared advisory lock on a connection of its own. A failover cuts that connection and its
 * lock with it; the guard takes the lock again on a new connection, so a rotation still cannot start
 * beside the process. If a rotation got in first, the guard says so in the log and stops trying.
 */
import { Client } from 'pg';
import { openCaseLogHere } from '../../src/caselog/open';
import { capturingLogger, setup, TEST_DATABASE_URL, waitFor, type TestSetup } from '../helpers/env';

const ROTATION_LOCK_CLASS = 72026120;

describe('the rotation guard after its connection is cut', () => {
  let s: TestSetup;
  let admin: Client;
  beforeEach(async () => {
    s = await setup('postgres');
    admin = new Client({ connectionString: TEST_DATABASE_URL });
    await admin.connect();
  });
  afterEach(async () => {
    await admin.end();
    await s.cleanup();
  });

  /** The backends holding this schema's guard lock (other tests' schemas have their own). */
  const holders = async (): Promise<{ pid: number; mode: string }[]> =>
    (
      await admin.query<{ pid: number; mode: string }>(
        `SELECT pid, mode FROM pg_locks WHERE locktype = 'advisory' AND granted AND classid = $1::oid
            AND objid = ((hashtext($2)::bigint + 4294967296) % 4294967296)::oid AND objsubid = 2`,
        [ROTATION_LOCK_CLASS, s.schema],
      )
    ).rows;

  test('terminated, it takes the lock again on a new connection: a rotation is still refused', async () => {
    const { log, lines } = capturingLogger('info');
    const c = await openCaseLogHere(s.cfg, { log, schema: s.schema! });
    try {
      const [first] = await holders();
      expect(first).toMatchObject({ mode: 'ShareLock' });
      await admin.query('SELECT pg_terminate_backend($1)', [first!.pid]);
      const again = await waitFor(async () => {
        const h = await holders();
        return h.length === 1 && h[0]!.pid !== first!.pid ? h[0]! : null;
      }, 20_000, 100);
      expect(again.mode).toBe('ShareLock');
      await expect(openCaseLogHere(s.cfg, { log, schema: s.schema!, exclusive: true })).rejects.toMatchObject({ code: 'TIPHUB_CASELOG_LOCKED' });
      expect(lines.join('')).toMatch(/guard lost its connection.*guard holds its lock again/s);
    } finally {
      await c.close();
    }
    expect(await holders()).toEqual([]);
  });

  test('a rotation that got in while it was cut: an error in the log, and no lock taken behind it', async () => {
    const { log, lines } = capturingLogger('info');
    const c = await openCaseLogHere(s.cfg, { log, schema: s.schema! });
    const rotation = new Client({ connectionString: TEST_DATABASE_URL });
    await rotation.connect();
    try {
      const [first] = await holders();
      await admin.query('SELECT pg_terminate_backend($1)', [first!.pid]);
      // Before the guard's first retry (0.5 s): the exclusive lock a rotation takes.
      await waitFor(async () => ((await holders()).length === 0 ? true : null), 5_000, 10);
      expect((await rotation.query<{ ok: boolean }>('SELECT pg_try_advisory_lock($1, hashtext($2)) AS ok', [ROTATION_LOCK_CLASS, s.schema])).rows[0]!.ok).toBe(true);
      await waitFor(async () => (/a key rotation started while this process had lost its guard/.test(lines.join('')) ? true : null), 20_000, 100);
      await rotation.query('SELECT pg_advisory_unlock_all()');
      await new Promise((r) => setTimeout(r, 2_000));
      // It stopped trying: holding the old key, it must not look guarded again.
      expect(await holders()).toEqual([]);
    } finally {
      await rotation.end();
      await c.close();
    }
  });
});
