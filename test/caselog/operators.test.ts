/**
 * Issue 11, operator accounts: one-time passwords hashed with argon2id, throttled logins, a second
 * factor sealed to its row and never accepted twice, sessions ended on disable, reset and password
 * change, and every account change in the operators' audit chain, which `verifyOperatorAudit` checks.
 */
import { parseOptions } from '@node-rs/argon2';
import { BACKENDS } from '../helpers/env';
import { harness, type Harness } from '../helpers/harness';
import { LocalCaseLogService } from '../../app/hub/service';
import { formatVerify } from '../../src/caselog/verify';
import {
  addOperator,
  changePassword,
  disableOperator,
  enableOperator,
  listOperators,
  lockMinutesAfter,
  resetOperator,
  startTotpEnrolment,
  verifyPassword,
  verifyTotpCode,
} from '../../src/operators/accounts';
import { listOperatorAudit, verifyOperatorAudit } from '../../src/operators/audit';
import { hashPassword } from '../../src/operators/password';
import { totpCode, totpStep } from '../../src/operators/totp';
import { operatorOps } from '../../app/hub/operator-ops';
import { createSession, csrfMatches, listSessions, revokeSession, sessionOf, SESSION_IDLE_MS } from '../../src/operators/sessions';

const ACTOR = { actor: 'local:tester' };
const NEW_PASSWORD = 'a long passphrase of mine';
const minutes = (n: number) => n * 60_000;

