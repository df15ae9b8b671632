/**
 * What an operator does before the dashboard exists (and what the dashboard will call): answer a
 * case's informant, block or unblock an informant by pseudonym. A case reported by many people
 * never gets many answers by accident: with several reachable informants the operator must say
 * which one, or `--all`.
 */
import type { Db, Queryable } from '../caselog/db';
import { addCaseText, appendCaseEvent, logInformant, resolveCase } from '../caselog/events';
import { addOutbox } from '../caselog/outbox';
import { parseCaseRef } from '../caselog/refs';
import { TiphubError } from '../errors';

export interface ReplyRequest {
  readonly ref: string;
  readonly text: string;
  readonly informant?: string | null;
  readonly report?: string | null;
  readonly all?: boolean;
  readonly actor: string;
}

export interface ReplyChoice {
  readonly pseudonym: string;
  readonly channel: string;
  readonly reports: number;
  readonly firstReport: string;
  readonly reachable: boolean;
  readonly why: string | null;
}

export interface ReplyResult {
  readonly ref: string;
  readonly queued: { pseudonym: string; channel: string }[];
  readonly outbox: number[];
}

interface InformantRow {
  pseudonym: string;
  channel: string;
  reports: number;
  first_report: string;
  has_address: boolean;
  blocked: boolean;
  stopped: boolean;
  unreachable: boolean;
}

function why(i: InformantRow): string | null {
  if (i.stopped) return 'asked not to be contacted (/stop)';
  if (i.blocked) return 'blocked by an operator';
  if (i.unreachable) return 'unreachable (the platform refused the last message)';
  if (!i.has_address) return 'no address on record';
  return null;
}

export async function choicesOf(q: Queryable, caseId: number): Promise<ReplyChoice[]> {
  const { rows } = await q.query<InformantRow>(
    `SELECT r.informant AS pseudonym, i.channel, count(*)::int AS reports,
            (array_agg(r.id ORDER BY r.sent_at, r.id))[1] AS first_report,
            i.address_sealed IS NOT NULL AS has_address, i.blocked, i.stopped_at IS NOT NULL AS stopped,
            i.unreachable_at IS NOT NULL AS unreachable
       FROM reports r JOIN informants i ON i.pseudonym = r.informant
      WHERE r.case_id = $1 GROUP BY r.informant, i.channel, i.address_sealed, i.blocked, i.stopped_at, i.unreachable_at
      ORDER BY min(r.sent_at)`,
    [caseId],
  );
  return rows.map((r) => ({ pseudonym: r.pseudonym, channel: r.channel, reports: r.reports, firstReport: r.first_report, reachable: why(r) === null, why: why(r) }));
}

export function formatChoices(ref: string, choices: readonly ReplyChoice[]): string {
  return [
    `case ${ref} has ${choices.length} informants; say which with --informant PSEUDONYM or --report ID, or send to every reachable one with --all:`,
    ...choices.map((c) => `  ${c.pseudonym}  ${c.channel}  ${c.reports} report(s), first ${c.firstReport}${c.reachable ? '' : `  (${c.why})`}`),
  ].join('\n');
}

export async function queueReply(db: Db, req: ReplyRequest): Promise<ReplyResult> {
  const ref = parseCaseRef(req.ref);
  if (!ref) throw new TiphubError('TIPHUB_CASE_NOT_FOUND', `"${req.ref.slice(0, 20)}" is not a case reference (like K7Q-4M2P)`);
  const text = req.text.trim();
  if (!text) throw new TiphubError('TIPHUB_CONFIG_INVALID', 'the reply is empty');
  return db.transaction(async (tx) => {
    const c = await resolveCase(tx, ref);
    if (!c) throw new TiphubError('TIPHUB_CASE_NOT_FOUND', `no case ${ref}`);
    const choices = await choicesOf(tx, c.id);
    let targets: ReplyChoice[];
    let replyTo: string | null = null;
    if (req.report) {
      const { rows } = await tx.query<{ informant: string; native_id: string }>('SELECT informant, native_id FROM reports WHERE id = $1 AND case_id = $2', [
        req.report,
        c.id,
      ]);
      if (!rows[0]) throw new TiphubError('TIPHUB_CASE_NOT_FOUND', `case ${c.ref} has no report ${req.report}`);
      targets = choices.filter((x) => x.pseudonym === rows[0]!.informant);
      replyTo = rows[0].native_id;
    } else if (req.informant) {
      targets = choices.filter((x) => x.pseudonym === req.informant);
      if (!targets.length) throw new TiphubError('TIPHUB_INFORMANT_NOT_FOUND', `informant ${req.informant} has no report in case ${c.ref}`);
    } else if (req.all) {
      targets = choices.filter((x) => x.reachable);
      if (!targets.length) throw new TiphubError('TIPHUB_INFORMANT_UNREACHABLE', `no informant of case ${c.ref} can be written to\n${formatChoices(c.ref, choices)}`);
    } else if (choices.length === 1) {
      targets = choices;
    } else {
      throw new TiphubError('TIPHUB_REPLY_AMBIGUOUS', formatChoices(c.ref, choices));
    }
    const unreachable = targets.filter((x) => !x.reachable);
    if (unreachable.length) {
      throw new TiphubError('TIPHUB_INFORMANT_UNREACHABLE', `informant ${unreachable[0]!.pseudonym} cannot be written to: ${unreachable[0]!.why}; nothing was sent`);
    }
    // The text lives sealed in its own row; the events name it (a purge can remove it, the chain stays).
    const written = await addCaseText(tx, c.id, 'reply', text);
    for (const t of targets) await appendCaseEvent(tx, c.id, 'reply.queued', req.actor, { to: t.pseudonym, ...written, replyTo });
    const outbox = await addOutbox(
      tx,
      targets.map((t) => ({
        channel: t.channel,
        pseudonym: t.pseudonym,
        caseId: c.id,
        kind: 'reply' as const,
        // The outbox names the sealed text; the relay opens it into the sealed job.
        data: { key: 'reply' as const, textId: written.text, replyTo, actor: req.actor },
      })),
    );
    return { ref: c.ref, queued: targets.map((t) => ({ pseudonym: t.pseudonym, channel: t.channel })), outbox };
  });
}

export async function setBlocked(db: Db, pseudonym: string, blocked: boolean, actor: string): Promise<void> {
  await db.transaction(async (tx) => {
    const { rows } = await tx.query('UPDATE informants SET blocked = $2 WHERE pseudonym = $1 RETURNING 1', [pseudonym, blocked]);
    if (!rows.length) throw new TiphubError('TIPHUB_INFORMANT_NOT_FOUND', `no informant ${pseudonym.slice(0, 40)}`);
    await logInformant(tx, pseudonym, blocked ? 'blocked' : 'unblocked', actor, {});
  });
}
