/**
 * A connection PostgreSQL ends under a transaction (a failover's pg_terminate_backend) fails that
 * transaction with a retryable error; the process lives on and the next transaction works.
 */
import { randomUUID } from 'node:crypto';
import { Client } from 'pg';
import { openPostgres } from '../../src/caselog/db';
import { isTiphubError } from '../../src/errors';
import { newSchema, dropSchema, TEST_DATABASE_URL } from '../helpers/env';

describe('a PostgreSQL connection terminated mid-transaction', () => {
  const schema = newSchema();
  const app = `tiphub-test-${randomUUID().slice(0, 8)}`;
  afterAll(() => dropSchema(schema));

  test('fails the transaction as TIPHUB_CASELOG_UNAVAILABLE (retryable), emits no unhandled error, and the next one works', async () => {
    const url = new URL(TEST_DATABASE_URL);
    url.searchParams.set('application_name', app); // only this test's connections are terminated
    const db = await openPostgres({ url: url.toString(), schema, max: 2 });
    const uncaught: unknown[] = [];
    const onUncaught = (e: unknown) => uncaught.push(e);
    process.on('uncaughtException', onUncaught);
    const admin = new Client({ connectionString: TEST_DATABASE_URL });
    await admin.connect();
    try {
      await db.query('CREATE TABLE t (n int)');
      const failed = await db
        .transaction(async (tx) => {
          await tx.query('INSERT INTO t VALUES (1)');
          const { rows } = await admin.query<{ n: number }>(
            'SELECT count(pg_terminate_backend(pid))::int AS n FROM pg_stat_activity WHERE application_name = $1 AND pid <> pg_backend_pid()',
            [app],
          );
          expect(rows[0]!.n).toBeGreaterThan(0);
          await tx.query('SELECT pg_sleep(0.2)');
          await tx.query('INSERT INTO t VALUES (2)');
        })
        .then(
          () => null,
          (e: unknown) => e,
        );
      expect(isTiphubError(failed, 'TIPHUB_CASELOG_UNAVAILABLE')).toBe(true);
      expect((failed as { retryable: boolean }).retryable).toBe(true);
      await new Promise((r) => setTimeout(r, 100));
      expect(uncaught).toEqual([]);
      // The broken connection was not handed back: the next transaction commits.
      await db.transaction(async (tx) => {
        await tx.query('INSERT INTO t VALUES (3)');
      });
      const { rows } = await db.query<{ n: number }>('SELECT n FROM t ORDER BY n');
      expect(rows.map((r) => r.n)).toEqual([3]);
    } finally {
      process.off('uncaughtException', onUncaught);
      await admin.end();
      await db.close();
    }
  });
});
