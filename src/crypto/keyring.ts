/**
 * The keys of a case log. The secret (TIPHUB_SECRET or the key file) is only a key-encryption
 * key: it opens the key set the case log stores, sealed, in `meta`. The key set is generated once,
 * when the log is created:
 * - the sealing keys (AES-256-GCM), each with a key id, so that a rotation can re-seal values one
 *   by one and stop and resume anywhere;
 * - the pseudonym, message-id and audit keys (HMAC-SHA256), which never change: pseudonyms stay
 *   stable across a rotation, and so does every hash of the case log's chains.
 * A case log made before the key set existed keeps the keys it always had (derived from its
 * secret), so its pseudonyms and message ids do not change when it is upgraded.
 */
import { createCipheriv, createDecipheriv, createHmac, hkdfSync, randomBytes, timingSafeEqual } from 'node:crypto';
import { TiphubError } from '../errors';

/** The first format: one key derived from the secret, a context string as AAD. Still opened. */
const SEAL_V1 = 'v1';
/** `v2.<key id>.<iv>.<tag>.<ciphertext>`: a key of the stored set, a 16-byte tag, AAD as given. */
const SEAL_V2 = 'v2';
const KEYSET_FORMAT = 'ks1';
const TAG_BYTES = 16;
const IV_BYTES = 12;
/** The key id of the sealing key derived from the secret (logs made before the key set). */
const DERIVED_KID = 'd0';

function derive(secret: Buffer, info: string): Buffer {
  return Buffer.from(hkdfSync('sha256', secret, Buffer.from('tiphub'), Buffer.from(info), 32));
}

/**
 * Where a sealed value lives: the row it belongs to, so a sealed text cannot be moved to another
 * report and still open. (Quarantined payloads keep the context string `quarantine`: they are
 * kept for a retry, not as a record.)
 */
export interface SealRow {
  readonly table: string;
  readonly column: string;
  readonly id: string | number;
}

/** A string for transient values (jobs in Redis), a row for what the case log keeps. */
export type SealContext = string | SealRow;

/** The context string version 1 used for each sealed column, to open what it sealed. */
const LEGACY_CONTEXT: Record<string, string> = {
  'informants.address_sealed': 'informant-address',
  'reports.raw_sealed': 'report-raw',
};

function aadOf(ctx: SealContext): string {
  return typeof ctx === 'string' ? ctx : `row\u0000${ctx.table}\u0000${ctx.column}\u0000${ctx.id}`;
}

function legacyAadOf(ctx: SealContext): string {
  return typeof ctx === 'string' ? ctx : (LEGACY_CONTEXT[`${ctx.table}.${ctx.column}`] ?? aadOf(ctx));
}

/** The stored form of the key set (sealed under the secret's key-encryption key). */
interface KeySetJson {
  readonly v: 1;
  readonly seal: { readonly current: string; readonly keys: Record<string, string>; readonly retired?: Record<string, string> };
  readonly pseudonym: string;
  readonly messageId: string;
  readonly audit: string;
}

export interface KeySet {
  /**
   * `keys` open and (the current one) seal everything. `retired` holds the keys a rotation
   * replaced: they open only transient values (jobs still queued in Redis when it ran, sealed with
   * a context string), never a case-log row, which the rotation re-sealed.
   */
  readonly seal: { readonly current: string; readonly keys: ReadonlyMap<string, Buffer>; readonly retired?: ReadonlyMap<string, Buffer> };
  readonly pseudonym: Buffer;
  readonly messageId: Buffer;
  readonly audit: Buffer;
}

/** Keyed hashes for the case log's chains; implemented by the Keyring. */
export interface AuditKey {
  /** HMAC-SHA256 of `text` under the audit key, hex. */
  mac(text: string): string;
}

function sealError(): TiphubError {
  return new TiphubError('TIPHUB_SEAL_INVALID', 'sealed value could not be opened (wrong secret, or altered)');
}

