/**
 * Logins between the password and the session: the password passed, the second factor (or the
 * first login's new password and enrolment) not yet. Kept in this process's memory for five
 * minutes under a random token in a cookie of their own; a session row is written only once every
 * step passed. The one-time password is held here only while a first login changes it.
 */
import { randomBytes } from 'node:crypto';

export const PENDING_LOGIN_MS = 5 * 60_000;
const MAX_PENDING = 1000;

export interface PendingLogin {
  readonly name: string;
  readonly csrf: string;
  readonly expiresAt: number;
  language: string;
  /** The TOTP step is still to pass (login) or to enrol (first login). */
  needTotp: boolean;
  enrolTotp: boolean;
  needPassword: boolean;
  /** The one-time password, for changePassword; dropped once changed. */
  currentPassword: string | null;
  totp: { secret: string; uri: string } | null;
}

export class PendingLogins {
  private readonly byToken = new Map<string, PendingLogin>();

  create(init: Omit<PendingLogin, 'csrf' | 'expiresAt' | 'totp'>, now = Date.now()): { token: string; login: PendingLogin } {
    this.sweep(now);
    while (this.byToken.size >= MAX_PENDING) this.byToken.delete(this.byToken.keys().next().value!);
    const token = randomBytes(32).toString('base64url');
    const login: PendingLogin = { ...init, totp: null, csrf: randomBytes(32).toString('base64url'), expiresAt: now + PENDING_LOGIN_MS };
    this.byToken.set(token, login);
    return { token, login };
  }

  get(token: string | undefined, now = Date.now()): PendingLogin | null {
    if (!token) return null;
    const p = this.byToken.get(token);
    if (!p) return null;
    if (p.expiresAt <= now) {
      this.byToken.delete(token);
      return null;
    }
    return p;
  }

  drop(token: string | undefined): void {
    if (token) this.byToken.delete(token);
  }

  private sweep(now: number): void {
    for (const [t, p] of this.byToken) if (p.expiresAt <= now) this.byToken.delete(t);
  }
}
