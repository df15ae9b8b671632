/**
 * `verify`: walks every case's event chain, checks each recorded report against the hash its
 * event carries, and recounts the case's counters from its reports.
 */
import type { Queryable } from './db';
import { eventHash, isoMs, reportHash } from './chain';
import { casePages, contentOfRow, reportsOfCases } from './read';

export interface VerifyProblem {
  readonly caseRef: string;
  readonly event: number | null;
  readonly what: string;
}

export interface VerifyResult {
  readonly ok: boolean;
  readonly cases: number;
  readonly reports: number;
  readonly events: number;
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

export async function verifyCaseLog(q: Queryable, opts: { maxProblems?: number; pageSize?: number } = {}): Promise<VerifyResult> {
  const maxProblems = opts.maxProblems ?? 100;
  const problems: VerifyProblem[] = [];
  let cases = 0;
  let reports = 0;
  let events = 0;

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

    for (const c of page) {
      cases++;
      const problem = (event: number | null, what: string) => {
        if (problems.length < maxProblems) problems.push({ caseRef: c.ref, event, what });
      };
      const evs = evByCase.get(c.id)!;
      events += evs.length;
      // Fold the chain into the state it records.
      let prev: string | null = null;
      const state = { ref: null as string | null, status: null as string | null, priority: null as string | null, flags: new Set<string>() };
      const subjects = new Map<string, string>();
      evs.forEach((e, i) => {
        if (e.seq !== i + 1) problem(e.seq, `event out of sequence (expected ${i + 1})`);
        if (e.prev_hash !== prev) problem(e.seq, 'event does not link to the previous one');
        const h = eventHash(prev, { caseRef: c.ref, seq: e.seq, at: isoMs(e.at), kind: e.kind, actor: e.actor, data: e.data });
        if (h !== e.hash) problem(e.seq, 'event hash mismatch: the event or the case reference was altered');
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
            break;
          case 'case.priority':
            state.priority = String(d.priority);
            break;
          case 'case.flagged':
            state.flags.add(String(d.flag));
            break;
          case 'case.unflagged':
            state.flags.delete(String(d.flag));
            break;
          case 'report.added':
          case 'report.moved-in':
            subjects.set(String(d.report), String(d.subject));
            break;
          case 'report.moved-out':
            subjects.delete(String(d.report));
            break;
          default:
            break;
        }
      });
      if (!evs.length) problem(null, 'case has no events');
      if (c.head_hash !== prev || c.event_seq !== evs.length) problem(null, 'chain head does not match the last event (an event was removed or added)');
      if (state.ref !== null && state.ref !== c.ref) problem(null, 'case reference differs from the one recorded');
      if (state.status !== null && state.status !== c.status) problem(null, `status "${c.status}" differs from the recorded "${state.status}"`);
      if ([...state.flags].sort().join('|') !== [...c.flags].sort().join('|')) problem(null, `flags [${c.flags.join(', ')}] differ from the recorded [${[...state.flags].join(', ')}]`);
      if (state.priority !== null && state.priority !== c.priority) problem(null, `priority "${c.priority}" differs from the recorded "${state.priority}"`);

      const rs = repByCase.get(c.id)!;
      reports += rs.length;
      for (const r of rs) {
        const subject = subjects.get(r.id);
        if (!subject) problem(null, `report ${r.id} is in the case but no event records it`);
        else if (reportHash(contentOfRow(r)) !== subject) problem(null, `report ${r.id} was altered since it was recorded`);
        subjects.delete(r.id);
      }
      for (const missing of subjects.keys()) problem(null, `report ${missing} is recorded but missing from the case`);

      const informants = new Set(rs.map((r) => r.informant)).size;
      const channels = [...new Set(rs.map((r) => r.channel))].sort();
      const times = rs.map((r) => isoMs(r.sent_at)).sort();
      if (c.report_count !== rs.length) problem(null, `report count ${c.report_count} but ${rs.length} reports`);
      if (c.informant_count !== informants) problem(null, `informant count ${c.informant_count} but ${informants} informants`);
      if ([...c.channels].sort().join('|') !== channels.join('|')) problem(null, `channels [${c.channels.join(', ')}] but reports on [${channels.join(', ')}]`);
      const first = c.first_report_at ? isoMs(c.first_report_at) : null;
      const last = c.last_report_at ? isoMs(c.last_report_at) : null;
      if (rs.length && (first !== times[0] || last !== times[times.length - 1])) problem(null, 'first/last report times do not match its reports');
    }
  }
  return { ok: problems.length === 0, cases, reports, events, problems };
}

export function formatVerify(r: VerifyResult): string {
  if (r.ok) return `verify: intact: ${r.cases} cases, ${r.reports} reports, ${r.events} events`;
  const lines = r.problems.map((p) => `case ${p.caseRef}${p.event !== null ? ` event ${p.event}` : ''}: ${p.what}`);
  return `verify: FAILED: ${r.problems.length}${r.problems.length >= 100 ? '+' : ''} problem(s) in ${r.cases} cases\n${lines.join('\n')}`;
}