function gcmSeal(key: Buffer, plaintext: Buffer, aad: string): { iv: Buffer; tag: Buffer; ct: Buffer } {
  const iv = randomBytes(IV_BYTES);
  const cipher = createCipheriv('aes-256-gcm', key, iv, { authTagLength: TAG_BYTES });
  cipher.setAAD(Buffer.from(aad, 'utf8'));
  const ct = Buffer.concat([cipher.update(plaintext), cipher.final()]);
  return { iv, tag: cipher.getAuthTag(), ct };
}

function gcmOpen(key: Buffer, iv: Buffer, tag: Buffer, ct: Buffer, aad: string): Buffer {
  // A shortened tag would make forgeries cheaper: only the full 16 bytes are accepted.
  if (iv.length !== IV_BYTES || tag.length !== TAG_BYTES) throw sealError();
  try {
    const decipher = createDecipheriv('aes-256-gcm', key, iv, { authTagLength: TAG_BYTES });
    decipher.setAAD(Buffer.from(aad, 'utf8'));
    decipher.setAuthTag(tag);
    return Buffer.concat([decipher.update(ct), decipher.final()]);
  } catch {
    throw sealError();
  }
}

const b64 = (s: string) => Buffer.from(s, 'base64url');

export class Keyring implements AuditKey {
  private readonly secret: Buffer;
  private readonly kek: Buffer;
  private readonly keys: KeySet;
  /** Stored in the case log; a different secret gives a different value. */
  readonly checkValue: string;

  /**
   * A keyring whose keys are derived from the secret: what a case log made before the stored key
   * set used, and what tests and benchmarks use for fixed outputs. `keys` replaces them with a
   * stored set (see `Keyring.open`).
   */
  constructor(secret: string | Buffer, keys?: KeySet) {
    const s = typeof secret === 'string' ? Buffer.from(secret, 'utf8') : secret;
    if (s.length < 32) throw new TiphubError('TIPHUB_CONFIG_INVALID', 'the secret must be at least 32 bytes');
    this.secret = s;
    this.kek = derive(s, 'key-wrap/aes-256-gcm');
    this.checkValue = 'kcv1:' + createHmac('sha256', derive(s, 'key-check')).update('tiphub key check').digest('hex').slice(0, 32);
    this.keys = keys ?? {
      seal: { current: DERIVED_KID, keys: new Map([[DERIVED_KID, derive(s, 'seal/aes-256-gcm')]]) },
      pseudonym: derive(s, 'pseudonym/hmac-sha256'),
      messageId: derive(s, 'message-id/hmac-sha256'),
      audit: derive(s, 'audit/hmac-sha256'),
    };
  }

  /**
   * A key for a use outside the case log, derived from the secret (so every process with the
   * secret has it, and it survives a key rotation): the alerts' signing key (src/alerts/sign.ts).
   */
  derivedKey(purpose: string): Buffer {
    return derive(this.secret, `external/${purpose}`);
  }

  /** A new random key set for a new case log. */
  static generateKeys(): KeySet {
    const kid = 'k' + randomBytes(4).toString('hex');
    return { seal: { current: kid, keys: new Map([[kid, randomBytes(32)]]) }, pseudonym: randomBytes(32), messageId: randomBytes(32), audit: randomBytes(32) };
  }

  /** A rotation's first step: a new sealing key becomes current; every key so far still opens. */
  static withNewSealKey(keys: KeySet): KeySet {
    const kid = 'k' + randomBytes(4).toString('hex');
    return { ...keys, seal: { current: kid, keys: new Map([...keys.seal.keys, [kid, randomBytes(32)]]), retired: keys.seal.retired } };
  }

