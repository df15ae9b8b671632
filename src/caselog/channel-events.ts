/**
 * What a channel says about a report or a reply, recorded in the case log (ports.events.record):
 * a reaction (an event on the report's case, the emoji sealed as a case text), a retraction by the
 * report's own sender (the report is kept and marked, with an event), a delivery status of one of
 * our messages (the deliveries table, shown wherever a reply's state is), a second address of an
 * informant (the alias table, with an entry in the informant's log). Each once per platform event,
 * whatever is delivered again. Addresses become pseudonyms here; nothing identifying is stored in
 * clear.
 */
import type { ChannelEvent } from '../contracts/inbound-message';
import type { Keyring } from '../crypto/keyring';
import type { Db, Queryable } from './db';
import { addCaseText, appendCaseEvent, logInformant } from './events';
import { addOutbox, type OutboundKind, type TextKey } from './outbox';
import { advisoryKey, lockAdvisory } from './advisory';
import { sealRow } from '../crypto/keyring';

export type RecordOutcome = 'recorded' | 'again' | 'unmatched' | 'pending';

/** The informant a pseudonym stands for: itself, or the one first seen when it is a second address. */
export async function informantOf(q: Queryable, pseudonym: string): Promise<string> {
  const { rows } = await q.query<{ informant: string }>('SELECT informant FROM informant_aliases WHERE pseudonym = $1', [pseudonym]);
  return rows[0]?.informant ?? pseudonym;
}

/** Every pseudonym of the informant `pseudonym` belongs to (itself included). */
async function addressesOf(q: Queryable, pseudonym: string): Promise<string[]> {
  const root = await informantOf(q, pseudonym);
  const { rows } = await q.query<{ pseudonym: string }>('SELECT pseudonym FROM informant_aliases WHERE informant = $1', [root]);
  return [...new Set([root, pseudonym, ...rows.map((r) => r.pseudonym)])];
}

async function firstTime(q: Queryable, id: string, channel: string, kind: string, at: string, extra: { target?: string; pseudonym?: string; applied?: boolean } = {}): Promise<boolean> {
  const { rows } = await q.query(
    `INSERT INTO channel_events (id, channel, kind, target, pseudonym, happened_at, applied_at) VALUES ($1, $2, $3, $4, $5, $6, ${extra.applied === false ? 'NULL' : 'now()'})
     ON CONFLICT (id) DO NOTHING RETURNING 1`,
    [id, channel, kind, extra.target ?? null, extra.pseudonym ?? null, at],
  );
  return rows.length > 0;
}

/**
 * Marks every report of the message `target` by this informant (under any of its addresses) that
 * is not marked yet: the original and its edits. Each gets its event. Returns how many.
 */
async function retractAll(tx: Queryable, channel: string, target: string, by: string, at: string): Promise<number> {
  const { rows } = await tx.query<{ id: string; case_id: number }>(
    `UPDATE reports SET retracted_at = $4 WHERE channel = $1 AND native_id = $2 AND informant = ANY($3::text[]) AND retracted_at IS NULL RETURNING id, case_id`,
    [channel, target, await addressesOf(tx, by), at],
  );
  for (const r of [...rows].sort((a, b) => a.case_id - b.case_id || a.id.localeCompare(b.id))) {
    await appendCaseEvent(tx, r.case_id, 'report.retracted', 'informant', { report: r.id, by, at });
  }
  return rows.length;
}

export interface RecordOptions {
  /** The conversation is on (cfg.conversation.enabled): a first contact is greeted, an unreadable message answered. */
  readonly conversation?: boolean;
}

/**
 * Someone who wrote without a report (opened the chat, or sent what the platform could not pass
 * on): known from now on as an informant (address sealed, as intake keeps it), and written to.
 */
async function answerContact(tx: Queryable, keyring: Keyring, channel: string, e: { sender: string; name?: string | null; at: string }, key: TextKey | null, o: RecordOptions): Promise<void> {
  const pseudonym = keyring.pseudonym(channel, e.sender);
  await tx.query(
    `INSERT INTO informants (pseudonym, channel, address_sealed, first_seen, last_seen) VALUES ($1, $2, $3, $4, $4)
     ON CONFLICT (pseudonym) DO UPDATE SET last_seen = GREATEST(informants.last_seen, EXCLUDED.last_seen)`,
    [pseudonym, channel, keyring.seal({ address: e.sender, name: e.name ?? null }, sealRow.address(pseudonym)), e.at],
  );
  if (!o.conversation) return;
  const { rows } = await tx.query<{ welcomed_at: Date | null; stopped_at: Date | null; blocked: boolean }>(
    'SELECT welcomed_at, stopped_at, blocked FROM informants WHERE pseudonym = $1 FOR UPDATE',
    [pseudonym],
  );
  const who = rows[0]!;
  if (who.stopped_at || who.blocked) return;
  const out: { kind: OutboundKind; key: TextKey }[] = [];
  if (!who.welcomed_at) {
    await tx.query('UPDATE informants SET welcomed_at = now() WHERE pseudonym = $1', [pseudonym]);
    out.push({ kind: 'welcome', key: 'welcome' });
  }
  if (key) out.push({ kind: key as OutboundKind, key });
  await addOutbox(tx, out.map((x) => ({ channel, pseudonym, caseId: null, kind: x.kind, data: { key: x.key, lang: null } })));
}

