/**
 * One secret, several keys: sealing (AES-256-GCM), informant pseudonyms, message ids and the
 * key-check value each get their own key, derived with HKDF, so that no output of one use can be
 * replayed in another.
 */
import { createCipheriv, createDecipheriv, createHmac, hkdfSync, randomBytes, timingSafeEqual } from 'node:crypto';
import { TiphubError } from '../errors';

const SEAL_VERSION = 'v1';

function derive(secret: Buffer, info: string): Buffer {
  return Buffer.from(hkdfSync('sha256', secret, Buffer.from('tiphub'), Buffer.from(info), 32));
}

export class Keyring {
  private readonly sealKey: Buffer;
  private readonly pseudonymKey: Buffer;
  private readonly idKey: Buffer;
  /** Stored in the case log; a different secret gives a different value. */
  readonly checkValue: string;

  constructor(secret: string | Buffer) {
    const s = typeof secret === 'string' ? Buffer.from(secret, 'utf8') : secret;
    if (s.length < 32) throw new TiphubError('TIPHUB_CONFIG_INVALID', 'the secret must be at least 32 bytes');
    this.sealKey = derive(s, 'seal/aes-256-gcm');
    this.pseudonymKey = derive(s, 'pseudonym/hmac-sha256');
    this.idKey = derive(s, 'message-id/hmac-sha256');
    this.checkValue = 'kcv1:' + createHmac('sha256', derive(s, 'key-check')).update('tiphub key check').digest('hex').slice(0, 32);
  }

  /** Seals any JSON value: `v1.<iv>.<tag>.<ciphertext>`, base64url. `aad` binds it to a context. */
  seal(value: unknown, aad = ''): string {
    const iv = randomBytes(12);
    const cipher = createCipheriv('aes-256-gcm', this.sealKey, iv);
    cipher.setAAD(Buffer.from(aad, 'utf8'));
    const ct = Buffer.concat([cipher.update(JSON.stringify(value), 'utf8'), cipher.final()]);
    return [SEAL_VERSION, iv.toString('base64url'), cipher.getAuthTag().toString('base64url'), ct.toString('base64url')].join('.');
  }

  unseal<T = unknown>(sealed: string, aad = ''): T {
    const parts = typeof sealed === 'string' ? sealed.split('.') : [];
    if (parts.length !== 4 || parts[0] !== SEAL_VERSION) {
      throw new TiphubError('TIPHUB_SEAL_INVALID', 'not a sealed value of a known version');
    }
    try {
      const decipher = createDecipheriv('aes-256-gcm', this.sealKey, Buffer.from(parts[1]!, 'base64url'));
      decipher.setAAD(Buffer.from(aad, 'utf8'));
      decipher.setAuthTag(Buffer.from(parts[2]!, 'base64url'));
      const pt = Buffer.concat([decipher.update(Buffer.from(parts[3]!, 'base64url')), decipher.final()]);
      return JSON.parse(pt.toString('utf8')) as T;
    } catch (cause) {
      throw new TiphubError('TIPHUB_SEAL_INVALID', 'sealed value could not be opened (wrong secret, or altered)', { cause: undefined });
    }
  }

  /** `pseudonym = HMAC-SHA256(secret, channel + address)`, shortened to 128 bits, hex. */
  pseudonym(channel: string, address: string): string {
    return createHmac('sha256', this.pseudonymKey).update(`${channel}\u0000${address}`).digest('hex').slice(0, 32);
  }

  /**
   * The pipeline's message id: a keyed hash of the platform's identifying parts (bot id, chat id,
   * message id, edit date…). Stable for the same message, reveals none of the parts. Starts with a
   * letter, so it is never a plain integer, and has no `:` (BullMQ job ids forbid both).
   */
  messageId(channel: string, parts: readonly (string | number)[]): string {
    const h = createHmac('sha256', this.idKey);
    h.update(channel);
    for (const p of parts) h.update('\u0000' + String(p));
    return 'm' + h.digest('hex').slice(0, 32);
  }

  matchesCheckValue(stored: string): boolean {
    const a = Buffer.from(stored);
    const b = Buffer.from(this.checkValue);
    return a.length === b.length && timingSafeEqual(a, b);
  }
}
