/**
 * Issue 11, items 1 and 2: the operator actions on a case, each one event in its chain with the
 * operator as actor, and `verify` folding what they record (a closing reason, the operator's tags).
 */
import { BACKENDS } from '../helpers/env';
import { harness, type Harness } from '../helpers/harness';
import { addNote, assign, editTags, normalizeTag, resolveActor, setPriority, setStatus, showCase, NOTE_MAX_BYTES } from '../../src/caselog/actions';
import { verifyCaseLog } from '../../src/caselog/verify';
import { sealRow } from '../../src/crypto/keyring';
import { isTiphubError } from '../../src/errors';

describe.each(BACKENDS)('operator actions on a case on %s', (backend) => {
  let h: Harness;
  let ref: string;
  let caseId: number;
  beforeEach(async () => {
    h = await harness(backend, { conversation: { enabled: false } });
    await h.sink(h.message({ id: 'a1', from: 'u1', text: 'A drone flew over the airport road at dawn, very low', sentAt: '2026-06-10T05:00:00Z' }));
    await h.sink(h.message({ id: 'a2', from: 'u2', text: 'A drone flew over the airport road at dawn, very low', sentAt: '2026-06-10T05:02:00Z' }));
    h.startWorker();
    await h.drained();
    await h.stopWorker();
    const { rows } = await h.db.query<{ id: number; ref: string }>('SELECT id, ref FROM cases ORDER BY id LIMIT 1');
    ({ id: caseId, ref } = rows[0]!);
    expect((await verifyCaseLog(h.db)).problems).toEqual([]);
  });
  afterEach(async () => {
    await h.close();
  });

  const lastEvent = async () =>
    (await h.db.query<{ kind: string; actor: string; data: Record<string, unknown> }>('SELECT kind, actor, data FROM events WHERE case_id = $1 ORDER BY seq DESC LIMIT 1', [caseId])).rows[0]!;
  const row = async () =>
    (
      await h.db.query<{ status: string; close_reason: string | null; priority: string; assignee: string | null; tags: string[]; tags_added: string[]; tags_removed: string[] }>(
        'SELECT status, close_reason, priority, assignee, tags, tags_added, tags_removed FROM cases WHERE id = $1',
        [caseId],
      )
    ).rows[0]!;
  const events = () => h.count('SELECT count(*) AS n FROM events WHERE case_id = $1', [caseId]);
  const intact = async () => expect((await verifyCaseLog(h.db)).problems).toEqual([]);
  const code = (p: Promise<unknown>) => p.then(() => 'resolved', (e: unknown) => (isTiphubError(e) ? e.code : String(e)));
  const addOperator = (name: string, disabled = false) =>
    h.db.query(`INSERT INTO operators (name, role, disabled_at) VALUES ($1, 'analyst', ${disabled ? 'now()' : 'NULL'})`, [name]);

  test('status: each change an event {status, from[, reason]}; closing needs a reason of the list; reopening clears it', async () => {
    expect(await setStatus(h.db, ref.toLowerCase().replace('-', ''), 'in_review', { actor: 'amina' })).toMatchObject({ ref, status: 'in_review', from: 'new', changed: true });
    expect(await lastEvent()).toEqual({ kind: 'case.status', actor: 'amina', data: { status: 'in_review', from: 'new' } });
    await setStatus(h.db, ref, 'escalated', { actor: 'amina' });

    const n = await events();
    expect(await code(setStatus(h.db, ref, 'closed', { actor: 'amina' }))).toBe('TIPHUB_CONFIG_INVALID');
    expect(await code(setStatus(h.db, ref, 'closed', { reason: 'bored', actor: 'amina' }))).toBe('TIPHUB_CONFIG_INVALID');
    expect(await code(setStatus(h.db, ref, 'in_review', { reason: 'spam', actor: 'amina' }))).toBe('TIPHUB_CONFIG_INVALID');
    expect(await code(setStatus(h.db, ref, 'triage', { actor: 'amina' }))).toBe('TIPHUB_CONFIG_INVALID');
    expect(await code(setStatus(h.db, 'ZZZ-ZZZZ', 'new', { actor: 'amina' }))).toBe('TIPHUB_CASE_NOT_FOUND');
    expect(await events()).toBe(n);

    expect(await setStatus(h.db, ref, 'closed', { reason: 'no-information', actor: 'amina' })).toMatchObject({ status: 'closed', reason: 'no-information', from: 'escalated' });
    expect(await lastEvent()).toEqual({ kind: 'case.status', actor: 'amina', data: { status: 'closed', reason: 'no-information', from: 'escalated' } });
    expect(await row()).toMatchObject({ status: 'closed', close_reason: 'no-information' });
    await intact();
    // The same again records nothing; another reason is a change.
    expect((await setStatus(h.db, ref, 'closed', { reason: 'no-information', actor: 'amina' })).changed).toBe(false);
    await setStatus(h.db, ref, 'closed', { reason: 'spam', actor: 'amina' });
    expect(await row()).toMatchObject({ status: 'closed', close_reason: 'spam' });
    await intact();

    // Reopen.
    expect(await setStatus(h.db, ref, 'in_review', { actor: 'bashir' })).toMatchObject({ from: 'closed', changed: true });
    expect(await row()).toMatchObject({ status: 'in_review', close_reason: null });
    expect(await lastEvent()).toEqual({ kind: 'case.status', actor: 'bashir', data: { status: 'in_review', from: 'closed' } });
    await intact();
  });

  test('priority and assignee: an event each; the assignee must be an enabled operator once any exists', async () => {
    expect(await setPriority(h.db, ref, 'urgent', 'amina')).toMatchObject({ priority: 'urgent', changed: true });
    expect(await lastEvent()).toMatchObject({ kind: 'case.priority', actor: 'amina', data: { priority: 'urgent' } });
    expect(await code(setPriority(h.db, ref, 'critical', 'amina'))).toBe('TIPHUB_CONFIG_INVALID');

    // No operator yet: any well-formed name.
    await assign(h.db, ref, 'someone', 'amina');
    expect(await lastEvent()).toEqual({ kind: 'case.assigned', actor: 'amina', data: { to: 'someone', from: null } });
    expect(await code(assign(h.db, ref, 'no spaces please', 'amina'))).toBe('TIPHUB_CONFIG_INVALID');

    await addOperator('amina');
    await addOperator('karim', true);
    const n = await events();
    expect(await code(assign(h.db, ref, 'nobody', 'amina'))).toBe('TIPHUB_CONFIG_INVALID');
    const disabled = await assign(h.db, ref, 'karim', 'amina').catch((e: Error) => e);
    expect((disabled as Error).message).toMatch(/karim is a disabled operator/);
    expect(await events()).toBe(n);
    expect(await assign(h.db, ref, 'amina', 'amina')).toMatchObject({ to: 'amina', from: 'someone', changed: true });
    expect((await row()).assignee).toBe('amina');
    expect(await assign(h.db, ref, null, 'amina')).toMatchObject({ to: null, changed: true });
    expect(await lastEvent()).toEqual({ kind: 'case.assigned', actor: 'amina', data: { to: null, from: 'amina' } });
    expect((await row()).assignee).toBeNull();
    await intact();
  });

  test('the actor: local:NAME before any operator exists, then an enabled operator only', async () => {
    expect(await resolveActor(h.db, null, 'root')).toBe('local:root');
    expect(await resolveActor(h.db, 'amina', 'root')).toBe('local:amina');
    await addOperator('amina');
    await addOperator('karim', true);
    expect(await resolveActor(h.db, 'amina', 'root')).toBe('amina');
    expect(await resolveActor(h.db, null, 'amina')).toBe('amina');
    expect(await code(resolveActor(h.db, null, 'root'))).toBe('TIPHUB_CONFIG_INVALID');
    expect(await code(resolveActor(h.db, 'karim', 'root'))).toBe('TIPHUB_CONFIG_INVALID');
    expect(await code(resolveActor(h.db, 'ghost', 'root'))).toBe('TIPHUB_CONFIG_INVALID');
  });

  test('tags: normalized, kept beside the reports’ tags, folded by verify', async () => {
    expect(normalizeTag(' Armed group ')).toBe('armed-group');
    expect(normalizeTag('needs_follow_up')).toBe('needs-follow-up');
    for (const bad of ['', '-x', 'a--b', 'tag!', 'x'.repeat(41), 'طائرة']) expect(() => normalizeTag(bad)).toThrow(/is not a tag name/);

    const before = await row();
    expect(before.tags).toContain('drone');
    const r = await editTags(h.db, ref, { add: ['Verified', 'needs follow-up'], remove: ['drone'] }, 'amina');
    expect(r).toMatchObject({ add: ['needs-follow-up', 'verified'], remove: ['drone'], changed: true });
    expect(r.tags).toEqual(before.tags.filter((t) => t !== 'drone').concat(['needs-follow-up', 'verified']).sort());
    expect(await lastEvent()).toEqual({ kind: 'case.tags', actor: 'amina', data: { add: ['needs-follow-up', 'verified'], remove: ['drone'] } });
    expect(await row()).toMatchObject({ tags: before.tags, tags_added: ['needs-follow-up', 'verified'], tags_removed: ['drone'] });
    await intact();

    // Adding back a removed tag, removing an added one.
    await editTags(h.db, ref, { add: ['drone'], remove: ['verified'] }, 'bashir');
    expect(await row()).toMatchObject({ tags_added: ['drone', 'needs-follow-up'], tags_removed: ['verified'] });
    expect((await showCase(h.db, ref)).tags).toEqual([...new Set([...before.tags, 'needs-follow-up'])].sort());
    await intact();

    const n = await events();
    expect((await editTags(h.db, ref, { add: ['drone'] }, 'bashir')).changed).toBe(false);
    expect(await code(editTags(h.db, ref, { add: ['x'], remove: ['x'] }, 'bashir'))).toBe('TIPHUB_CONFIG_INVALID');
    expect(await code(editTags(h.db, ref, {}, 'bashir'))).toBe('TIPHUB_CONFIG_INVALID');
    expect(await events()).toBe(n);
  });

  test('note: sealed in case_texts, named by its event, checked by verify; empty and oversized refused', async () => {
    const text = 'Called the district office; they confirm the flights. مراجعة';
    const r = await addNote(h.db, ref, `  ${text}\n`, 'amina');
    const ev = await lastEvent();
    expect(ev).toMatchObject({ kind: 'case.note', actor: 'amina', data: { text: r.note } });
    expect(typeof ev.data.textHash).toBe('string');
    const { rows } = await h.db.query<{ kind: string; text_sealed: string }>('SELECT kind, text_sealed FROM case_texts WHERE id = $1', [r.note]);
    expect(rows[0]!.kind).toBe('note');
    expect(rows[0]!.text_sealed).not.toContain('district');
    expect(h.keyring.unseal<string>(rows[0]!.text_sealed, sealRow.text(r.note))).toBe(text);
    await intact();
    expect((await showCase(h.db, ref)).notes).toBe(1);

    const n = await events();
    expect(await code(addNote(h.db, ref, ' \n ', 'amina'))).toBe('TIPHUB_CONFIG_INVALID');
    const big = await addNote(h.db, ref, 'x'.repeat(NOTE_MAX_BYTES + 1), 'amina').catch((e: Error) => e);
    expect((big as Error).message).toMatch(/over the limit/);
    expect((big as Error).message).not.toContain('xxxx');
    expect(await events()).toBe(n);

    // The note rewritten under the same key is found.
    await h.db.query('UPDATE case_texts SET text_sealed = $2 WHERE id = $1', [r.note, h.keyring.seal('Nothing to see', sealRow.text(r.note))]);
    const v = await verifyCaseLog(h.db);
    expect(v.problems.map((p) => [p.kind, p.what])).toEqual([['rewritten', `text ${r.note} differs from the one recorded`]]);
  });

  test('show: the case and its reports by pseudonym, the start of each text, no address', async () => {
    await h.sink(h.message({ id: 'a3', from: '+9647701112233', text: `A drone flew over the airport road at dawn, very low \u001b[31m${'و'.repeat(300)}`, sentAt: '2026-06-10T05:03:00Z' }));
    h.startWorker();
    await h.drained();
    await h.stopWorker();
    await setStatus(h.db, ref, 'closed', { reason: 'actioned', actor: 'amina' });
    const v = await showCase(h.db, ref.toLowerCase());
    expect(v).toMatchObject({ ref, asked: null, status: 'closed', closeReason: 'actioned', priority: expect.any(String), assignee: null, channels: ['simulator'] });
    expect(v.tags).toContain('drone');
    expect(v.firstReportAt).toBe('2026-06-10T05:00:00.000Z');
    expect(v.reportCount).toBe(v.reports.length);
    expect(v.informantCount).toBe(new Set(v.reports.map((r) => r.pseudonym)).size);
    expect(v.reports[0]!.pseudonym).toBe(h.keyring.pseudonym('simulator', 'u1'));
    expect(v.reports[0]!.excerpt).toBe('A drone flew over the airport road at dawn, very low');
    expect(v.reports.some((r) => r.duplicate !== null)).toBe(true);
    // The long text (in whichever case grouping put it): 200 characters, no terminal escape, no address.
    const { rows } = await h.db.query<{ ref: string }>(`SELECT c.ref FROM reports r JOIN cases c ON c.id = r.case_id WHERE r.native_id = 'a3'`);
    const other = await showCase(h.db, rows[0]!.ref);
    const long = other.reports.find((r) => r.truncated)!;
    expect(Array.from(long.excerpt!)).toHaveLength(200);
    expect(long.excerpt).not.toContain('\u001b');
    for (const shown of [v, other]) expect(JSON.stringify(shown)).not.toContain('9647701112233');
    expect(await code(showCase(h.db, 'nonsense'))).toBe('TIPHUB_CASE_NOT_FOUND');
  });

  test('tampering: a closing reason or operator tags changed behind the log’s back is rewritten', async () => {
    await setStatus(h.db, ref, 'closed', { reason: 'spam', actor: 'amina' });
    await editTags(h.db, ref, { add: ['verified'], remove: ['drone'] }, 'amina');
    await intact();

    await h.db.query(`UPDATE cases SET close_reason = 'actioned' WHERE id = $1`, [caseId]);
    let v = await verifyCaseLog(h.db);
    expect(v.problems.map((p) => [p.kind, p.what])).toEqual([['rewritten', 'closing reason "actioned" differs from the recorded "spam"']]);
    await h.db.query(`UPDATE cases SET close_reason = 'spam', tags_added = '{verified,credible}' WHERE id = $1`, [caseId]);
    v = await verifyCaseLog(h.db);
    expect(v.problems.map((p) => p.kind)).toEqual(['rewritten']);
    expect(v.problems[0]!.what).toMatch(/tags added \[verified, credible\] differ from the recorded \[verified\]/);
    await h.db.query(`UPDATE cases SET tags_added = '{verified}', tags_removed = '{}' WHERE id = $1`, [caseId]);
    v = await verifyCaseLog(h.db);
    expect(v.problems.map((p) => [p.kind, p.what])).toEqual([['rewritten', 'tags removed [] differ from the recorded [drone]']]);
    // A reopened case keeping its old reason is caught too.
    await h.db.query(`UPDATE cases SET tags_removed = '{drone}' WHERE id = $1`, [caseId]);
    await setStatus(h.db, ref, 'in_review', { actor: 'amina' });
    await h.db.query(`UPDATE cases SET close_reason = 'spam' WHERE id = $1`, [caseId]);
    v = await verifyCaseLog(h.db);
    expect(v.problems.map((p) => p.kind)).toEqual(['rewritten']);
  });
});
