import * as fs from 'node:fs';
import * as path from 'node:path';
import { BACKENDS, setup, type TestSetup } from '../helpers/env';
import { runCli } from '../helpers/cli';
import { openPglite, openPostgres, type Db } from '../../src/caselog/db';

async function openDb(s: TestSetup): Promise<Db> {
  return s.env.DATABASE_URL ? openPostgres({ url: s.env.DATABASE_URL }) : openPglite(path.join(s.dataDir, 'caselog'));
}

describe.each(BACKENDS)('tiphub ingest on %s', (backend) => {
  let s: TestSetup;
  beforeEach(async () => {
    s = await setup(backend);
  });
  afterEach(async () => {
    await s.cleanup();
  });

  test('bad lines are reported with their line number and quarantined; the good lines land; a second run adds nothing', async () => {
    fs.writeFileSync(path.join(s.dataDir, 'photo.jpg'), Buffer.from([0xff, 0xd8, 0xff, 0xe0, 1, 2, 3, 4]));
    const lines = [
      JSON.stringify({ id: 'l1', from: '+9647701111111', name: 'A', text: 'Drone seen over the airport road', sentAt: '2026-06-10T05:00:00Z' }),
      '{"id": "l2", "from": oops}',
      JSON.stringify({ id: 'l3', from: 'u3', text: 'Photo from the market', media: [{ file: 'photo.jpg' }] }),
      JSON.stringify({ from: 'u4', text: 'no id here' }),
      JSON.stringify({ id: 'l5', from: 'u5', text: 42 }),
      JSON.stringify({ id: 'l6', from: 'u6', media: [{ file: 'missing.jpg' }] }),
      '',
      JSON.stringify({ id: 'l8', from: 'u8', text: 'Rocket launch seen from the east', sentAt: 'yesterday' }),
      JSON.stringify({ id: 'l9', from: 'u9', text: 'Checkpoint moved to the north gate', location: { lat: 36.3, lon: 43.1 } }),
    ];
    const file = path.join(s.dataDir, 'tips.jsonl');
    fs.writeFileSync(file, lines.join('\n') + '\n');

    const first = await runCli(['ingest', file], s.env);
    expect(first.stdout).toContain('ingest: 8 lines: 3 accepted, 0 already present, 5 rejected');
    expect(first.code).toBe(1);
    expect(first.stderr).toContain(`${file}:2: not valid JSON`);
    expect(first.stderr).toContain(`${file}:4: id: expected string`);
    expect(first.stderr).toContain(`${file}:5: text: expected string`);
    expect(first.stderr).toContain(`${file}:6: media file does not exist`);
    expect(first.stderr).toContain(`${file}:8: sentAt: not a valid datetime`);

    const db = await openDb(s);
    try {
      const reports = await db.query<{ native_id: string; origin: string }>('SELECT native_id, origin FROM reports ORDER BY native_id');
      expect(reports.rows).toEqual([
        { native_id: 'l1', origin: 'import' },
        { native_id: 'l3', origin: 'import' },
        { native_id: 'l9', origin: 'import' },
      ]);
      const q = await db.query<{ source: string; code: string }>('SELECT source, code FROM quarantine ORDER BY id');
      expect(q.rows.map((r) => r.source)).toEqual(['tips.jsonl:2', 'tips.jsonl:4', 'tips.jsonl:5', 'tips.jsonl:6', 'tips.jsonl:8']);
      const media = await db.query<{ state: string; sha256: string; mime: string }>(
        'SELECT rm.state, rm.sha256, m.mime FROM report_media rm JOIN media m USING (sha256)',
      );
      expect(media.rows).toEqual([{ state: 'stored', sha256: expect.stringMatching(/^[0-9a-f]{64}$/), mime: 'image/jpeg' }]);
      const stored = path.join(s.dataDir, 'media', media.rows[0]!.sha256.slice(0, 2), media.rows[0]!.sha256.slice(2, 4), media.rows[0]!.sha256);
      expect(fs.readFileSync(stored)).toEqual(fs.readFileSync(path.join(s.dataDir, 'photo.jpg')));
    } finally {
      await db.close();
    }

    // Only the good lines, twice: everything already present, exit 0.
    const good = path.join(s.dataDir, 'good.jsonl');
    fs.writeFileSync(good, [lines[0], lines[2], lines[8]].join('\n') + '\n');
    const second = await runCli(['ingest', good], s.env);
    expect(second.stdout).toContain('ingest: 3 lines: 0 accepted, 3 already present, 0 rejected');
    expect(second.code).toBe(0);
    const third = await runCli(['ingest', good], s.env);
    expect(third.stdout).toContain('ingest: 3 lines: 0 accepted, 3 already present, 0 rejected');
    expect(third.code).toBe(0);

    const db2 = await openDb(s);
    try {
      expect((await db2.query<{ n: number }>('SELECT count(*)::int AS n FROM reports')).rows[0]!.n).toBe(3);
    } finally {
      await db2.close();
    }

    const verify = await runCli(['verify'], s.env);
    expect(verify.stdout).toMatch(/^verify: intact: \d+ cases, 3 reports, \d+ events/);
    expect(verify.code).toBe(0);
  });
});
