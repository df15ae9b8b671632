import * as fs from 'node:fs';
import * as path from 'node:path';
import { Keyring } from '../../src/crypto/keyring';
import { keyringFor } from '../../src/caselog/open';
import { createKeyFile, keyFilePath, readKeyFile } from '../../src/crypto/secret-file';
import { isTiphubError } from '../../src/errors';
import { tmpDir } from '../helpers/env';

const k = new Keyring('s'.repeat(32));

test('sealing round-trips and hides the content', () => {
  const v = { address: '+9647701234567', text: 'طائرة مسيرة' };
  const sealed = k.seal(v, 'ctx');
  expect(sealed).toMatch(/^v1\.[\w-]+\.[\w-]+\.[\w-]+$/);
  expect(sealed).not.toContain('9647701234567');
  expect(k.unseal(sealed, 'ctx')).toEqual(v);
  expect(k.seal(v, 'ctx')).not.toBe(sealed); // a fresh IV each time
});

test('a sealed value opened with another key, another context, or altered fails with TIPHUB_SEAL_INVALID', () => {
  const sealed = k.seal({ a: 1 }, 'ctx');
  const other = new Keyring('t'.repeat(32));
  const parts = sealed.split('.');
  const flipped = [parts[0], parts[1], parts[2], (parts[3]![0] === 'A' ? 'B' : 'A') + parts[3]!.slice(1)].join('.');
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
