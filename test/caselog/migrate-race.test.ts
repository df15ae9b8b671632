/** Several processes starting on a new database at once (workers, adapters): one migrates, none fails. */
import { openPostgres } from '../../src/caselog/db';
import { migrate, migrations } from '../../src/caselog/migrations';
import { resolveKeyring } from '../../src/caselog/open';
import { dropSchema, newSchema, newSecret, tmpDir, TEST_DATABASE_URL } from '../helpers/env';

test('concurrent first starts on one new schema: migrations applied once, nobody errors', async () => {
  const schema = newSchema();
  const dbs = await Promise.all([1, 2, 3, 4].map(() => openPostgres({ url: TEST_DATABASE_URL, schema })));
  try {
    const cfg = { secret: newSecret(), dataDir: tmpDir() };
    const applied = await Promise.all(dbs.map((d) => migrate(d, { keyring: (tx) => resolveKeyring(tx, cfg) })));
    expect(applied.flat().sort((a, b) => a - b)).toEqual(migrations.map((m) => m.id));
    const { rows } = await dbs[0]!.query<{ n: number }>('SELECT count(*)::int AS n FROM schema_migrations');
    expect(rows[0]!.n).toBe(migrations.length);
  } finally {
    await Promise.all(dbs.map((d) => d.close()));
    await dropSchema(schema);
  }
});
