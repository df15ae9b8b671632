/**
 * workers/outbound: one per channel, where that channel's adapter runs. Sends what the outbox
 * relayed, in the informant's current language; records each message sent about a case as an event
 * in its chain (others in the informant's log). Retryable failures retry with backoff (a platform's
 * retry-after is honoured); a permanent one marks the informant unreachable.
 */
import { DelayedError, RateLimitError, UnrecoverableError, Worker, type Job } from 'bullmq';
import type { Redis } from 'ioredis';
import type { Config } from '../../src/config';
import type { Db } from '../../src/caselog/db';
import { addCaseText, appendCaseEvent, logInformant } from '../../src/caselog/events';
import type { Keyring } from '../../src/crypto/keyring';
import type { ChannelAdapter } from '../../src/contracts/channel-adapter';
import { DEFAULT_LANGUAGE, isLanguage } from '../../src/conversation/language';
import { render, type Texts } from '../../src/conversation/texts';
import { describeForeignError, isTiphubError, TiphubError } from '../../src/errors';
import type { Logger } from '../../src/log';
import { outboundQueueName, SEAL_AAD_OUTBOUND, type OutboundJobData, type OutboundJobPayload } from '../../src/queue/outbound-queue';
import { connectRedis, countInWindow, informantCounterKey, redisOptions, type RedisTarget } from '../../src/queue/redis';
import { sealRow } from '../../src/crypto/keyring';
import { NO_METRICS, type PipelineMetrics } from '../../src/metrics/port';
import { SEAL_AAD_OUTBOUND_SENT } from '../../src/crypto/aad';

/** How long the mark of a message sent but not yet recorded is kept (longer than any retry). */
const SENT_MARK_SECONDS = 7 * 86_400;

export interface OutboundWorkerOptions {
  readonly cfg: Readonly<Config>;
  readonly redis: RedisTarget;
  readonly db: Db;
  readonly keyring: Keyring;
  readonly adapter: ChannelAdapter;
  readonly texts: Texts;
  readonly log: Logger;
  /** Counts sends and failed send attempts by error code (src/metrics); default: nothing. */
  readonly metrics?: PipelineMetrics;
}

export type OutboundResult = { readonly sent: true; readonly nativeId: string } | { readonly sent: false; readonly skipped: string };

interface InformantState {
  address_sealed: string | null;
  language: string | null;
  blocked: boolean;
  stopped_at: Date | null;
  unreachable_at: Date | null;
}

