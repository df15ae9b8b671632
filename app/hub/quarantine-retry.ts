/**
 * `quarantine retry` (issue 14, item 4): an entry's payload fed through its channel's normalize
 * again, after a fix (a new version, a missing photo put in place, Redis back). Run where the keys
 * are (the command, or the hub for its dashboard), on the case log through CaseLogService, so it
 * works the same with or without a running hub holding an embedded case log.
 *
 * What an entry holds decides the way back:
 *  - a job's own sealed message (the intake worker's quarantine, SEAL_AAD_INTAKE): checked
 *    against the message contract again and queued as an import (its first origin is not kept;
 *    an import records and answers no one, so a retry never writes to an informant by surprise);
 *  - an ingest line (`{ file, line, text, dir }`): parsed as `tiphub ingest` parses it, its media
 *    copied from its folder, queued as an import;
 *  - a platform's payload (a channel adapter's quarantine): that channel's normalize, queued live.
 * Queued: the entry is deleted. Refused again: it stays, with the new code and reason (which, as
 * every reason, quotes nothing of the payload).
 */
import * as path from 'node:path';
import type { Config } from '../../src/config';
import type { Keyring } from '../../src/crypto/keyring';
import { SEAL_AAD_INTAKE } from '../../src/crypto/aad';
import { describeIssues, InboundMessage, isEventOnly, isIgnored, isRejected, type Origin } from '../../src/contracts/inbound-message';
import { describeForeignError, isTiphubError, TiphubError } from '../../src/errors';
import type { DashboardQuarantine } from '../../src/dashboard/routes/quarantine';
import { unsealQuarantined, type QuarantineOutcome, type QuarantinedPayload } from '../../src/caselog/quarantine';
import { createIntakeQueue, sealForIntake } from '../../src/queue/intake-queue';
import type { RedisTarget } from '../../src/queue/redis';
import { MediaStore } from '../../src/media/store';
import { channelModule, isChannelName, type SimulatorSettings } from '../../adapters/registry';
import { parseIngestLine, refusedMessage, storeIngestMedia } from '../cli/ingest';
import type { CaseLogService } from './service';

export interface RetriedEntry {
  readonly id: number;
  readonly channel: string;
  /** `queued`: in the intake queue, the entry deleted; `present`: that message's job was already queued or done, the entry deleted. */
  readonly outcome: 'queued' | 'present' | 'refused';
  readonly code?: string;
  readonly reason?: string;
}

type Prepared = { readonly ok: true; readonly message: InboundMessage; readonly origin: Origin } | (QuarantineOutcome & { readonly ok: false });

const refused = (code: string, reason: string): Prepared => ({ ok: false, code, reason });

/**
 * The account a channel's payload was received for, as its adapter names it in NormalizeContext:
 * the simulator's configured account, Telegram's bot id (the token's first part), else the
 * channel's configured account or number. A message id is derived from it, so a retried payload
 * gets the id it would have had.
 */
function accountOf(cfg: Readonly<Config>, channel: string): string {
  const c = cfg.channels[channel] as { settings?: Record<string, unknown>; credentials?: Record<string, unknown> } | undefined;
  const token = c?.credentials?.token;
  if (channel === 'telegram' && typeof token === 'string') return token.split(':')[0]!;
  const s = c?.settings ?? {};
  for (const k of ['account', 'number', 'phoneNumberId']) if (typeof s[k] === 'string' && s[k]) return s[k] as string;
  return channel;
}