  /** A rotation's last step: only the current key is kept for rows; the others retire (jobs). */
  static retireOldSealKeys(keys: KeySet): KeySet {
    const cur = keys.seal.current;
    const retired = new Map([...keys.seal.keys].filter(([k]) => k !== cur));
    return { ...keys, seal: { current: cur, keys: new Map([[cur, keys.seal.keys.get(cur)!]]), retired } };
  }

  /** The keyring of a case log: its stored key set, opened with this keyring's secret. */
  withStoredKeys(storedKeys: string): Keyring {
    return new Keyring(this.secret, this.openKeySet(storedKeys));
  }

  /** The same secret with another key set (a rotation in progress). */
  withKeySet(keys: KeySet): Keyring {
    return new Keyring(this.secret, keys);
  }

  /** This keyring's key set, sealed under the secret's key-encryption key, for `meta`. */
  sealKeySet(keys: KeySet = this.keys): string {
    const json: KeySetJson = {
      v: 1,
      seal: {
        current: keys.seal.current,
        keys: Object.fromEntries([...keys.seal.keys].map(([k, v]) => [k, v.toString('base64url')])),
        ...(keys.seal.retired?.size ? { retired: Object.fromEntries([...keys.seal.retired].map(([k, v]) => [k, v.toString('base64url')])) } : {}),
      },
      pseudonym: keys.pseudonym.toString('base64url'),
      messageId: keys.messageId.toString('base64url'),
      audit: keys.audit.toString('base64url'),
    };
    const { iv, tag, ct } = gcmSeal(this.kek, Buffer.from(JSON.stringify(json), 'utf8'), 'meta.keys');
    return [KEYSET_FORMAT, iv.toString('base64url'), tag.toString('base64url'), ct.toString('base64url')].join('.');
  }

  openKeySet(stored: string): KeySet {
    const parts = stored.split('.');
    if (parts.length !== 4 || parts[0] !== KEYSET_FORMAT) throw new TiphubError('TIPHUB_SEAL_INVALID', 'the stored key set is not of a known format');
    let json: KeySetJson;
    try {
      json = JSON.parse(gcmOpen(this.kek, b64(parts[1]!), b64(parts[2]!), b64(parts[3]!), 'meta.keys').toString('utf8')) as KeySetJson;
    } catch {
      throw new TiphubError('TIPHUB_SECRET_MISMATCH', 'the secret does not open the key set this case log stores');
    }
    return {
      seal: {
        current: json.seal.current,
        keys: new Map(Object.entries(json.seal.keys).map(([k, v]) => [k, b64(v)])),
        retired: new Map(Object.entries(json.seal.retired ?? {}).map(([k, v]) => [k, b64(v)])),
      },
      pseudonym: b64(json.pseudonym),
      messageId: b64(json.messageId),
      audit: b64(json.audit),
    };
  }

  /** The key set (for a rotation, which re-seals it under a new secret). */
  get keySet(): KeySet {
    return this.keys;
  }

  /** The id of the key new values are sealed with. */
  get sealKeyId(): string {
    return this.keys.seal.current;
  }

  /** The key id a sealed value names (`d0` for the first format); null if it is not a sealed value. */
  static keyIdOf(sealed: string): string | null {
    const parts = sealed.split('.');
    if (parts[0] === SEAL_V2 && parts.length === 5) return parts[1]!;
    if (parts[0] === SEAL_V1 && parts.length === 4) return DERIVED_KID;
    return null;
  }

  /** Seals any JSON value with the current key, bound to its context (a row, or a job kind). */
  seal(value: unknown, ctx: SealContext = ''): string {
    const kid = this.keys.seal.current;
    const { iv, tag, ct } = gcmSeal(this.keys.seal.keys.get(kid)!, Buffer.from(JSON.stringify(value), 'utf8'), aadOf(ctx));
    return [SEAL_V2, kid, iv.toString('base64url'), tag.toString('base64url'), ct.toString('base64url')].join('.');
  }

