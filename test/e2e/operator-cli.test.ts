/**
 * Issue 11, item 1, from the command line: `tiphub operator add|list|disable|enable|reset` on the
 * embedded case log, opened here when no hub runs and through the hub's control socket when one
 * does, and on PostgreSQL. The one-time password is printed once and works; nothing logs it.
 */
import { capturingLogger, setup, type TestSetup } from '../helpers/env';
import { runCli, startCli, type Background } from '../helpers/cli';
import { openCaseLogAccess } from '../../app/hub/access';
import { verifyPassword } from '../../src/operators/accounts';
import { verifyOperatorAudit } from '../../src/operators/audit';

const passwordIn = (stdout: string) => {
  const m = /^one-time password: (\S+)$/m.exec(stdout);
  expect(m).not.toBeNull();
  return m![1]!;
};

/** Opens the case log in this process (no hub may run) and checks a password and the audit chain. */
async function check(s: TestSetup, name: string, password: string) {
  const access = await openCaseLogAccess(s.cfg, capturingLogger().log, { role: 'test' });
  try {
    const db = access.local!.db;
    return { login: await verifyPassword(db, name, password), audit: await verifyOperatorAudit(db) };
  } finally {
    await access.close();
  }
}

async function lifecycle(s: TestSetup, name: string) {
  const add = await runCli(['operator', 'add', name, '--role', 'supervisor'], s.env);
  expect(add.stderr).toBe('');
  expect(add.code).toBe(0);
  expect(add.stdout).toContain(`added operator ${name} (supervisor)`);
  expect(add.stdout).toMatch(/first login .* sets a new password and enrols the second factor/);
  const password = passwordIn(add.stdout);
  expect(password.length).toBeGreaterThanOrEqual(16);

  const again = await runCli(['operator', 'add', name], s.env);
  expect(again.code).toBe(1);
  expect(again.stderr).toContain(`TIPHUB_CONFIG_INVALID: operator ${name} exists`);
  const bad = await runCli(['operator', 'add', 'no spaces', '--role', 'root'], s.env);
  expect(bad.code).toBe(1);
  expect(bad.stderr).toContain('TIPHUB_CONFIG_INVALID');

  const list = await runCli(['operator', 'list'], s.env);
  expect(list.code).toBe(0);
  expect(list.stdout).toMatch(/^NAME\s+ROLE\s+STATE\s+2FA\s+LAST LOGIN\s+CREATED$/m);
  expect(list.stdout).toMatch(new RegExp(`^${name}\\s+supervisor\\s+new password due\\s+no\\s+-\\s+\\d{4}-`, 'm'));
  expect(list.stdout).not.toContain(password);

  const disable = await runCli(['operator', 'disable', name], s.env);
  expect(disable.stdout).toContain(`disabled ${name}; 0 session(s) ended`);
  expect((await runCli(['operator', 'list', '--json'], s.env)).stdout).toContain('"enabled":false');
  const enable = await runCli(['operator', 'enable', name], s.env);
  expect(enable.stdout).toContain(`enabled ${name}`);

  const reset = await runCli(['operator', 'reset', name, '--role', 'analyst'], s.env);
  expect(reset.code).toBe(0);
  expect(reset.stdout).toContain(`reset operator ${name} (analyst)`);
  const fresh = passwordIn(reset.stdout);
  expect(fresh).not.toBe(password);
  return { password, fresh, output: [add, again, list, disable, enable, reset].map((r) => r.stdout + r.stderr).join('\n') };
}

describe('tiphub operator on the embedded case log, with and without a running hub', () => {
  let s: TestSetup;
  let hub: Background | null = null;
  beforeAll(async () => {
    s = await setup('pglite');
  });
  afterAll(async () => {
    await hub?.stop('SIGKILL');
    await s.cleanup();
  });

  test('without a hub: the commands open the case log here', async () => {
    const { password, fresh } = await lifecycle(s, 'amina');
    const r = await check(s, 'amina', fresh);
    expect(r.login).toMatchObject({ ok: true, operator: { name: 'amina', role: 'analyst', mustChangePassword: true } });
    expect((await check(s, 'amina', password)).login).toEqual({ ok: false, reason: 'invalid' });
    expect(r.audit).toMatchObject({ ok: true, entries: 4 });
  });

  test('with a hub: the same commands go through its control socket', async () => {
    s.env.TIPHUB_LOG_LEVEL = 'info';
    hub = startCli(['start'], s.env);
    await hub.waitForOutput(/"msg":"hub ready"/);
    const { password, fresh, output } = await lifecycle(s, 'bilal');
    expect(output).toContain('bilal');
    // --as names an existing operator; an unknown one is refused by the hub.
    const as = await runCli(['operator', 'disable', 'bilal', '--as', 'ghost'], s.env);
    expect(as.code).toBe(1);
    expect(as.stderr).toContain('--as names no operator');
    expect((await runCli(['operator', 'disable', 'bilal', '--as', 'amina'], s.env)).code).toBe(0);
    await hub.stop('SIGTERM');
    expect(hub.output()).not.toContain(password);
    expect(hub.output()).not.toContain(fresh);
    hub = null;
    const r = await check(s, 'bilal', fresh);
    expect(r.login).toEqual({ ok: false, reason: 'disabled' });
    // 4 of amina's, her refused login with the old password, 4 of bilal's and the disable --as amina.
    expect(r.audit).toMatchObject({ ok: true, entries: 10 });
  });
});

describe('tiphub operator on PostgreSQL', () => {
  let s: TestSetup;
  beforeAll(async () => {
    s = await setup('postgres');
  });
  afterAll(async () => {
    await s.cleanup();
  });

  test('add, list, disable, enable, reset', async () => {
    const { fresh } = await lifecycle(s, 'chen');
    expect((await check(s, 'chen', fresh)).login).toMatchObject({ ok: true, operator: { role: 'analyst' } });
  });
});
