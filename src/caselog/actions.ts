/**
 * What an operator does to a case (issue 11, item 1): one function per action, used by the CLI
 * and, later, by the dashboard's routes. Each is one transaction and records one event in the
 * case's chain with the operator's name as actor, so `verify` can fold the case's state from its
 * chain. Roles are the caller's business (the command line acts with admin rights); these
 * functions check what holds for everyone: a closing reason, a known operator, a tag's shape.
 * Errors carry codes and never quote a tip's text.
 */
import type { Db, Queryable } from './db';
import { addCaseText, appendCaseEvent, resolveCase } from './events';
import { parseCaseRef } from './refs';
import { isoMs } from './chain';
import { TiphubError, type ErrorCode } from '../errors';
import { PRIORITIES, type Priority } from '../tagging/vocabulary';

export const CASE_STATUSES = ['new', 'in_review', 'escalated', 'closed'] as const;
export type CaseStatus = (typeof CASE_STATUSES)[number];

export const CLOSE_REASONS = ['actioned', 'no-information', 'duplicate', 'spam', 'out-of-scope'] as const;
export type CloseReason = (typeof CLOSE_REASONS)[number];

/** A note, as a message: far above what anyone writes, far below harm. */
export const NOTE_MAX_BYTES = 64 * 1024;

/** A tag has the shape of the tagging vocabulary's names: lowercase words joined by dashes. */
const TAG_SHAPE = /^[a-z0-9]+(?:-[a-z0-9]+)*$/;
const TAG_MAX = 40;
/** The operators table's CHECK on a name. */
const OPERATOR_NAME = /^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$/;

/** What a refused input raises (the same code as an empty reply: the caller gave something invalid). */
const INPUT: ErrorCode = 'TIPHUB_CONFIG_INVALID';
/** An operator name that is no (enabled) operator. No code of its own yet: see the report. */
const OPERATOR_UNKNOWN: ErrorCode = 'TIPHUB_CONFIG_INVALID';

export const isCaseStatus = (v: unknown): v is CaseStatus => typeof v === 'string' && (CASE_STATUSES as readonly string[]).includes(v);
export const isCloseReason = (v: unknown): v is CloseReason => typeof v === 'string' && (CLOSE_REASONS as readonly string[]).includes(v);
const isPriority = (v: unknown): v is Priority => typeof v === 'string' && (PRIORITIES as readonly string[]).includes(v);

/** An operator's own input, quoted in an error: short, one line, no control characters. */
const quoted = (s: string) => JSON.stringify(s.slice(0, 40));

function caseRef(input: string): string {
  const r = parseCaseRef(input);
  if (!r) throw new TiphubError('TIPHUB_CASE_NOT_FOUND', `${quoted(input.slice(0, 20))} is not a case reference (like K7Q-4M2P)`);
  return r;
}

interface LockedCase {
  id: number;
  ref: string;
  status: string;
  close_reason: string | null;
  priority: string;
  assignee: string | null;
  tags: string[];
  tags_added: string[];
  tags_removed: string[];
}

/** The case a reference names now (merges followed), its row locked for this transaction. */
async function lockCase(tx: Queryable, input: string): Promise<LockedCase> {
  const ref = caseRef(input);
  const c = await resolveCase(tx, ref);
  if (!c) throw new TiphubError('TIPHUB_CASE_NOT_FOUND', `no case ${ref}`);
  const { rows } = await tx.query<LockedCase>(
    'SELECT id, ref, status, close_reason, priority, assignee, tags, tags_added, tags_removed FROM cases WHERE id = $1 FOR UPDATE',
    [c.id],
  );
  return rows[0]!;
}

/** Whether any operator account exists: until one does, names are not checked against the table. */
async function operatorsExist(q: Queryable): Promise<boolean> {
  const { rows } = await q.query('SELECT 1 FROM operators LIMIT 1');
  return rows.length > 0;
}

/** Refuses a name that is not an enabled operator (once any operator exists). */
async function requireOperator(q: Queryable, name: string, what: string): Promise<void> {
  if (!OPERATOR_NAME.test(name)) throw new TiphubError(INPUT, `${what} ${quoted(name)} is not an operator name (letters, digits, . _ -)`);
  const { rows } = await q.query<{ disabled: boolean }>('SELECT disabled_at IS NOT NULL AS disabled FROM operators WHERE name = $1', [name]);
  if (rows[0]?.disabled) throw new TiphubError(OPERATOR_UNKNOWN, `${what} ${name} is a disabled operator`);
  if (!rows[0] && (await operatorsExist(q))) throw new TiphubError(OPERATOR_UNKNOWN, `${what} ${name} is not an operator (see tiphub operator list)`);
}

/**
 * Who the command line records as actor. Once any operator exists, `--as NAME` (else the OS user's
 * name) must be an enabled operator; before that, nobody can be checked and the actor says so:
 * `local:<name>`.
 */
