/**
 * What the case page shows beside the reports (issue 11, item 6): the case's event history with a
 * short summary of each event, its notes and replies (their texts opened from case_texts with the
 * case log's keyring: operators may read them), each reply's delivery state from the events the
 * outbound worker writes (`message.sent`, `message.failed`, matched through the outbox rows), the informants a reply can go to
 * (choicesOf, src/conversation/operator.ts), and the case's own chain check: each event's hash
 * recomputed as `verify` does (src/caselog/verify.ts), the first mismatch named.
 */
import { keysOf, type Queryable } from '../caselog/db';
import { eventHash, isoMs } from '../caselog/chain';
import { resolveCase } from '../caselog/events';
import { parseCaseRef } from '../caselog/refs';
import { choicesOf, type ReplyChoice } from '../conversation/operator';
import { sealRow } from '../crypto/keyring';
import { TiphubError } from '../errors';

export interface HistoryEntry {
  readonly seq: number;
  readonly at: string;
  readonly kind: string;
  readonly actor: string;
  readonly summary: string;
}

export interface CaseNote {
  readonly seq: number;
  readonly at: string;
  readonly author: string;
  /** null when the text is gone (a purge) or does not open. */
  readonly text: string | null;
}

export type DeliveryState = 'queued' | 'sent' | 'delivered' | 'read' | 'played' | 'failed';

export interface CaseReply {
  readonly seq: number;
  readonly at: string;
  readonly actor: string;
  readonly to: string;
  readonly text: string | null;
  readonly state: DeliveryState;
  /** When it was sent or failed. */
  readonly settledAt: string | null;
  /** Why it failed (the error code the worker recorded). */
  readonly reason: string | null;
}

export interface ChainCheck {
  readonly ok: boolean;
  readonly events: number;
  /** The first event that does not check, or null (with ok false: the case's head is off). */
  readonly firstMismatch: { readonly seq: number | null; readonly what: string } | null;
}

export interface CaseRecord {
  readonly ref: string;
  readonly history: HistoryEntry[];
  readonly notes: CaseNote[];
  readonly replies: CaseReply[];
  readonly informants: ReplyChoice[];
  readonly chain: ChainCheck;
}

interface EventRow {
  seq: number;
  at: Date;
  kind: string;
  actor: string;
  data: Record<string, unknown>;
  prev_hash: string | null;
  hash: string;
}

const SUMMARY_CHARS = 300;

function short(s: string, n = SUMMARY_CHARS): string {
  // eslint-disable-next-line no-control-regex -- control characters shown as spaces
  const t = s.replace(/[\u0000-\u001f\u007f]+/g, ' ');
  return t.length > n ? `${t.slice(0, n)}…` : t;
}

const str = (v: unknown): string => (v === null || v === undefined ? '-' : typeof v === 'string' ? v : JSON.stringify(v));
const list = (v: unknown): string[] => (Array.isArray(v) ? v.map(String) : []);

