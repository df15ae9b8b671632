/** `tiphub --version`: this program's version and the case log schema it expects (what `migrate` brings a case log to). */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { packageRoot } from '../../src/package-root';
import { migrations } from '../../src/caselog/migrations';

/** The newest migration: the case log schema version this program writes. */
export function schemaVersion(): number {
  return Math.max(...migrations.map((m) => m.id));
}

export function versionText(): string {
  const pkg = JSON.parse(fs.readFileSync(path.join(packageRoot(), 'package.json'), 'utf8')) as { version?: string };
  return `tiphub ${pkg.version ?? 'unknown'} (case log schema ${schemaVersion()}, Node ${process.versions.node})`;
}
