/**
 * Issue 14, item 5, the way an operator runs it: `tiphub backup FILE` of a case log with photos,
 * `tiphub restore FILE` into a new data directory (and a new schema on PostgreSQL), whose verify
 * passes and whose export and media store equal the original's; a wrong passphrase, a truncated
 * or altered archive and a target in use are refused with nothing left behind; an archive made
 * before `tiphub keys rotate` opens with the secret kept aside, one made after with the new one.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { spawn } from 'node:child_process';
import sharp from 'sharp';
import { Client } from 'pg';
import { BACKENDS, createSchema, dropSchema, newSchema, setup, TEST_DATABASE_URL, tmpDir, type Backend, type TestSetup } from '../helpers/env';
import { BIN, runCli, startCli, type CliResult } from '../helpers/cli';

/** The program with `input` on its standard input (a passphrase). */
function runWithInput(args: string[], env: Record<string, string>, input: string): Promise<CliResult> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [BIN, ...args], { env: { PATH: process.env.PATH ?? '', ...env } });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d: Buffer) => (stdout += d.toString('utf8')));
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString('utf8')));
    child.on('error', reject);
    child.on('close', (code, signal) => resolve({ code, signal, stdout, stderr }));
    child.stdin.end(input);
  });
}

/** Every file of a media store: its path inside the store and its bytes' length. */
function mediaFiles(dataDir: string): Record<string, number> {
  const root = path.join(dataDir, 'media');
  const out: Record<string, number> = {};
  const walk = (d: string) => {
    if (!fs.existsSync(d)) return;
    for (const e of fs.readdirSync(d, { withFileTypes: true })) {
      const p = path.join(d, e.name);
      if (e.isDirectory()) walk(p);
      else out[path.relative(root, p)] = fs.statSync(p).size;
    }
  };
  walk(root);
  return out;
}

async function tablesIn(schema: string): Promise<number> {
  const c = new Client({ connectionString: TEST_DATABASE_URL });
  await c.connect();
  try {
    const { rows } = await c.query<{ n: number }>(`SELECT count(*)::int AS n FROM pg_tables WHERE schemaname = $1`, [schema]);
    return rows[0]!.n;
  } finally {
    await c.end();
  }
}

/** The case log's instance id: the outbox's and alerts' job ids are made of it. */
async function instanceIn(schema: string): Promise<string> {
  const c = new Client({ connectionString: TEST_DATABASE_URL });
  await c.connect();
  try {
    return (await c.query<{ value: string }>(`SELECT value FROM ${schema}.meta WHERE key = 'instance'`)).rows[0]!.value;
  } finally {
    await c.end();
  }
}

const svg = (hue: number) =>
  Buffer.from(`<svg xmlns="http://www.w3.org/2000/svg" width="640" height="480"><rect width="640" height="480" fill="hsl(${hue},60%,40%)"/><circle cx="300" cy="240" r="${90 + hue / 4}" fill="#f4f4f4"/></svg>`);

// Each test runs the program a dozen times (each opening the case log): more than the default time on a busy machine.
jest.setTimeout(600_000);

