import * as fs from 'node:fs';
import * as path from 'node:path';
import { randomBytes } from 'node:crypto';
import { TiphubError } from '../errors';

export const KEY_FILE = 'secret.key';

export function keyFilePath(dataDir: string): string {
  return path.join(dataDir, KEY_FILE);
}

/** Where a key rotation keeps the new secret until it has finished. */
export function nextKeyFilePath(dataDir: string): string {
  return path.join(dataDir, KEY_FILE + '.next');
}

/** The secret from the key file, or null when there is none. */
export function readKeyFile(dataDir: string): string | null {
  return readSecretFile(keyFilePath(dataDir));
}

/** A secret from a file of our own (0600, at least 32 characters), or null when there is none. */
export function readSecretFile(file: string): string | null {
  if (!fs.existsSync(file)) return null;
  const st = fs.statSync(file);
  if ((st.mode & 0o077) !== 0) {
    throw new TiphubError('TIPHUB_CONFIG_INVALID', `${file} is readable by others: chmod 600 it`);
  }
  const value = fs.readFileSync(file, 'utf8').trim();
  if (value.length < 32) throw new TiphubError('TIPHUB_CONFIG_INVALID', `${file} does not hold a valid secret`);
  return value;
}

/** Creates the key file (mode 0600) for a new case log; never overwrites one. */
export function createKeyFile(dataDir: string): string {
  fs.mkdirSync(dataDir, { recursive: true, mode: 0o700 });
  const value = randomBytes(32).toString('hex');
  fs.writeFileSync(keyFilePath(dataDir), value + '\n', { mode: 0o600, flag: 'wx' });
  return value;
}

/** Writes a new secret to `file` (0600), refusing to overwrite one. */
export function writeNewSecretFile(file: string): string {
  const value = randomBytes(32).toString('hex');
  fs.writeFileSync(file, value + '\n', { mode: 0o600, flag: 'wx' });
  return value;
}
