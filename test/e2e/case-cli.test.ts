/**
 * Issue 11, item 1, from the command line: `tiphub case show | status | assign | priority | tag |
 * note` on the embedded case log with a running hub (through its control socket) and without one,
 * and on PostgreSQL. Each records an event with the actor `--as` names (local:NAME before any
 * operator exists); `tiphub verify` agrees after them; no output carries an informant's address.
 */
import { spawn } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { capturingLogger, setup, type Backend, type TestSetup } from '../helpers/env';
import { BIN, runCli, startCli, type Background, type CliResult } from '../helpers/cli';
import { openCaseLogAccess } from '../../app/hub/access';
import type { Queryable } from '../../src/caselog/db';
import { sealRow, type Keyring } from '../../src/crypto/keyring';
import type { CaseView } from '../../src/caselog/actions';

const ADDRESS = '+9647700CASECLI7';
const NOTE = 'Checked with the district office: two flights confirmed. تم التحقق';

/** The CLI with `input` on its standard input (runCli passes none). */
function runWithStdin(args: string[], env: Record<string, string>, input: string): Promise<CliResult> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [BIN, ...args], { env: { PATH: process.env.PATH ?? '', ...env } });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d: Buffer) => (stdout += d.toString('utf8')));
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString('utf8')));
    child.stdin.on('error', () => undefined);
    child.stdin.end(input);
    const timer = setTimeout(() => child.kill('SIGKILL'), 90_000);
    child.on('error', reject);
    child.on('close', (code, signal) => {
      clearTimeout(timer);
      resolve({ code, signal, stdout, stderr });
    });
  });
}

const scenarios: [string, Backend, boolean][] = [
  ['PGlite, no hub', 'pglite', false],
  ['PGlite, through the running hub', 'pglite', true],
  ['PostgreSQL', 'postgres', false],
];