export async function recordChannelEvent(db: Db, keyring: Keyring, channel: string, e: ChannelEvent, o: RecordOptions = {}): Promise<RecordOutcome> {
  switch (e.kind) {
    case 'first-contact':
    case 'unreadable':
      return db.transaction(async (tx) => {
        if (!(await firstTime(tx, e.id, channel, e.kind, e.at))) return 'again';
        await answerContact(tx, keyring, channel, e, e.kind === 'unreadable' ? 'unreadable' : null, o);
        return 'recorded';
      });
    case 'delivery': {
      const { rows } = await db.query(
        `INSERT INTO deliveries (channel, sent_id, status, at, error_code, error_reason) VALUES ($1, $2, $3, $4, $5, $6)
         ON CONFLICT DO NOTHING RETURNING 1`,
        [channel, e.sentId, e.status, e.at, e.error?.code ?? null, e.error?.reason ?? null],
      );
      return rows.length ? 'recorded' : 'again';
    }
    case 'reaction':
      return db.transaction(async (tx) => {
        const { rows } = await tx.query<{ id: string; case_id: number }>('SELECT id, case_id FROM reports WHERE channel = $1 AND native_id = $2 LIMIT 1', [channel, e.target]);
        const report = rows[0];
        if (!report) return 'unmatched'; // a reaction to one of our messages, or to a message never kept
        if (!(await firstTime(tx, e.id, channel, 'reaction', e.at))) return 'again';
        const by = keyring.pseudonym(channel, e.sender);
        const text = e.emoji ? await addCaseText(tx, report.case_id, 'reaction', e.emoji) : {};
        await appendCaseEvent(tx, report.case_id, 'report.reaction', 'informant', { report: report.id, by, removed: e.emoji === null, ...text });
        return 'recorded';
      });
    case 'retraction':
      return db.transaction(async (tx) => {
        const by = keyring.pseudonym(channel, e.sender);
        // Serialised with intake on the sender (src/caselog/advisory.ts): a report being written now
        // is either seen here, or sees this retraction when its batch applies the standing ones.
        await lockAdvisory(tx, (await addressesOf(tx, by)).map((p) => advisoryKey('p', p)));
        if (!(await firstTime(tx, e.id, channel, 'retraction', e.at, { target: e.target, pseudonym: by, applied: false }))) return 'again';
        const n = await retractAll(tx, channel, e.target, by, e.at);
        if (n) await tx.query('UPDATE channel_events SET applied_at = now() WHERE id = $1', [e.id]);
        return n ? 'recorded' : 'pending';
      });
    case 'alias':
      return db.transaction(async (tx) => {
        const from = keyring.pseudonym(channel, e.from);
        const to = keyring.pseudonym(channel, e.to);
        if (from === to) return 'again';
        const root = await informantOf(tx, from);
        if (root === to || (await informantOf(tx, to)) === root) return 'again';
        const { rows } = await tx.query(
          'INSERT INTO informant_aliases (pseudonym, informant, reason, event_id, at) VALUES ($1, $2, $3, $4, $5) ON CONFLICT DO NOTHING RETURNING 1',
          [to, root, e.reason, e.id, e.at],
        );
        if (!rows.length) return 'again';
        // The log is chained per informant: only an informant already known gets the entry.
        const { rows: known } = await tx.query('SELECT 1 FROM informants WHERE pseudonym = $1', [root]);
        if (known.length) await logInformant(tx, root, 'informant.alias', 'informant', { alias: to, reason: e.reason });
        return 'recorded';
      });
  }
}

/**
 * Retractions of messages whose reports are written now: one that came before its report (the
 * intake path writes reports in batches), or an edit of a message already deleted. Applied in
 * the same transaction, by the write path, which holds its informants' locks.
 */
export async function applyPendingRetractions(tx: Queryable, written: readonly { channel: string; nativeId: string }[]): Promise<number> {
  if (!written.length) return 0;
  const { rows } = await tx.query<{ id: string; channel: string; target: string; pseudonym: string; happened_at: Date | string }>(
    `SELECT ce.id, ce.channel, ce.target, ce.pseudonym, ce.happened_at
       FROM channel_events ce JOIN jsonb_to_recordset($1::jsonb) AS x(channel text, native text) ON ce.channel = x.channel AND ce.target = x.native
      WHERE ce.kind = 'retraction'`,
    [JSON.stringify(written.map((w) => ({ channel: w.channel, native: w.nativeId })))],
  );
  let applied = 0;
  for (const p of rows) {
    const n = await retractAll(tx, p.channel, p.target, p.pseudonym, new Date(p.happened_at).toISOString());
    if (n) await tx.query('UPDATE channel_events SET applied_at = COALESCE(applied_at, now()) WHERE id = $1', [p.id]);
    applied += n;
  }
  return applied;
}
