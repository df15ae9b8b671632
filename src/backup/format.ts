/**
 * The encrypted envelope of a backup archive. A backup leaves the machine (another disk, another
 * host), so it is sealed as a whole, streamed in chunks so a large media store never sits in
 * memory:
 *
 *   magic "tiphub-backup\0" | u32 header length | header (JSON) | chunk… | final chunk
 *   chunk = u32 plaintext length | AES-256-GCM ciphertext | 16-byte tag
 *
 * The header says how the key is made (HKDF of the hub secret with an info string of its own and
 * a random salt, or scrypt of a passphrase) and holds a key check, so a wrong secret or passphrase
 * is told apart from an altered file. Every chunk is authenticated with the header bytes as AAD;
 * its nonce is a random prefix, the chunk's number and a last-chunk flag, so chunks cannot be
 * reordered, dropped or cut off without the tag failing or the final chunk missing (truncation).
 */
import { createCipheriv, createDecipheriv, createHmac, hkdfSync, randomBytes, scrypt, timingSafeEqual } from 'node:crypto';
import { Transform } from 'node:stream';
import { Keyring } from '../crypto/keyring';
import { TiphubError } from '../errors';

const MAGIC = Buffer.from('tiphub-backup\0', 'latin1');
export const ARCHIVE_FORMAT = 1;
/** Plaintext per chunk: large enough to be cheap, small enough to stream. */
export const CHUNK_BYTES = 1 << 20;
const TAG_BYTES = 16;
const HEADER_MAX = 64 * 1024;
/** Never the raw secret, never a key used for anything else: HKDF under this info. */
const SECRET_INFO = 'tiphub/backup-archive/aes-256-gcm/v1';
/** scrypt's cost: N = 2^17, r = 8 (128 MiB, about half a second here), as OWASP recommends. */
const SCRYPT = { N: 1 << 17, r: 8, p: 1 } as const;
export const PASSPHRASE_MIN_CHARS = 12;

export type KdfHeader = { readonly name: 'hkdf-sha256'; readonly info: string } | { readonly name: 'scrypt'; readonly N: number; readonly r: number; readonly p: number };

export interface ArchiveHeader {
  readonly format: number;
  readonly cipher: 'aes-256-gcm';
  readonly chunkBytes: number;
  readonly kdf: KdfHeader;
  readonly salt: string;
  /** With the secret: the key-check value of the secret that made it (the case log stores the same); null with a passphrase. */
  readonly keyId: string | null;
  readonly noncePrefix: string;
  /** HMAC of a fixed text under the archive key: tells a wrong key from an altered file. */
  readonly check: string;
}

/** What opens (or makes) an archive: the hub secret or a passphrase. */
export type ArchiveSecret = { readonly kind: 'secret'; readonly secret: string } | { readonly kind: 'passphrase'; readonly passphrase: string };

function scryptKey(passphrase: string, salt: Buffer, p: { N: number; r: number; p: number }): Promise<Buffer> {
  return new Promise((resolve, reject) =>
    scrypt(passphrase.normalize('NFKC'), salt, 32, { ...p, maxmem: 256 * p.N * p.r + (1 << 20) }, (err, key) => (err ? reject(err) : resolve(key))),
  );
}

async function deriveKey(s: ArchiveSecret, kdf: KdfHeader, salt: Buffer): Promise<Buffer> {
  if (kdf.name === 'hkdf-sha256') {
    if (s.kind !== 'secret') throw new TiphubError('TIPHUB_BACKUP_KEY_WRONG', 'this archive was made with the hub secret, not a passphrase: restore it without --passphrase');
    return Buffer.from(hkdfSync('sha256', Buffer.from(s.secret, 'utf8'), salt, Buffer.from(kdf.info), 32));
  }
  if (s.kind !== 'passphrase') throw new TiphubError('TIPHUB_BACKUP_KEY_WRONG', 'this archive was made with a passphrase: restore it with --passphrase');
  if (![kdf.N, kdf.r, kdf.p].every(Number.isSafeInteger) || kdf.N > 1 << 20 || kdf.r > 32 || kdf.p > 16) throw corrupt('its key derivation parameters are out of range');
  return scryptKey(s.passphrase, salt, kdf);
}

const checkOf = (key: Buffer) => createHmac('sha256', key).update('tiphub backup key check').digest().subarray(0, 16);

