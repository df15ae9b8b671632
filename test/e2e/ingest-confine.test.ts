import * as fs from 'node:fs';
import * as path from 'node:path';
import { setup, type TestSetup } from '../helpers/env';
import { runCli } from '../helpers/cli';
import { openPglite } from '../../src/caselog/db';

/** Every file's bytes under the media store, to show what was copied in. */
function storedBytes(mediaDir: string): Buffer[] {
  if (!fs.existsSync(mediaDir)) return [];
  const out: Buffer[] = [];
  for (const e of fs.readdirSync(mediaDir, { withFileTypes: true, recursive: true })) {
    if (e.isFile()) out.push(fs.readFileSync(path.join(e.parentPath, e.name)));
  }
  return out;
}

describe('tiphub ingest on pglite: media paths and dates', () => {
  let s: TestSetup;
  beforeEach(async () => {
    s = await setup('pglite');
  });
  afterEach(async () => {
    await s.cleanup();
  });

  test('media outside the input folder (../, absolute, symlinks out, /proc) is refused per line; inside lands', async () => {
    const dir = path.join(s.dataDir, 'import');
    const outside = path.join(s.dataDir, 'outside');
    fs.mkdirSync(path.join(dir, 'pics'), { recursive: true });
    fs.mkdirSync(outside);
    const jpeg = (tag: string) => Buffer.concat([Buffer.from([0xff, 0xd8, 0xff, 0xe0]), Buffer.from(tag)]);
    fs.writeFileSync(path.join(dir, 'pics', 'ok.jpg'), jpeg('inside'));
    const secretFile = path.join(outside, 'secret.jpg');
    fs.writeFileSync(secretFile, jpeg(`TIPHUB_SECRET=${s.env.TIPHUB_SECRET}`));
    fs.symlinkSync(secretFile, path.join(dir, 'link-out.jpg'));
    fs.symlinkSync(outside, path.join(dir, 'dir-out'));
    fs.symlinkSync(path.join(dir, 'pics', 'ok.jpg'), path.join(dir, 'link-in.jpg'));
    const depth = dir.split(path.sep).length;
    const up = Array.from({ length: depth }, () => '..').join('/');

    const lines = [
      { id: 'c1', from: 'u1', text: 'photo inside', media: [{ file: 'pics/ok.jpg' }] },
      { id: 'c2', from: 'u2', text: 'climbing out', media: [{ file: '../outside/secret.jpg' }] },
      { id: 'c3', from: 'u3', text: 'process environment', media: [{ file: `${up}/proc/self/environ` }] },
      { id: 'c4', from: 'u4', text: 'absolute outside', media: [{ file: secretFile }] },
      { id: 'c5', from: 'u5', text: 'symlink out', media: [{ file: 'link-out.jpg' }] },
      { id: 'c6', from: 'u6', text: 'through a linked folder', media: [{ file: 'dir-out/secret.jpg' }] },
      { id: 'c7', from: 'u7', text: 'symlink that stays inside', media: [{ file: 'link-in.jpg' }] },
      { id: 'c8', from: 'u8', text: 'a folder, not a file', media: [{ file: 'pics' }] },
      { id: 'c9', from: 'u9', text: 'absolute inside', media: [{ file: path.join(dir, 'pics', 'ok.jpg') }] },
    ];
    const file = path.join(dir, 'tips.jsonl');
    fs.writeFileSync(file, lines.map((l) => JSON.stringify(l)).join('\n') + '\n');

    const r = await runCli(['ingest', file], s.env);
    expect(r.stdout).toContain('ingest: 9 lines: 3 accepted, 0 already present, 6 rejected');
    expect(r.code).toBe(1);
    expect(r.stderr).toContain(`${file}:2: media path leads outside the folder of the input file`);
    expect(r.stderr).toContain(`${file}:3: media path leads outside the folder of the input file`);
    expect(r.stderr).toContain(`${file}:4: media path leads outside the folder of the input file`);
    expect(r.stderr).toContain(`${file}:5: media path is a symbolic link that leads outside the folder of the input file`);
    expect(r.stderr).toContain(`${file}:6: media path is a symbolic link that leads outside the folder of the input file`);
    expect(r.stderr).toContain(`${file}:8: media path is not a regular file`);
    // The refusal names no path and no secret.
    expect(r.stderr).not.toContain(s.env.TIPHUB_SECRET);
    expect(r.stderr).not.toContain('secret.jpg');

    // Nothing from outside reached the store: only the inside picture, stored once.
    const stored = storedBytes(path.join(s.dataDir, 'media'));
    expect(stored.map((b) => b.toString('latin1'))).toEqual([jpeg('inside').toString('latin1')]);
    for (const b of stored) expect(b.includes(Buffer.from(s.env.TIPHUB_SECRET))).toBe(false);

    const db = await openPglite(path.join(s.dataDir, 'caselog'));
    try {
      const reports = await db.query<{ native_id: string }>('SELECT native_id FROM reports ORDER BY native_id');
      expect(reports.rows.map((x) => x.native_id)).toEqual(['c1', 'c7', 'c9']);
      const q = await db.query<{ source: string; code: string }>('SELECT source, code FROM quarantine ORDER BY id');
      expect(q.rows).toEqual(
        ['tips.jsonl:2', 'tips.jsonl:3', 'tips.jsonl:4', 'tips.jsonl:5', 'tips.jsonl:6', 'tips.jsonl:8'].map((source) => ({ source, code: 'TIPHUB_MEDIA_UNREADABLE' })),
      );
    } finally {
      await db.close();
    }
  });

  test('a far-future sentAt refuses that line with its number; the rest of the chunk lands', async () => {
    const file = path.join(s.dataDir, 'dates.jsonl');
    const lines = [
      { id: 'd1', from: 'u1', text: 'before the bad line', sentAt: '2026-06-10T05:00:00Z' },
      // Year 10000 in UTC: valid as written, no longer an ISO datetime once normalized.
      { id: 'd2', from: 'u2', text: 'from the far future', sentAt: '9999-12-31T23:59:59-14:00' },
      { id: 'd3', from: 'u3', text: 'from the near future', sentAt: '9999-01-01T00:00:00Z' },
      { id: 'd4', from: 'u4', text: 'after the bad lines', sentAt: '2026-06-10T05:01:00Z' },
    ];
    fs.writeFileSync(file, lines.map((l) => JSON.stringify(l)).join('\n') + '\n');
    const r = await runCli(['ingest', file], s.env);
    expect(r.stderr).toContain(`${file}:2: sentAt: more than a day in the future`);
    expect(r.stderr).toContain(`${file}:3: sentAt: more than a day in the future`);
    expect(r.stdout).toContain('ingest: 4 lines: 2 accepted, 0 already present, 2 rejected');
    expect(r.code).toBe(1);
    const db = await openPglite(path.join(s.dataDir, 'caselog'));
    try {
      const reports = await db.query<{ native_id: string }>('SELECT native_id FROM reports ORDER BY native_id');
      expect(reports.rows.map((x) => x.native_id)).toEqual(['d1', 'd4']);
      const q = await db.query<{ source: string }>('SELECT source FROM quarantine ORDER BY id');
      expect(q.rows.map((x) => x.source)).toEqual(['dates.jsonl:2', 'dates.jsonl:3']);
    } finally {
      await db.close();
    }
  });
});
