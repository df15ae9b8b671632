/**
 * Issue 10, item 16, from the command line: `tiphub quarantine list | show | purge` on the embedded
 * case log, opened here when no hub runs and through the hub's control socket when one does; the
 * hub purges what is older than the retention when it starts. No output carries a payload's values.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { BACKENDS, capturingLogger, setup, waitFor, type TestSetup } from '../helpers/env';
import { runCli, startCli, type Background } from '../helpers/cli';
import { openCaseLogAccess } from '../../app/hub/access';

const PHONE = '+9647700QMARK42';
const NAME = 'QNAMEMARKER';
const TEXT = 'QTEXTMARKER convoy on the river road';
const MARKERS = [PHONE, '9647700', NAME, 'QTEXTMARKER'];

const noMarkers = (text: string) => {
  for (const m of MARKERS) expect(text).not.toContain(m);
};

describe('tiphub quarantine, with and without a running hub (embedded case log)', () => {
  let s: TestSetup;
  let hub: Background | null = null;
  beforeAll(async () => {
    s = await setup('pglite');
  });
  afterAll(async () => {
    await hub?.stop('SIGKILL');
    await s.cleanup();
  });

  const idsOf = (list: string) => [...list.matchAll(/^\s*(\d+)\s{2}/gm)].map((m) => Number(m[1]));

  test('without a hub: list, show and purge open the case log here', async () => {
    const file = path.join(s.dataDir, 'tips.jsonl');
    fs.writeFileSync(
      file,
      [
        JSON.stringify({ id: 'q1', from: PHONE, name: NAME, text: 42 }),
        `{"id": "q2", "from": "${PHONE}", "text": "${TEXT}"`,
        JSON.stringify({ id: 'q3', from: 'u3', text: 'Drone seen over the airport road' }),
      ].join('\n') + '\n',
    );
    const ingest = await runCli(['ingest', file], s.env);
    expect(ingest.stdout).toContain('1 accepted, 0 already present, 2 rejected');

    const list = await runCli(['quarantine', 'list'], s.env);
    expect(list.code).toBe(0);
    expect(list.stdout).toContain('tips.jsonl:1');
    expect(list.stdout).toContain('tips.jsonl:2');
    expect(list.stdout).toContain('text: expected string');
    noMarkers(list.stdout + list.stderr);
    const ids = idsOf(list.stdout);
    expect(ids).toHaveLength(2);

    const show = await runCli(['quarantine', 'show', String(Math.min(...ids))], s.env);
    expect(show.code).toBe(0);
    expect(show.stdout).toContain('field:   text');
    expect(show.stdout).toMatch(/from: string of 15 chars/);
    expect(show.stdout).toMatch(/text: integer, 2 digits/);
    noMarkers(show.stdout + show.stderr);
    const broken = await runCli(['quarantine', 'show', String(Math.max(...ids))], s.env);
    expect(broken.stdout).toContain('not valid JSON');
    noMarkers(broken.stdout);

    const missing = await runCli(['quarantine', 'show', '99999'], s.env);
    expect(missing.code).toBe(1);
    expect(missing.stderr).toContain('no entry 99999');
    expect((await runCli(['quarantine', 'show', 'abc'], s.env)).code).toBe(1);
    // There is no raw dump.
    expect((await runCli(['quarantine', 'show', '--raw', String(ids[0])], s.env)).code).not.toBe(0);

    // Within the 90-day default nothing goes.
    const purge = await runCli(['quarantine', 'purge'], s.env);
    expect(purge.stdout).toContain('quarantine: 0 entries older than 90 days deleted');
  });

  test('the hub purges what is older than the retention at start; the commands then go through it', async () => {
    // One entry quarantined long ago (no hub runs: the case log opens here).
    const access = await openCaseLogAccess(s.cfg, capturingLogger().log, { role: 'test' });
    try {
      await access.local!.db.query(`UPDATE quarantine SET at = now() - interval '100 days' WHERE id = (SELECT min(id) FROM quarantine)`);
    } finally {
      await access.close();
    }

    hub = startCli(['start'], { ...s.env, TIPHUB_LOG_LEVEL: 'info' });
    await hub.waitForOutput(/"msg":"hub ready"/);
    expect(hub.output()).toMatch(/"deleted":1,"olderThanDays":90.*"msg":"quarantine purged"/);

    const list = await runCli(['quarantine', 'list'], s.env);
    expect(list.code).toBe(0);
    expect(list.stderr).not.toContain('case log opened');
    const ids = idsOf(list.stdout);
    expect(ids).toHaveLength(1);
    const show = await runCli(['quarantine', 'show', String(ids[0])], s.env);
    expect(show.code).toBe(0);
    expect(show.stdout).toContain('not valid JSON');
    noMarkers(show.stdout + show.stderr);
    expect((await runCli(['quarantine', 'show', '99999'], s.env)).stderr).toContain('no entry 99999');

    const purge = await runCli(['quarantine', 'purge', '--older-than', '0'], s.env);
    expect(purge.code).toBe(0);
    expect(purge.stdout).toContain('quarantine: 1 entry older than 0 days deleted');
    expect((await runCli(['quarantine', 'list'], s.env)).stdout).toContain('quarantine: empty');
    expect((await runCli(['quarantine', 'purge', '--older-than', '-3'], s.env)).code).toBe(1);
    noMarkers(hub.output());
  });
});

/**
 * Issue 14, item 4: `quarantine retry` after the cause is fixed (a photo an ingest line names put
 * in place), without a hub and through the running hub, and `quarantine drop`, recorded in the
 * operators' audit chain; on both back ends.
 */