/** A few words on what an event records; texts it names are given opened (or null). */
export function summarize(kind: string, d: Record<string, unknown>, text: (id: unknown) => string | null, caseRefOf: (id: unknown) => string): string {
  switch (kind) {
    case 'case.opened':
      return `opened: status ${str(d.status)}, priority ${str(d.priority)}${d.splitFrom ? `, split from ${str(d.splitFrom)}` : ''}`;
    case 'case.status':
      return `status ${d.from ? `${str(d.from)} → ` : ''}${str(d.status)}${d.reason ? ` (${str(d.reason)})` : ''}`;
    case 'case.priority':
      return `priority ${d.from ? `${str(d.from)} → ` : ''}${str(d.priority)}`;
    case 'case.assigned':
      return `assigned to ${d.to ? str(d.to) : 'nobody'}${d.from ? ` (was ${str(d.from)})` : ''}`;
    case 'case.tags':
      return [...list(d.add).map((t) => `+${t}`), ...list(d.remove).map((t) => `−${t}`)].join(' ') || 'tags unchanged';
    case 'case.note': {
      const t = text(d.text);
      return t === null ? 'note (its text is gone)' : `note: ${short(t)}`;
    }
    case 'case.flagged':
      return `flagged ${str(d.flag)}`;
    case 'case.unflagged':
      return `unflagged ${str(d.flag)}`;
    case 'case.merging':
      return `merged into ${str(d.into)} (${str(d.reports)} reports)`;
    case 'case.merged':
      return `merged from ${str(d.from)} (${str(d.reports)} reports)`;
    case 'case.purged':
      return `purged: ${str(d.reports)} reports, ${str(d.texts)} texts, ${str(d.media)} media`;
    case 'report.added': {
      const dup = d.duplicate as { of?: unknown; kind?: unknown } | undefined;
      return `report ${str(d.report)} added${dup ? ` (${str(dup.kind)} duplicate of ${str(dup.of)})` : ''}`;
    }
    case 'report.moved-out':
      return `report ${str(d.report)} moved out to ${caseRefOf(d.to)}`;
    case 'report.moved-in':
      return `report ${str(d.report)} moved in from ${caseRefOf(d.from)}`;
    case 'report.resealed':
      return `report ${str(d.report)} re-sealed (key rotation)`;
    case 'media.stored':
      return `media ${str(d.idx)} of report ${str(d.report)} stored`;
    case 'media.missing':
      return `media ${str(d.idx)} of report ${str(d.report)} missing`;
    case 'media.match':
      return `media of report ${str(d.report)} matches report ${str(d.sameAs)} (${str(d.by)})`;
    case 'reply.queued': {
      const t = text(d.text);
      return `reply queued to ${str(d.to)}${t === null ? '' : `: ${short(t)}`}`;
    }
    case 'message.sent':
      return `${str(d.kind)} sent to ${str(d.to)}${d.language ? ` (${str(d.language)})` : ''}`;
    case 'message.failed':
      return `${str(d.kind)} to ${str(d.to)} failed: ${str(d.code)}`;
    case 'report.reaction': {
      if (d.removed === true) return `${str(d.by)} took back a reaction to report ${str(d.report)}`;
      const t = text(d.text);
      return `${str(d.by)} reacted to report ${str(d.report)}${t === null ? '' : ` with ${short(t, 16)}`}`;
    }
    case 'report.retracted':
      return `report ${str(d.report)} deleted for everyone by its informant ${str(d.by)} (kept here)`;
    default: {
      // Something newer than this page: its fields, hashes and subjects left out.
      const parts = Object.entries(d)
        .filter(([k]) => !/hash|subject/i.test(k))
        .map(([k, v]) => `${k}: ${short(str(v), 60)}`);
      return short(parts.join(', '));
    }
  }
}

/** The outbox id an outbound job id ends with (`ob-<instance>-<id>`, OutboxRelay.relay). */
const outboxIdOf = (job: unknown): number | null => {
  const m = typeof job === 'string' ? /^ob-.*-(\d+)$/.exec(job) : null;
  return m ? Number(m[1]) : null;
};