async function prepare(cfg: Readonly<Config>, keyring: Keyring, store: MediaStore, e: QuarantinedPayload): Promise<Prepared> {
  if (e.payloadSealed === null) return refused(e.code, 'nothing was kept of it: it can only be dropped');
  const opened = unsealQuarantined(keyring, e.payloadSealed);
  if (!opened) return refused('TIPHUB_SEAL_INVALID', 'the payload could not be opened (another secret, or altered)');
  const now = new Date();
  if (opened.sealedAs === SEAL_AAD_INTAKE) {
    const checked = InboundMessage.safeParse(opened.payload);
    if (!checked.success) return refused('TIPHUB_MESSAGE_INVALID', describeIssues(checked.error));
    const invalid = refusedMessage(checked.data, now.getTime());
    return invalid ? refused('TIPHUB_MESSAGE_INVALID', invalid) : { ok: true, message: checked.data, origin: 'import' };
  }
  if (!isChannelName(e.channel)) return refused('TIPHUB_ADAPTER_UNKNOWN', 'no channel of that name to normalize it with');
  const p = opened.payload as { file?: unknown; line?: unknown; text?: unknown; dir?: unknown } | null;
  if (e.channel === 'simulator' && p && typeof p.text === 'string' && typeof p.line === 'number') {
    // An ingest line: as `tiphub ingest` reads it (its media only from its own folder).
    if (typeof p.dir !== 'string' || !path.isAbsolute(p.dir)) return refused('TIPHUB_INGEST_LINE_INVALID', 'quarantined by an older version without its folder: ingest the file again');
    const account = (cfg.channels.simulator!.settings as SimulatorSettings).account;
    const r = parseIngestLine(p.text, p.line, {
      normalize: channelModule('simulator').normalize,
      baseDir: p.dir,
      account,
      receivedAt: now,
      messageId: (parts) => keyring.messageId('simulator', parts),
      now: now.getTime(),
    });
    if (!r.accepted) return refused(r.code, r.reason);
    try {
      await storeIngestMedia(store, r.message, p.dir, cfg.media.maxBytes);
    } catch (err) {
      if (!isTiphubError(err)) throw err;
      return refused(err.code, err.message);
    }
    return { ok: true, message: r.message, origin: 'import' };
  }
  const n = channelModule(e.channel).normalize(opened.payload, { account: accountOf(cfg, e.channel), receivedAt: now, messageId: (parts) => keyring.messageId(e.channel, parts) });
  if (isRejected(n)) return refused('TIPHUB_MESSAGE_INVALID', n.reason);
  if (isIgnored(n) || isEventOnly(n)) return refused('TIPHUB_MESSAGE_INVALID', 'it is not a message now (ignored, or an event only)');
  const checked = InboundMessage.safeParse(n);
  if (!checked.success) return refused('TIPHUB_MESSAGE_INVALID', describeIssues(checked.error));
  return { ok: true, message: checked.data, origin: 'live' };
}

/** Retries the entries asked for (`'all'`: every one) and says what became of each. */
export async function retryQuarantined(
  cfg: Readonly<Config>,
  keyring: Keyring,
  service: CaseLogService,
  redis: RedisTarget,
  ids: readonly number[] | 'all',
): Promise<RetriedEntry[]> {
  const entries = await service.quarantinedPayloads(ids);
  const store = new MediaStore(path.join(cfg.dataDir, 'media'));
  const queue = createIntakeQueue(redis, cfg);
  const out: RetriedEntry[] = [];
  try {
    for (const e of entries) {
      let p: Prepared;
      try {
        p = await prepare(cfg, keyring, store, e);
      } catch (err) {
        p = refused(isTiphubError(err) ? err.code : 'TIPHUB_MESSAGE_INVALID', `the retry failed (${describeForeignError(err)})`);
      }
      if (!p.ok) {
        await service.settleQuarantine(e.id, p);
        out.push({ id: e.id, channel: e.channel, outcome: 'refused', code: p.code, reason: p.reason });
        continue;
      }
      const job = sealForIntake(keyring, p.message, p.origin);
      // The intake worker's quarantine left the job it gave up on under the same id: BullMQ would
      // ignore a new one beside it, so the failed one goes first. Any other state: it is queued or done.
      const old = await queue.getJob(job.opts.jobId!);
      const fresh = !old || (await old.isFailed());
      if (old && fresh) await old.remove();
      if (fresh) await queue.add(job.name, job.data, job.opts);
      await service.settleQuarantine(e.id, { ok: true });
      out.push({ id: e.id, channel: e.channel, outcome: fresh ? 'queued' : 'present' });
    }
  } finally {
    await queue.close();
  }
  return out;
}

export function formatRetried(rows: readonly RetriedEntry[]): string {
  const lines = rows.map((r) =>
    r.outcome === 'refused' ? `quarantine ${r.id}: still refused: ${r.code}: ${r.reason}` : `quarantine ${r.id}: ${r.outcome === 'queued' ? 'queued for the case log' : 'already queued or in the case log'}; removed from quarantine`,
  );
  const queued = rows.filter((r) => r.outcome !== 'refused').length;
  lines.push(`quarantine: ${queued} of ${rows.length} retried entr${rows.length === 1 ? 'y' : 'ies'} left quarantine`);
  return lines.join('\n');
}

/** The dashboard's quarantine page's port (src/dashboard/routes/quarantine.ts), on a case log opened with its keys. */
export function dashboardQuarantine(cfg: Readonly<Config>, keyring: Keyring, service: CaseLogService, redis: RedisTarget | null): DashboardQuarantine {
  return {
    show: (id) => service.showQuarantine(id),
    async retry(id) {
      if (!redis) throw new TiphubError('TIPHUB_REDIS_UNAVAILABLE', 'no Redis: a retried message is queued there');
      return (await retryQuarantined(cfg, keyring, service, redis, [id]))[0] ?? null;
    },
    drop: (id, actor) => service.dropQuarantine(id, actor),
  };
}
