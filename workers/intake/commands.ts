/**
 * Commands are not reports: `/start`, `/help`, `/lang`, `/status`, `/stop` are handled here, each in
 * its own transaction, logged on the informant (exactly once, by message id), and answered through
 * the outbox. A blocked informant's commands are logged and get no answer; one who asked to stop
 * hears nothing until `/start`.
 */
import type { Redis } from 'ioredis';
import type { Config } from '../../src/config';
import type { Db } from '../../src/caselog/db';
import { isoMs } from '../../src/caselog/chain';
import { logInformant, resolveCase } from '../../src/caselog/events';
import { addOutbox, type OutboundKind, type TextKey } from '../../src/caselog/outbox';
import type { Command } from '../../src/conversation/commands';
import { isLanguage } from '../../src/conversation/language';
import type { IntakeItem } from './write-batch';
import { countInWindow } from '../../src/queue/redis';

export interface CommandOutcome {
  readonly status: 'handled' | 'present';
  readonly outbox: number[];
}

const STATUS_KEY: Record<string, TextKey> = { new: 'status_received', in_review: 'status_review', escalated: 'status_review', closed: 'status_closed' };

/** Counts /status queries per informant and hour, so references cannot be guessed by trying. */
export async function statusAllowed(counters: Redis, cfg: Readonly<Config>, pseudonym: string): Promise<boolean> {
  return (await countInWindow(counters, `${cfg.queue.prefix}:status-rate:${pseudonym}`, 3600)) <= cfg.conversation.statusPerHour;
}

export async function handleCommand(db: Db, item: IntakeItem, cmd: Command, opts: { statusAllowed: boolean }): Promise<CommandOutcome> {
  const m = item.message;
  const p = item.pseudonym;
  const t = isoMs(m.sentAt);
  return db.transaction(async (tx) => {
    const { rows } = await tx.query<{ blocked: boolean; stopped_at: Date | null; welcomed_at: Date | null; language: string | null }>(
      `INSERT INTO informants (pseudonym, channel, address_sealed, first_seen, last_seen, language)
       VALUES ($1, $2, $3, $4, $4, $5)
       ON CONFLICT (pseudonym) DO UPDATE SET
         last_seen = GREATEST(informants.last_seen, EXCLUDED.last_seen),
         address_sealed = CASE WHEN informants.stopped_at IS NOT NULL THEN NULL ELSE COALESCE(informants.address_sealed, EXCLUDED.address_sealed) END
       RETURNING blocked, stopped_at, welcomed_at, language`,
      [p, m.channel, item.addressSealed, t, item.language ?? null],
    );
    const who = rows[0]!;
    const fresh = await logInformant(tx, p, 'command', 'informant', { command: cmd.name, blocked: who.blocked || undefined }, m.id);
    if (!fresh) return { status: 'present', outbox: [] };
    if (who.blocked) return { status: 'handled', outbox: [] };

    // Answers are written in the language the informant has when they asked (a later /lang does not rewrite them).
    let lang = who.language;
    const out: { kind: OutboundKind; caseId: number | null; key: TextKey; params?: Record<string, string>; addressSealed?: string }[] = [];
    if (who.stopped_at && cmd.name !== 'start') return { status: 'handled', outbox: [] };
    switch (cmd.name) {
      case 'start':
        if (who.stopped_at) {
          await tx.query('UPDATE informants SET stopped_at = NULL, address_sealed = $2 WHERE pseudonym = $1', [p, item.addressSealed]);
          await logInformant(tx, p, 'restarted', 'informant', {});
        }
        await tx.query('UPDATE informants SET welcomed_at = now() WHERE pseudonym = $1', [p]);
        out.push({ kind: 'welcome', caseId: null, key: 'welcome' });
        break;
      case 'help':
        out.push({ kind: 'help', caseId: null, key: 'help' });
        break;
      case 'lang':
        if (isLanguage(cmd.arg)) {
          await tx.query('UPDATE informants SET language = $2 WHERE pseudonym = $1', [p, cmd.arg]);
          lang = cmd.arg;
          out.push({ kind: 'lang', caseId: null, key: 'lang_set' });
        } else out.push({ kind: 'lang', caseId: null, key: 'lang_usage' });
        break;
      case 'status': {
        if (!opts.statusAllowed) out.push({ kind: 'status', caseId: null, key: 'status_limited' });
        else if (!cmd.ref) out.push({ kind: 'status', caseId: null, key: 'status_usage' });
        else {
          const c = await resolveCase(tx, cmd.ref);
          // The answer names the reference the informant asked about, and nothing else of the case.
          if (c) out.push({ kind: 'status', caseId: c.id, key: STATUS_KEY[c.status] ?? 'status_received', params: { ref: cmd.ref } });
          else out.push({ kind: 'status', caseId: null, key: 'status_unknown' });
        }
        break;
      }
      case 'stop': {
        // The last message goes out with the address taken now; then the address is gone.
        const { rows: addr } = await tx.query<{ address_sealed: string | null }>('SELECT address_sealed FROM informants WHERE pseudonym = $1', [p]);
        out.push({ kind: 'stopped', caseId: null, key: 'stopped', addressSealed: addr[0]?.address_sealed ?? item.addressSealed });
        await tx.query('UPDATE informants SET address_sealed = NULL, stopped_at = now() WHERE pseudonym = $1', [p]);
        // The full ids of what we sent them name them too (a wamid holds the number): gone with the address.
        await tx.query('UPDATE sent_messages SET ref_sealed = NULL WHERE pseudonym = $1 AND ref_sealed IS NOT NULL', [p]);
        await logInformant(tx, p, 'stopped', 'informant', {});
        break;
      }
    }
    const outbox = await addOutbox(
      tx,
      out.map((o) => ({
        channel: m.channel,
        pseudonym: p,
        caseId: o.caseId,
        kind: o.kind,
        data: { key: o.key, params: o.params ?? {}, addressSealed: o.addressSealed ?? null, replyTo: m.nativeId, lang },
      })),
    );
    return { status: 'handled', outbox };
  });
}
