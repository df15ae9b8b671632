/**
 * Server-side sessions in the case log, for the dashboard: the cookie carries a random token, the
 * table only its keyed hash (a copy of the table opens no session). A session ends when idle too
 * long, when its absolute lifetime is over, when revoked, or when its operator is disabled.
 */
import { randomBytes, timingSafeEqual } from 'node:crypto';
import { isoMs } from '../caselog/chain';
import { keysOf, type Db, type Queryable } from '../caselog/db';
import { TiphubError } from '../errors';
import { appendAudit } from './audit';
import type { LoggedInOperator, OperatorRole } from './accounts';

export const SESSION_IDLE_MS = 30 * 60_000;
export const SESSION_ABSOLUTE_MS = 12 * 60 * 60_000;
/** last_seen_at is written at most this often (not at every request). */
const TOUCH_EVERY_MS = 60_000;

export function sessionTokenHash(q: Queryable, token: string): string {
  return keysOf(q).mac(`session\n${token}`);
}

export interface NewSession {
  /** For the cookie only; never stored. */
  readonly token: string;
  readonly tokenHash: string;
  readonly csrf: string;
  readonly expiresAt: string;
}

/** Starts a session for an operator who passed the password (and second factor) checks. */
export async function createSession(db: Db, name: string, opts: { client?: string; absoluteMs?: number; now?: Date } = {}): Promise<NewSession> {
  const now = opts.now ?? new Date();
  const token = randomBytes(32).toString('base64url');
  const csrf = randomBytes(32).toString('base64url');
  const expiresAt = new Date(now.getTime() + (opts.absoluteMs ?? SESSION_ABSOLUTE_MS));
  return db.transaction(async (tx) => {
    const { rows } = await tx.query<{ disabled_at: Date | null }>('SELECT disabled_at FROM operators WHERE name = $1 FOR UPDATE', [name]);
    if (!rows[0] || rows[0].disabled_at) throw new TiphubError('TIPHUB_CONFIG_INVALID', `operator ${name} cannot log in`);
    const tokenHash = sessionTokenHash(tx, token);
    await tx.query('INSERT INTO sessions (token_hash, operator, csrf, created_at, last_seen_at, expires_at, client) VALUES ($1, $2, $3, $4, $4, $5, $6)', [
      tokenHash,
      name,
      csrf,
      now,
      expiresAt,
      opts.client ?? null,
    ]);
    await appendAudit(tx, name, 'session.start', opts.client ? { client: opts.client } : {});
    return { token, tokenHash, csrf, expiresAt: isoMs(expiresAt) };
  });
}

export interface ActiveSession {
  readonly tokenHash: string;
  readonly csrf: string;
  readonly operator: LoggedInOperator;
  readonly createdAt: string;
  readonly expiresAt: string;
}

/**
 * The live session a cookie's token names, touched (unless `touch: false`: what a page does by
 * itself, such as the live list fetching its rows, must not keep an unattended session alive);
 * null when there is none (or it ended).
 */
export async function sessionOf(db: Db, token: string, opts: { idleMs?: number; now?: Date; touch?: boolean } = {}): Promise<ActiveSession | null> {
  if (typeof token !== 'string' || token.length < 16 || token.length > 128) return null;
  const now = opts.now ?? new Date();
  const idle = opts.idleMs ?? SESSION_IDLE_MS;
  const tokenHash = sessionTokenHash(db, token);
  const { rows } = await db.query<{
    csrf: string;
    created_at: Date;
    last_seen_at: Date;
    expires_at: Date;
    revoked_at: Date | null;
    name: string;
    role: OperatorRole;
    must_change_password: boolean;
    totp_enrolled_at: Date | null;
    language: string;
    disabled_at: Date | null;
  }>(
    `SELECT s.csrf, s.created_at, s.last_seen_at, s.expires_at, s.revoked_at, o.name, o.role, o.must_change_password, o.totp_enrolled_at, o.language, o.disabled_at
     FROM sessions s JOIN operators o ON o.name = s.operator WHERE s.token_hash = $1`,
    [tokenHash],
  );
  const r = rows[0];
  if (!r || r.revoked_at || r.disabled_at || r.expires_at <= now || r.last_seen_at.getTime() + idle <= now.getTime()) return null;
  if (opts.touch !== false && now.getTime() - r.last_seen_at.getTime() >= TOUCH_EVERY_MS) {
    await db.query('UPDATE sessions SET last_seen_at = $2 WHERE token_hash = $1 AND revoked_at IS NULL', [tokenHash, now]);
  }
  return {
    tokenHash,
    csrf: r.csrf,
    operator: { name: r.name, role: r.role, mustChangePassword: r.must_change_password, totpEnrolled: r.totp_enrolled_at !== null, language: r.language },
    createdAt: isoMs(r.created_at),
    expiresAt: isoMs(r.expires_at),
  };
}

/** Whether a request's CSRF token is its session's (constant time). */
export function csrfMatches(session: Pick<ActiveSession, 'csrf'>, given: unknown): boolean {
  if (typeof given !== 'string') return false;
  const a = Buffer.from(given);
  const b = Buffer.from(session.csrf);
  return a.length === b.length && timingSafeEqual(a, b);
}

export interface SessionListing {
  /** The keyed hash: an id to revoke by, from which no token can be had. */
  readonly id: string;
  readonly operator: string;
  readonly client: string | null;
  readonly createdAt: string;
  readonly lastSeenAt: string;
  readonly expiresAt: string;
}