  unseal<T = unknown>(sealed: string, ctx: SealContext = ''): T {
    const parts = typeof sealed === 'string' ? sealed.split('.') : [];
    let pt: Buffer;
    if (parts[0] === SEAL_V2 && parts.length === 5) {
      const key = this.keys.seal.keys.get(parts[1]!) ?? (typeof ctx === 'string' ? this.keys.seal.retired?.get(parts[1]!) : undefined);
      if (!key) throw new TiphubError('TIPHUB_SEAL_INVALID', 'sealed with a key this case log no longer holds');
      pt = gcmOpen(key, b64(parts[2]!), b64(parts[3]!), b64(parts[4]!), aadOf(ctx));
    } else if (parts[0] === SEAL_V1 && parts.length === 4) {
      const key = this.keys.seal.keys.get(DERIVED_KID) ?? (typeof ctx === 'string' ? this.keys.seal.retired?.get(DERIVED_KID) : undefined);
      if (!key) throw new TiphubError('TIPHUB_SEAL_INVALID', 'sealed with a key this case log no longer holds');
      pt = gcmOpen(key, b64(parts[1]!), b64(parts[2]!), b64(parts[3]!), legacyAadOf(ctx));
    } else {
      throw new TiphubError('TIPHUB_SEAL_INVALID', 'not a sealed value of a known version');
    }
    try {
      return JSON.parse(pt.toString('utf8')) as T;
    } catch {
      throw sealError();
    }
  }

  /** `pseudonym = HMAC-SHA256(key, channel + address)`, shortened to 128 bits, hex. */
  pseudonym(channel: string, address: string): string {
    return createHmac('sha256', this.keys.pseudonym).update(`${channel}\u0000${address}`).digest('hex').slice(0, 32);
  }

  /**
   * The pipeline's message id: a keyed hash of the platform's identifying parts (bot id, chat id,
   * message id, edit date…). Stable for the same message, reveals none of the parts. Starts with a
   * letter, so it is never a plain integer, and has no `:` (BullMQ job ids forbid both).
   */
  messageId(channel: string, parts: readonly (string | number)[]): string {
    const h = createHmac('sha256', this.keys.messageId);
    h.update(channel);
    for (const p of parts) h.update('\u0000' + String(p));
    return 'm' + h.digest('hex').slice(0, 32);
  }

  mac(text: string): string {
    return createHmac('sha256', this.keys.audit).update(text).digest('hex');
  }

  matchesCheckValue(stored: string): boolean {
    const a = Buffer.from(stored);
    const b = Buffer.from(this.checkValue);
    return a.length === b.length && timingSafeEqual(a, b);
  }
}

/** The sealing contexts of the case log's columns. */
export const sealRow = {
  address: (pseudonym: string): SealRow => ({ table: 'informants', column: 'address_sealed', id: pseudonym }),
  raw: (reportId: string): SealRow => ({ table: 'reports', column: 'raw_sealed', id: reportId }),
  contact: (reportId: string): SealRow => ({ table: 'reports', column: 'contact_sealed', id: reportId }),
  /** A media's platform reference: its row is (report id, index), named `<report id>:<index>`. */
  mediaRef: (reportId: string, idx: number): SealRow => ({ table: 'report_media', column: 'ref_sealed', id: `${reportId}:${idx}` }),
  text: (textId: string): SealRow => ({ table: 'case_texts', column: 'text_sealed', id: textId }),
  /** The platform's full id of a report whose native_id is its keyed hash. */
  nativeRef: (reportId: string): SealRow => ({ table: 'reports', column: 'native_sealed', id: reportId }),
  /** The platform's full id of a message we sent: its row is (channel, sent id), named `<channel>:<sent id>`. */
  sentRef: (channel: string, sentId: string): SealRow => ({ table: 'sent_messages', column: 'ref_sealed', id: `${channel}:${sentId}` }),
  totp: (operator: string): SealRow => ({ table: 'operators', column: 'totp_sealed', id: operator }),
} as const;