export async function resolveActor(q: Queryable, as: string | null, osUser: string): Promise<string> {
  if (!(await operatorsExist(q))) return `local:${(as ?? osUser).slice(0, 64)}`;
  if (as === null) {
    const { rows } = await q.query('SELECT 1 FROM operators WHERE name = $1 AND disabled_at IS NULL', [osUser]);
    if (rows.length) return osUser;
    throw new TiphubError(OPERATOR_UNKNOWN, `operators exist and ${quoted(osUser)} (your user name) is not one of them: say who acts with --as NAME`);
  }
  await requireOperator(q, as, '--as');
  return as;
}

export interface StatusChange {
  readonly ref: string;
  readonly status: CaseStatus;
  readonly reason: CloseReason | null;
  readonly from: string;
  /** False when the case already had that status (and reason): nothing was recorded. */
  readonly changed: boolean;
}

/**
 * new → in_review → escalated → closed; closing needs a reason from CLOSE_REASONS; any change
 * away from closed reopens the case and drops its reason.
 */
export async function setStatus(db: Db, ref: string, status: string, opts: { reason?: string | null; actor: string }): Promise<StatusChange> {
  if (!isCaseStatus(status)) throw new TiphubError(INPUT, `status ${quoted(status)} is not one of ${CASE_STATUSES.join(', ')}`);
  const reason = opts.reason ?? null;
  if (status === 'closed' && reason === null) throw new TiphubError(INPUT, `closing a case needs a reason: ${CLOSE_REASONS.join(', ')}`);
  if (status === 'closed' && !isCloseReason(reason)) throw new TiphubError(INPUT, `closing reason ${quoted(String(reason))} is not one of ${CLOSE_REASONS.join(', ')}`);
  if (status !== 'closed' && reason !== null) throw new TiphubError(INPUT, 'a reason is given only when closing a case');
  return db.transaction(async (tx) => {
    const c = await lockCase(tx, ref);
    const closeReason = status === 'closed' ? (reason as CloseReason) : null;
    if (c.status === status && (c.close_reason ?? null) === closeReason) return { ref: c.ref, status, reason: closeReason, from: c.status, changed: false };
    await tx.query('UPDATE cases SET status = $2, close_reason = $3, updated_at = now() WHERE id = $1', [c.id, status, closeReason]);
    await appendCaseEvent(tx, c.id, 'case.status', opts.actor, closeReason ? { status, reason: closeReason, from: c.status } : { status, from: c.status });
    return { ref: c.ref, status, reason: closeReason, from: c.status, changed: true };
  });
}

/** Assigns the case to an operator (an enabled one, once any exists), or to nobody (null). */
export async function assign(db: Db, ref: string, to: string | null, actor: string): Promise<{ ref: string; to: string | null; from: string | null; changed: boolean }> {
  return db.transaction(async (tx) => {
    if (to !== null) await requireOperator(tx, to, 'assignee');
    const c = await lockCase(tx, ref);
    const from = c.assignee ?? null;
    if (from === to) return { ref: c.ref, to, from, changed: false };
    await tx.query('UPDATE cases SET assignee = $2, updated_at = now() WHERE id = $1', [c.id, to]);
    await appendCaseEvent(tx, c.id, 'case.assigned', actor, { to, from });
    return { ref: c.ref, to, from, changed: true };
  });
}

/** An operator's priority (intake may still raise it later, never lower it). */
export async function setPriority(db: Db, ref: string, priority: string, actor: string): Promise<{ ref: string; priority: Priority; from: string; changed: boolean }> {
  if (!isPriority(priority)) throw new TiphubError(INPUT, `priority ${quoted(priority)} is not one of ${PRIORITIES.join(', ')}`);
  return db.transaction(async (tx) => {
    const c = await lockCase(tx, ref);
    if (c.priority === priority) return { ref: c.ref, priority, from: c.priority, changed: false };
    await tx.query('UPDATE cases SET priority = $2, updated_at = now() WHERE id = $1', [c.id, priority]);
    await appendCaseEvent(tx, c.id, 'case.priority', actor, { priority, from: c.priority });
    return { ref: c.ref, priority, from: c.priority, changed: true };
  });
}

/** A tag as the vocabulary writes them: "Armed group" → "armed-group". Throws on anything else. */
export function normalizeTag(input: string): string {
  const t = input.normalize('NFKC').trim().toLowerCase().replace(/[\s_]+/g, '-');
  if (!t || t.length > TAG_MAX || !TAG_SHAPE.test(t)) {
    throw new TiphubError(INPUT, `tag ${quoted(input)} is not a tag name (lowercase letters and digits joined by dashes, like armed-group; at most ${TAG_MAX})`);
  }
  return t;
}

