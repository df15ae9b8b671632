/**
 * Operator accounts: the primitives the CLI and the dashboard share. Every change is one
 * transaction that also appends to the operators' audit chain. Passwords are argon2id hashes; a new
 * or reset account gets a one-time password (shown once, stored hashed) and must choose its own and
 * enrol a second factor at its first login. The TOTP secret is sealed to its row, together with the
 * last step accepted, so that a code is never accepted twice.
 */
import { isoMs } from '../caselog/chain';
import { keysOf, type Db, type Queryable } from '../caselog/db';
import { sealRow, type SealRow } from '../crypto/keyring';
import { TiphubError } from '../errors';
import { appendAudit } from './audit';
import { checkNewPassword, checkPassword, hashPassword, needsRehash, randomPassword } from './password';
import { generateTotpSecret, totpUri, verifyTotp } from './totp';

export const OPERATOR_ROLES = ['admin', 'supervisor', 'analyst'] as const;
export type OperatorRole = (typeof OPERATOR_ROLES)[number];

/** The table's CHECK, so that a bad name is refused with a message rather than a constraint error. */
export const OPERATOR_NAME = /^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$/;

/** Consecutive failures (password or second factor) before an account locks, and for how long. */
export const LOCK_AFTER_FAILURES = 5;
export const LOCK_MINUTES = 15;
const LOCK_MAX_MINUTES = 24 * 60;

export function checkOperatorName(name: unknown): string {
  if (typeof name !== 'string' || !OPERATOR_NAME.test(name)) {
    throw new TiphubError('TIPHUB_CONFIG_INVALID', 'an operator name is 1 to 64 letters, digits, dots, dashes or underscores, starting with a letter or digit');
  }
  return name;
}

export function checkOperatorRole(role: unknown): OperatorRole {
  if (typeof role !== 'string' || !(OPERATOR_ROLES as readonly string[]).includes(role)) {
    throw new TiphubError('TIPHUB_CONFIG_INVALID', `an operator's role is one of ${OPERATOR_ROLES.join(', ')}`);
  }
  return role as OperatorRole;
}

export const totpRow = (name: string): SealRow => sealRow.totp(name);

/** What the sealed TOTP column holds. */
interface TotpSealed {
  readonly secret: string;
  /** The last time step a code was accepted for (null: none yet). */
  readonly lastStep: number | null;
}

interface OperatorRow {
  name: string;
  role: OperatorRole;
  password_hash: string | null;
  must_change_password: boolean;
  totp_sealed: string | null;
  totp_enrolled_at: Date | null;
  language: string;
  disabled_at: Date | null;
  failed_logins: number;
  locked_until: Date | null;
}

const COLUMNS = 'name, role, password_hash, must_change_password, totp_sealed, totp_enrolled_at, language, disabled_at, failed_logins, locked_until';

function notFound(name: string): TiphubError {
  // TIPHUB_OPERATOR_NOT_FOUND would say it better (see the report of issue 11).
  return new TiphubError('TIPHUB_CONFIG_INVALID', `no operator is named ${name}`);
}

async function lockRow(tx: Queryable, name: string): Promise<OperatorRow | null> {
  const { rows } = await tx.query<OperatorRow>(`SELECT ${COLUMNS} FROM operators WHERE name = $1 FOR UPDATE`, [name]);
  return rows[0] ?? null;
}

async function mustLockRow(tx: Queryable, name: string): Promise<OperatorRow> {
  const row = await lockRow(tx, checkOperatorName(name));
  if (!row) throw notFound(name);
  return row;
}

/**
 * Who an action is recorded as: `local:<os user>` for the command line (whoever can run it holds
 * the secret), or an operator's name, which must be an existing, enabled account.
 */
export async function checkActor(q: Queryable, actor: string): Promise<string> {
  if (/^local:[^\s]{1,64}$/.test(actor)) return actor;
  checkOperatorName(actor);
  const { rows } = await q.query<{ disabled_at: Date | null }>('SELECT disabled_at FROM operators WHERE name = $1', [actor]);
  if (!rows[0]) throw new TiphubError('TIPHUB_CONFIG_INVALID', `--as names no operator (${actor})`);
  if (rows[0].disabled_at) throw new TiphubError('TIPHUB_CONFIG_INVALID', `operator ${actor} is disabled`);
  return actor;
}