function corrupt(why: string): TiphubError {
  return new TiphubError('TIPHUB_BACKUP_CORRUPT', `the backup archive is damaged, truncated or altered: ${why}`);
}

function nonce(prefix: Buffer, counter: number, last: boolean): Buffer {
  const n = Buffer.alloc(12);
  prefix.copy(n, 0, 0, 7);
  n.writeUInt32BE(counter, 7);
  n[11] = last ? 1 : 0;
  return n;
}

/** A new archive's header bytes and key. */
export async function newArchiveKey(s: ArchiveSecret): Promise<{ headerBytes: Buffer; key: Buffer; header: ArchiveHeader }> {
  const salt = randomBytes(16);
  const kdf: KdfHeader = s.kind === 'secret' ? { name: 'hkdf-sha256', info: SECRET_INFO } : { name: 'scrypt', ...SCRYPT };
  const key = await deriveKey(s, kdf, salt);
  const header: ArchiveHeader = {
    format: ARCHIVE_FORMAT,
    cipher: 'aes-256-gcm',
    chunkBytes: CHUNK_BYTES,
    kdf,
    salt: salt.toString('base64'),
    keyId: s.kind === 'secret' ? new Keyring(s.secret).checkValue : null,
    noncePrefix: randomBytes(7).toString('base64'),
    check: checkOf(key).toString('base64'),
  };
  const json = Buffer.from(JSON.stringify(header), 'utf8');
  const len = Buffer.alloc(4);
  len.writeUInt32BE(json.length);
  return { headerBytes: Buffer.concat([MAGIC, len, json]), key, header };
}

/** A transform from plaintext to the archive's bytes (header first, final chunk on end). */
export function encryptStream(a: { headerBytes: Buffer; key: Buffer; header: ArchiveHeader }): Transform {
  const prefix = Buffer.from(a.header.noncePrefix, 'base64');
  let counter = 0;
  let pending: Buffer[] = [];
  let pendingBytes = 0;
  const seal = (pt: Buffer, last: boolean): Buffer => {
    const c = createCipheriv('aes-256-gcm', a.key, nonce(prefix, counter++, last), { authTagLength: TAG_BYTES });
    c.setAAD(a.headerBytes);
    const ct = Buffer.concat([c.update(pt), c.final()]);
    const len = Buffer.alloc(4);
    len.writeUInt32BE(pt.length);
    return Buffer.concat([len, ct, c.getAuthTag()]);
  };
  let started = false;
  return new Transform({
    transform(chunk: Buffer, _enc, cb) {
      if (!started) {
        started = true;
        this.push(a.headerBytes);
      }
      pending.push(chunk);
      pendingBytes += chunk.length;
      while (pendingBytes > CHUNK_BYTES) {
        const all = Buffer.concat(pending);
        this.push(seal(all.subarray(0, CHUNK_BYTES), false));
        pending = [all.subarray(CHUNK_BYTES)];
        pendingBytes = pending[0]!.length;
      }
      cb();
    },
    flush(cb) {
      if (!started) this.push(a.headerBytes);
      this.push(seal(Buffer.concat(pending), true));
      cb();
    },
  });
}

/** Reads exact byte counts from an async stream of buffers. */
class ByteReader {
  private buf = Buffer.alloc(0);
  private done = false;
  constructor(private readonly it: AsyncIterator<Buffer>) {}
  /** Exactly n bytes, or fewer only at the end of the input. */
  async read(n: number): Promise<Buffer> {
    while (this.buf.length < n && !this.done) {
      const r = await this.it.next();
      if (r.done) this.done = true;
      else this.buf = this.buf.length ? Buffer.concat([this.buf, r.value]) : Buffer.from(r.value);
    }
    const out = this.buf.subarray(0, n);
    this.buf = this.buf.subarray(out.length);
    return out;
  }
  async atEnd(): Promise<boolean> {
    return (await this.read(1)).length === 0;
  }
}