/** The tags an operator sees: the reports' tags with the operator's additions and removals. */
export function effectiveTags(c: { tags: readonly string[]; tags_added: readonly string[]; tags_removed: readonly string[] }): string[] {
  const removed = new Set(c.tags_removed);
  return [...new Set([...c.tags, ...c.tags_added])].filter((t) => !removed.has(t)).sort();
}

/**
 * Applies a `case.tags` event's {add, remove} to the operator's lists: an added tag is no longer
 * removed and the other way round. `verify` folds the chain with this same function.
 */
export function foldTags(state: { added: Set<string>; removed: Set<string> }, add: readonly string[], remove: readonly string[]): void {
  for (const t of add) {
    state.added.add(t);
    state.removed.delete(t);
  }
  for (const t of remove) {
    state.removed.add(t);
    state.added.delete(t);
  }
}

export interface TagChange {
  readonly ref: string;
  readonly add: string[];
  readonly remove: string[];
  /** The tags the operator sees now. */
  readonly tags: string[];
  readonly changed: boolean;
}

export async function editTags(db: Db, ref: string, edit: { add?: readonly string[]; remove?: readonly string[] }, actor: string): Promise<TagChange> {
  const add = [...new Set((edit.add ?? []).map(normalizeTag))].sort();
  const remove = [...new Set((edit.remove ?? []).map(normalizeTag))].sort();
  if (!add.length && !remove.length) throw new TiphubError(INPUT, 'no tag to add or remove (--add TAG, --remove TAG)');
  const both = add.filter((t) => remove.includes(t));
  if (both.length) throw new TiphubError(INPUT, `tag ${both[0]} is both added and removed`);
  return db.transaction(async (tx) => {
    const c = await lockCase(tx, ref);
    const state = { added: new Set(c.tags_added), removed: new Set(c.tags_removed) };
    foldTags(state, add, remove);
    const added = [...state.added].sort();
    const removed = [...state.removed].sort();
    const changed = added.join('|') !== [...c.tags_added].sort().join('|') || removed.join('|') !== [...c.tags_removed].sort().join('|');
    if (changed) {
      await tx.query('UPDATE cases SET tags_added = $2, tags_removed = $3, updated_at = now() WHERE id = $1', [c.id, added, removed]);
      await appendCaseEvent(tx, c.id, 'case.tags', actor, { add, remove });
    }
    return { ref: c.ref, add, remove, tags: effectiveTags({ tags: c.tags, tags_added: added, tags_removed: removed }), changed };
  });
}

/** A note on the case: sealed in case_texts, named by the event (a purge removes it, the chain stays). */
export async function addNote(db: Db, ref: string, text: string, actor: string): Promise<{ ref: string; note: string }> {
  const t = text.trim();
  if (!t) throw new TiphubError(INPUT, 'the note is empty; nothing was recorded');
  const bytes = Buffer.byteLength(t, 'utf8');
  if (bytes > NOTE_MAX_BYTES) throw new TiphubError(INPUT, `the note is ${bytes} bytes, over the limit of ${NOTE_MAX_BYTES}; nothing was recorded`);
  return db.transaction(async (tx) => {
    const c = await lockCase(tx, ref);
    const written = await addCaseText(tx, c.id, 'note', t);
    await appendCaseEvent(tx, c.id, 'case.note', actor, written);
    return { ref: c.ref, note: written.text };
  });
}

// ---- reading a case ---------------------------------------------------------------------------

export const EXCERPT_CHARS = 200;

export interface CaseViewReport {
  readonly id: string;
  readonly sentAt: string;
  readonly receivedAt: string;
  readonly channel: string;
  readonly pseudonym: string;
  readonly language: string | null;
  readonly duplicate: { of: string; kind: string } | null;
  /** The first EXCERPT_CHARS characters, control characters made spaces (a tip may carry terminal escapes). */
  readonly excerpt: string | null;
  readonly truncated: boolean;
  readonly media: number;
}

export interface CaseView {
  readonly ref: string;
  /** Set when the reference asked for was merged into this case. */
  readonly asked: string | null;
  readonly status: string;
  readonly closeReason: string | null;
  readonly priority: string;
  readonly assignee: string | null;
  readonly tags: string[];
  readonly tagsAdded: string[];
  readonly tagsRemoved: string[];
  readonly places: string[];
  readonly flags: string[];
  readonly reportCount: number;
  readonly informantCount: number;
  readonly channels: string[];
  readonly firstReportAt: string | null;
  readonly lastReportAt: string | null;
  readonly notes: number;
  readonly reports: CaseViewReport[];
}

/** The start of a tip's text, safe to print on a terminal. */
function excerptOf(text: string | null): { excerpt: string | null; truncated: boolean } {
  if (text === null) return { excerpt: null, truncated: false };
  const chars = Array.from(text); // code points: an Arabic letter or an emoji is never cut in half
  return { excerpt: chars.slice(0, EXCERPT_CHARS).join('').replace(/\p{Cc}+/gu, ' '), truncated: chars.length > EXCERPT_CHARS };
}

