/**
 * `verify`: walks every case's event chain (keyed hashes), checks each recorded report, its media,
 * its duplicate link and the texts events name against what the chain says, folds the case's
 * status and closing reason, priority, flags, assignee, operator tags and merge from its events, recounts its counters from its
 * reports, checks every informant's log chain and blocked flag, and checks the anchors: a keyed
 * root over every case's head as last anchored, so a case deleted with all its events, or a chain
 * cut short and re-headed, is found too. Each finding says which kind of tampering it shows.
 */
import { keysOf, type Queryable } from './db';
import { anchorMac, anchorTerm, eventHash, informantLogHash, isoMs, legacyReportHash, reportHash, textHash, xorInto } from './chain';
import { casePages, contentOfRow, legacyContentOfRow, reportsOfCases } from './read';
import { sealRow } from '../crypto/keyring';
import { foldTags, isCloseReason } from './actions';

/**
 * - `rewritten`: an event, a report, a text or a field differs from what the chain recorded;
 * - `deleted-report`: a report the chain records is gone;
 * - `deleted-case`: an anchored case is gone;
 * - `truncated`: a chain is shorter than anchored, or its last events are gone;
 * - `unrecorded`: a row no event records (inserted behind the log's back);
 * - `counter`: a counter differs from the rows it counts;
 * - `anchor`: the anchors themselves were altered.
 */
export type VerifyKind = 'rewritten' | 'deleted-report' | 'deleted-case' | 'truncated' | 'unrecorded' | 'counter' | 'anchor';

export interface VerifyProblem {
  readonly kind: VerifyKind;
  /** A case reference, `informant <pseudonym>`, or `anchors`. */
  readonly caseRef: string;
  readonly event: number | null;
  readonly what: string;
}

export interface VerifyResult {
  readonly ok: boolean;
  readonly cases: number;
  readonly reports: number;
  readonly events: number;
  readonly informants: number;
  /** When the newest anchor was written (null when the log has none yet). */
  readonly anchoredAt: string | null;
  readonly problems: VerifyProblem[];
}

interface EventRow {
  case_id: number;
  seq: number;
  at: Date;
  kind: string;
  actor: string;
  data: Record<string, unknown>;
  prev_hash: string | null;
  hash: string;
}

interface Anchored {
  seq: number;
  hash: string;
  report_count: number;
}

const sameSet = (a: readonly string[], b: readonly string[]) => [...new Set(a)].sort().join('|') === [...new Set(b)].sort().join('|');