export async function caseRecord(q: Queryable, refInput: string): Promise<CaseRecord> {
  const ref = parseCaseRef(refInput);
  const c = ref ? await resolveCase(q, ref) : null;
  if (!c) throw new TiphubError('TIPHUB_CASE_NOT_FOUND', `no case ${refInput.slice(0, 20)}`);
  const keys = keysOf(q);
  const [{ rows: events }, { rows: texts }, { rows: head }, { rows: outbox }, { rows: statuses }] = await Promise.all([
    q.query<EventRow>('SELECT seq, at, kind, actor, data, prev_hash, hash FROM events WHERE case_id = $1 ORDER BY seq', [c.id]),
    q.query<{ id: string; text_sealed: string | null }>('SELECT id, text_sealed FROM case_texts WHERE case_id = $1', [c.id]),
    q.query<{ event_seq: number; head_hash: string | null }>('SELECT event_seq, head_hash FROM cases WHERE id = $1', [c.id]),
    q.query<{ id: number; pseudonym: string }>(`SELECT id::int AS id, pseudonym FROM outbox WHERE case_id = $1 AND kind = 'reply' ORDER BY id`, [c.id]),
    // What the platform said of each message sent on this case (delivered, read, failed later).
    q.query<{ sent_id: string; status: DeliveryState; at: Date | string; error_code: string | null }>(
      `SELECT d.sent_id, d.status, d.at, d.error_code FROM sent_messages s JOIN deliveries d ON d.channel = s.channel AND d.sent_id = s.sent_id WHERE s.case_id = $1`,
      [c.id],
    ),
  ]);
  const sealed = new Map(texts.map((t) => [t.id, t.text_sealed]));
  const opened = new Map<string, string | null>();
  const text = (id: unknown): string | null => {
    if (typeof id !== 'string') return null;
    if (!opened.has(id)) {
      const s = sealed.get(id);
      let t: string | null = null;
      if (s) {
        try {
          t = keys.unseal<string>(s, sealRow.text(id));
        } catch {
          t = null;
        }
      }
      opened.set(id, t);
    }
    return opened.get(id)!;
  };
  // Moves name the other case by id; the page shows references.
  const otherIds = [...new Set(events.filter((e) => e.kind === 'report.moved-out' || e.kind === 'report.moved-in').map((e) => Number(e.data.to ?? e.data.from)))].filter(Number.isInteger);
  const refs = new Map<number, string>();
  if (otherIds.length) {
    const { rows } = await q.query<{ id: number; ref: string }>('SELECT id, ref FROM cases WHERE id IN (SELECT (jsonb_array_elements_text($1::jsonb))::int)', [JSON.stringify(otherIds)]);
    for (const r of rows) refs.set(r.id, r.ref);
  }
  const caseRefOf = (id: unknown) => refs.get(Number(id)) ?? `case #${str(id)}`;

  // The chain, as verify checks it: sequence, link, keyed hash, and the case's head.
  let chain: ChainCheck | null = null;
  let prev: string | null = null;
  for (let i = 0; i < events.length && !chain; i++) {
    const e = events[i]!;
    const fail = (what: string) => (chain = { ok: false, events: events.length, firstMismatch: { seq: e.seq, what } });
    if (e.seq !== i + 1) fail(`event out of sequence (expected ${i + 1}): events were removed`);
    else if (e.prev_hash !== prev) fail('event does not link to the previous one');
    else if (eventHash(keys, prev, { caseRef: c.ref, seq: e.seq, at: isoMs(e.at), kind: e.kind, actor: e.actor, data: e.data }) !== e.hash) {
      fail('event hash mismatch: the event or the case reference was altered');
    }
    prev = e.hash;
  }
  if (!chain) {
    const h = head[0];
    if (!events.length) chain = { ok: false, events: 0, firstMismatch: { seq: null, what: 'case has no events' } };
    else if (!h || h.head_hash !== prev || h.event_seq !== events.length) {
      chain = { ok: false, events: events.length, firstMismatch: { seq: null, what: 'chain head does not match the last event (an event was removed or added)' } };
    } else chain = { ok: true, events: events.length, firstMismatch: null };
  }

  const history = events.map((e) => ({ seq: e.seq, at: isoMs(e.at), kind: e.kind, actor: e.actor, summary: summarize(e.kind, e.data, text, caseRefOf) }));
  const notes = events.filter((e) => e.kind === 'case.note').map((e) => ({ seq: e.seq, at: isoMs(e.at), author: e.actor, text: text(e.data.text) }));

  // Delivery: the outbound worker records one outcome per job, naming the job, whose id ends with
  // its outbox row's. queueReply writes a reply's events and its outbox rows in the same order, so
  // per informant the n-th reply queued on this case is the n-th reply row of its outbox.
  const outcomeOf = new Map<number, EventRow>();
  for (const e of events) {
    if ((e.kind === 'message.sent' || e.kind === 'message.failed') && e.data.kind === 'reply') {
      const id = outboxIdOf(e.data.outbound);
      if (id !== null && !outcomeOf.has(id)) outcomeOf.set(id, e);
    }
  }
  // The furthest status of each sent message; a failure reported later overrides the rest.
  const RANK: Record<string, number> = { sent: 1, delivered: 2, read: 3, played: 4, failed: 9 };
  const statusOf = new Map<string, { status: DeliveryState; at: string; code: string | null }>();
  for (const d of statuses) {
    const cur = statusOf.get(d.sent_id);
    if (!cur || (RANK[d.status] ?? 0) > (RANK[cur.status] ?? 0)) statusOf.set(d.sent_id, { status: d.status, at: isoMs(d.at), code: d.error_code });
  }
  const rowsOf = new Map<string, number[]>();
  for (const o of outbox) (rowsOf.get(o.pseudonym) ?? rowsOf.set(o.pseudonym, []).get(o.pseudonym)!).push(o.id);
  const taken = new Map<string, number>();
  const replies = events
    .filter((e) => e.kind === 'reply.queued')
    .map((e): CaseReply => {
      const to = str(e.data.to);
      const n = taken.get(to) ?? 0;
      taken.set(to, n + 1);
      const row = rowsOf.get(to)?.[n];
      const out = row === undefined ? undefined : outcomeOf.get(row);
      const later = out?.kind === 'message.sent' && typeof out.data.nativeId === 'string' ? statusOf.get(out.data.nativeId) : undefined;
      if (later) return { seq: e.seq, at: isoMs(e.at), actor: e.actor, to, text: text(e.data.text), state: later.status, settledAt: later.at, reason: later.code };
      return {
        seq: e.seq,
        at: isoMs(e.at),
        actor: e.actor,
        to,
        text: text(e.data.text),
        state: !out ? 'queued' : out.kind === 'message.sent' ? 'sent' : 'failed',
        settledAt: out ? isoMs(out.at) : null,
        reason: out?.kind === 'message.failed' ? str(out.data.code) : null,
      };
    });

  return { ref: c.ref, history, notes, replies, informants: await choicesOf(q, c.id), chain };
}