/** Ends an operator's open sessions (all of them, or all but one); returns how many. */
export async function revokeSessions(q: Queryable, name: string, exceptTokenHash?: string): Promise<number> {
  const { rows } = await q.query(
    `UPDATE sessions SET revoked_at = now() WHERE operator = $1 AND revoked_at IS NULL AND ($2::text IS NULL OR token_hash <> $2) RETURNING token_hash`,
    [name, exceptTokenHash ?? null],
  );
  return rows.length;
}

export interface NewCredentials {
  readonly name: string;
  readonly role: OperatorRole;
  /** Shown once; only its hash is kept. */
  readonly password: string;
}

/**
 * A new account with a one-time password. Without a role, the first operator is an admin (someone
 * must manage the others from the dashboard) and later ones analysts.
 */
export async function addOperator(db: Db, name: string, role?: OperatorRole, opts: { actor?: string } = {}): Promise<NewCredentials> {
  checkOperatorName(name);
  if (role !== undefined) checkOperatorRole(role);
  const password = randomPassword();
  const hash = await hashPassword(password);
  return db.transaction(async (tx) => {
    const actor = await checkActor(tx, opts.actor ?? 'local:unknown');
    // Names differing only in case would be read as one person in an audit.
    const { rows: same } = await tx.query<{ name: string }>('SELECT name FROM operators WHERE lower(name) = lower($1)', [name]);
    if (same[0]) throw new TiphubError('TIPHUB_CONFIG_INVALID', same[0].name === name ? `operator ${name} exists` : `operator ${same[0].name} exists (names differ only in case)`);
    const { rows: existing } = await tx.query('SELECT 1 FROM operators LIMIT 1');
    const r: OperatorRole = role ?? (existing.length ? 'analyst' : 'admin');
    await tx.query('INSERT INTO operators (name, role, password_hash, must_change_password) VALUES ($1, $2, $3, true)', [name, r, hash]);
    await appendAudit(tx, actor, 'operator.add', { name, role: r });
    return { name, role: r, password };
  });
}

export interface OperatorListing {
  readonly name: string;
  readonly role: OperatorRole;
  readonly enabled: boolean;
  readonly totpEnrolled: boolean;
  readonly mustChangePassword: boolean;
  /** When a lock from failed logins ends, while it lasts. */
  readonly lockedUntil: string | null;
  /** The start of the newest session. */
  readonly lastLogin: string | null;
  readonly language: string;
  readonly createdAt: string;
}

export async function listOperators(q: Queryable, opts: { now?: Date } = {}): Promise<OperatorListing[]> {
  const now = opts.now ?? new Date();
  const { rows } = await q.query<OperatorRow & { created_at: Date; last_login: Date | null }>(
    `SELECT ${COLUMNS}, created_at, (SELECT max(s.created_at) FROM sessions s WHERE s.operator = o.name) AS last_login FROM operators o ORDER BY name`,
  );
  return rows.map((r) => ({
    name: r.name,
    role: r.role,
    enabled: r.disabled_at === null,
    totpEnrolled: r.totp_enrolled_at !== null,
    mustChangePassword: r.must_change_password,
    lockedUntil: r.locked_until && r.locked_until > now ? isoMs(r.locked_until) : null,
    lastLogin: r.last_login ? isoMs(r.last_login) : null,
    language: r.language,
    createdAt: isoMs(r.created_at),
  }));
}

/**
 * Disables an account and ends its sessions at once. Refused for one's own account and for the
 * last enabled admin (as setOperatorRole), from the dashboard and the command line alike.
 */
export async function disableOperator(db: Db, name: string, opts: { actor?: string } = {}): Promise<{ name: string; sessionsRevoked: number; changed: boolean }> {
  return db.transaction(async (tx) => {
    const actor = await checkActor(tx, opts.actor ?? 'local:unknown');
    // All admins' rows, so that two admins disabling each other at once cannot both succeed.
    await tx.query(`SELECT name FROM operators WHERE role = 'admin' ORDER BY name FOR UPDATE`);
    const row = await mustLockRow(tx, name);
    if (actor === name) throw new TiphubError('TIPHUB_CONFIG_INVALID', 'an operator cannot disable their own account');
    if (row.role === 'admin' && row.disabled_at === null && (await enabledAdminsBesides(tx, name)) === 0) {
      throw new TiphubError('TIPHUB_CONFIG_INVALID', `${name} is the last enabled admin; make another operator admin first`);
    }
    const changed = row.disabled_at === null;
    if (changed) await tx.query('UPDATE operators SET disabled_at = now(), updated_at = now() WHERE name = $1', [name]);
    // Even when it was disabled already: a session must not outlive it.
    const sessionsRevoked = await revokeSessions(tx, name);
    if (changed || sessionsRevoked) await appendAudit(tx, actor, 'operator.disable', { name, sessionsRevoked });
    return { name, sessionsRevoked, changed };
  });
}