/** What `tiphub case show` prints: the case and each report by pseudonym, never an address. */
export async function showCase(q: Queryable, ref: string): Promise<CaseView> {
  const asked = caseRef(ref);
  const resolved = await resolveCase(q, asked);
  if (!resolved) throw new TiphubError('TIPHUB_CASE_NOT_FOUND', `no case ${asked}`);
  const { rows } = await q.query<{
    ref: string; status: string; close_reason: string | null; priority: string; assignee: string | null; tags: string[]; tags_added: string[];
    tags_removed: string[]; places: string[]; flags: string[]; report_count: number; informant_count: number; channels: string[];
    first_report_at: Date | null; last_report_at: Date | null; notes: number;
  }>(
    `SELECT ref, status, close_reason, priority, assignee, tags, tags_added, tags_removed, places, flags, report_count, informant_count, channels,
            first_report_at, last_report_at, (SELECT count(*)::int FROM case_texts t WHERE t.case_id = cases.id AND t.kind = 'note') AS notes
       FROM cases WHERE id = $1`,
    [resolved.id],
  );
  const c = rows[0]!;
  const { rows: reports } = await q.query<{
    id: string; sent_at: Date; received_at: Date; channel: string; informant: string; language: string | null; duplicate_of: string | null;
    duplicate_kind: string | null; text: string | null; media: number;
  }>(
    `SELECT r.id, r.sent_at, r.received_at, r.channel, r.informant, r.language, r.duplicate_of, r.duplicate_kind, r.text,
            (SELECT count(*)::int FROM report_media rm WHERE rm.report_id = r.id) AS media
       FROM reports r WHERE r.case_id = $1 ORDER BY r.sent_at, r.id`,
    [resolved.id],
  );
  return {
    ref: c.ref,
    asked: asked === c.ref ? null : asked,
    status: c.status,
    closeReason: c.close_reason,
    priority: c.priority,
    assignee: c.assignee,
    tags: effectiveTags(c),
    tagsAdded: [...c.tags_added].sort(),
    tagsRemoved: [...c.tags_removed].sort(),
    places: c.places,
    flags: c.flags,
    reportCount: c.report_count,
    informantCount: c.informant_count,
    channels: c.channels,
    firstReportAt: c.first_report_at ? isoMs(c.first_report_at) : null,
    lastReportAt: c.last_report_at ? isoMs(c.last_report_at) : null,
    notes: c.notes,
    reports: reports.map((r) => ({
      id: r.id,
      sentAt: isoMs(r.sent_at),
      receivedAt: isoMs(r.received_at),
      channel: r.channel,
      pseudonym: r.informant,
      language: r.language,
      duplicate: r.duplicate_of && r.duplicate_kind ? { of: r.duplicate_of, kind: r.duplicate_kind } : null,
      ...excerptOf(r.text),
      media: r.media,
    })),
  };
}

/** `tiphub case show` on a terminal. */
export function formatCaseView(v: CaseView): string {
  const list = (xs: readonly string[]) => (xs.length ? xs.join(', ') : '-');
  const lines = [
    `case ${v.ref}${v.asked ? ` (${v.asked} was merged into it)` : ''}`,
    `  status:     ${v.status}${v.closeReason ? ` (${v.closeReason})` : ''}`,
    `  priority:   ${v.priority}`,
    `  assignee:   ${v.assignee ?? '-'}`,
    `  tags:       ${list(v.tags)}${v.tagsAdded.length || v.tagsRemoved.length ? `  (operator: ${[...v.tagsAdded.map((t) => `+${t}`), ...v.tagsRemoved.map((t) => `-${t}`)].join(' ')})` : ''}`,
    `  places:     ${list(v.places)}`,
    ...(v.flags.length ? [`  flags:      ${list(v.flags)}`] : []),
    `  reports:    ${v.reportCount} from ${v.informantCount} informant(s) on ${list(v.channels)}`,
    `  first/last: ${v.firstReportAt ?? '-'} / ${v.lastReportAt ?? '-'}`,
    `  notes:      ${v.notes}`,
    '',
  ];
  for (const r of v.reports) {
    const dup = r.duplicate ? `  ${r.duplicate.kind} of ${r.duplicate.of}` : '';
    lines.push(`${r.id}  ${r.sentAt}  ${r.channel}  ${r.pseudonym}  ${r.language ?? '-'}${dup}${r.media ? `  ${r.media} media` : ''}`);
    lines.push(`    ${r.excerpt === null ? '(no text)' : r.excerpt + (r.truncated ? ' …' : '')}`);
  }
  return lines.join('\n').trimEnd();
}
