/**
 * Issue 10, items 17 and 18, the way an operator runs them: `tiphub purge [--dry-run]` (also
 * through a running hub) and `tiphub keys rotate` with the key file and with TIPHUB_SECRET.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { capturingLogger, newSecret, setup, tmpDir, type TestSetup } from '../helpers/env';
import { runCli, startCli, type Background } from '../helpers/cli';
import { loadConfig } from '../../app/config';
import { openCaseLogAccess } from '../../app/hub/access';
import { appendCaseEvent } from '../../src/caselog/events';

describe('retention and key rotation from the command line (embedded case log)', () => {
  let s: TestSetup;
  let env: Record<string, string>;
  let inputs: string;
  let hub: Background | null = null;
  beforeEach(async () => {
    s = await setup('pglite');
    inputs = tmpDir('tiphub-inputs');
    // The key file, as a new user has it: no TIPHUB_SECRET.
    env = { ...s.env };
    delete env.TIPHUB_SECRET;
    const file = path.join(inputs, 'tips.jsonl');
    fs.writeFileSync(
      file,
      [
        { id: 'k1', from: '+9647701112233', text: 'Armed men at the checkpoint near the old bridge tonight', sentAt: '2026-06-10T05:00:00Z' },
        { id: 'k2', from: '+9647704445566', text: 'The water station in the east district has been closed since Monday', sentAt: '2026-06-10T06:00:00Z' },
      ]
        .map((l) => JSON.stringify(l))
        .join('\n') + '\n',
    );
    expect((await runCli(['ingest', file], env)).stdout).toContain('2 accepted');
  });
  afterEach(async () => {
    await hub?.stop('SIGKILL');
    hub = null;
    await s.cleanup();
    fs.rmSync(inputs, { recursive: true, force: true });
  });

  const exportLines = async () => {
    const r = await runCli(['export'], env);
    expect(r.code).toBe(0);
    return r.stdout.trim().split('\n').map((l) => JSON.parse(l) as { ref: string; reports: { informant: string }[] });
  };

  test('keys rotate with the key file: a new key file, the old one kept aside, pseudonyms and chains unchanged', async () => {
    const keyFile = path.join(s.dataDir, 'secret.key');
    const oldSecret = fs.readFileSync(keyFile, 'utf8');
    const before = await exportLines();

    const r = await runCli(['keys', 'rotate'], env);
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/keys rotate: done: \d+ sealed value\(s\) re-sealed under key k[0-9a-f]{8}; pseudonyms unchanged/);
    const newSecretValue = fs.readFileSync(keyFile, 'utf8');
    expect(newSecretValue).not.toBe(oldSecret);
    expect(fs.statSync(keyFile).mode & 0o777).toBe(0o600);
    const old = fs.readdirSync(s.dataDir).filter((n) => n.startsWith('secret.key.old-'));
    expect(old).toHaveLength(1);
    expect(fs.readFileSync(path.join(s.dataDir, old[0]!), 'utf8')).toBe(oldSecret);
    expect(fs.existsSync(path.join(s.dataDir, 'secret.key.next'))).toBe(false);

    expect((await runCli(['verify'], env)).stdout).toMatch(/^verify: intact: 2 cases, 2 reports/);
    expect(await exportLines()).toEqual(before);
    // The old secret no longer opens the log.
    const stale = await runCli(['verify'], { ...env, TIPHUB_SECRET: oldSecret.trim() });
    expect(stale.code).toBe(1);
    expect(stale.stderr).toMatch(/TIPHUB_SECRET_MISMATCH/);
  });

  test('keys rotate refuses while the hub runs, and with TIPHUB_SECRET asks for the new secret in a file', async () => {
    hub = startCli(['start'], env);
    await hub.waitForOutput(/tiphub is running/);
    const busy = await runCli(['keys', 'rotate'], env);
    expect(busy.code).toBe(1);
    expect(busy.stderr).toMatch(/TIPHUB_CASELOG_LOCKED: the embedded case log is in use by pid \d+ \(hub\); stop it first/);
    expect(await hub.stop('SIGTERM')).toBe(0);
    hub = null;

    const secret = fs.readFileSync(path.join(s.dataDir, 'secret.key'), 'utf8').trim();
    fs.rmSync(path.join(s.dataDir, 'secret.key'));
    const withEnv = { ...env, TIPHUB_SECRET: secret };
    const ask = await runCli(['keys', 'rotate'], withEnv);
    expect(ask.code).toBe(1);
    expect(ask.stderr).toMatch(/TIPHUB_SECRET is set: write the new secret .* --new-secret-file FILE/);
    const next = path.join(inputs, 'new.secret');
    const secret2 = newSecret();
    fs.writeFileSync(next, secret2 + '\n', { mode: 0o600 });
    const done = await runCli(['keys', 'rotate', '--new-secret-file', next], withEnv);
    expect(done.stderr).toBe('');
    expect(done.stdout).toMatch(/set TIPHUB_SECRET to the contents of/);
    expect((await runCli(['verify'], withEnv)).code).toBe(1);
    expect((await runCli(['verify'], { ...env, TIPHUB_SECRET: secret2 })).stdout).toMatch(/^verify: intact: 2 cases/);
  });

  test('purge --dry-run and purge, through the running hub: the old closed case goes, its chain still verifies', async () => {
    // Close one case and let it age, as an operator's close thirty-odd days ago would have.
    const cfg = loadConfig({ env, cwd: s.dataDir });
    const access = await openCaseLogAccess(cfg, capturingLogger().log, { role: 'test', allowHub: false });
    const db = access.local!.db;
    const { rows } = await db.query<{ id: number; ref: string }>(`SELECT c.id, c.ref FROM cases c JOIN reports r ON r.case_id = c.id WHERE r.native_id = 'k1'`);
    const closed = rows[0]!;
    await db.transaction(async (tx) => {
      await tx.query(`UPDATE cases SET status = 'closed' WHERE id = $1`, [closed.id]);
      await appendCaseEvent(tx, closed.id, 'case.status', 'op-amina', { status: 'closed' });
    });
    await db.query(`UPDATE cases SET updated_at = now() - interval '40 days' WHERE id = $1`, [closed.id]);
    await access.close();

    const unset = await runCli(['purge', '--dry-run'], env);
    expect(unset.code).toBe(1);
    expect(unset.stderr).toMatch(/retention\.closedCaseDays is not set/);

    hub = startCli(['start'], env);
    await hub.waitForOutput(/tiphub is running/);
    const plan = await runCli(['purge', '--dry-run', '--older-than', '30'], env);
    expect(plan.code).toBe(0);
    expect(plan.stdout).toContain(`${closed.ref}  closed, unchanged since`);
    expect(plan.stdout).toMatch(/1 case\(s\) .* would be purged \(1 reports, 0 media, 0 texts\)/);
    const run = await runCli(['purge', '--older-than', '30', '--as', 'op-amina'], env);
    expect(run.stdout).toMatch(/purge: 1 case\(s\) purged: 1 report\(s\)/);
    expect((await runCli(['purge', '--dry-run', '--older-than', '30'], env)).stdout).toMatch(/nothing to purge/);
    expect((await runCli(['verify'], env)).stdout).toMatch(/^verify: intact: 2 cases, 1 reports/);
    const cases = await exportLines();
    expect(cases.find((c) => c.ref === closed.ref)!.reports).toEqual([]);
  });
});
