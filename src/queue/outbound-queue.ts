/**
 * Outbound queues, one per channel (`outbound-<channel>`), fed from the `outbox` table of the case
 * log after the transaction that decided a message committed. A job holds one sealed payload: the
 * informant's sealed address travels sealed twice, never in clear.
 */
import { Queue, type JobsOptions } from 'bullmq';
import type { Config } from '../config';
import { SEAL_AAD_OUTBOUND } from '../crypto/aad';
import { sealRow, type Keyring } from '../crypto/keyring';
import type { Queryable } from '../caselog/db';
import type { OutboundKind, OutboxData, TextKey } from '../caselog/outbox';
import type { RedisTarget } from './redis';
import { createQueue } from './factory';

/** Written by the case log (src/caselog/outbox.ts); still named here for callers that import it from here. */
export { addOutbox } from '../caselog/outbox';

/** Defined with the other jobs' contexts (src/crypto/aad.ts); still named here for callers that import it from here. */
export { SEAL_AAD_OUTBOUND };

export interface OutboundJobPayload {
  readonly outboxId: number;
  readonly kind: OutboundKind;
  readonly channel: string;
  readonly pseudonym: string;
  /** The address as the case log keeps it (sealed); null once the informant asked to stop. */
  readonly addressSealed: string | null;
  readonly caseId: number | null;
  readonly key: TextKey;
  readonly params: Record<string, string>;
  readonly replyTo: string | null;
  readonly actor: string;
  /** The language decided with the message; null: the informant's language when it is sent. */
  readonly lang: string | null;
}

export interface OutboundJobData {
  readonly v: 1;
  readonly sealed: string;
}

export function outboundQueueName(channel: string): string {
  return `outbound-${channel}`;
}

export type OutboundQueue = Queue<OutboundJobData>;

export function createOutboundQueue(redis: RedisTarget, cfg: Pick<Config, 'queue' | 'outbound'>, channel: string): OutboundQueue {
  return createQueue<OutboundJobData>(outboundQueueName(channel), redis, cfg, { attempts: cfg.outbound.attempts, backoffMs: cfg.outbound.backoffMs });
}

export interface OutboxRow {
  id: number;
  channel: string;
  pseudonym: string;
  case_id: number | null;
  kind: OutboundKind;
  data: OutboxData;
  address_sealed: string | null;
}

/**
 * The acknowledgement's job id: one per case log, case and informant (so a burst gets one), as a
 * keyed hash, so that Redis does not link a pseudonym to a case.
 */
export function ackJobId(keyring: Pick<Keyring, 'messageId'>, instance: string, caseId: number | null, pseudonym: string): string {
  return `ack-${keyring.messageId('outbound-ack', [instance, caseId ?? 'none', pseudonym])}`;
}

/**
 * Moves outbox rows to their outbound queues, then marks them. Job ids make a second relay of the
 * same row harmless; an acknowledgement waits `ackDelayMs` under an id per case and informant, so
 * a burst of messages gets one.
 */
export class OutboxRelay {
  private readonly queues = new Map<string, OutboundQueue>();

  constructor(
    private readonly redis: RedisTarget,
    private readonly cfg: Readonly<Config>,
    private readonly keyring: Keyring,
    /** The case log's instance id: outbox ids restart with each case log, Redis may outlive it. */
    private readonly instance: string,
  ) {}

  queue(channel: string): OutboundQueue {
    let q = this.queues.get(channel);
    if (!q) this.queues.set(channel, (q = createOutboundQueue(this.redis, this.cfg, channel)));
    return q;
  }

  async relay(db: Queryable, ids: readonly number[]): Promise<number> {
    if (!ids.length) return 0;
    const { rows } = await db.query<OutboxRow>(
      `SELECT o.id::int AS id, o.channel, o.pseudonym, o.case_id, o.kind, o.data, i.address_sealed
         FROM outbox o JOIN informants i USING (pseudonym)
        WHERE o.id IN (SELECT (jsonb_array_elements_text($1::jsonb))::bigint) AND o.enqueued_at IS NULL ORDER BY o.id`,
      [JSON.stringify(ids)],
    );
    const byChannel = new Map<string, { name: string; data: OutboundJobData; opts: JobsOptions }[]>();
    const textIds = rows.flatMap((r) => (r.data.textId ? [r.data.textId] : []));
    const texts = new Map<string, string>();
    if (textIds.length) {
      const { rows: t } = await db.query<{ id: string; text_sealed: string | null }>(
        'SELECT id, text_sealed FROM case_texts WHERE id IN (SELECT jsonb_array_elements_text($1::jsonb))',
        [JSON.stringify(textIds)],
      );
      for (const x of t) if (x.text_sealed) texts.set(x.id, this.keyring.unseal<string>(x.text_sealed, sealRow.text(x.id)));
    }
    for (const row of rows) {
      const params = row.data.textId ? { ...(row.data.params ?? {}), text: texts.get(row.data.textId) ?? '' } : (row.data.params ?? {});
      const payload: OutboundJobPayload = {
        outboxId: row.id,
        kind: row.kind,
        channel: row.channel,
        pseudonym: row.pseudonym,
        addressSealed: row.data.addressSealed ?? row.address_sealed,
        caseId: row.case_id,
        key: row.data.key ?? (row.kind as TextKey),
        params,
        replyTo: row.data.replyTo ?? null,
        actor: row.data.actor ?? 'bot',
        lang: row.data.lang ?? null,
      };
      const opts: JobsOptions =
        row.kind === 'ack'
          ? { jobId: ackJobId(this.keyring, this.instance, row.case_id, row.pseudonym), delay: this.cfg.conversation.ackDelayMs, removeOnComplete: true }
          : { jobId: `ob-${this.instance}-${row.id}` };
      const list = byChannel.get(row.channel) ?? [];
      list.push({ name: row.kind, data: { v: 1, sealed: this.keyring.seal(payload, SEAL_AAD_OUTBOUND) }, opts });
      byChannel.set(row.channel, list);
    }
    for (const [channel, jobs] of byChannel) await this.queue(channel).addBulk(jobs);
    // Once queued, a row needs no address of its own: the goodbye after /stop carried the only
    // copy of an address the informant asked us to erase.
    await db.query(`UPDATE outbox SET enqueued_at = now(), data = data - 'addressSealed' WHERE id IN (SELECT (jsonb_array_elements_text($1::jsonb))::bigint)`, [
      JSON.stringify(rows.map((r) => r.id)),
    ]);
    return rows.length;
  }

  /** Relays what a crash between commit and relay left behind. */
  async sweep(db: Queryable, olderThanMs: number): Promise<number> {
    const { rows } = await db.query<{ id: number }>(
      `SELECT id::int AS id FROM outbox WHERE enqueued_at IS NULL AND created_at < now() - make_interval(secs => $1) ORDER BY id LIMIT 500`,
      [olderThanMs / 1000],
    );
    return this.relay(db, rows.map((r) => r.id));
  }

  async close(): Promise<void> {
    await Promise.all([...this.queues.values()].map((q) => q.close()));
  }
}
