/**
 * Issue 11, item 2: the triage statuses. A case log an older version left with `triage` and `open`
 * cases is migrated to `in_review`, each change an event in its case's chain, and verify agrees.
 */
import * as path from 'node:path';
import { openPglite, openPostgres, withKeys, type Db } from '../../src/caselog/db';
import { migrate } from '../../src/caselog/migrations';
import { resolveKeyring } from '../../src/caselog/open';
import { appendCaseEvent } from '../../src/caselog/events';
import { verifyCaseLog } from '../../src/caselog/verify';
import { BACKENDS, dropSchema, newSchema, newSecret, tmpDir, TEST_DATABASE_URL } from '../helpers/env';

describe.each(BACKENDS)('migration 6 (triage statuses) on %s', (backend) => {
  let db: Db;
  let schema: string | null = null;
  const cfg = { secret: newSecret(), dataDir: tmpDir() };
  beforeEach(async () => {
    if (backend === 'postgres') {
      schema = newSchema();
      db = await openPostgres({ url: TEST_DATABASE_URL, schema });
    } else db = await openPglite(path.join(tmpDir(), 'caselog'));
  });
  afterEach(async () => {
    await db.close();
    if (schema) await dropSchema(schema);
  });

  test('triage and open become in_review by an event; new and closed stay; the old names are refused after', async () => {
    const ctx = { keyring: (tx: Parameters<typeof resolveKeyring>[0]) => resolveKeyring(tx, cfg) };
    await migrate(db, ctx, { upTo: 5 });
    const keyed = withKeys(db, await resolveKeyring(db, cfg));
    const refs = { triage: 'AAA-TRIA', open: 'AAA-OPEN', new: 'AAA-NEWW', closed: 'AAA-CLOS' } as const;
    for (const [status, ref] of Object.entries(refs)) {
      await keyed.transaction(async (tx) => {
        const { rows } = await tx.query<{ id: number }>(`INSERT INTO cases (ref, status) VALUES ($1, $2) RETURNING id`, [ref, status]);
        await appendCaseEvent(tx, rows[0]!.id, 'case.opened', 'intake', { ref, status, priority: 'normal' });
      });
    }
    expect((await verifyCaseLog(keyed)).problems).toEqual([]);

    expect((await migrate(db, ctx)).slice(0, 2)).toEqual([6, 7]);
    const { rows } = await db.query<{ ref: string; status: string }>('SELECT ref, status FROM cases ORDER BY ref');
    expect(Object.fromEntries(rows.map((r) => [r.ref, r.status]))).toEqual({ [refs.triage]: 'in_review', [refs.open]: 'in_review', [refs.new]: 'new', [refs.closed]: 'closed' });
    const { rows: ev } = await db.query<{ ref: string; actor: string; data: unknown }>(
      `SELECT c.ref, e.actor, e.data FROM events e JOIN cases c ON c.id = e.case_id WHERE e.kind = 'case.status' ORDER BY c.ref`,
    );
    expect(ev).toEqual([
      { ref: refs.open, actor: 'migration', data: { status: 'in_review', from: 'open' } },
      { ref: refs.triage, actor: 'migration', data: { status: 'in_review', from: 'triage' } },
    ]);
    expect((await verifyCaseLog(keyed)).problems).toEqual([]);
    await expect(db.query(`UPDATE cases SET status = 'triage' WHERE ref = $1`, [refs.new])).rejects.toThrow(/cases_status_check/);
    await expect(db.query(`UPDATE cases SET close_reason = 'bored' WHERE ref = $1`, [refs.closed])).rejects.toThrow(/check constraint/);
  });
});