describe.each(BACKENDS)('backup and restore on %s', (backend: Backend) => {
  let s: TestSetup;
  let work: string;
  /** Places a restore goes to, each removed afterwards. */
  const targets: { dataDir: string; schema: string | null }[] = [];

  beforeEach(async () => {
    s = await setup(backend);
    work = tmpDir('tiphub-backup');
    fs.writeFileSync(path.join(work, 'truck.jpg'), await sharp(svg(30)).jpeg({ quality: 90 }).toBuffer());
    fs.writeFileSync(path.join(work, 'market.png'), await sharp(svg(200)).png().toBuffer());
    const lines = [
      { id: 'b1', from: '+9647700000101', text: 'Photo of the truck that carried the launchers this morning', media: [{ file: 'truck.jpg' }], sentAt: '2026-06-10T05:00:00Z' },
      { id: 'b2', from: '+9647700000102', text: 'The market is burning, picture attached', media: [{ file: 'market.png' }], sentAt: '2026-06-10T06:00:00Z' },
      { id: 'b3', from: '+9647700000103', text: 'Checkpoint closed near the old bridge since Monday evening', sentAt: '2026-06-10T07:00:00Z' },
    ];
    fs.writeFileSync(path.join(work, 'tips.jsonl'), lines.map((l) => JSON.stringify(l)).join('\n') + '\n');
    const ingest = await runCli(['ingest', path.join(work, 'tips.jsonl')], s.env);
    // A job re-run on a busy machine is counted as already present (issue 14, item 7): all three are in.
    expect({ stdout: ingest.stdout, stderr: ingest.stderr }).toEqual({ stdout: expect.stringMatching(/^ingest: 3 lines: \d accepted, \d already present, 0 rejected/), stderr: '' });
  });
  afterEach(async () => {
    for (const t of targets.splice(0)) {
      fs.rmSync(t.dataDir, { recursive: true, force: true });
      if (t.schema) await dropSchema(t.schema);
    }
    await s.cleanup();
    fs.rmSync(work, { recursive: true, force: true });
  });

  /** The environment of a new, empty place to restore into (a data directory; a schema on PostgreSQL). */
  async function newTarget(base: Record<string, string> = s.env): Promise<{ env: Record<string, string>; dataDir: string; schema: string | null }> {
    const dataDir = path.join(tmpDir('tiphub-restore'), 'data');
    const schema = backend === 'postgres' ? newSchema() : null;
    const env: Record<string, string> = { ...base, TIPHUB_DATA_DIR: dataDir };
    if (schema) env.DATABASE_URL = await createSchema(schema);
    targets.push({ dataDir: path.dirname(dataDir), schema });
    return { env, dataDir, schema };
  }

  const exportOf = async (env: Record<string, string>) => {
    const r = await runCli(['export'], env);
    expect(r.code).toBe(0);
    return r.stdout;
  };

  test('backup → restore into a new place → verify; export and media store equal the original', async () => {
    const before = await exportOf(s.env);
    expect(Object.keys(mediaFiles(s.dataDir))).toHaveLength(2);
    const file = path.join(work, 'nightly.tbk');
    const b = await runCli(['backup', file], s.env);
    expect(b.stderr).toMatch(/^backup: 3 cases, 3 reports, \d+ events, 2 media file\(s\) \(\d+ bytes\), schema \d+, in /m);
    expect(b.code).toBe(0);
    expect(fs.statSync(file).mode & 0o777).toBe(0o600);
    // Encrypted: no tip text, phone number or media bytes in clear.
    const bytes = fs.readFileSync(file);
    for (const clear of ['launchers', '+9647700000101', 'reports', 'JFIF']) expect(bytes.includes(Buffer.from(clear))).toBe(false);

    const t = await newTarget();
    const r = await runCli(['restore', file], t.env);
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/^restore: 3 cases, 3 reports, \d+ events, 2 media file\(s\)/m);
    expect(r.stdout).toMatch(/^verify: intact: 3 cases, 3 reports/m);
    expect(await exportOf(t.env)).toBe(before);
    expect(mediaFiles(t.dataDir)).toEqual(mediaFiles(s.dataDir));
    expect((await runCli(['verify'], t.env)).code).toBe(0);
    // A new lineage: its replies and alerts cannot take the job ids of the original's, still in Redis.
    if (t.schema) expect(await instanceIn(t.schema)).not.toBe(await instanceIn(s.schema!));
    // The restored log goes on: a new tip lands in it.
    fs.writeFileSync(path.join(work, 'more.jsonl'), JSON.stringify({ id: 'b4', from: '+9647700000104', text: 'A second fire at the market tonight, near the mosque' }) + '\n');
    expect((await runCli(['ingest', path.join(work, 'more.jsonl')], t.env)).stdout).toContain('1 accepted');
    expect((await runCli(['verify'], t.env)).stdout).toMatch(/^verify: intact: \d cases, 4 reports/);
  });

  test('an archive made before a key rotation opens with the secret kept aside; one made after, with the new secret', async () => {
    // The key file, as a new user has it: no TIPHUB_SECRET.
    const env = { ...s.env };
    delete env.TIPHUB_SECRET;
    if (backend === 'pglite') {
      // This setup's log was made under TIPHUB_SECRET: start one of the key file's own.
      env.TIPHUB_DATA_DIR = path.join(work, 'keyfile-data');
      expect((await runCli(['ingest', path.join(work, 'tips.jsonl')], env)).stdout).toContain('3 accepted');
    } else {
      fs.writeFileSync(path.join(s.dataDir, 'secret.key'), s.env.TIPHUB_SECRET! + '\n', { mode: 0o600 });
    }
    const before = await exportOf(env);
    const old = path.join(work, 'before-rotation.tbk');
    expect((await runCli(['backup', old], env)).code).toBe(0);
    const rot = await runCli(['keys', 'rotate'], env);
    expect(rot.code).toBe(0);
    const after = path.join(work, 'after-rotation.tbk');
    expect((await runCli(['backup', after], env)).code).toBe(0);
    const dataDir = env.TIPHUB_DATA_DIR!;
    const newKey = path.join(dataDir, 'secret.key');
    const oldKey = path.join(dataDir, fs.readdirSync(dataDir).find((n) => n.startsWith('secret.key.old-'))!);

    // The new secret does not open the older archive: a clear refusal, nothing restored.
    const t1 = await newTarget(env);
    const refused = await runCli(['restore', old, '--secret-file', newKey], t1.env);
    expect(refused.code).toBe(1);
    expect(refused.stderr).toMatch(/TIPHUB_BACKUP_KEY_WRONG: the archive was made under another secret/);
    expect(fs.existsSync(t1.dataDir)).toBe(false);
    // With the secret kept aside by the rotation it restores, and that secret becomes its key file.
    const r1 = await runCli(['restore', old, '--secret-file', oldKey], t1.env);
    expect(r1.stderr).toBe('');
    expect(r1.stdout).toMatch(/^verify: intact: 3 cases, 3 reports/m);
    expect(fs.readFileSync(path.join(t1.dataDir, 'secret.key'), 'utf8')).toBe(fs.readFileSync(oldKey, 'utf8'));
    expect(await exportOf(t1.env)).toBe(before);

    // The archive made after the rotation restores with the new key file in place.
    const t2 = await newTarget(env);
    fs.mkdirSync(t2.dataDir, { mode: 0o700 });
    fs.copyFileSync(newKey, path.join(t2.dataDir, 'secret.key'));
    const r2 = await runCli(['restore', after], t2.env);
    expect(r2.stderr).toBe('');
    expect(r2.stdout).toMatch(/^verify: intact: 3 cases, 3 reports/m);
    expect(await exportOf(t2.env)).toBe(before);
  });

  if (backend === 'pglite') {
    test('a passphrase archive: the right passphrase restores it, a wrong one is refused', async () => {
      const file = path.join(work, 'offsite.tbk');
      const b = await runWithInput(['backup', file, '--passphrase'], s.env, 'correct horse battery staple\n');
      expect(b.code).toBe(0);
      const t = await newTarget();
      const wrong = await runWithInput(['restore', file, '--passphrase'], t.env, 'correct horse battery stapler\n');
      expect(wrong.code).toBe(1);
      expect(wrong.stderr).toMatch(/TIPHUB_BACKUP_KEY_WRONG: the passphrase does not open this archive/);
      expect(fs.existsSync(t.dataDir)).toBe(false);
      // Without --passphrase the secret is refused too, by name.
      const noPass = await runCli(['restore', file], t.env);
      expect(noPass.stderr).toMatch(/TIPHUB_BACKUP_KEY_WRONG: this archive was made with a passphrase/);
      const short = await runWithInput(['backup', path.join(work, 'x.tbk'), '--passphrase'], s.env, 'short\n');
      expect(short.stderr).toMatch(/TIPHUB_CONFIG_INVALID: the passphrase must be at least 12 characters/);
      expect(fs.existsSync(path.join(work, 'x.tbk'))).toBe(false);

      const ok = await runWithInput(['restore', file, '--passphrase'], t.env, 'correct horse battery staple\n');
      expect(ok.stderr).toBe('');
      expect(ok.stdout).toMatch(/^verify: intact: 3 cases, 3 reports/m);
      expect(await exportOf(t.env)).toBe(await exportOf(s.env));
    });

    test('while the hub holds the embedded case log, the backup goes through it and tips keep landing; the archive restores', async () => {
      const hub = startCli(['start'], s.env);
      let before: string;
      const file = path.join(work, 'live.tbk');
      try {
        await hub.waitForOutput(/tiphub is running/);
        fs.writeFileSync(path.join(work, 'live.jsonl'), JSON.stringify({ id: 'b4', from: '+9647700000104', text: 'Convoy of white pickups heading north on the ring road' }) + '\n');
        expect((await runCli(['ingest', path.join(work, 'live.jsonl')], s.env)).stdout).toContain('1 accepted');
        before = await exportOf(s.env);
        const b = await runCli(['backup', file], s.env);
        expect(b.stderr).toMatch(/^backup: \d cases, 4 reports, \d+ events, 2 media file\(s\) \(\d+ bytes\), schema \d+, in /m);
        expect(b.code).toBe(0);
        for (const clear of ['pickups', '+9647700000104', 'JFIF']) expect(fs.readFileSync(file).includes(Buffer.from(clear))).toBe(false);
        // The hub went on: still holding the log, still taking tips.
        expect(hub.child.exitCode).toBeNull();
        fs.writeFileSync(path.join(work, 'later.jsonl'), JSON.stringify({ id: 'b5', from: '+9647700000105', text: 'Power cut in the whole eastern district since noon' }) + '\n');
        expect((await runCli(['ingest', path.join(work, 'later.jsonl')], s.env)).stdout).toContain('1 accepted');
      } finally {
        expect(await hub.stop()).toBe(0);
      }
      // The archive holds the log as it was when the backup ran: four reports, not the fifth.
      const t = await newTarget();
      const r = await runCli(['restore', file], t.env);
      expect(r.stderr).toBe('');
      expect(r.stdout).toMatch(/^verify: intact: \d cases, 4 reports/m);
      expect(await exportOf(t.env)).toBe(before);
      expect(mediaFiles(t.dataDir)).toEqual(mediaFiles(s.dataDir));
    });

    test('a truncated or altered archive is refused and leaves nothing behind', async () => {
      const file = path.join(work, 'b.tbk');
      expect((await runCli(['backup', file], s.env)).code).toBe(0);
      const bytes = fs.readFileSync(file);
      const cut = path.join(work, 'cut.tbk');
      fs.writeFileSync(cut, bytes.subarray(0, bytes.length - 100));
      const flipped = Buffer.from(bytes);
      flipped[Math.floor(bytes.length / 2)]! ^= 0x01;
      const altered = path.join(work, 'altered.tbk');
      fs.writeFileSync(altered, flipped);
      const lastChunkGone = path.join(work, 'short.tbk');
      fs.writeFileSync(lastChunkGone, bytes.subarray(0, 400));
      for (const [f, why] of [
        [cut, /TIPHUB_BACKUP_CORRUPT: .*(truncated|fails its authentication tag)/],
        [altered, /TIPHUB_BACKUP_CORRUPT: .*fails its authentication tag/],
        [lastChunkGone, /TIPHUB_BACKUP_CORRUPT: .*truncated/],
        [path.join(work, 'tips.jsonl'), /TIPHUB_BACKUP_CORRUPT: not a tiphub backup archive/],
      ] as const) {
        const t = await newTarget();
        const r = await runCli(['restore', f], t.env);
        expect(r.code).toBe(1);
        expect(r.stderr).toMatch(why);
        expect(fs.existsSync(t.dataDir)).toBe(false);
        expect(fs.readdirSync(path.dirname(t.dataDir))).toEqual([]);
      }
    });

    test('a data directory in use is refused before anything is read', async () => {
      const file = path.join(work, 'b.tbk');
      expect((await runCli(['backup', file], s.env)).code).toBe(0);
      const r = await runCli(['restore', file], s.env);
      expect(r.code).toBe(1);
      expect(r.stderr).toMatch(/TIPHUB_BACKUP_TARGET_NOT_EMPTY: the data directory .* is not empty/);
      const t = await newTarget();
      fs.mkdirSync(t.dataDir);
      fs.writeFileSync(path.join(t.dataDir, 'notes.txt'), 'mine');
      const r2 = await runCli(['restore', file], t.env);
      expect(r2.stderr).toMatch(/TIPHUB_BACKUP_TARGET_NOT_EMPTY/);
      expect(fs.readdirSync(t.dataDir)).toEqual(['notes.txt']);
    });
  } else {
    test('a schema that holds tables is refused, and a failed restore leaves the new schema empty', async () => {
      const file = path.join(work, 'b.tbk');
      expect((await runCli(['backup', file], s.env)).code).toBe(0);
      const t = await newTarget();
      const busy = await runCli(['restore', file], { ...t.env, DATABASE_URL: s.env.DATABASE_URL! });
      expect(busy.code).toBe(1);
      expect(busy.stderr).toMatch(/TIPHUB_BACKUP_TARGET_NOT_EMPTY: the PostgreSQL schema already holds \d+ table/);
      const bytes = fs.readFileSync(file);
      fs.writeFileSync(path.join(work, 'cut.tbk'), bytes.subarray(0, bytes.length - 50));
      const cut = await runCli(['restore', path.join(work, 'cut.tbk')], t.env);
      expect(cut.stderr).toMatch(/TIPHUB_BACKUP_CORRUPT/);
      expect(await tablesIn(t.schema!)).toBe(0);
      expect(fs.existsSync(t.dataDir)).toBe(false);
      // The same place then takes the whole archive.
      expect((await runCli(['restore', file], t.env)).stdout).toMatch(/^verify: intact: 3 cases, 3 reports/m);
    });
  }
});
