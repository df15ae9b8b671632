import * as fs from 'node:fs';
import * as path from 'node:path';
import { Keyring, sealRow } from '../../src/crypto/keyring';
import { keyringFor } from '../../src/caselog/open';
import { createKeyFile, keyFilePath, readKeyFile } from '../../src/crypto/secret-file';
import { isTiphubError } from '../../src/errors';
import { tmpDir } from '../helpers/env';

const k = new Keyring('s'.repeat(32));

test('sealing round-trips and hides the content', () => {
  const v = { address: '+9647701234567', text: 'طائرة مسيرة' };
  const sealed = k.seal(v, 'ctx');
  expect(sealed).toMatch(/^v2\.d0\.[\w-]+\.[\w-]+\.[\w-]+$/);
  expect(sealed).not.toContain('9647701234567');
  expect(k.unseal(sealed, 'ctx')).toEqual(v);
  expect(k.seal(v, 'ctx')).not.toBe(sealed); // a fresh IV each time
});

test('a sealed value opened with another key, another context, or altered fails with TIPHUB_SEAL_INVALID', () => {
  const sealed = k.seal({ a: 1 }, 'ctx');
  const other = new Keyring('t'.repeat(32));
  const parts = sealed.split('.');
  const flipped = [...parts.slice(0, 4), (parts[4]![0] === 'A' ? 'B' : 'A') + parts[4]!.slice(1)].join('.');
  for (const attempt of [() => other.unseal(sealed, 'ctx'), () => k.unseal(sealed, 'other'), () => k.unseal(flipped, 'ctx'), () => k.unseal('junk')]) {
    expect(attempt).toThrow(expect.objectContaining({ code: 'TIPHUB_SEAL_INVALID', retryable: false }));
  }
});

test('pseudonyms and message ids are stable, keyed, and reveal nothing of their parts', () => {
  expect(k.pseudonym('telegram', '12345')).toBe(k.pseudonym('telegram', '12345'));
  expect(k.pseudonym('telegram', '12345')).not.toBe(k.pseudonym('whatsapp', '12345'));
  expect(k.pseudonym('telegram', '12345')).not.toBe(new Keyring('t'.repeat(32)).pseudonym('telegram', '12345'));
  const id = k.messageId('telegram', ['bot1', 987654321, 42]);
  expect(id).toMatch(/^m[0-9a-f]{32}$/);
  expect(id).not.toContain('987654321');
  // Part boundaries matter: ('ab','c') is not ('a','bc').
  expect(k.messageId('x', ['ab', 'c'])).not.toBe(k.messageId('x', ['a', 'bc']));
});

test('the key file is created 0600 for a new log; a wrong or missing secret is a clear error', () => {
  const dir = tmpDir();
  const created = keyringFor({ secret: null, dataDir: dir }, null, true);
  expect((fs.statSync(keyFilePath(dir)).mode & 0o777).toString(8)).toBe('600');
  expect(readKeyFile(dir)).toHaveLength(64);
  // The same key file gives the same keyring.
  expect(keyringFor({ secret: null, dataDir: dir }, created.checkValue, false).checkValue).toBe(created.checkValue);
  // Another secret against that log: mismatch.
  expect(() => keyringFor({ secret: 'x'.repeat(40), dataDir: dir }, created.checkValue, false)).toThrow(
    expect.objectContaining({ code: 'TIPHUB_SECRET_MISMATCH' }),
  );
  // The key file gone, the log still there: missing, not a new key.
  fs.rmSync(keyFilePath(dir));
  let err: unknown;
  try {
    keyringFor({ secret: null, dataDir: dir }, created.checkValue, true);
  } catch (e) {
    err = e;
  }
  expect(isTiphubError(err, 'TIPHUB_SECRET_MISSING')).toBe(true);
  expect(fs.existsSync(keyFilePath(dir))).toBe(false);
  // A key file others can read is refused.
  createKeyFile(dir);
  fs.chmodSync(path.join(dir, 'secret.key'), 0o644);
  expect(() => readKeyFile(dir)).toThrow(/chmod 600/);
});

test('a shortened authentication tag is refused, however many bytes of it are right', () => {
  const sealed = k.seal({ a: 1 }, 'ctx');
  const parts = sealed.split('.');
  const tag = Buffer.from(parts[3]!, 'base64url');
  expect(tag).toHaveLength(16);
  for (const n of [4, 8, 12, 15]) {
    const cut = [...parts.slice(0, 3), tag.subarray(0, n).toString('base64url'), parts[4]].join('.');
    expect(() => k.unseal(cut, 'ctx')).toThrow(expect.objectContaining({ code: 'TIPHUB_SEAL_INVALID' }));
  }
});

test('a sealed value is bound to its row: copied to another report or informant, it does not open', () => {
  const raw = k.seal({ text: 'the convoy' }, sealRow.raw('m1'));
  expect(k.unseal(raw, sealRow.raw('m1'))).toEqual({ text: 'the convoy' });
  expect(() => k.unseal(raw, sealRow.raw('m2'))).toThrow(expect.objectContaining({ code: 'TIPHUB_SEAL_INVALID' }));
  expect(() => k.unseal(raw, sealRow.contact('m1'))).toThrow(expect.objectContaining({ code: 'TIPHUB_SEAL_INVALID' }));
  const addr = k.seal({ address: '+9647700000000' }, sealRow.address('p1'));
  expect(() => k.unseal(addr, sealRow.address('p2'))).toThrow(expect.objectContaining({ code: 'TIPHUB_SEAL_INVALID' }));
});

test('a new case log gets random keys, stored sealed under the secret; the secret alone does not give them', () => {
  const secret = 'q'.repeat(40);
  const base = new Keyring(secret);
  const stored = base.sealKeySet(Keyring.generateKeys());
  const a = base.withStoredKeys(stored);
  expect(stored).not.toContain(a.pseudonym('telegram', '1'));
  // Opened again from the stored set: the same keys; derived from the secret alone: others.
  const b = new Keyring(secret).withStoredKeys(stored);
  expect(b.pseudonym('telegram', '1')).toBe(a.pseudonym('telegram', '1'));
  expect(b.mac('x')).toBe(a.mac('x'));
  expect(base.pseudonym('telegram', '1')).not.toBe(a.pseudonym('telegram', '1'));
  expect(b.unseal(a.seal('t', sealRow.text('t1')), sealRow.text('t1'))).toBe('t');
  // Another secret cannot open the stored set.
  expect(() => new Keyring('r'.repeat(40)).withStoredKeys(stored)).toThrow(expect.objectContaining({ code: 'TIPHUB_SECRET_MISMATCH' }));
});

test('values sealed in the first format (v1, a context string) still open with the keys they were sealed with', () => {
  // v1 layout: v1.<iv>.<tag>.<ciphertext>, the derived key, the column's context string.
  const v2 = k.seal({ address: 'x' }, 'informant-address');
  const [, , iv, tag, ct] = v2.split('.');
  expect(k.unseal(['v1', iv, tag, ct].join('.'), sealRow.address('any'))).toEqual({ address: 'x' });
});
