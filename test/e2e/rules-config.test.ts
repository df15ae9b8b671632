/**
 * Rules are data (config/tags.yaml, places.yaml, priority.yaml, or the folder `rules.dir` names):
 * a bad file is refused at start — `tiphub config check` and `tiphub worker` — with the file, the
 * line and the reason; nothing starts half-configured.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { setup, type TestSetup } from '../helpers/env';
import { runCli } from '../helpers/cli';
import { packageRoot } from '../../src/package-root';

describe('rules files refused at start', () => {
  let s: TestSetup;
  let rules: string;
  beforeEach(async () => {
    s = await setup('postgres');
    rules = path.join(s.dataDir, 'rules');
    fs.mkdirSync(rules);
    for (const f of ['tags.yaml', 'places.yaml', 'priority.yaml']) fs.copyFileSync(path.join(packageRoot(), 'config', f), path.join(rules, f));
    const cfg = JSON.parse(fs.readFileSync(s.env.TIPHUB_CONFIG!, 'utf8')) as Record<string, unknown>;
    fs.writeFileSync(s.env.TIPHUB_CONFIG!, JSON.stringify({ ...cfg, rules: { dir: rules } }));
  });
  afterEach(async () => {
    await s.cleanup();
  });

  test('the shipped rules pass; an unknown tag and a bad pattern are named with file, line and reason', async () => {
    const ok = await runCli(['config', 'check'], s.env);
    expect(ok.code).toBe(0);
    expect(ok.stdout).toMatch(/rules \(.*\): 9 tags, \d{3,} places, \d+ priority rules/);

    // The priority rules name a tag that does not exist, and a tag pattern is not a regular expression.
    const priority = fs.readFileSync(path.join(rules, 'priority.yaml'), 'utf8').split('\n');
    const at = priority.findIndex((l) => /anyTags: \[/.test(l));
    priority[at] = priority[at]!.replace(/anyTags: \[[^\]]*\]/, 'anyTags: [drones]');
    fs.writeFileSync(path.join(rules, 'priority.yaml'), priority.join('\n'));
    const tags = fs.readFileSync(path.join(rules, 'tags.yaml'), 'utf8').replace(/^(\s+patterns:\s*\n\s+- ).*$/m, '$1"(unclosed"');
    fs.writeFileSync(path.join(rules, 'tags.yaml'), tags);
    const patternLine = tags.split('\n').findIndex((l) => l.includes('"(unclosed"')) + 1;

    const bad = await runCli(['config', 'check'], s.env);
    expect(bad.code).toBe(1);
    expect(bad.stderr).toContain(`priority.yaml:${at + 1}:`);
    expect(bad.stderr).toMatch(/unknown tag "drones"/);
    expect(bad.stderr).toContain(`tags.yaml:${patternLine}:`);
    expect(bad.stderr).toMatch(/regular expression/i);

    const worker = await runCli(['worker'], s.env, { timeoutMs: 30_000 });
    expect(worker.code).not.toBe(0);
    expect(worker.stderr).toMatch(/unknown tag "drones"/);
  });
});
