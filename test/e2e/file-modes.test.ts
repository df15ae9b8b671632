/**
 * Issue 10, item 11: what tiphub writes under its data directory (PGlite case log, media, key
 * file, lock, control socket and token) is for its own user only, even when it is started under a
 * permissive umask: files 0600 at most, folders 0700.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import sharp from 'sharp';
import { setup, tmpDir, type TestSetup } from '../helpers/env';
import { runCli, startCli, type Background } from '../helpers/cli';

/** Every path under `dir` whose mode lets group or others in, with its mode. */
function openToOthers(dir: string, skip: ReadonlySet<string>): string[] {
  const found: string[] = [];
  const walk = (p: string) => {
    let st: fs.Stats;
    try {
      st = fs.lstatSync(p);
    } catch {
      return; // removed while we walk (a temporary file)
    }
    if (!skip.has(p) && (st.mode & 0o077) !== 0) found.push(`${path.relative(dir, p) || '.'} ${(st.mode & 0o777).toString(8)}`);
    if (st.isDirectory()) for (const e of fs.readdirSync(p)) walk(path.join(p, e));
  };
  walk(dir);
  return found;
}

describe('file modes under the data directory', () => {
  let s: TestSetup;
  let inputs: string;
  let hub: Background | null = null;
  beforeEach(async () => {
    s = await setup('pglite');
    s.env.TIPHUB_LOG_LEVEL = 'info';
    inputs = tmpDir('tiphub-inputs');
  });
  afterEach(async () => {
    await hub?.stop('SIGKILL');
    await s.cleanup();
    fs.rmSync(inputs, { recursive: true, force: true });
  });

  test('after a hub start under umask 000, with a report and its photo stored, nothing is open to group or others', async () => {
    const written = new Set([s.dataDir, path.join(s.dataDir, 'tiphub.yaml')]); // the test's own: mkdtemp, config
    fs.writeFileSync(
      path.join(inputs, 'photo.jpg'),
      await sharp({ create: { width: 64, height: 48, channels: 3, background: { r: 200, g: 40, b: 40 } } }).jpeg().toBuffer(),
    );
    const file = path.join(inputs, 'tips.jsonl');
    fs.writeFileSync(file, JSON.stringify({ id: 'f1', from: 'sender-1', text: 'Photo of the checkpoint at the bridge', media: [{ file: 'photo.jpg' }] }) + '\n');

    const umask = process.umask(0);
    try {
      hub = startCli(['start'], s.env);
    } finally {
      process.umask(umask);
    }
    await hub.waitForOutput(/"msg":"hub ready"/);
    const ingest = await runCli(['ingest', file], { ...s.env });
    expect(ingest.stdout).toContain('1 accepted');

    // The case log, the media store and the control socket exist: there is something to look at.
    const names = fs.readdirSync(s.dataDir);
    expect(names).toEqual(expect.arrayContaining(['caselog', 'media', 'control']));
    expect(fs.readdirSync(path.join(s.dataDir, 'caselog')).length).toBeGreaterThan(0);
    expect(openToOthers(s.dataDir, written)).toEqual([]);

    expect(await hub.stop('SIGTERM')).toBe(0);
    hub = null;
    expect(openToOthers(s.dataDir, written)).toEqual([]);
  });

  test('a data directory left open by an older version is closed at start', async () => {
    fs.chmodSync(s.dataDir, 0o755);
    hub = startCli(['start'], s.env);
    await hub.waitForOutput(/"msg":"hub ready"/);
    expect((fs.statSync(s.dataDir).mode & 0o777).toString(8)).toBe('700');
  });
});