export async function verifyCaseLog(q: Queryable, opts: { maxProblems?: number; pageSize?: number } = {}): Promise<VerifyResult> {
  const keys = keysOf(q);
  const maxProblems = opts.maxProblems ?? 100;
  const problems: VerifyProblem[] = [];
  const add = (p: VerifyProblem) => {
    if (problems.length < maxProblems) problems.push(p);
  };
  let cases = 0;
  let reports = 0;
  let events = 0;

  // The anchors: the newest root must be what the anchored heads give, under the audit key.
  const anchors = (await q.query<{ case_id: number; seq: number; hash: string; report_count: number }>('SELECT case_id, seq, hash, report_count FROM case_anchors')).rows;
  const anchoredCase = new Map<number, Anchored>(anchors.map((a) => [a.case_id, a]));
  const { rows: lastAnchor } = await q.query<{ at: Date; cases: number; root: string; mac: string }>('SELECT at, cases, root, mac FROM anchors ORDER BY id DESC LIMIT 1');
  const anchor = lastAnchor[0] ?? null;
  if (anchor) {
    const root = Buffer.alloc(32);
    for (const a of anchors) xorInto(root, anchorTerm(keys, { caseId: a.case_id, seq: a.seq, hash: a.hash, reportCount: a.report_count }));
    if (anchorMac(keys, { root: anchor.root, cases: anchor.cases, at: isoMs(anchor.at) }) !== anchor.mac) {
      add({ kind: 'anchor', caseRef: 'anchors', event: null, what: 'the newest anchor was not written with this case log’s audit key' });
    } else if (root.toString('hex') !== anchor.root || anchor.cases !== anchors.length) {
      add({ kind: 'anchor', caseRef: 'anchors', event: null, what: `the anchored heads (${anchors.length} cases) do not give the anchored root (${anchor.cases} cases): anchors were altered` });
    }
  } else if (anchors.length) {
    add({ kind: 'anchor', caseRef: 'anchors', event: null, what: 'case heads are anchored but no anchor root exists: the anchors were deleted' });
  }
  const seenCases = new Set<number>();
  // A case log before migration 6 (its tests verify one) has no operator columns yet.
  const { rows: opColumns } = await q.query(
    `SELECT 1 FROM information_schema.columns WHERE table_schema = current_schema() AND table_name = 'cases' AND column_name = 'tags_added'`,
  );
  const hasOperatorFields = opColumns.length > 0;

  for await (const page of casePages(q, opts.pageSize ?? 200, 'id')) {
    const ids = page.map((c) => c.id);
    const evRows = (
      await q.query<EventRow>(
        `SELECT case_id, seq, at, kind, actor, data, prev_hash, hash FROM events
          WHERE case_id IN (SELECT (jsonb_array_elements_text($1::jsonb))::int) ORDER BY case_id, seq`,
        [JSON.stringify(ids)],
      )
    ).rows;
    const evByCase = new Map<number, EventRow[]>(ids.map((id) => [id, []]));
    for (const e of evRows) evByCase.get(e.case_id)!.push(e);
    const repByCase = await reportsOfCases(q, ids);
    // What an operator sets beside the reports' own fields (migration 6): the closing reason and
    // the tags added and removed.
    const operatorFields = new Map(
      (hasOperatorFields
        ? await q.query<{ id: number; close_reason: string | null; tags_added: string[]; tags_removed: string[] }>(
          'SELECT id, close_reason, tags_added, tags_removed FROM cases WHERE id IN (SELECT (jsonb_array_elements_text($1::jsonb))::int)',
          [JSON.stringify(ids)],
        )
        : { rows: [] }
      ).rows.map((r) => [r.id, r]),
    );
    const texts = new Map(
      (
        await q.query<{ id: string; text_sealed: string | null }>(
          'SELECT id, text_sealed FROM case_texts WHERE case_id IN (SELECT (jsonb_array_elements_text($1::jsonb))::int)',
          [JSON.stringify(ids)],
        )
      ).rows.map((t) => [t.id, t.text_sealed]),
    );

    for (const c of page) {
      cases++;
      seenCases.add(c.id);
      const problem = (kind: VerifyKind, event: number | null, what: string) => add({ kind, caseRef: c.ref, event, what });
      const evs = evByCase.get(c.id)!;
      events += evs.length;
      const anchored = anchoredCase.get(c.id);
      // A purge (retention) empties a case and ends its chain with a tombstone; a text removed
      // without one is a deletion.
      const purgedAt = evs.reduce((n, e) => (e.kind === 'case.purged' ? e.seq : n), 0);
      // Fold the chain into the state it records.
      let prev: string | null = null;
      const state = {
        ref: null as string | null,
        status: null as string | null,
        closeReason: null as string | null,
        priority: null as string | null,
        assignee: null as string | null,
        mergedInto: null as string | null,
        flags: new Set<string>(),
        tags: { added: new Set<string>(), removed: new Set<string>() },
      };
      const subjects = new Map<string, string>();
      const duplicates = new Map<string, { of: string; kind: string } | null>();
      const media = new Map<string, { sha256: string | null; state: string }>();
      evs.forEach((e, i) => {
        if (e.seq !== i + 1) problem('truncated', e.seq, `event out of sequence (expected ${i + 1}): events were removed`);
        if (e.prev_hash !== prev) problem('rewritten', e.seq, 'event does not link to the previous one');
        const h = eventHash(keys, prev, { caseRef: c.ref, seq: e.seq, at: isoMs(e.at), kind: e.kind, actor: e.actor, data: e.data });
        if (h !== e.hash) problem('rewritten', e.seq, 'event hash mismatch: the event or the case reference was altered');
        prev = e.hash;
        const d = e.data;
        switch (e.kind) {
          case 'case.opened':
            state.ref = String(d.ref);
            state.status = String(d.status);
            state.priority = String(d.priority);
            break;
          case 'case.status':
            state.status = String(d.status);
            // Only an operator's closing carries a reason of the list (a merge's says where to).
            state.closeReason = state.status === 'closed' && isCloseReason(d.reason) ? d.reason : null;
            break;
          case 'case.tags':
            foldTags(state.tags, Array.isArray(d.add) ? d.add.map(String) : [], Array.isArray(d.remove) ? d.remove.map(String) : []);
            break;
          case 'case.priority':
            state.priority = String(d.priority);
            break;
          case 'case.assigned':
            state.assignee = typeof d.to === 'string' ? d.to : null;
            break;
          case 'case.merging':
            state.mergedInto = String(d.into);
            break;
          case 'case.flagged':
            state.flags.add(String(d.flag));
            break;
          case 'case.unflagged':
            state.flags.delete(String(d.flag));
            break;
          case 'case.purged': // retention: every report went with it
            subjects.clear();
            break;
          case 'report.added':
          case 'report.moved-in': {
            const report = String(d.report);
            subjects.set(report, String(d.subject));
            if (e.kind === 'report.added' || d.duplicate !== undefined) duplicates.set(report, (d.duplicate as { of: string; kind: string } | undefined) ?? null);
            if (Array.isArray(d.media)) for (const m of d.media as { idx: number; sha256: string | null; state: string }[]) media.set(`${report}\u0000${m.idx}`, { sha256: m.sha256, state: m.state });
            break;
          }
          case 'report.resealed': // a key rotation: the same content, its subject in today's form
            if (subjects.has(String(d.report))) subjects.set(String(d.report), String(d.subject));
            break;
          case 'report.moved-out':
            subjects.delete(String(d.report));
            break;
          case 'media.stored':
            media.set(`${String(d.report)}\u0000${String(d.idx)}`, { sha256: String(d.sha256), state: 'stored' });
            break;
          case 'media.missing':
            media.set(`${String(d.report)}\u0000${String(d.idx)}`, { sha256: null, state: 'missing' });
            break;
          default:
            break;
        }
        // A text an event names (a reply, a sent message, a note): its row must still say the same.
        if (typeof d.text === 'string' && typeof d.textHash === 'string') {
          if (!texts.has(d.text)) problem('deleted-report', e.seq, `text ${d.text} the event names is gone`);
          else if (texts.get(d.text) === null) {
            if (purgedAt < e.seq) problem('deleted-report', e.seq, `text ${d.text} was removed, and no purge records it`);
          } else {
            const sealed = texts.get(d.text);
            let same: boolean;
            try {
              same = sealed !== null && textHash(keys, d.text, keys.unseal<string>(sealed!, sealRow.text(d.text))) === d.textHash;
            } catch {
              same = false;
            }
            if (!same) problem('rewritten', e.seq, `text ${d.text} differs from the one recorded`);
          }
        }
        if (anchored && e.seq === anchored.seq) {
          if (e.hash !== anchored.hash) problem('rewritten', e.seq, 'the event anchored at this position was replaced');
          if (subjects.size !== anchored.report_count) problem('counter', e.seq, `anchored with ${anchored.report_count} reports, the chain records ${subjects.size} there`);
        }
      });
      if (!evs.length) problem('truncated', null, 'case has no events');
      if (anchored && evs.length < anchored.seq) problem('truncated', null, `chain has ${evs.length} events, ${anchored.seq} were anchored: its last events were removed`);
      if (c.head_hash !== prev || c.event_seq !== evs.length) problem('truncated', null, 'chain head does not match the last event (an event was removed or added)');
      if (state.ref !== null && state.ref !== c.ref) problem('rewritten', null, 'case reference differs from the one recorded');
      if (state.status !== null && state.status !== c.status) problem('rewritten', null, `status "${c.status}" differs from the recorded "${state.status}"`);
      const op = operatorFields.get(c.id);
      if (op && (op.close_reason ?? null) !== state.closeReason) problem('rewritten', null, `closing reason "${op.close_reason ?? ''}" differs from the recorded "${state.closeReason ?? ''}"`);
      if (op && !sameSet(op.tags_added, [...state.tags.added])) problem('rewritten', null, `tags added [${op.tags_added.join(', ')}] differ from the recorded [${[...state.tags.added].join(', ')}]`);
      if (op && !sameSet(op.tags_removed, [...state.tags.removed])) problem('rewritten', null, `tags removed [${op.tags_removed.join(', ')}] differ from the recorded [${[...state.tags.removed].join(', ')}]`);
      if (!sameSet([...state.flags], c.flags)) problem('rewritten', null, `flags [${c.flags.join(', ')}] differ from the recorded [${[...state.flags].join(', ')}]`);
      if (state.priority !== null && state.priority !== c.priority) problem('rewritten', null, `priority "${c.priority}" differs from the recorded "${state.priority}"`);
      if ((c.assignee ?? null) !== state.assignee) problem('rewritten', null, `assignee differs from the recorded one`);
      if ((c.merged_into_ref ?? null) !== state.mergedInto) problem('rewritten', null, `merge link differs from the recorded one`);

      const rs = repByCase.get(c.id)!;
      reports += rs.length;
      for (const r of rs) {
        const subject = subjects.get(r.id);
        if (!subject) {
          problem('unrecorded', null, `report ${r.id} is in the case but no event records it`);
          continue;
        }
        if (reportHash(keys, contentOfRow(r, keys)) !== subject && legacyReportHash(keys, legacyContentOfRow(r)) !== subject) problem('rewritten', null, `report ${r.id} was altered since it was recorded`);
        const dup = duplicates.get(r.id) ?? null;
        if ((r.duplicate_of ?? null) !== (dup?.of ?? null) || (r.duplicate_kind ?? null) !== (dup?.kind ?? null)) {
          problem('rewritten', null, `report ${r.id}: duplicate link differs from the recorded one`);
        }
        for (const m of r.media) {
          const want = media.get(`${r.id}\u0000${m.idx}`) ?? { sha256: null, state: 'pending' };
          if (m.state !== want.state || (m.sha256 ?? null) !== want.sha256) problem('rewritten', null, `report ${r.id} media ${m.idx}: ${m.state} differs from the recorded ${want.state}`);
        }
        subjects.delete(r.id);
      }
      for (const missing of subjects.keys()) problem('deleted-report', null, `report ${missing} is recorded but missing from the case`);

      const informants = new Set(rs.map((r) => r.informant)).size;
      const channels = [...new Set(rs.map((r) => r.channel))].sort();
      const times = rs.map((r) => isoMs(r.sent_at)).sort();
      {
        if (c.report_count !== rs.length) problem('counter', null, `report count ${c.report_count} but ${rs.length} reports`);
        if (c.informant_count !== informants) problem('counter', null, `informant count ${c.informant_count} but ${informants} informants`);
        if (!sameSet(c.channels, channels)) problem('counter', null, `channels [${c.channels.join(', ')}] but reports on [${channels.join(', ')}]`);
        if (!sameSet(c.tags, rs.flatMap((r) => r.tags))) problem('rewritten', null, `tags [${c.tags.join(', ')}] differ from its reports' tags`);
        if (!sameSet(c.places, rs.flatMap((r) => r.places))) problem('rewritten', null, `places differ from its reports' places`);
        const first = c.first_report_at ? isoMs(c.first_report_at) : null;
        const last = c.last_report_at ? isoMs(c.last_report_at) : null;
        if (rs.length && (first !== times[0] || last !== times[times.length - 1])) problem('counter', null, 'first/last report times do not match its reports');
      }
    }
  }
  for (const [caseId, a] of anchoredCase) {
    if (!seenCases.has(caseId)) add({ kind: 'deleted-case', caseRef: `case #${caseId}`, event: null, what: `an anchored case (${a.seq} events, ${a.report_count} reports) is gone` });
  }

  const informants = await verifyInformantLogs(q, add);
  return { ok: problems.length === 0, cases, reports, events, informants, anchoredAt: anchor ? isoMs(anchor.at) : null, problems };
}