/** Open sessions (not revoked, not expired), newest first: the admins' sessions page. */
export async function listSessions(q: Queryable, opts: { operator?: string; now?: Date } = {}): Promise<SessionListing[]> {
  const { rows } = await q.query<{ token_hash: string; operator: string; client: string | null; created_at: Date; last_seen_at: Date; expires_at: Date }>(
    `SELECT token_hash, operator, client, created_at, last_seen_at, expires_at FROM sessions
     WHERE revoked_at IS NULL AND expires_at > $2 AND ($1::text IS NULL OR operator = $1) ORDER BY created_at DESC`,
    [opts.operator ?? null, opts.now ?? new Date()],
  );
  return rows.map((r) => ({ id: r.token_hash, operator: r.operator, client: r.client, createdAt: isoMs(r.created_at), lastSeenAt: isoMs(r.last_seen_at), expiresAt: isoMs(r.expires_at) }));
}

/** Ends one session (a logout, or an admin's revocation); false when it was not open. */
export async function revokeSession(db: Db, id: string, actor: string): Promise<boolean> {
  return db.transaction(async (tx) => {
    const { rows } = await tx.query<{ operator: string }>('UPDATE sessions SET revoked_at = now() WHERE token_hash = $1 AND revoked_at IS NULL RETURNING operator', [id]);
    if (!rows[0]) return false;
    await appendAudit(tx, actor, 'session.end', { operator: rows[0].operator });
    return true;
  });
}

// --- The admins' view of sessions -----------------------------------------------------------

/**
 * A session's name on the admins' pages: a keyed hash of its token hash, so that neither the token
 * nor the stored hash ever leaves the server, and a page's handle opens nothing.
 */
export function sessionHandle(q: Queryable, tokenHash: string): string {
  return keysOf(q).mac(`session-handle\n${tokenHash}`).slice(0, 32);
}

export interface LiveSession {
  /** sessionHandle(): what the admins' pages revoke by. */
  readonly handle: string;
  readonly operator: string;
  /** The client address the login came from, when it was known. */
  readonly client: string | null;
  readonly createdAt: string;
  readonly lastSeenAt: string;
  readonly expiresAt: string;
}

/**
 * Sessions that would still open a page: not revoked, not expired, not idle too long, their
 * operator enabled; newest first. Each keeps its token hash for the server (ending live streams).
 */
export async function listLiveSessions(q: Queryable, opts: { operator?: string; idleMs?: number; now?: Date } = {}): Promise<(LiveSession & { readonly tokenHash: string })[]> {
  const now = opts.now ?? new Date();
  const idle = opts.idleMs ?? SESSION_IDLE_MS;
  const { rows } = await q.query<{ token_hash: string; operator: string; client: string | null; created_at: Date; last_seen_at: Date; expires_at: Date }>(
    `SELECT s.token_hash, s.operator, s.client, s.created_at, s.last_seen_at, s.expires_at FROM sessions s JOIN operators o ON o.name = s.operator
     WHERE s.revoked_at IS NULL AND o.disabled_at IS NULL AND s.expires_at > $2 AND s.last_seen_at > $3 AND ($1::text IS NULL OR s.operator = $1)
     ORDER BY s.created_at DESC, s.token_hash`,
    [opts.operator ?? null, now, new Date(now.getTime() - idle)],
  );
  return rows.map((r) => ({
    handle: sessionHandle(q, r.token_hash),
    tokenHash: r.token_hash,
    operator: r.operator,
    client: r.client,
    createdAt: isoMs(r.created_at),
    lastSeenAt: isoMs(r.last_seen_at),
    expiresAt: isoMs(r.expires_at),
  }));
}

/** An admin ends one session, named by its handle; null when no open session has it. */
export async function revokeSessionByHandle(db: Db, handle: string, actor: string): Promise<{ operator: string; tokenHash: string } | null> {
  if (typeof handle !== 'string' || !/^[0-9a-f]{32}$/.test(handle)) return null;
  return db.transaction(async (tx) => {
    const { rows } = await tx.query<{ token_hash: string }>('SELECT token_hash FROM sessions WHERE revoked_at IS NULL AND expires_at > now()');
    const hit = rows.find((r) => sessionHandle(tx, r.token_hash) === handle);
    if (!hit) return null;
    const { rows: done } = await tx.query<{ operator: string }>('UPDATE sessions SET revoked_at = now() WHERE token_hash = $1 AND revoked_at IS NULL RETURNING operator', [hit.token_hash]);
    if (!done[0]) return null;
    await appendAudit(tx, actor, 'session.revoke', { operator: done[0].operator });
    return { operator: done[0].operator, tokenHash: hit.token_hash };
  });
}

/** An admin ends every open session of one operator; the token hashes of those it ended. */
export async function revokeOperatorSessions(db: Db, operator: string, actor: string): Promise<string[]> {
  return db.transaction(async (tx) => {
    const { rows } = await tx.query<{ token_hash: string }>('UPDATE sessions SET revoked_at = now() WHERE operator = $1 AND revoked_at IS NULL RETURNING token_hash', [operator]);
    if (rows.length) await appendAudit(tx, actor, 'session.revoke.all', { operator, sessionsRevoked: rows.length });
    return rows.map((r) => r.token_hash);
  });
}
