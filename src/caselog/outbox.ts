/**
 * The outbox: what the bot is to send, written inside the case-log transaction that decided it, so
 * that a message goes out exactly when that transaction committed. `OutboxRelay`
 * (src/queue/outbound-queue.ts) then moves the rows to the outbound queues. A row names a bot text
 * by its key; the text is rendered in the informant's language when it is sent.
 */
import type { Queryable } from './db';

/** The keys of the bot's texts: every config/texts/<language>.yaml has each, and an outbox row names its text by one. */
export const TEXT_KEYS = [
  'language_name', 'welcome', 'ack', 'help', 'lang_set', 'lang_usage', 'status_received', 'status_review', 'status_closed',
  'status_unknown', 'status_usage', 'status_limited', 'stopped', 'media_missing', 'unreadable', 'reply',
] as const;
export type TextKey = (typeof TEXT_KEYS)[number];

export type OutboundKind = 'welcome' | 'ack' | 'help' | 'lang' | 'status' | 'stopped' | 'reply' | 'media_missing' | 'unreadable';

/** An outbox row's `data`. */
export interface OutboxData {
  key?: TextKey;
  params?: Record<string, string>;
  /** An operator's text, kept sealed in case_texts: the relay opens it into the sealed job, never in clear in the outbox. */
  textId?: string;
  replyTo?: string | null;
  addressSealed?: string | null;
  actor?: string;
  lang?: string | null;
}

/** Inserts outbox rows; returns their ids. */
export async function addOutbox(
  tx: Queryable,
  rows: readonly { channel: string; pseudonym: string; caseId: number | null; kind: OutboundKind; data: OutboxData }[],
): Promise<number[]> {
  if (!rows.length) return [];
  const { rows: ids } = await tx.query<{ id: number }>(
    `INSERT INTO outbox (channel, pseudonym, case_id, kind, data)
     SELECT channel, pseudonym, case_id, kind, data FROM jsonb_to_recordset($1::jsonb) AS x(channel text, pseudonym text, case_id int, kind text, data jsonb)
     RETURNING id::int AS id`,
    [JSON.stringify(rows.map((r) => ({ channel: r.channel, pseudonym: r.pseudonym, case_id: r.caseId, kind: r.kind, data: r.data })))],
  );
  return ids.map((r) => r.id);
}
