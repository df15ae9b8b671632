import * as fs from 'node:fs';
import * as path from 'node:path';
import { randomBytes } from 'node:crypto';
import { TiphubError } from '../errors';

export const KEY_FILE = 'secret.key';

export function keyFilePath(dataDir: string): string {
  return path.join(dataDir, KEY_FILE);
}

/** The secret from the key file, or null when there is none. */
export function readKeyFile(dataDir: string): string | null {
  const file = keyFilePath(dataDir);
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