export async function enableOperator(db: Db, name: string, opts: { actor?: string } = {}): Promise<{ name: string; changed: boolean }> {
  return db.transaction(async (tx) => {
    const actor = await checkActor(tx, opts.actor ?? 'local:unknown');
    const row = await mustLockRow(tx, name);
    const changed = row.disabled_at !== null;
    if (changed) {
      await tx.query('UPDATE operators SET disabled_at = NULL, updated_at = now() WHERE name = $1', [name]);
      await appendAudit(tx, actor, 'operator.enable', { name });
    }
    return { name, changed };
  });
}

/**
 * A fresh start for an account: a new one-time password, the second factor to enrol again, its
 * sessions ended and any lock lifted; optionally a new role. A disabled account stays disabled.
 */
export async function resetOperator(db: Db, name: string, role?: OperatorRole, opts: { actor?: string } = {}): Promise<NewCredentials & { sessionsRevoked: number }> {
  checkOperatorName(name);
  if (role !== undefined) checkOperatorRole(role);
  const password = randomPassword();
  const hash = await hashPassword(password);
  return db.transaction(async (tx) => {
    const actor = await checkActor(tx, opts.actor ?? 'local:unknown');
    const row = await mustLockRow(tx, name);
    const r = role ?? row.role;
    await tx.query(
      `UPDATE operators SET role = $2, password_hash = $3, must_change_password = true, totp_sealed = NULL, totp_enrolled_at = NULL,
         failed_logins = 0, locked_until = NULL, updated_at = now() WHERE name = $1`,
      [name, r, hash],
    );
    const sessionsRevoked = await revokeSessions(tx, name);
    await appendAudit(tx, actor, 'operator.reset', { name, ...(r !== row.role ? { role: r, from: row.role } : {}), sessionsRevoked });
    return { name, role: r, password, sessionsRevoked };
  });
}

/** An operator's interface language, set by themself (recorded in the audit with the one before). */
export async function setOperatorLanguage(db: Db, name: string, language: string): Promise<{ changed: boolean }> {
  if (!/^[a-z]{2,3}(-[A-Za-z0-9]{2,8})?$/.test(language)) throw new TiphubError('TIPHUB_CONFIG_INVALID', 'a language is a tag such as en or ar');
  return db.transaction(async (tx) => {
    const from = (await mustLockRow(tx, name)).language;
    if (from === language) return { changed: false };
    await tx.query('UPDATE operators SET language = $2, updated_at = now() WHERE name = $1', [name, language]);
    await appendAudit(tx, name, 'operator.language', { name, language, from });
    return { changed: true };
  });
}

/** How many enabled admins there are besides `name` (inside a transaction, after locking the rows concerned). */
export async function enabledAdminsBesides(q: Queryable, name: string): Promise<number> {
  const { rows } = await q.query<{ n: number }>(`SELECT count(*)::int AS n FROM operators WHERE role = 'admin' AND disabled_at IS NULL AND name <> $1`, [name]);
  return Number(rows[0]?.n ?? 0);
}

/**
 * Gives an operator another role, in force at their next request (a session reads the role each
 * time). Refused for one's own account, and for the last enabled admin (nobody could manage the
 * accounts from the dashboard any more). Recorded in the audit with the role before and after.
 */
export async function setOperatorRole(db: Db, name: string, role: OperatorRole, opts: { actor?: string } = {}): Promise<{ name: string; role: OperatorRole; from: OperatorRole; changed: boolean }> {
  checkOperatorRole(role);
  return db.transaction(async (tx) => {
    const actor = await checkActor(tx, opts.actor ?? 'local:unknown');
    // All admins' rows, so that two admins demoting each other at once cannot both succeed.
    await tx.query(`SELECT name FROM operators WHERE role = 'admin' ORDER BY name FOR UPDATE`);
    const row = await mustLockRow(tx, name);
    if (row.role === role) return { name, role, from: row.role, changed: false };
    if (actor === name) throw new TiphubError('TIPHUB_CONFIG_INVALID', 'an operator cannot change their own role');
    if (row.role === 'admin' && row.disabled_at === null && (await enabledAdminsBesides(tx, name)) === 0) {
      throw new TiphubError('TIPHUB_CONFIG_INVALID', `${name} is the last enabled admin; make another operator admin first`);
    }
    await tx.query('UPDATE operators SET role = $2, updated_at = now() WHERE name = $1', [name, role]);
    await appendAudit(tx, actor, 'operator.role', { name, role, from: row.role });
    return { name, role, from: row.role, changed: true };
  });
}

