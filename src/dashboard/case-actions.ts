/**
 * The dashboard's side of the case actions: the role checks that depend on the action's value
 * (closing, or changing a closed case, needs 'close'), then the one service layer,
 * src/caselog/actions.ts, with the operator as actor. Pages and the API both come through here.
 */
import type { Db } from '../caselog/db';
import { addNote, assign, editTags, setPriority, setStatus } from '../caselog/actions';
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

/** An action's error as an HTTP answer, or null when it is not one of ours (a 500 then). */
export function refusalOf(err: unknown): DashboardRefusal | null {
  if (err instanceof DashboardRefusal) return err;
  if (isTiphubError(err, 'TIPHUB_CASE_NOT_FOUND')) return new DashboardRefusal(404, err.code, err.message);
  if (isTiphubError(err, 'TIPHUB_CONFIG_INVALID')) return new DashboardRefusal(400, err.code, err.message);
  return null;
}
