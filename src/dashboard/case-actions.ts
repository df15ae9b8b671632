/**
 * The dashboard's side of the case actions: the role checks that depend on the action's value
 * (closing, or changing a closed case, needs 'close'), then the one service layer,
 * src/caselog/actions.ts, with the operator as actor. Pages and the API both come through here.
 */
import type { Db } from '../caselog/db';
import { addNote, assign, editTags, setPriority, setStatus } from '../caselog/actions';
import { mergeCases, splitReport } from '../caselog/corrections';
import { queueReply } from '../conversation/operator';
import type { Logger } from '../log';
import { resolveCase } from '../caselog/events';
import { parseCaseRef } from '../caselog/refs';
import { isTiphubError } from '../errors';
import type { ActiveSession } from '../operators/sessions';
import { can, type Permission } from './roles';

/** A refusal with its HTTP status; its message is ours (never a tip's text). */
export class DashboardRefusal extends Error {
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
  ) {
    super(message);
  }
}

function need(session: ActiveSession, p: Permission): void {
  if (!can(session.operator.role, p)) throw new DashboardRefusal(403, 'TIPHUB_DASHBOARD_FORBIDDEN', 'your role does not allow this');
}

export type CaseAction =
  | { readonly kind: 'status'; readonly status: string; readonly reason: string | null }
  | { readonly kind: 'assign'; readonly to: string | null }
  | { readonly kind: 'priority'; readonly priority: string }
  | { readonly kind: 'tags'; readonly add: readonly string[]; readonly remove: readonly string[] }
  | { readonly kind: 'note'; readonly text: string };

export interface ActionResult {
  readonly ref: string;
  readonly changed: boolean;
}

export async function applyCaseAction(db: Db, session: ActiveSession, ref: string, a: CaseAction): Promise<ActionResult> {
  const actor = session.operator.name;
  switch (a.kind) {
    case 'status': {
      need(session, 'status');
      if (a.status === 'closed') need(session, 'close');
      else {
        const r = parseCaseRef(ref);
        const current = r ? await resolveCase(db, r) : null;
        if (current?.status === 'closed') need(session, 'close');
      }
      const r = await setStatus(db, ref, a.status, { reason: a.reason, actor });
      return { ref: r.ref, changed: r.changed };
    }
    case 'assign': {
      need(session, 'assign');
      const r = await assign(db, ref, a.to, actor);
      return { ref: r.ref, changed: r.changed };
    }
    case 'priority': {
      need(session, 'priority');
      const r = await setPriority(db, ref, a.priority, actor);
      return { ref: r.ref, changed: r.changed };
    }
    case 'tags': {
      need(session, 'tag');
      const r = await editTags(db, ref, { add: a.add, remove: a.remove }, actor);
      return { ref: r.ref, changed: r.changed };
    }
    case 'note': {
      need(session, 'note');
      const r = await addNote(db, ref, a.text, actor);
      return { ref: r.ref, changed: true };
    }
  }
}

/** Moves outbox rows to the outbound queue (OutboxRelay.relay); without it the hub's sweeper does. */
export type RelayOutbox = (outboxIds: readonly number[]) => Promise<void>;

export interface ReplyOutcome {
  readonly ref: string;
  readonly queued: { pseudonym: string; channel: string }[];
  readonly outbox: number[];
  /** Whether the rows were handed to the outbound queue now (false: the sweeper will). */
  readonly relayed: boolean;
}

/**
 * A reply to the case's informants (supervisor): `to` is 'all' (every reachable one) or a
 * pseudonym. Queued by queueReply with the operator as actor, then relayed when a relay is given;
 * a relay that fails leaves the rows to the sweeper (the reply is queued either way).
 */
export async function replyToCase(
  db: Db,
  session: ActiveSession,
  ref: string,
  r: { readonly text: string; readonly to: string },
  relay?: RelayOutbox,
  log?: Pick<Logger, 'warn'>,
): Promise<ReplyOutcome> {
  need(session, 'reply');
  const q = await queueReply(db, { ref, text: r.text, actor: session.operator.name, ...(r.to === 'all' ? { all: true } : { informant: r.to }) });
  let relayed = false;
  if (relay && q.outbox.length) {
    try {
      await relay(q.outbox);
      relayed = true;
    } catch (err) {
      log?.warn({ err, outbox: q.outbox.length }, 'reply queued; relaying it now failed, the sweeper will');
    }
  }
  return { ref: q.ref, queued: q.queued, outbox: q.outbox, relayed };
}

/** Merges this case into another (supervisor): its reports move there, it closes and points to it. */
export async function mergeCaseInto(db: Db, session: ActiveSession, ref: string, into: string): Promise<{ into: string; from: string; moved: number }> {
  need(session, 'merge');
  return mergeCases(db, into, ref, session.operator.name);
}

/** Splits one report out of the case into a new case of its own (supervisor). */
export async function splitReportOut(db: Db, session: ActiveSession, ref: string, report: string): Promise<{ from: string; to: string }> {
  need(session, 'merge');
  return splitReport(db, ref, report, session.operator.name);
}

/** An action's error as an HTTP answer, or null when it is not one of ours (a 500 then). */
export function refusalOf(err: unknown): DashboardRefusal | null {
  if (err instanceof DashboardRefusal) return err;
  if (isTiphubError(err, 'TIPHUB_CASE_NOT_FOUND')) return new DashboardRefusal(404, err.code, err.message);
  if (isTiphubError(err, 'TIPHUB_CONFIG_INVALID')) return new DashboardRefusal(400, err.code, err.message);
  // A reply's refusals name pseudonyms and channels only (formatChoices), never an address.
  if (isTiphubError(err, 'TIPHUB_INFORMANT_NOT_FOUND')) return new DashboardRefusal(400, err.code, err.message);
  if (isTiphubError(err, 'TIPHUB_INFORMANT_UNREACHABLE')) return new DashboardRefusal(409, err.code, err.message);
  if (isTiphubError(err, 'TIPHUB_REPLY_AMBIGUOUS')) return new DashboardRefusal(400, err.code, err.message);
  return null;
}