// --- Logging in -----------------------------------------------------------------------------

/** How long an account locks after `failures` consecutive failures: 15 min at 5, doubling at each further 5. */
export function lockMinutesAfter(failures: number): number | null {
  if (failures < LOCK_AFTER_FAILURES || failures % LOCK_AFTER_FAILURES !== 0) return null;
  return Math.min(LOCK_MINUTES * 2 ** (failures / LOCK_AFTER_FAILURES - 1), LOCK_MAX_MINUTES);
}

export interface LoggedInOperator {
  readonly name: string;
  readonly role: OperatorRole;
  readonly mustChangePassword: boolean;
  readonly totpEnrolled: boolean;
  readonly language: string;
}

export type LoginCheck =
  | { readonly ok: true; readonly operator: LoggedInOperator }
  /** `invalid` covers an unknown name too: the answer does not tell which names exist. */
  | { readonly ok: false; readonly reason: 'invalid' | 'disabled' }
  | { readonly ok: false; readonly reason: 'locked'; readonly lockedUntil: string };

const loggedIn = (r: OperatorRow): LoggedInOperator => ({
  name: r.name,
  role: r.role,
  mustChangePassword: r.must_change_password,
  totpEnrolled: r.totp_enrolled_at !== null,
  language: r.language,
});

const isLocked = (r: OperatorRow, now: Date) => r.locked_until !== null && r.locked_until > now;

/** Counts a failure; locks the account when it reaches a threshold. Returns the answer to give. */
async function recordFailure(tx: Queryable, row: OperatorRow, now: Date, what: 'password' | 'totp', client: string | null): Promise<LoginCheck> {
  const failures = row.failed_logins + 1;
  const minutes = lockMinutesAfter(failures);
  const until = minutes === null ? null : new Date(now.getTime() + minutes * 60_000);
  await tx.query('UPDATE operators SET failed_logins = $2, locked_until = COALESCE($3, locked_until), updated_at = now() WHERE name = $1', [row.name, failures, until]);
  await appendAudit(tx, row.name, 'login.failed', { what, failures, ...(until ? { lockedUntil: isoMs(until) } : {}), ...(client ? { client } : {}) });
  return until ? { ok: false, reason: 'locked', lockedUntil: isoMs(until) } : { ok: false, reason: 'invalid' };
}

/**
 * The dashboard login's first step. Throttled per account: after 5 consecutive failures the
 * account locks for 15 minutes, after 10 for 30, and so on up to a day; a locked account is not
 * even checked, and says so. A success clears the count and rehashes an old-parameter hash.
 */
export async function verifyPassword(db: Db, name: string, password: string, opts: { now?: Date; client?: string } = {}): Promise<LoginCheck> {
  const now = opts.now ?? new Date();
  if (typeof name !== 'string' || !OPERATOR_NAME.test(name)) {
    await checkPassword(null, String(password));
    return { ok: false, reason: 'invalid' };
  }
  return db.transaction(async (tx) => {
    const row = await lockRow(tx, name);
    if (!row) {
      await checkPassword(null, password);
      return { ok: false, reason: 'invalid' };
    }
    if (isLocked(row, now)) return { ok: false, reason: 'locked', lockedUntil: isoMs(row.locked_until!) };
    if (!(await checkPassword(row.password_hash, password))) return recordFailure(tx, row, now, 'password', opts.client ?? null);
    if (row.disabled_at) return { ok: false, reason: 'disabled' };
    const rehash = row.password_hash && needsRehash(row.password_hash) ? await hashPassword(password) : null;
    await tx.query('UPDATE operators SET failed_logins = 0, locked_until = NULL, password_hash = COALESCE($2, password_hash) WHERE name = $1', [name, rehash]);
    return { ok: true, operator: loggedIn(row) };
  });
}

export type PasswordChange = { readonly ok: true; readonly sessionsRevoked: number } | Exclude<LoginCheck, { ok: true }>;

/**
 * Sets a new password (the current one, or the one-time one, must be given) and ends the
 * operator's other sessions; `keepSession` is the token hash of the session making the change.
 */