describe.each(BACKENDS)('operator accounts on %s', (backend) => {
  let h: Harness;
  beforeEach(async () => {
    h = await harness(backend);
  });
  afterEach(async () => {
    await h.close();
  });

  const row = async (name: string) =>
    (await h.db.query<Record<string, unknown>>('SELECT * FROM operators WHERE name = $1', [name])).rows[0]!;
  const openSession = (name: string, token: string) =>
    h.db.query(`INSERT INTO sessions (token_hash, operator, csrf, expires_at) VALUES ($1, $2, 'c', now() + interval '1 hour')`, [token, name]);
  const liveSessions = async (name: string) =>
    (await h.db.query<{ token_hash: string }>('SELECT token_hash FROM sessions WHERE operator = $1 AND revoked_at IS NULL ORDER BY token_hash', [name])).rows.map((r) => r.token_hash);

  test('add: a one-time password, stored as an argon2id hash with OWASP parameters; the first operator is an admin', async () => {
    const first = await addOperator(h.db, 'amina', undefined, ACTOR);
    expect(first.role).toBe('admin');
    expect(first.password.length).toBeGreaterThanOrEqual(16);
    const second = await addOperator(h.db, 'bilal', undefined, ACTOR);
    expect(second.role).toBe('analyst');
    expect(second.password).not.toBe(first.password);
    const r = await row('amina');
    expect(r.must_change_password).toBe(true);
    expect(String(r.password_hash)).not.toContain(first.password);
    const p = parseOptions(String(r.password_hash));
    expect(p).toMatchObject({ algorithm: 2, memoryCost: 19456, timeCost: 2, parallelism: 1 });
    expect(await verifyPassword(h.db, 'amina', first.password)).toEqual({
      ok: true,
      operator: { name: 'amina', role: 'admin', mustChangePassword: true, totpEnrolled: false, language: 'en' },
    });
    expect(await verifyPassword(h.db, 'amina', second.password)).toEqual({ ok: false, reason: 'invalid' });
    expect(await verifyPassword(h.db, 'nobody', first.password)).toEqual({ ok: false, reason: 'invalid' });
    expect(await verifyPassword(h.db, 'not a name', first.password)).toEqual({ ok: false, reason: 'invalid' });
  });

  test('`tiphub verify` (the service) checks the operators’ audit chain beside the cases’', async () => {
    await addOperator(h.db, 'amina', 'admin');
    const service = new LocalCaseLogService(h.db);
    expect(await service.verify()).toMatchObject({ ok: true });
    await h.db.query('ALTER TABLE operator_audit DISABLE TRIGGER USER');
    await h.db.query(`UPDATE operator_audit SET data = '{"role":"analyst"}'::jsonb WHERE seq = 1`);
    const v = await service.verify();
    expect(v.ok).toBe(false);
    expect(v.problems).toEqual([expect.objectContaining({ kind: 'rewritten', caseRef: 'operator audit', event: 1 })]);
    expect(formatVerify(v)).toMatch(/\[rewritten\] operator audit event 1:/);
  });

  test('bad names, roles, duplicates and unknown actors are refused with a clear error', async () => {
    await addOperator(h.db, 'amina', 'supervisor', ACTOR);
    const invalid = { code: 'TIPHUB_CONFIG_INVALID' };
    await expect(addOperator(h.db, '-amina', 'analyst', ACTOR)).rejects.toMatchObject({ ...invalid, message: expect.stringContaining('operator name') });
    await expect(addOperator(h.db, 'a b', 'analyst', ACTOR)).rejects.toMatchObject(invalid);
    await expect(addOperator(h.db, 'x'.repeat(65), 'analyst', ACTOR)).rejects.toMatchObject(invalid);
    await expect(addOperator(h.db, 'bilal', 'root' as never, ACTOR)).rejects.toMatchObject({ ...invalid, message: expect.stringContaining('admin, supervisor, analyst') });
    await expect(addOperator(h.db, 'amina', 'analyst', ACTOR)).rejects.toMatchObject({ ...invalid, message: 'operator amina exists' });
    await expect(addOperator(h.db, 'Amina', 'analyst', ACTOR)).rejects.toMatchObject({ ...invalid, message: expect.stringContaining('differ only in case') });
    await expect(addOperator(h.db, 'bilal', 'analyst', { actor: 'ghost' })).rejects.toMatchObject({ ...invalid, message: expect.stringContaining('--as') });
    await expect(disableOperator(h.db, 'ghost', ACTOR)).rejects.toMatchObject({ ...invalid, message: 'no operator is named ghost' });
    // An existing operator may be named as the actor.
    await expect(addOperator(h.db, 'bilal', 'analyst', { actor: 'amina' })).resolves.toMatchObject({ name: 'bilal' });
    expect((await listOperatorAudit(h.db, { action: 'operator.add' }))[0]).toMatchObject({ operator: 'amina', data: { name: 'bilal', role: 'analyst' } });
  });

  test('five failures lock the account for 15 minutes, ten for 30; a locked account says so, even to the right password', async () => {
    const { password } = await addOperator(h.db, 'amina', 'analyst', ACTOR);
    const t0 = new Date('2026-12-03T10:00:00Z');
    for (let i = 1; i <= 4; i++) expect(await verifyPassword(h.db, 'amina', `wrong-${i}`, { now: t0 })).toEqual({ ok: false, reason: 'invalid' });
    const locked = { ok: false, reason: 'locked', lockedUntil: '2026-12-03T10:15:00.000Z' };
    expect(await verifyPassword(h.db, 'amina', 'wrong-5', { now: t0 })).toEqual(locked);
    expect(await verifyPassword(h.db, 'amina', password, { now: new Date(t0.getTime() + minutes(14)) })).toEqual(locked);
    expect((await listOperators(h.db, { now: t0 }))[0]!.lockedUntil).toBe('2026-12-03T10:15:00.000Z');
    // After the lock, the count goes on: five more failures lock for twice as long.
    const t1 = new Date(t0.getTime() + minutes(16));
    for (let i = 6; i <= 9; i++) expect(await verifyPassword(h.db, 'amina', `wrong-${i}`, { now: t1 })).toEqual({ ok: false, reason: 'invalid' });
    expect(await verifyPassword(h.db, 'amina', 'wrong-10', { now: t1 })).toEqual({ ok: false, reason: 'locked', lockedUntil: '2026-12-03T10:46:00.000Z' });
    // A success after the lock clears the count.
    const t2 = new Date(t1.getTime() + minutes(31));
    expect(await verifyPassword(h.db, 'amina', password, { now: t2 })).toMatchObject({ ok: true });
    expect((await row('amina')).failed_logins).toBe(0);
    expect([5, 10, 15, 20, 100, 1000].map(lockMinutesAfter)).toEqual([15, 30, 60, 120, 1440, 1440]);
    expect([1, 4, 6].map(lockMinutesAfter)).toEqual([null, null, null]);
    const failed = await listOperatorAudit(h.db, { operator: 'amina', action: 'login.failed' });
    expect(failed).toHaveLength(10);
    expect(failed[0]!.data).toMatchObject({ what: 'password', failures: 10, lockedUntil: '2026-12-03T10:46:00.000Z' });
    expect(JSON.stringify(failed)).not.toContain('wrong-');
  });

  test('disable ends every session at once and refuses the login; enable lets it in again', async () => {
    const { password } = await addOperator(h.db, 'amina', 'analyst', ACTOR);
    await addOperator(h.db, 'bilal', 'analyst', ACTOR);
    await openSession('amina', 'tok-a1');
    await openSession('amina', 'tok-a2');
    await openSession('bilal', 'tok-b1');
    expect(await disableOperator(h.db, 'amina', ACTOR)).toEqual({ name: 'amina', sessionsRevoked: 2, changed: true });
    expect(await liveSessions('amina')).toEqual([]);
    expect(await liveSessions('bilal')).toEqual(['tok-b1']);
    expect(await verifyPassword(h.db, 'amina', password)).toEqual({ ok: false, reason: 'disabled' });
    expect((await listOperators(h.db)).find((o) => o.name === 'amina')).toMatchObject({ enabled: false });
    expect(await disableOperator(h.db, 'amina', ACTOR)).toMatchObject({ changed: false, sessionsRevoked: 0 });
    await expect(disableOperator(h.db, 'bilal', { actor: 'bilal' })).rejects.toMatchObject({ message: expect.stringContaining('own account') });
    await expect(addOperator(h.db, 'chen', 'analyst', { actor: 'amina' })).rejects.toMatchObject({ message: 'operator amina is disabled' });
    expect(await enableOperator(h.db, 'amina', ACTOR)).toEqual({ name: 'amina', changed: true });
    expect(await verifyPassword(h.db, 'amina', password)).toMatchObject({ ok: true });
    expect((await listOperatorAudit(h.db)).map((e) => e.action)).toEqual(['operator.enable', 'operator.disable', 'operator.add', 'operator.add']);
  });

  test('the second factor: sealed to its row, a code accepted once, failures throttled like passwords', async () => {
    await addOperator(h.db, 'amina', 'analyst', ACTOR);
    const { secret, uri } = await startTotpEnrolment(h.db, 'amina');
    expect(uri).toContain('otpauth://totp/tiphub:amina?secret=' + secret);
    const r = await row('amina');
    expect(String(r.totp_sealed)).not.toContain(secret);
    expect(r.totp_enrolled_at).toBeNull();
    // Sealed to this row: moved to another operator, it does not open.
    expect(() => h.keyring.unseal(String(r.totp_sealed), { table: 'operators', column: 'totp_sealed', id: 'bilal' })).toThrow();
    const now = new Date();
    const code = totpCode(secret, now);
    expect(await verifyTotpCode(h.db, 'amina', code, { now })).toMatchObject({ ok: true, operator: { totpEnrolled: true } });
    expect((await row('amina')).totp_enrolled_at).not.toBeNull();
    // The same code again (a replay), and the previous step's code: refused.
    expect(await verifyTotpCode(h.db, 'amina', code, { now })).toEqual({ ok: false, reason: 'invalid' });
    expect(await verifyTotpCode(h.db, 'amina', totpCode(secret, now.getTime() - 30_000), { now })).toEqual({ ok: false, reason: 'invalid' });
    // The next step's code is still good once.
    const later = new Date(now.getTime() + 30_000);
    expect(await verifyTotpCode(h.db, 'amina', totpCode(secret, later), { now: later })).toMatchObject({ ok: true });
    expect(h.keyring.unseal<{ lastStep: number }>(String((await row('amina')).totp_sealed), { table: 'operators', column: 'totp_sealed', id: 'amina' }).lastStep).toBe(totpStep(later));
    await expect(startTotpEnrolment(h.db, 'amina')).rejects.toMatchObject({ code: 'TIPHUB_CONFIG_INVALID' });
    for (let i = 0; i < 4; i++) await verifyTotpCode(h.db, 'amina', '000000', { now: later });
    expect(await verifyTotpCode(h.db, 'amina', '000000', { now: later })).toMatchObject({ ok: false, reason: 'locked' });
    expect(await listOperatorAudit(h.db, { action: 'operator.totp.enrolled' })).toHaveLength(1);
  });

  test('reset: a new one-time password, the second factor cleared, sessions ended, lock lifted, role changed', async () => {
    const { password: old } = await addOperator(h.db, 'amina', 'analyst', ACTOR);
    const { secret } = await startTotpEnrolment(h.db, 'amina');
    await verifyTotpCode(h.db, 'amina', totpCode(secret));
    await openSession('amina', 'tok-a1');
    for (let i = 0; i < 5; i++) await verifyPassword(h.db, 'amina', 'wrong');
    const r = await resetOperator(h.db, 'amina', 'supervisor', ACTOR);
    expect(r).toMatchObject({ name: 'amina', role: 'supervisor', sessionsRevoked: 1 });
    expect(r.password).not.toBe(old);
    expect(await verifyPassword(h.db, 'amina', old)).toEqual({ ok: false, reason: 'invalid' });
    expect(await verifyPassword(h.db, 'amina', r.password)).toEqual({
      ok: true,
      operator: { name: 'amina', role: 'supervisor', mustChangePassword: true, totpEnrolled: false, language: 'en' },
    });
    const after = await row('amina');
    expect(after.totp_sealed).toBeNull();
    expect(after.totp_enrolled_at).toBeNull();
    expect(await liveSessions('amina')).toEqual([]);
    expect((await listOperatorAudit(h.db, { action: 'operator.reset' }))[0]!.data).toEqual({ name: 'amina', role: 'supervisor', from: 'analyst', sessionsRevoked: 1 });
    expect(JSON.stringify(await listOperatorAudit(h.db))).not.toContain(r.password);
  });

  test('a password change needs the current password and ends the other sessions', async () => {
    const { password } = await addOperator(h.db, 'amina', 'analyst', ACTOR);
    await openSession('amina', 'tok-a1');
    await openSession('amina', 'tok-a2');
    await expect(changePassword(h.db, 'amina', password, 'short')).rejects.toMatchObject({ code: 'TIPHUB_CONFIG_INVALID' });
    expect(await changePassword(h.db, 'amina', 'not it', NEW_PASSWORD)).toEqual({ ok: false, reason: 'invalid' });
    expect((await row('amina')).failed_logins).toBe(1);
    expect(await changePassword(h.db, 'amina', password, NEW_PASSWORD, { keepSession: 'tok-a2' })).toEqual({ ok: true, sessionsRevoked: 1 });
    expect(await liveSessions('amina')).toEqual(['tok-a2']);
    expect(await verifyPassword(h.db, 'amina', NEW_PASSWORD)).toMatchObject({ ok: true, operator: { mustChangePassword: false } });
    expect(await verifyPassword(h.db, 'amina', password)).toEqual({ ok: false, reason: 'invalid' });
  });

  test('a hash made with other parameters is replaced at the next login', async () => {
    await addOperator(h.db, 'amina', 'analyst', ACTOR);
    const weak = await hashPassword(NEW_PASSWORD, { memoryCost: 8192, timeCost: 1, parallelism: 1 });
    await h.db.query('UPDATE operators SET password_hash = $2 WHERE name = $1', ['amina', weak]);
    expect(await verifyPassword(h.db, 'amina', NEW_PASSWORD)).toMatchObject({ ok: true });
    const stored = String((await row('amina')).password_hash);
    expect(stored).not.toBe(weak);
    expect(parseOptions(stored)).toMatchObject({ memoryCost: 19456, timeCost: 2 });
    expect(await verifyPassword(h.db, 'amina', NEW_PASSWORD)).toMatchObject({ ok: true });
  });

  test('the list: role, state, second factor, last login', async () => {
    await addOperator(h.db, 'bilal', 'supervisor', ACTOR);
    await addOperator(h.db, 'amina', 'analyst', ACTOR);
    await openSession('amina', 'tok-a1');
    await disableOperator(h.db, 'bilal', ACTOR);
    const rows = await listOperators(h.db);
    expect(rows.map((r) => r.name)).toEqual(['amina', 'bilal']);
    expect(rows[0]).toMatchObject({ role: 'analyst', enabled: true, totpEnrolled: false, mustChangePassword: true, lockedUntil: null, language: 'en' });
    expect(rows[0]!.lastLogin).toMatch(/^\d{4}-\d\d-\d\dT/);
    expect(rows[1]).toMatchObject({ role: 'supervisor', enabled: false, lastLogin: null });
    expect(JSON.stringify(rows)).not.toMatch(/argon2|password_hash|v2\./);
  });

  test('the audit chain verifies, and shows a rewritten or a removed entry', async () => {
    await addOperator(h.db, 'amina', 'analyst', ACTOR);
    await addOperator(h.db, 'bilal', 'analyst', ACTOR);
    await disableOperator(h.db, 'bilal', ACTOR);
    await enableOperator(h.db, 'bilal', ACTOR);
    expect(await verifyOperatorAudit(h.db)).toEqual({ ok: true, entries: 4, problems: [] });
    // Append-only: an ordinary UPDATE or DELETE is refused by the trigger.
    await expect(h.db.query(`UPDATE operator_audit SET operator = 'x' WHERE seq = 1`)).rejects.toThrow(/append-only/);
    // Whoever owns the database can lift the trigger; the chain still shows it.
    await h.db.query('ALTER TABLE operator_audit DISABLE TRIGGER USER');
    await h.db.query(`UPDATE operator_audit SET data = '{"name":"amina","role":"admin"}' WHERE seq = 1`);
    const rewritten = await verifyOperatorAudit(h.db);
    expect(rewritten.ok).toBe(false);
    expect(rewritten.problems).toEqual([{ kind: 'rewritten', seq: 1, what: expect.stringContaining('content') }]);
    await h.db.query(`UPDATE operator_audit SET data = '{"name":"amina","role":"analyst"}' WHERE seq = 1`);
    expect((await verifyOperatorAudit(h.db)).ok).toBe(true);
    await h.db.query('DELETE FROM operator_audit WHERE seq = 4');
    expect((await verifyOperatorAudit(h.db)).problems).toEqual([{ kind: 'truncated', seq: null, what: expect.stringContaining('ends at 3') }]);
    await h.db.query('DELETE FROM operator_audit WHERE seq = 2');
    expect((await verifyOperatorAudit(h.db)).problems.map((p) => [p.kind, p.seq])).toEqual([
      ['truncated', 3],
      ['rewritten', 3],
      ['truncated', null],
    ]);
  });

  test('sessions: only a keyed hash stored; idle and absolute timeouts; revoked by logout, disable or password change', async () => {
    const { password } = await addOperator(h.db, 'amina', 'analyst', ACTOR);
    const t0 = new Date();
    const s1 = await createSession(h.db, 'amina', { client: '127.0.0.1', now: t0 });
    expect(s1.token).toHaveLength(43);
    const stored = (await h.db.query<{ token_hash: string }>('SELECT token_hash FROM sessions')).rows.map((r) => r.token_hash);
    expect(stored).toEqual([s1.tokenHash]);
    expect(stored[0]).not.toContain(s1.token);
    const live = await sessionOf(h.db, s1.token, { now: t0 });
    expect(live).toMatchObject({ tokenHash: s1.tokenHash, operator: { name: 'amina', role: 'analyst' } });
    expect(csrfMatches(live!, s1.csrf)).toBe(true);
    expect(csrfMatches(live!, s1.csrf.slice(1))).toBe(false);
    expect(csrfMatches(live!, undefined)).toBe(false);
    expect(await sessionOf(h.db, s1.token.replace(/.$/, (c) => (c === 'A' ? 'B' : 'A')), { now: t0 })).toBeNull();
    // Idle: kept alive by use, ended after 30 minutes without.
    const t1 = new Date(t0.getTime() + SESSION_IDLE_MS - 1000);
    expect(await sessionOf(h.db, s1.token, { now: t1 })).not.toBeNull();
    const t2 = new Date(t1.getTime() + SESSION_IDLE_MS - 1000);
    expect(await sessionOf(h.db, s1.token, { now: t2 })).not.toBeNull();
    expect(await sessionOf(h.db, s1.token, { now: new Date(t2.getTime() + SESSION_IDLE_MS) })).toBeNull();
    // Absolute: over after its lifetime, however busy.
    const s2 = await createSession(h.db, 'amina', { now: t0, absoluteMs: 60 * 60_000 });
    expect(await sessionOf(h.db, s2.token, { now: new Date(t0.getTime() + 20 * 60_000) })).not.toBeNull();
    expect(await sessionOf(h.db, s2.token, { now: new Date(t0.getTime() + 40 * 60_000) })).not.toBeNull();
    expect(await sessionOf(h.db, s2.token, { now: new Date(t0.getTime() + 61 * 60_000), idleMs: 24 * 60 * 60_000 })).toBeNull();
    // Logout or an admin's revocation; listed for admins by id only.
    const s3 = await createSession(h.db, 'amina');
    const s4 = await createSession(h.db, 'amina');
    expect((await listSessions(h.db, { operator: 'amina' })).map((x) => x.id).sort()).toEqual([s1.tokenHash, s2.tokenHash, s3.tokenHash, s4.tokenHash].sort());
    expect(JSON.stringify(await listSessions(h.db))).not.toContain(s3.token);
    expect(await revokeSession(h.db, s3.tokenHash, 'local:tester')).toBe(true);
    expect(await revokeSession(h.db, s3.tokenHash, 'local:tester')).toBe(false);
    expect(await sessionOf(h.db, s3.token)).toBeNull();
    // A password change keeps the session making it and ends the others.
    const s5 = await createSession(h.db, 'amina');
    expect(await changePassword(h.db, 'amina', password, NEW_PASSWORD, { keepSession: s5.tokenHash })).toMatchObject({ ok: true });
    expect(await sessionOf(h.db, s4.token)).toBeNull();
    expect(await sessionOf(h.db, s5.token)).not.toBeNull();
    // Disabled: every session ends, and no new one starts.
    await disableOperator(h.db, 'amina', ACTOR);
    expect(await sessionOf(h.db, s5.token)).toBeNull();
    await expect(createSession(h.db, 'amina')).rejects.toMatchObject({ code: 'TIPHUB_CONFIG_INVALID' });
    expect((await verifyOperatorAudit(h.db)).ok).toBe(true);
  });

  test('the hub-side operations do what the functions do', async () => {
    const ops = operatorOps(h.db);
    const noEmit = async () => undefined;
    const noInput: AsyncIterable<Record<string, unknown>> = { async *[Symbol.asyncIterator]() {} };
    const call = (op: string, args: Record<string, unknown> = {}) => ops[op]!(args, noEmit, noInput);
    const added = (await call('operator.add', { name: 'amina', role: 'supervisor', actor: 'local:tester' })) as { password: string };
    expect(added).toMatchObject({ name: 'amina', role: 'supervisor' });
    await expect(call('operator.add', { name: 'bilal', role: 'root', actor: 'local:tester' })).rejects.toMatchObject({ code: 'TIPHUB_CONFIG_INVALID' });
    expect(await call('operator.list')).toMatchObject([{ name: 'amina', role: 'supervisor', enabled: true }]);
    expect(await call('operator.disable', { name: 'amina', actor: 'local:tester' })).toMatchObject({ changed: true });
    expect(await call('operator.enable', { name: 'amina', actor: 'local:tester' })).toMatchObject({ changed: true });
    const reset = (await call('operator.reset', { name: 'amina', actor: 'local:tester' })) as { password: string; role: string };
    expect(reset.role).toBe('supervisor');
    expect(await verifyPassword(h.db, 'amina', reset.password)).toMatchObject({ ok: true });
    expect(await verifyOperatorAudit(h.db)).toMatchObject({ ok: true, entries: 4 });
  });
});