describe.each(BACKENDS)('tiphub quarantine retry and drop on %s', (backend) => {
  jest.setTimeout(600_000);
  let s: TestSetup;
  let hub: Background | null = null;
  beforeAll(async () => {
    s = await setup(backend);
  });
  afterAll(async () => {
    await hub?.stop('SIGKILL');
    await s.cleanup();
  });

  // The machine may be busy: each command gets five minutes, not the helper's 90 s.
  const run = (args: string[], env: Record<string, string>) => runCli(args, env, { timeoutMs: 300_000 });
  const idsOf = (list: string) => [...list.matchAll(/^\s*(\d+)\s{2}/gm)].map((m) => Number(m[1]));
  const lineOf = (list: string, id: number) => list.split('\n').find((l) => new RegExp(`^\\s*${id}\\s{2}`).test(l)) ?? '';

  test('a line refused for a missing photo is retried once the photo is there; a bad one stays, then is dropped', async () => {
    const file = path.join(s.dataDir, 'tips.jsonl');
    fs.writeFileSync(
      file,
      [
        JSON.stringify({ id: 'r1', from: PHONE, name: NAME, text: `${TEXT} with a photo`, media: [{ file: 'later.jpg' }] }),
        JSON.stringify({ id: 'r2', from: PHONE, text: 42 }),
      ].join('\n') + '\n',
    );
    const ingest = await run(['ingest', file], s.env);
    expect(ingest.stdout).toContain('0 accepted, 0 already present, 2 rejected');
    const list = await run(['quarantine', 'list'], s.env);
    const ids = idsOf(list.stdout);
    expect(ids).toHaveLength(2);
    const [photo, bad] = [Math.min(...ids), Math.max(...ids)];
    expect(lineOf(list.stdout, photo)).toContain('TIPHUB_MEDIA_UNREADABLE');

    // The photo is still missing: the entry stays, with the reason, and the command says so.
    const early = await run(['quarantine', 'retry', String(photo)], s.env);
    expect(early.code).toBe(1);
    expect(early.stdout).toContain(`quarantine ${photo}: still refused: TIPHUB_MEDIA_UNREADABLE`);
    expect(idsOf((await run(['quarantine', 'list'], s.env)).stdout)).toEqual(expect.arrayContaining([photo, bad]));
    noMarkers(early.stdout + early.stderr);

    // Put in place, and retried through the running hub: queued, out of quarantine, then a report.
    fs.writeFileSync(path.join(s.dataDir, 'later.jpg'), Buffer.from([0xff, 0xd8, 0xff, 0xe0, 9, 8, 7, 6]));
    hub = startCli(['start'], { ...s.env, TIPHUB_LOG_LEVEL: 'info' });
    await hub.waitForOutput(/hub ready/);
    const retry = await run(['quarantine', 'retry', String(photo)], s.env);
    expect(retry.stdout).toContain(`quarantine ${photo}: queued for the case log; removed from quarantine`);
    expect(retry.code).toBe(0);
    noMarkers(retry.stdout + retry.stderr);
    const after = await run(['quarantine', 'list'], s.env);
    expect(idsOf(after.stdout)).toEqual([bad]);
    await waitFor(async () => (await run(['export', '--format', 'jsonl'], s.env)).stdout.includes(`${TEXT} with a photo`) || null, 30_000, 500);

    // The bad line is refused again by --all (nothing fixed it) and keeps its entry.
    const all = await run(['quarantine', 'retry', '--all'], s.env);
    expect(all.code).toBe(1);
    expect(all.stdout).toContain(`quarantine ${bad}: still refused: TIPHUB_INGEST_LINE_INVALID: text: expected string`);
    expect(all.stdout).toContain('quarantine: 0 of 1 retried entry left quarantine');

    // Dropped: not without --yes off a terminal; with it, gone, and recorded.
    const ask = await run(['quarantine', 'drop', String(bad)], s.env);
    expect(ask.code).toBe(1);
    expect(ask.stderr).toContain('not dropped');
    expect(idsOf((await run(['quarantine', 'list'], s.env)).stdout)).toEqual([bad]);
    const drop = await run(['quarantine', 'drop', String(bad), '--yes', '--as', 'night-shift'], s.env);
    expect(drop.code).toBe(0);
    expect(drop.stdout).toContain(`quarantine: entry ${bad} dropped`);
    expect((await run(['quarantine', 'list'], s.env)).stdout).toContain('quarantine: empty');
    expect((await run(['quarantine', 'drop', String(bad), '--yes'], s.env)).stderr).toContain(`no entry ${bad}`);
    noMarkers(hub.output());

    await hub.stop();
    hub = null;
    const access = await openCaseLogAccess(s.cfg, capturingLogger().log, { role: 'test' });
    try {
      const { rows } = await access.local!.db.query<{ operator: string; data: { id: number; code: string } }>(
        "SELECT operator, data FROM operator_audit WHERE action = 'quarantine.drop'",
      );
      expect(rows).toEqual([{ operator: expect.stringContaining('night-shift'), data: expect.objectContaining({ id: bad, code: 'TIPHUB_INGEST_LINE_INVALID' }) }]);
    } finally {
      await access.close();
    }
    expect((await run(['verify'], s.env)).code).toBe(0);
  });
});
