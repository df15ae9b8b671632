/**
 * Operator passwords: argon2id (OWASP's minimum: 19 MiB, two passes, one lane), verified by the
 * library's constant-time comparison, and rehashed at the next login when the parameters change.
 */
import { randomInt } from 'node:crypto';
import { hash, parseOptions, verify, type Options } from '@node-rs/argon2';
import { TiphubError } from '../errors';

/** `Algorithm.Argon2id` and `Version.V0x13`: the package's const enums cannot cross isolated modules. */
const ARGON2ID = 2;
const V0X13 = 1;

export interface PasswordParams {
  /** KiB. */
  readonly memoryCost: number;
  readonly timeCost: number;
  readonly parallelism: number;
}

export const PASSWORD_PARAMS: PasswordParams = Object.freeze({ memoryCost: 19 * 1024, timeCost: 2, parallelism: 1 });

export const PASSWORD_MIN_LENGTH = 12;
/** Long enough for any passphrase, short enough that hashing one is not a way to load the hub. */
export const PASSWORD_MAX_LENGTH = 256;

const options = (p: PasswordParams): Options => ({ algorithm: ARGON2ID, version: V0X13, memoryCost: p.memoryCost, timeCost: p.timeCost, parallelism: p.parallelism });

export function hashPassword(password: string, params: PasswordParams = PASSWORD_PARAMS): Promise<string> {
  return hash(password, options(params));
}

/** True when the stored hash was made with other parameters (or another algorithm) than `params`. */
export function needsRehash(stored: string, params: PasswordParams = PASSWORD_PARAMS): boolean {
  try {
    const o = parseOptions(stored);
    return (o.algorithm as number) !== ARGON2ID || (o.version as number) !== V0X13 || o.memoryCost !== params.memoryCost || o.timeCost !== params.timeCost || o.parallelism !== params.parallelism;
  } catch {
    return true;
  }
}

/**
 * Verified against for unknown names, so that they take as long as known ones. The hash of 64
 * random hex digits nobody kept, with the current parameters: no hashing at start, the same cost
 * at the first call as at any other.
 */
export const DECOY_HASH = '$argon2id$v=19$m=19456,t=2,p=1$025L60yM9uOaLy4MU7uSsQ$8MXuvhycFWYKSlfbTiJ8bEcwZ1MLxeVZFFCBrO/dh3E';

/** Whether `password` matches `stored`; with no stored hash, the same work is done and the answer is no. */
export async function checkPassword(stored: string | null, password: string): Promise<boolean> {
  if (password.length > PASSWORD_MAX_LENGTH) return false;
  if (!stored) {
    await verify(DECOY_HASH, password).catch(() => false);
    return false;
  }
  try {
    return await verify(stored, password);
  } catch {
    return false; // not a hash this library reads: nothing matches it
  }
}

/** A new password an operator chooses: long enough to resist guessing; the second factor does the rest. */
export function checkNewPassword(password: string): void {
  if (typeof password !== 'string' || [...password].length < PASSWORD_MIN_LENGTH) {
    throw new TiphubError('TIPHUB_CONFIG_INVALID', `a password has at least ${PASSWORD_MIN_LENGTH} characters`);
  }
  if (password.length > PASSWORD_MAX_LENGTH) throw new TiphubError('TIPHUB_CONFIG_INVALID', `a password has at most ${PASSWORD_MAX_LENGTH} characters`);
}

/** Letters and digits that cannot be mistaken for one another when read off a terminal. */
const ALPHABET = 'ABCDEFGHJKLMNPQRSTUVWXYZabcdefghijkmnopqrstuvwxyz23456789';

/** A random password (about 5.8 bits a character: 20 characters give 117 bits). */
export function randomPassword(length = 20): string {
  let out = '';
  for (let i = 0; i < length; i++) out += ALPHABET[randomInt(ALPHABET.length)];
  return out;
}