/** The header of an archive, before any key is needed (to say what kind of key it wants). */
export async function readArchiveHeader(source: AsyncIterable<Buffer>): Promise<{ header: ArchiveHeader; headerBytes: Buffer; reader: ByteReader }> {
  const reader = new ByteReader(source[Symbol.asyncIterator]());
  const magic = await reader.read(MAGIC.length);
  if (!magic.equals(MAGIC)) throw new TiphubError('TIPHUB_BACKUP_CORRUPT', 'not a tiphub backup archive (its first bytes differ)');
  const lenBytes = await reader.read(4);
  if (lenBytes.length < 4) throw corrupt('it ends inside its header');
  const len = lenBytes.readUInt32BE();
  if (len > HEADER_MAX) throw corrupt('its header is too long');
  const json = await reader.read(len);
  if (json.length < len) throw corrupt('it ends inside its header');
  let header: ArchiveHeader;
  try {
    header = JSON.parse(json.toString('utf8')) as ArchiveHeader;
  } catch {
    throw corrupt('its header is not readable');
  }
  if (header.format > ARCHIVE_FORMAT) throw new TiphubError('TIPHUB_BACKUP_VERSION', `the archive is of format ${header.format}, newer than this tiphub reads (${ARCHIVE_FORMAT}): restore it with the version that made it`);
  if (header.format !== ARCHIVE_FORMAT || header.cipher !== 'aes-256-gcm' || !header.kdf || typeof header.salt !== 'string' || typeof header.check !== 'string' || !Number.isSafeInteger(header.chunkBytes) || header.chunkBytes < 1 || header.chunkBytes > 16 * CHUNK_BYTES) throw corrupt('its header is not of a known form');
  return { header, headerBytes: Buffer.concat([magic, lenBytes, json]), reader };
}

/**
 * The plaintext of an archive, chunk by chunk. Throws TIPHUB_BACKUP_KEY_WRONG before any output
 * when the key does not open it, and TIPHUB_BACKUP_CORRUPT when a chunk fails its tag, when the
 * file ends before its final chunk, or when bytes follow it.
 */
export async function* decryptArchive(source: AsyncIterable<Buffer>, s: ArchiveSecret): AsyncGenerator<Buffer> {
  const { header, headerBytes, reader } = await readArchiveHeader(source);
  if (s.kind === 'secret' && header.keyId && header.kdf.name === 'hkdf-sha256' && header.keyId !== new Keyring(s.secret).checkValue) {
    throw new TiphubError(
      'TIPHUB_BACKUP_KEY_WRONG',
      'the archive was made under another secret than this one: after a key rotation, give the secret that was current when it was made (--secret-file, e.g. the kept secret.key.old-<time>)',
    );
  }
  const key = await deriveKey(s, header.kdf, Buffer.from(header.salt, 'base64'));
  const check = Buffer.from(header.check, 'base64');
  const mine = checkOf(key);
  if (check.length !== mine.length || !timingSafeEqual(check, mine)) {
    throw new TiphubError('TIPHUB_BACKUP_KEY_WRONG', s.kind === 'passphrase' ? 'the passphrase does not open this archive' : 'the secret does not open this archive');
  }
  const prefix = Buffer.from(header.noncePrefix, 'base64');
  const chunkBytes = header.chunkBytes;
  for (let counter = 0; ; counter++) {
    const lenBytes = await reader.read(4);
    if (lenBytes.length < 4) throw corrupt('it ends before its last chunk (truncated)');
    const len = lenBytes.readUInt32BE();
    if (len > chunkBytes) throw corrupt('a chunk is longer than the header allows');
    const body = await reader.read(len + TAG_BYTES);
    if (body.length < len + TAG_BYTES) throw corrupt('it ends inside a chunk (truncated)');
    const tryOpen = (isLast: boolean): Buffer | null => {
      try {
        const d = createDecipheriv('aes-256-gcm', key, nonce(prefix, counter, isLast), { authTagLength: TAG_BYTES });
        d.setAAD(headerBytes);
        d.setAuthTag(body.subarray(len));
        return Buffer.concat([d.update(body.subarray(0, len)), d.final()]);
      } catch {
        return null;
      }
    };
    // Only the last chunk may be shorter than the full size; a full one is tried as a middle one first.
    let last = len < chunkBytes;
    let pt = tryOpen(last);
    if (!pt && !last) pt = tryOpen((last = true));
    if (!pt) throw corrupt(`chunk ${counter} fails its authentication tag`);
    if (pt.length) yield pt;
    if (last) {
      if (!(await reader.atEnd())) throw corrupt('bytes follow its last chunk');
      return;
    }
  }
}
