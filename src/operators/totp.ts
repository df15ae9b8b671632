/**
 * TOTP (RFC 6238) on node:crypto: HMAC-SHA1, 30-second steps, 6 digits, as every authenticator app
 * reads from an `otpauth://` URI. A code is accepted one step either side of now (clock drift), and
 * only for a step later than the last one accepted: a code seen over a shoulder cannot be used again.
 */
import { createHmac, randomBytes, timingSafeEqual } from 'node:crypto';
import { TiphubError } from '../errors';

export const TOTP_STEP_SECONDS = 30;
export const TOTP_DIGITS = 6;
export const TOTP_ISSUER = 'tiphub';
/** 160 bits, the size of an HMAC-SHA1 key (RFC 4226 section 4 recommends it). */
const SECRET_BYTES = 20;

const BASE32 = 'ABCDEFGHIJKLMNOPQRSTUVWXYZ234567';

/** RFC 4648 base32, without padding (as authenticator apps take it). */
export function base32Encode(bytes: Uint8Array): string {
  let out = '';
  let bits = 0;
  let value = 0;
  for (const b of bytes) {
    value = ((value << 8) | b) & 0xffff; // only the bits not yet written matter
    bits += 8;
    while (bits >= 5) {
      out += BASE32[(value >>> (bits - 5)) & 31];
      bits -= 5;
    }
  }
  if (bits > 0) out += BASE32[(value << (5 - bits)) & 31];
  return out;
}

/** Reads base32 as people type it: any case, spaces, dashes and padding ignored. */
export function base32Decode(text: string): Buffer {
  const clean = text.replace(/[\s=-]/g, '').toUpperCase();
  const out: number[] = [];
  let bits = 0;
  let value = 0;
  for (const ch of clean) {
    const v = BASE32.indexOf(ch);
    if (v < 0) throw new TiphubError('TIPHUB_CONFIG_INVALID', 'not a base32 secret');
    value = ((value << 5) | v) & 0xffff;
    bits += 5;
    if (bits >= 8) {
      out.push((value >>> (bits - 8)) & 0xff);
      bits -= 8;
    }
  }
  return Buffer.from(out);
}

/** A new secret, base32. */
export function generateTotpSecret(): string {
  return base32Encode(randomBytes(SECRET_BYTES));
}

export type TotpAlgorithm = 'sha1' | 'sha256' | 'sha512';

/** RFC 4226 HOTP: the counter's HMAC, dynamically truncated to `digits` decimal digits. */
export function hotp(key: Buffer, counter: number, digits = TOTP_DIGITS, algorithm: TotpAlgorithm = 'sha1'): string {
  const msg = Buffer.alloc(8);
  msg.writeBigUInt64BE(BigInt(counter));
  const mac = createHmac(algorithm, key).update(msg).digest();
  const offset = mac[mac.length - 1]! & 0x0f;
  const bin = ((mac[offset]! & 0x7f) << 24) | (mac[offset + 1]! << 16) | (mac[offset + 2]! << 8) | mac[offset + 3]!;
  return String(bin % 10 ** digits).padStart(digits, '0');
}

/** The time step of a moment (Unix time / 30 s). */
export function totpStep(at: Date | number = Date.now()): number {
  const ms = typeof at === 'number' ? at : at.getTime();
  return Math.floor(ms / 1000 / TOTP_STEP_SECONDS);
}

/** The code for a base32 secret at a moment. */
export function totpCode(secret: string, at: Date | number = Date.now()): string {
  return hotp(base32Decode(secret), totpStep(at));
}

/** The enrolment URI an authenticator app reads (Key Uri Format): issuer tiphub, label the operator. */
export function totpUri(operator: string, secret: string): string {
  const label = `${encodeURIComponent(TOTP_ISSUER)}:${encodeURIComponent(operator)}`;
  const q = new URLSearchParams({ secret, issuer: TOTP_ISSUER, algorithm: 'SHA1', digits: String(TOTP_DIGITS), period: String(TOTP_STEP_SECONDS) });
  return `otpauth://totp/${label}?${q.toString()}`;
}

const sameCode = (a: string, b: string) => a.length === b.length && timingSafeEqual(Buffer.from(a), Buffer.from(b));

/**
 * The step a code was made for, within one step of `at`, and later than `lastStep`; null if the
 * code is wrong, too old, or was already used. Every candidate step is computed and compared, so
 * the time taken does not tell which one matched.
 */
export function verifyTotp(secret: string, code: string, opts: { at?: Date | number; lastStep?: number | null; window?: number } = {}): number | null {
  const given = String(code).replace(/\s/g, '');
  if (!/^\d{6}$/.test(given)) return null;
  const key = base32Decode(secret);
  const now = totpStep(opts.at ?? Date.now());
  const window = opts.window ?? 1;
  const after = opts.lastStep ?? -Infinity;
  let matched: number | null = null;
  for (let step = now - window; step <= now + window; step++) {
    if (sameCode(hotp(key, step), given) && step > after) matched = step;
  }
  return matched;
}

/** The enrolment QR code as an SVG document, drawn here (no image service, no script). */
export async function enrolmentQr(uri: string): Promise<string> {
  const QRCode = await import('qrcode');
  return QRCode.toString(uri, { type: 'svg', errorCorrectionLevel: 'M', margin: 2 });
}
