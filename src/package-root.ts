import * as fs from 'node:fs';
import * as path from 'node:path';

let root: string | null = null;

/** The folder holding package.json, from compiled (dist/) and source (ts-jest) code alike. */
export function packageRoot(): string {
  if (root) return root;
  let dir = __dirname;
  while (!fs.existsSync(path.join(dir, 'package.json'))) {
    const up = path.dirname(dir);
    if (up === dir) throw new Error('package.json not found above ' + __dirname);
    dir = up;
  }
  return (root = dir);
}
