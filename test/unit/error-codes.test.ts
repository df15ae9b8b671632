/**
 * Every TIPHUB_* code the sources raise or answer with is listed in src/errors.ts (and so, by
 * small-parts.test.ts, documented in docs/errors.md): the dashboard's refusals included. A
 * quoted TIPHUB_* name in src/, workers/ or adapters/ is a code unless it is one of the
 * environment variables the configuration knows (the core's CORE_ENV and each channel module's) or a prefix.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { errorCodes } from '../../src/errors';
import { CORE_ENV } from '../../src/config';
import { channelModules } from '../../adapters/registry';

const ROOT = path.join(__dirname, '../..');

function sources(dir: string): string[] {
  const out: string[] = [];
  for (const e of fs.readdirSync(dir, { withFileTypes: true })) {
    const p = path.join(dir, e.name);
    if (e.isDirectory()) out.push(...sources(p));
    else if (e.name.endsWith('.ts')) out.push(p);
  }
  return out;
}

/** The variables the configuration knows: the core's and each registered channel's. */
function knownEnv(): Set<string> {
  return new Set<string>([...CORE_ENV, ...channelModules.flatMap((m) => m.config.env)]);
}

test('every code used in the sources is listed in src/errors.ts', () => {
  const env = knownEnv();
  expect(env.has('TIPHUB_SECRET')).toBe(true);
  const used = new Map<string, string>();
  for (const dir of ['src', 'workers', 'adapters']) {
    for (const file of sources(path.join(ROOT, dir))) {
      const text = fs.readFileSync(file, 'utf8');
      for (const m of text.matchAll(/['"`](TIPHUB_[A-Z0-9_]*[A-Z0-9])['"`]/g)) {
        if (!env.has(m[1]!) && !used.has(m[1]!)) used.set(m[1]!, path.relative(ROOT, file));
      }
    }
  }
  // The scan finds codes, the dashboard's among them.
  for (const code of ['TIPHUB_CASE_NOT_FOUND', 'TIPHUB_DASHBOARD_CSRF', 'TIPHUB_DASHBOARD_FORBIDDEN', 'TIPHUB_DASHBOARD_LOGIN']) expect(used.has(code)).toBe(true);
  const unlisted = [...used].filter(([code]) => !(code in errorCodes)).map(([code, file]) => `${code} (${file})`);
  expect(unlisted).toEqual([]);
});

test('every listed code says whether a retry helps and what it means', () => {
  for (const [code, v] of Object.entries(errorCodes)) {
    expect(code).toMatch(/^TIPHUB_[A-Z]+(_[A-Z0-9]+)+$/);
    expect(typeof v.retryable).toBe('boolean');
    expect(v.summary.length).toBeGreaterThan(10);
  }
});
