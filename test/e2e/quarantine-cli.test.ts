/**
 * Issue 10, item 16, from the command line: `tiphub quarantine list | show | purge` on the embedded
 * case log, opened here when no hub runs and through the hub's control socket when one does; the
 * hub purges what is older than the retention when it starts. No output carries a payload's values.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { capturingLogger, setup, type TestSetup } from '../helpers/env';
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