export function startOutboundWorker(opts: OutboundWorkerOptions): { worker: Worker<OutboundJobData, OutboundResult>; close(): Promise<void> } {
  const { cfg, db, keyring, adapter, texts, log } = opts;
  const channel = adapter.channel;
  const metrics = opts.metrics ?? NO_METRICS;
  const counters: Redis = connectRedis(opts.redis);
  const limit = cfg.outbound.limits[channel];

  // What was sent is kept sealed beside the case (events name it by id and keyed hash); outside a
  // case (welcome, help) the template key and language say what it was.
  const record = async (p: OutboundJobPayload, jobId: string, kind: string, data: Record<string, unknown>, text?: string, sent?: { id: string; ref?: string }) => {
    await db.transaction(async (tx) => {
      // What the platform's statuses will name it by (deliveries join on it), the full id sealed.
      if (sent) {
        await tx.query(
          `INSERT INTO sent_messages (channel, sent_id, outbound, case_id, pseudonym, ref_sealed) VALUES ($1, $2, $3, $4, $5, $6) ON CONFLICT DO NOTHING`,
          [channel, sent.id, jobId, p.caseId, p.pseudonym, sent.ref ? keyring.seal(sent.ref, sealRow.sentRef(channel, sent.id)) : null],
        );
      }
      if (p.caseId !== null) {
        const sent = text === undefined ? {} : await addCaseText(tx, p.caseId, 'sent', text);
        await appendCaseEvent(tx, p.caseId, kind, p.actor, { kind: p.kind, to: p.pseudonym, outbound: jobId, ...data, ...sent });
      } else await logInformant(tx, p.pseudonym, kind, p.actor, { kind: p.kind, outbound: jobId, key: p.key, ...data });
    });
  };

  // A report whose platform id names its sender is quoted by the full id, kept sealed with it.
  const quoteOf = async (nativeId: string | null): Promise<string | null> => {
    if (!nativeId) return null;
    const { rows } = await db.query<{ id: string; native_sealed: string }>(
      'SELECT id, native_sealed FROM reports WHERE channel = $1 AND native_id = $2 AND native_sealed IS NOT NULL LIMIT 1',
      [channel, nativeId],
    );
    if (!rows[0]) return nativeId;
    try {
      return keyring.unseal<string>(rows[0].native_sealed, sealRow.nativeRef(rows[0].id));
    } catch {
      return null; // unreadable: send without the quote rather than not at all
    }
  };

  const alreadySent = async (p: OutboundJobPayload, jobId: string): Promise<boolean> => {
    const { rows } =
      p.caseId !== null
        ? await db.query(`SELECT 1 FROM events WHERE case_id = $1 AND kind = 'message.sent' AND data->>'outbound' = $2 LIMIT 1`, [p.caseId, jobId])
        : await db.query(`SELECT 1 FROM informant_log WHERE pseudonym = $1 AND kind = 'message.sent' AND data->>'outbound' = $2 LIMIT 1`, [p.pseudonym, jobId]);
    return rows.length > 0;
  };

  const processor = async (job: Job<OutboundJobData, OutboundResult>, token?: string): Promise<OutboundResult> => {
    let p: OutboundJobPayload;
    try {
      p = keyring.unseal<OutboundJobPayload>(job.data.sealed, SEAL_AAD_OUTBOUND);
    } catch (err) {
      throw new UnrecoverableError(isTiphubError(err) ? `${err.code}: ${err.message}` : 'outbound job unreadable');
    }
    const jobId = job.id!;
    const { rows } = await db.query<InformantState>(
      'SELECT address_sealed, language, blocked, stopped_at, unreachable_at FROM informants WHERE pseudonym = $1',
      [p.pseudonym],
    );
    let who = rows[0];
    if (!who) throw new UnrecoverableError('TIPHUB_INFORMANT_NOT_FOUND: no informant with that pseudonym');
    // The same person known since by another address (a new number, a LID): written to there,
    // and blocked or stopped as any of their addresses is.
    let to = p.pseudonym;
    const { rows: group } = await db.query<InformantState & { pseudonym: string; at: Date | null }>(
      `WITH root AS (SELECT COALESCE((SELECT informant FROM informant_aliases WHERE pseudonym = $1), $1) AS p)
       SELECT i.pseudonym, i.address_sealed, i.language, i.blocked, i.stopped_at, i.unreachable_at, a.at
         FROM informants i LEFT JOIN informant_aliases a ON a.pseudonym = i.pseudonym
        WHERE i.pseudonym = (SELECT p FROM root) OR a.informant = (SELECT p FROM root)`,
      [p.pseudonym],
    );
    if (group.length > 1) {
      const newest = group.filter((g) => g.address_sealed && !g.unreachable_at).sort((a, b) => (b.at?.valueOf() ?? 0) - (a.at?.valueOf() ?? 0))[0];
      if (newest && newest.pseudonym !== p.pseudonym && (newest.at?.valueOf() ?? 0) > (group.find((g) => g.pseudonym === p.pseudonym)?.at?.valueOf() ?? 0)) {
        to = newest.pseudonym;
        who = { ...who, address_sealed: newest.address_sealed, unreachable_at: null };
      }
      if (group.some((g) => g.blocked)) who = { ...who, blocked: true };
      if (!who.stopped_at) who = { ...who, stopped_at: group.find((g) => g.stopped_at)?.stopped_at ?? null };
    }
    if (who.blocked) return { sent: false, skipped: 'blocked' };
    if (who.unreachable_at) return { sent: false, skipped: 'unreachable' };
    if (who.stopped_at && p.kind !== 'stopped') return { sent: false, skipped: 'stopped' };
    const addressSealed = p.kind === 'stopped' ? p.addressSealed : who.address_sealed;
    if (!addressSealed) return { sent: false, skipped: 'no address' };
    if (await alreadySent(p, jobId)) return { sent: false, skipped: 'already sent' };
    // Sent before, its record not written (the case log failed over, the process ended between the
    // two): recorded now, never sent a second time.
    const markKey = `${cfg.queue.prefix}:outbound-sent:${channel}:${jobId}`;
    const mark = await counters.get(markKey);
    if (mark) {
      let m: { job: string; nativeId: string; platformRef?: string; text: string; lang: string } | null;
      try {
        m = keyring.unseal(mark, SEAL_AAD_OUTBOUND_SENT);
      } catch {
        m = null;
      }
      if (m && m.job === jobId) {
        await record(p, jobId, 'message.sent', { nativeId: m.nativeId, language: m.lang }, m.text, { id: m.nativeId, ref: m.platformRef });
        await counters.del(markKey).catch(() => undefined);
        return { sent: true, nativeId: m.nativeId };
      }
    }
    if (p.kind === 'ack') {
      const { rows: recent } = await db.query(
        `SELECT 1 FROM events WHERE case_id = $1 AND kind = 'message.sent' AND data->>'kind' = 'ack' AND data->>'to' = $2
            AND at > now() - make_interval(secs => $3) LIMIT 1`,
        [p.caseId, p.pseudonym, cfg.conversation.ackQuietMinutes * 60],
      );
      if (recent.length) return { sent: false, skipped: 'acknowledged recently' };
    }

    // Per-recipient limit: our own counter (BullMQ's open-source limiter is queue-wide), keyed opaquely.
    const key = informantCounterKey(keyring, cfg.queue.prefix, 'outbound-rate', p.pseudonym);
    if ((await countInWindow(counters, key, 60)) > cfg.outbound.perRecipientPerMinute) {
      const ttl = await counters.pttl(key);
      await job.moveToDelayed(Date.now() + Math.max(ttl, 1000) + Math.floor(Math.random() * 1000), token);
      throw new DelayedError();
    }

    const lang = isLanguage(p.lang) ? p.lang : isLanguage(who.language) ? who.language : DEFAULT_LANGUAGE;
    const text = render(texts, lang, p.key, p.params);
    const sender = keyring.unseal<{ address: string }>(addressSealed, sealRow.address(p.kind === 'stopped' ? p.pseudonym : to));
    let sent = false;
    try {
      const { nativeId, platformRef } = await adapter.send(sender.address, { text, replyTo: await quoteOf(p.replyTo) });
      sent = true;
      metrics.outboundSent(channel);
      // Marked as sent (sealed: the platform's ids may name the recipient) before the record: a
      // record that fails is retried without sending again.
      const marked = await counters
        .set(markKey, keyring.seal({ job: jobId, nativeId, platformRef, text, lang }, SEAL_AAD_OUTBOUND_SENT), 'EX', SENT_MARK_SECONDS)
        .then(() => true, () => false);
      await record(p, jobId, 'message.sent', { nativeId, language: lang }, text, { id: nativeId, ref: platformRef });
      if (marked) await counters.del(markKey).catch(() => undefined);
      return { sent: true, nativeId };
    } catch (err) {
      // Only a failed send: a failed record of a sent message is not a send failure.
      if (!sent) metrics.outboundFailed(channel, isTiphubError(err) ? err.code : 'other');
      if (isTiphubError(err) && err.retryable) {
        if (err.retryAfterMs) {
          await worker.rateLimit(err.retryAfterMs);
          throw new RateLimitError();
        }
        throw err;
      }
      if (isTiphubError(err)) {
        // Only the platform refusing the recipient makes the informant unreachable; a message it
        // refuses for another reason fails alone.
        if (err.code === 'TIPHUB_RECIPIENT_UNREACHABLE') {
          await db.query('UPDATE informants SET unreachable_at = now(), unreachable_reason = $2 WHERE pseudonym = $1', [p.pseudonym, err.code]);
          log.warn({ channel, jobId, code: err.code }, 'informant unreachable');
        }
        await record(p, jobId, 'message.failed', { code: err.code });
        throw new UnrecoverableError(`${err.code}: ${err.message}`);
      }
      throw new TiphubError('TIPHUB_SEND_FAILED', `send failed (${describeForeignError(err)})`);
    }
  };

  const worker: Worker<OutboundJobData, OutboundResult> = new Worker<OutboundJobData, OutboundResult>(outboundQueueName(channel), processor, {
    connection: redisOptions(opts.redis, { forWorker: true }),
    prefix: cfg.queue.prefix,
    concurrency: 8,
    limiter: limit ? { max: limit.max, duration: limit.durationMs } : undefined,
  });
  worker.on('failed', (job, err) => log.warn({ channel, jobId: job?.id, attempts: job?.attemptsMade, code: (err as TiphubError).code }, 'outbound job failed'));
  worker.on('error', (err) => log.error({ err, channel }, 'outbound worker error'));
  return {
    worker,
    async close() {
      await worker.close();
      counters.disconnect();
    },
  };
}