export async function changePassword(
  db: Db,
  name: string,
  current: string,
  next: string,
  opts: { keepSession?: string; now?: Date; client?: string } = {},
): Promise<PasswordChange> {
  checkNewPassword(next);
  if (next === current) throw new TiphubError('TIPHUB_CONFIG_INVALID', 'the new password is the current one');
  const hash = await hashPassword(next);
  const now = opts.now ?? new Date();
  return db.transaction(async (tx) => {
    const row = await mustLockRow(tx, name);
    if (isLocked(row, now)) return { ok: false, reason: 'locked', lockedUntil: isoMs(row.locked_until!) } as const;
    if (!(await checkPassword(row.password_hash, current))) {
      const r = await recordFailure(tx, row, now, 'password', opts.client ?? null);
      return r as PasswordChange;
    }
    if (row.disabled_at) return { ok: false, reason: 'disabled' } as const;
    await tx.query('UPDATE operators SET password_hash = $2, must_change_password = false, failed_logins = 0, locked_until = NULL, updated_at = now() WHERE name = $1', [name, hash]);
    const sessionsRevoked = await revokeSessions(tx, name, opts.keepSession);
    await appendAudit(tx, name, 'operator.password', { sessionsRevoked });
    return { ok: true, sessionsRevoked } as const;
  });
}

// --- Second factor --------------------------------------------------------------------------

export interface TotpEnrolment {
  /** Base32, for typing into an app that cannot scan. */
  readonly secret: string;
  /** The `otpauth://` URI (draw it with `enrolmentQr`). */
  readonly uri: string;
}

/**
 * Starts (or restarts) enrolment: a new secret, sealed to the row, not yet in force. Refused once
 * enrolled: only an admin's reset clears a second factor.
 */
export async function startTotpEnrolment(db: Db, name: string): Promise<TotpEnrolment> {
  return db.transaction(async (tx) => {
    const row = await mustLockRow(tx, name);
    if (row.totp_enrolled_at) throw new TiphubError('TIPHUB_CONFIG_INVALID', `operator ${name} has a second factor already; an admin's reset clears it`);
    const secret = generateTotpSecret();
    const sealed: TotpSealed = { secret, lastStep: null };
    await tx.query('UPDATE operators SET totp_sealed = $2, updated_at = now() WHERE name = $1', [name, keysOf(tx).seal(sealed, totpRow(name))]);
    return { secret, uri: totpUri(name, secret) };
  });
}

/** The second step of a login (or enrolment's confirmation): a code, throttled like passwords, never accepted twice. */
export async function verifyTotpCode(db: Db, name: string, code: string, opts: { now?: Date; client?: string } = {}): Promise<LoginCheck> {
  const now = opts.now ?? new Date();
  return db.transaction(async (tx) => {
    const row = await mustLockRow(tx, name);
    if (isLocked(row, now)) return { ok: false, reason: 'locked', lockedUntil: isoMs(row.locked_until!) } as const;
    if (row.disabled_at) return { ok: false, reason: 'disabled' } as const;
    if (!row.totp_sealed) throw new TiphubError('TIPHUB_CONFIG_INVALID', `operator ${name} has no second factor to check; enrol first`);
    const keys = keysOf(tx);
    const t = keys.unseal<TotpSealed>(row.totp_sealed, totpRow(name));
    const step = verifyTotp(t.secret, code, { at: now, lastStep: t.lastStep });
    if (step === null) return recordFailure(tx, row, now, 'totp', opts.client ?? null);
    const sealed: TotpSealed = { secret: t.secret, lastStep: step };
    const enrolling = row.totp_enrolled_at === null;
    await tx.query(
      `UPDATE operators SET totp_sealed = $2, totp_enrolled_at = COALESCE(totp_enrolled_at, now()), failed_logins = 0, locked_until = NULL, updated_at = now() WHERE name = $1`,
      [name, keys.seal(sealed, totpRow(name))],
    );
    if (enrolling) await appendAudit(tx, name, 'operator.totp.enrolled', {});
    return { ok: true, operator: { ...loggedIn(row), totpEnrolled: true } } as const;
  });
}

/** Enrolment's last step: the first code from the app puts the second factor in force. */
export async function confirmTotpEnrolment(db: Db, name: string, code: string, opts: { now?: Date; client?: string } = {}): Promise<LoginCheck> {
  return verifyTotpCode(db, name, code, opts);
}