/** Each informant's log chain, and the blocked flag its block/unblock entries give. */
async function verifyInformantLogs(q: Queryable, add: (p: VerifyProblem) => void): Promise<number> {
  const keys = keysOf(q);
  let count = 0;
  let after = '';
  for (;;) {
    const { rows: inf } = await q.query<{ pseudonym: string; blocked: boolean; log_seq: number; log_head: string | null }>(
      'SELECT pseudonym, blocked, log_seq, log_head FROM informants WHERE pseudonym > $1 ORDER BY pseudonym LIMIT 500',
      [after],
    );
    if (!inf.length) return count;
    after = inf[inf.length - 1]!.pseudonym;
    const { rows: log } = await q.query<{ pseudonym: string; seq: number | null; kind: string; actor: string; data: unknown; message_id: string | null; prev_hash: string | null; hash: string | null }>(
      `SELECT pseudonym, seq, kind, actor, data, message_id, prev_hash, hash FROM informant_log
        WHERE pseudonym IN (SELECT jsonb_array_elements_text($1::jsonb)) ORDER BY pseudonym, seq, id`,
      [JSON.stringify(inf.map((i) => i.pseudonym))],
    );
    const byInformant = new Map<string, typeof log>();
    for (const e of log) (byInformant.get(e.pseudonym) ?? byInformant.set(e.pseudonym, []).get(e.pseudonym)!).push(e);
    for (const i of inf) {
      count++;
      const who = `informant ${i.pseudonym}`;
      let prev: string | null = null;
      let blocked = false;
      const entries = byInformant.get(i.pseudonym) ?? [];
      entries.forEach((e, n) => {
        if (e.seq !== n + 1) add({ kind: 'truncated', caseRef: who, event: e.seq, what: `log entry out of sequence (expected ${n + 1}): entries were removed` });
        if (e.prev_hash !== prev) add({ kind: 'rewritten', caseRef: who, event: e.seq, what: 'log entry does not link to the previous one' });
        const h = informantLogHash(keys, prev, { pseudonym: i.pseudonym, seq: e.seq ?? 0, kind: e.kind, actor: e.actor, data: e.data, messageId: e.message_id });
        if (h !== e.hash) add({ kind: 'rewritten', caseRef: who, event: e.seq, what: 'log entry hash mismatch: the entry was altered' });
        prev = e.hash;
        if (e.kind === 'blocked') blocked = true;
        if (e.kind === 'unblocked') blocked = false;
      });
      if ((i.log_head ?? null) !== prev || i.log_seq !== entries.length) add({ kind: 'truncated', caseRef: who, event: null, what: 'log head does not match its last entry' });
      if (i.blocked !== blocked) add({ kind: 'rewritten', caseRef: who, event: null, what: `blocked is ${i.blocked}, the log records ${blocked}` });
    }
  }
}

export function formatVerify(r: VerifyResult): string {
  if (r.ok) {
    return `verify: intact: ${r.cases} cases, ${r.reports} reports, ${r.events} events, ${r.informants} informants` + (r.anchoredAt ? `; anchored ${r.anchoredAt}` : '; not anchored yet');
  }
  const lines = r.problems.map((p) => `[${p.kind}] ${p.caseRef.startsWith('informant ') || p.caseRef === 'anchors' || p.caseRef === 'operator audit' || p.caseRef.startsWith('case #') ? p.caseRef : `case ${p.caseRef}`}${p.event !== null ? ` event ${p.event}` : ''}: ${p.what}`);
  return `verify: FAILED: ${r.problems.length}${r.problems.length >= 100 ? '+' : ''} problem(s) in ${r.cases} cases\n${lines.join('\n')}`;
}
