/**
 * The last step of a restore (src/backup/restore.ts, placeRestored): the restored folder takes the
 * data directory's place. A data directory that exists (its key file in it, or a mount point that
 * cannot be replaced) gets the entries moved in and keeps its key; a move that fails removes
 * nothing: the restored files stay in the work folder, which the error names.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { placeRestored } from '../../src/backup/restore';
import { isTiphubError } from '../../src/errors';
import { tmpDir } from '../helpers/env';

let root: string;
let work: string;
let dataDir: string;
beforeEach(() => {
  root = tmpDir('tiphub-place');
  work = path.join(root, '.restore-work');
  dataDir = path.join(root, 'data');
  fs.mkdirSync(path.join(work, 'media', 'ab', 'cd'), { recursive: true });
  fs.writeFileSync(path.join(work, 'media', 'ab', 'cd', 'abcd-photo'), 'photo bytes');
  fs.mkdirSync(path.join(work, 'caselog'));
  fs.writeFileSync(path.join(work, 'caselog', 'PG_VERSION'), '17');
});
afterEach(() => fs.rmSync(root, { recursive: true, force: true }));

const tree = (dir: string): string[] =>
  fs.readdirSync(dir, { recursive: true, withFileTypes: true }).filter((e) => e.isFile()).map((e) => path.relative(dir, path.join(e.parentPath, e.name))).sort();

test('no data directory: the folder becomes it, with the key file given', () => {
  const key = path.join(root, 'secret.key.old-1');
  fs.writeFileSync(key, 'old secret\n');
  placeRestored(work, dataDir, key);
  expect(fs.existsSync(work)).toBe(false);
  expect(tree(dataDir)).toEqual(['caselog/PG_VERSION', 'media/ab/cd/abcd-photo', 'secret.key']);
  expect(fs.readFileSync(path.join(dataDir, 'secret.key'), 'utf8')).toBe('old secret\n');
});

test('a data directory holding its key file (or a mount point): the entries move in, its key stays', () => {
  fs.mkdirSync(dataDir);
  fs.writeFileSync(path.join(dataDir, 'secret.key'), 'the key\n');
  const inode = fs.statSync(dataDir).ino;
  placeRestored(work, dataDir, null);
  expect(fs.statSync(dataDir).ino).toBe(inode); // the same directory, never removed
  expect(tree(dataDir)).toEqual(['caselog/PG_VERSION', 'media/ab/cd/abcd-photo', 'secret.key']);
  expect(fs.readFileSync(path.join(dataDir, 'secret.key'), 'utf8')).toBe('the key\n');
  expect(fs.existsSync(work)).toBe(false);
});

test('a move that fails removes nothing: the restored files stay in the folder the error names', () => {
  fs.mkdirSync(path.join(dataDir, 'media', 'zz'), { recursive: true });
  fs.writeFileSync(path.join(dataDir, 'secret.key'), 'the key\n');
  fs.writeFileSync(path.join(dataDir, 'media', 'zz', 'other'), 'x'); // a non-empty folder in the way
  let caught: unknown;
  try {
    placeRestored(work, dataDir, null);
  } catch (err) {
    caught = err;
  }
  expect(isTiphubError(caught, 'TIPHUB_BACKUP_PLACE_FAILED')).toBe(true);
  expect((caught as Error).message).toContain(work);
  // The restored photo is still in the work folder; the data directory's key is untouched.
  expect(tree(work)).toContain('media/ab/cd/abcd-photo');
  expect(fs.readFileSync(path.join(dataDir, 'secret.key'), 'utf8')).toBe('the key\n');
});