describe.each(scenarios)('tiphub case commands on %s', (_label, backend, withHub) => {
  let s: TestSetup;
  let hub: Background | null = null;
  const me = os.userInfo().username;

  const startHub = async () => {
    hub = startCli(['start'], s.env);
    await hub.waitForOutput(/tiphub is running/);
  };
  const stopHub = async () => {
    await hub?.stop();
    hub = null;
  };
  /** The case log opened in this process (the hub, when one runs, is stopped meanwhile). */
  const inProcess = async <T>(fn: (db: Queryable, keyring: Keyring) => Promise<T>): Promise<T> => {
    const running = hub !== null;
    if (running) await stopHub();
    const access = await openCaseLogAccess(s.cfg, capturingLogger().log, { role: 'test' });
    try {
      return await fn(access.local!.db, access.keyring);
    } finally {
      await access.close();
      if (running) await startHub();
    }
  };
  const cli = (...args: string[]) => runCli(args, s.env);
  const ok = async (...args: string[]) => {
    const r = await cli(...args);
    expect({ args, code: r.code, stderr: r.stderr }).toEqual({ args, code: 0, stderr: expect.any(String) });
    expect(r.stdout + r.stderr).not.toContain(ADDRESS);
    return r.stdout;
  };
  const refused = async (pattern: RegExp, ...args: string[]) => {
    const r = await cli(...args);
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(pattern);
    return r;
  };
  const show = async (ref: string) => JSON.parse(await ok('case', 'show', ref, '--json')) as CaseView;

  beforeAll(async () => {
    s = await setup(backend, { conversation: { enabled: false } });
    s.env.TIPHUB_LOG_LEVEL = 'warn';
    const file = path.join(s.dataDir, 'tips.jsonl');
    fs.writeFileSync(
      file,
      [
        { id: 'c1', from: ADDRESS, text: 'A drone flew low over the airport road at dawn', sentAt: '2026-06-10T05:00:00Z' },
        { id: 'c2', from: 'u2', text: 'A drone flew low over the airport road at dawn', sentAt: '2026-06-10T05:01:00Z' },
      ]
        .map((l) => JSON.stringify(l))
        .join('\n') + '\n',
    );
    const ingest = await runCli(['ingest', file], s.env);
    expect(ingest.stdout).toContain('2 accepted');
    if (withHub) await startHub();
  }, 120_000);
  afterAll(async () => {
    await hub?.stop('SIGKILL');
    await s?.cleanup();
  });

  test('show, status, priority, tag, assign, note; verify intact; events name the actor', async () => {
    const exported = await ok('export');
    const ref = (JSON.parse(exported.trim().split('\n')[0]!) as { ref: string }).ref;

    const text = await ok('case', 'show', ref);
    expect(text).toContain(`case ${ref}`);
    expect(text).toMatch(/status: +new/);
    expect(text).toContain('A drone flew low over the airport road at dawn');
    let v = await show(ref.toLowerCase());
    expect(v).toMatchObject({ ref, status: 'new', closeReason: null, reportCount: 2, informantCount: 2, channels: ['simulator'], notes: 0 });
    expect(v.reports.some((r) => r.duplicate)).toBe(true);
    expect(v.tags).toContain('drone');
    await refused(/TIPHUB_CASE_NOT_FOUND/, 'case', 'show', 'ZZZ-ZZZZ');

    // Status: closing needs a reason; reopening.
    expect(await ok('case', 'status', ref, 'in_review')).toContain(`case ${ref}: status new → in_review`);
    await refused(/TIPHUB_CONFIG_INVALID: closing a case needs a reason: actioned, no-information, duplicate, spam, out-of-scope/, 'case', 'status', ref, 'closed');
    await refused(/TIPHUB_CONFIG_INVALID/, 'case', 'status', ref, 'closed', '--reason', 'boredom');
    expect(await ok('case', 'status', ref, 'closed', '--reason', 'spam', '--as', 'amina')).toContain('in_review → closed (spam)');
    expect(await ok('case', 'status', ref, 'closed', '--reason', 'spam')).toContain('already closed (spam); nothing recorded');
    expect((await show(ref)).closeReason).toBe('spam');
    expect(await ok('case', 'status', ref, 'escalated')).toContain('closed → escalated');

    expect(await ok('case', 'priority', ref, 'urgent')).toMatch(/priority \w+ → urgent/);
    await refused(/TIPHUB_CONFIG_INVALID/, 'case', 'priority', ref, 'critical');
    expect(await ok('case', 'tag', ref, '--add', 'Verified', '--add', 'needs follow-up', '--remove', 'drone')).toContain('needs-follow-up');
    await refused(/is not a tag name/, 'case', 'tag', ref, '--add', 'no!');
    expect(await ok('case', 'assign', ref, 'karim')).toContain(`case ${ref}: assigned to karim`);
    expect(await ok('case', 'assign', ref, '--none')).toContain('assigned to nobody');
    await refused(/name the operator to assign, or give --none/, 'case', 'assign', ref);

    // The note from standard input; never from the command line.
    const note = await runWithStdin(['case', 'note', ref], s.env, NOTE + '\n');
    expect(note).toMatchObject({ code: 0 });
    expect(note.stdout).toMatch(new RegExp(`case ${ref}: note t[0-9a-f]+ recorded`));
    const noteId = /note (t[0-9a-f]+)/.exec(note.stdout)![1]!;
    expect((await runWithStdin(['case', 'note', ref, 'on the line'], s.env, NOTE)).code).not.toBe(0);
    expect((await runWithStdin(['case', 'note', ref], s.env, '  \n')).stderr).toMatch(/TIPHUB_CONFIG_INVALID: the note on case .* is empty/);

    v = await show(ref);
    expect(v).toMatchObject({ status: 'escalated', closeReason: null, priority: 'urgent', assignee: null, tagsAdded: ['needs-follow-up', 'verified'], tagsRemoved: ['drone'], notes: 1 });
    expect(v.tags).not.toContain('drone');
    expect(v.tags).toEqual(expect.arrayContaining(['needs-follow-up', 'verified']));
    expect(await ok('verify')).toMatch(/verify: intact/);

    // Operators exist from now on: --as must name an enabled one, and so must an assignee.
    const events = await inProcess(async (db, keyring) => {
      await db.query(`INSERT INTO operators (name, role) VALUES ('amina', 'supervisor'), ('bashir', 'analyst')`);
      await db.query(`INSERT INTO operators (name, role, disabled_at) VALUES ('karim', 'analyst', now())`);
      const { rows } = await db.query<{ text_sealed: string }>('SELECT text_sealed FROM case_texts WHERE id = $1', [noteId]);
      expect(keyring.unseal<string>(rows[0]!.text_sealed, sealRow.text(noteId))).toBe(NOTE);
      return (
        await db.query<{ kind: string; actor: string; data: Record<string, unknown> }>(
          `SELECT e.kind, e.actor, e.data FROM events e JOIN cases c ON c.id = e.case_id WHERE c.ref = $1 AND e.kind LIKE 'case.%' AND e.kind <> 'case.opened' ORDER BY e.seq`,
          [ref],
        )
      ).rows;
    });
    const local = `local:${me}`;
    expect(events.filter((e) => ['case.status', 'case.priority', 'case.tags', 'case.assigned', 'case.note'].includes(e.kind) && e.data.by !== 'rules')).toEqual([
      { kind: 'case.status', actor: local, data: { status: 'in_review', from: 'new' } },
      { kind: 'case.status', actor: 'local:amina', data: { status: 'closed', reason: 'spam', from: 'in_review' } },
      { kind: 'case.status', actor: local, data: { status: 'escalated', from: 'closed' } },
      { kind: 'case.priority', actor: local, data: { priority: 'urgent', from: expect.any(String) } },
      { kind: 'case.tags', actor: local, data: { add: ['needs-follow-up', 'verified'], remove: ['drone'] } },
      { kind: 'case.assigned', actor: local, data: { to: 'karim', from: null } },
      { kind: 'case.assigned', actor: local, data: { to: null, from: 'karim' } },
      { kind: 'case.note', actor: local, data: { text: noteId, textHash: expect.any(String) } },
    ]);

    if (me !== 'amina' && me !== 'bashir') await refused(/operators exist and .* is not one of them: say who acts with --as NAME/, 'case', 'priority', ref, 'low');
    await refused(/--as ghost is not an operator/, 'case', 'priority', ref, 'low', '--as', 'ghost');
    await refused(/--as karim is a disabled operator/, 'case', 'priority', ref, 'low', '--as', 'karim');
    // One rule for every command that acts: merge, split, block and reply too.
    await refused(/--as ghost is not an operator/, 'case', 'merge', ref, ref, '--as', 'ghost');
    await refused(/--as ghost is not an operator/, 'case', 'split', ref, '1', '--as', 'ghost');
    await refused(/--as karim is a disabled operator/, 'informant', 'block', 'no-such-pseudonym', '--as', 'karim');
    const reply = await runWithStdin(['reply', ref, '--as', 'ghost'], s.env, 'We received your message');
    expect({ code: reply.code, stderr: reply.stderr }).toEqual({ code: 1, stderr: expect.stringMatching(/--as ghost is not an operator/) });
    if (me !== 'amina' && me !== 'bashir') await refused(/operators exist and .* is not one of them/, 'informant', 'unblock', 'no-such-pseudonym');
    await refused(/assignee karim is a disabled operator/, 'case', 'assign', ref, 'karim', '--as', 'amina');
    await refused(/assignee ghost is not an operator/, 'case', 'assign', ref, 'ghost', '--as', 'amina');
    expect(await ok('case', 'assign', ref, 'bashir', '--as', 'amina')).toContain('assigned to bashir');
    expect(await ok('case', 'status', ref, 'closed', '--reason', 'actioned', '--as', 'amina')).toContain('escalated → closed (actioned)');
    const note2 = await runWithStdin(['case', 'note', ref, '--as', 'bashir'], s.env, 'Second note');
    expect(note2.code).toBe(0);
    v = await show(ref);
    expect(v).toMatchObject({ status: 'closed', closeReason: 'actioned', assignee: 'bashir', notes: 2 });
    expect(await ok('case', 'show', ref)).toMatch(/status: +closed \(actioned\)/);
    expect(await ok('verify')).toMatch(/verify: intact/);
    const last = await inProcess(async (db) =>
      (await db.query<{ kind: string; actor: string }>(`SELECT e.kind, e.actor FROM events e JOIN cases c ON c.id = e.case_id WHERE c.ref = $1 ORDER BY e.seq DESC LIMIT 3`, [ref])).rows,
    );
    expect(last).toEqual([
      { kind: 'case.note', actor: 'bashir' },
      { kind: 'case.status', actor: 'amina' },
      { kind: 'case.assigned', actor: 'amina' },
    ]);
    if (withHub) expect(hub!.output()).not.toContain(ADDRESS);
  }, 600_000);
});
