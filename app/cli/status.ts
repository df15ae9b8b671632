/**
 * `tiphub status`: the hub at a glance, from anywhere the data directory and Redis are reachable.
 *
 * - each channel, as the process running it last said (src/channels/state.ts): enabled here or
 *   not, its state and since when, receive mode, last message age, reconnects, time down;
 * - each queue (src/queue/stats.ts): waiting, active, delayed, failed, the oldest waiting job;
 * - the case log (src/caselog/stats.ts, opened here or asked of the running hub): reports, cases,
 *   open cases, last commit; the outbox, the media still to fetch, the quarantine;
 * - the data directory's disk use and its filesystem's free space (src/disk.ts).
 *
 * Counts, words and times only: never an identifier or a tip. `--json` for scripts (the field
 * names of `StatusReport` are stable). Exit status 1 when something needs a person, each reason
 * listed in `needsPerson` (NEEDS_PERSON_HELP says which). Without Redis it says so and still shows
 * the case log and the disk.
 */
import { noColorRequested, type Config } from '../../src/config';
import { readChannelStates, type ChannelStatus } from '../../src/channels/state';
import { connectRedis } from '../../src/queue/redis';
import { hubQueueNames, queueDepthReader, type QueueStats } from '../../src/queue/stats';
import type { CaseLogStats } from '../../src/caselog/stats';
import { diskIsLow, diskUsage, type DiskUsage } from '../../src/disk';
import { isTiphubError } from '../../src/errors';
import type { Logger } from '../../src/log';
import { findRedis } from '../hub/redis-provision';
import { openCaseLogAccess } from '../hub/access';

/** What "needs a person" means, for --help and the README. */
export const NEEDS_PERSON_HELP = [
  'Exit status 1 when something needs a person:',
  '  - a channel enabled here, or run by a hub, that is not connected or connecting (disconnected, logged out, a captcha, stopped, or its process gone);',
  '  - a failed job in any queue (attempts exhausted or refused for good: see tiphub jobs failed);',
  '  - a message in quarantine (see tiphub quarantine list);',
  '  - the case log cannot be read (not when another command briefly holds the embedded one);',
  '  - less than 5 % or 1 GiB free on the data directory\'s filesystem.',
  'A backlog (waiting jobs, outbox rows, media to fetch) is shown but is no such reason: it drains by itself while the hub runs.',
].join('\n');

export interface ChannelRow extends ChannelStatus {
  readonly enabled: boolean;
  readonly needsPerson: boolean;
}

export interface QueueRow extends QueueStats {
  readonly name: string;
}

export interface StatusReport {
  /** When this was read (ISO 8601). */
  readonly at: string;
  /** Null: no Redis answers (nothing of the hub is running). */
  readonly redis: 'answers' | null;
  readonly channels: ChannelRow[];
  /** Null without Redis, or when the queues did not answer. */
  readonly queues: QueueRow[] | null;
  /** Null when the case log could not be read (`caseLogError` says why). */
  readonly caseLog: ({ readonly via: 'local' | 'hub' } & Pick<CaseLogStats, 'reports' | 'cases' | 'openCases' | 'lastCommitAt' | 'quarantined'>) | null;
  readonly caseLogError: { readonly code: string; readonly busy: boolean } | null;
  readonly outbox: CaseLogStats['outbox'] | null;
  readonly media: CaseLogStats['media'] | null;
  /** Null when the data directory does not exist. */
  readonly disk: DiskUsage | null;
  /** Each reason a person is needed, in words (no identifiers); empty: exit status 0. */
  readonly needsPerson: string[];
}

const FINE = new Set(['connected', 'connecting']);

/** The channel rows: a state that is not fine, of a channel enabled here or run by a live hub, needs a person. */
export function channelRows(states: readonly ChannelStatus[], enabled: readonly string[]): ChannelRow[] {
  return states.map((s) => {
    const on = enabled.includes(s.channel);
    // Enabled here, or run by a hub whose environment enables it (this shell's may not).
    const running = on || (s.state !== null && s.state !== 'stopped' && !s.stale);
    return { ...s, enabled: on, needsPerson: running && (s.stale || !FINE.has(s.state ?? '')) };
  });
}

const never = (channel: string): ChannelStatus => ({
  channel, state: null, detail: null, mode: null, since: null, lastMessageAt: null, updatedAt: null, stale: false, reconnects: 0, disconnectedSeconds: 0,
});

async function readRedisSide(target: string, prefix: string, channels: readonly string[]): Promise<{ states: ChannelStatus[]; queues: QueueRow[] | null }> {
  const r = connectRedis(target);
  const reader = queueDepthReader(target, prefix, hubQueueNames(channels), 5000);
  try {
    const states = await readChannelStates(r, prefix, channels);
    const depth = await reader.read().catch(() => null);
    return { states, queues: depth && Object.entries(depth).map(([name, q]) => ({ name, ...q })) };
  } finally {
    r.disconnect();
    await reader.close();
  }
}

async function readCaseLog(cfg: Readonly<Config>, log: Logger): Promise<{ via: 'local' | 'hub'; stats: CaseLogStats } | { code: string; busy: boolean }> {
  try {
    const access = await openCaseLogAccess(cfg, log, { role: 'status' });
    try {
      return { via: access.service.via, stats: await access.service.stats() };
    } finally {
      await access.close();
    }
  } catch (err) {
    const code = isTiphubError(err) ? err.code : 'TIPHUB_CASELOG_UNAVAILABLE';
    log.warn({ err }, 'status: the case log could not be read');
    return { code, busy: code === 'TIPHUB_CASELOG_LOCKED' };
  }
}

export async function readStatus(cfg: Readonly<Config>, log: Logger, channels: readonly string[], enabled: readonly string[], now = Date.now()): Promise<StatusReport> {
  const [redisSide, caseLog] = await Promise.all([
    findRedis(cfg).then(async (target) => (target ? readRedisSide(target, cfg.queue.prefix, channels) : null)),
    readCaseLog(cfg, log),
  ]);
  const disk = await diskUsage(cfg.dataDir).catch(() => null); // after the case log: an embedded one opened here is counted
  const rows = channelRows(redisSide?.states ?? channels.map(never), enabled);
  const stats = 'stats' in caseLog ? caseLog.stats : null;
  const needs: string[] = [];
  for (const c of rows) if (c.needsPerson) needs.push(`channel ${c.channel}: ${c.stale ? 'its process is gone' : (c.state ?? 'not running')}${c.detail ? ` (${c.detail})` : ''}`);
  for (const q of redisSide?.queues ?? []) if (q.failed) needs.push(`queue ${q.name}: ${q.failed} failed job${q.failed === 1 ? '' : 's'}`);
  if (stats?.quarantined) needs.push(`quarantine: ${stats.quarantined} message${stats.quarantined === 1 ? '' : 's'} kept aside`);
  if ('code' in caseLog && !caseLog.busy) needs.push(`case log: cannot be read (${caseLog.code})`);
  if (disk && diskIsLow(disk)) needs.push('disk: the data directory\'s filesystem is almost full');
  return {
    at: new Date(now).toISOString(),
    redis: redisSide ? 'answers' : null,
    channels: rows,
    queues: redisSide?.queues ?? null,
    caseLog: stats && 'via' in caseLog
      ? { via: caseLog.via, reports: stats.reports, cases: stats.cases, openCases: stats.openCases, lastCommitAt: stats.lastCommitAt, quarantined: stats.quarantined }
      : null,
    caseLogError: 'code' in caseLog ? caseLog : null,
    outbox: stats?.outbox ?? null,
    media: stats?.media ?? null,
    disk,
    needsPerson: needs,
  };
}

/** "3 min ago", "2 h ago": an age for a person. */
export function ageText(iso: string | null, now = Date.now()): string {
  if (!iso) return '-';
  return `${durationText(Math.max(0, Math.round((now - Date.parse(iso)) / 1000)))} ago`;
}

/** "42 s", "3 min", "2 h", "5 d". */
export function durationText(s: number): string {
  if (s < 90) return `${s} s`;
  if (s < 90 * 60) return `${Math.round(s / 60)} min`;
  if (s < 36 * 3600) return `${Math.round(s / 3600)} h`;
  return `${Math.round(s / 86400)} d`;
}

/** "512 B", "3.4 MB", "84.7 GB" (powers of 1000). */
export function bytesText(n: number): string {
  const units = ['B', 'kB', 'MB', 'GB', 'TB'];
  let i = 0;
  let v = n;
  while (v >= 1000 && i < units.length - 1) {
    v /= 1000;
    i++;
  }
  return i === 0 ? `${v} B` : `${v.toFixed(1)} ${units[i]}`;
}

/** Colours for a terminal only: the stream a TTY and NO_COLOR unset (`noColor`: tests pass it). */
export function useColour(stream: { isTTY?: boolean }, noColor = noColorRequested()): boolean {
  return stream.isTTY === true && !noColor;
}

type Paint = (kind: 'bad' | 'good' | 'busy' | 'head', text: string) => string;
const ANSI = { bad: '31;1', good: '32', busy: '33', head: '1' } as const;
const painter = (colour: boolean): Paint => (colour ? (kind, text) => (text ? `\u001b[${ANSI[kind]}m${text}\u001b[0m` : text) : (_, text) => text);

/** Rows padded to columns; a cell's colour is applied after padding, so widths stay right. */
function table(rows: readonly (readonly string[])[], paints: readonly (readonly (keyof typeof ANSI | null)[])[], paint: Paint): string[] {
  const widths = rows[0]!.map((_, i) => Math.max(...rows.map((row) => row[i]!.length)));
  return rows.map((row, r) =>
    row
      .map((v, i) => {
        const last = i === row.length - 1;
        const cell = last ? v : v.padEnd(widths[i]!);
        const kind = r === 0 ? 'head' : (paints[r]?.[i] ?? null);
        if (!kind) return cell;
        const trimmed = cell.trimEnd();
        return paint(kind, trimmed) + cell.slice(trimmed.length);
      })
      .join('  ')
      .trimEnd(),
  );
}

export function formatStatus(r: StatusReport, opts: { now?: number; colour?: boolean } = {}): string {
  const now = opts.now ?? Date.now();
  const paint = painter(opts.colour ?? false);
  const out: string[] = [];
  if (!r.redis) out.push(paint('bad', 'no Redis answers: nothing of the hub is running here (channels and queues unknown)'), '');

  const cRows: string[][] = [['channel', 'enabled', 'state', 'since', 'mode', 'last message', 'reconnects', 'down', 'detail']];
  const cPaints: (keyof typeof ANSI | null)[][] = [[]];
  for (const c of r.channels) {
    const state = c.stale ? `not running (said ${c.state} ${ageText(c.updatedAt, now)})` : (c.state ?? (c.enabled ? 'not running' : '-'));
    cRows.push([
      c.channel,
      c.enabled ? 'yes' : 'no',
      state,
      ageText(c.since, now),
      c.mode ?? '-',
      ageText(c.lastMessageAt, now),
      c.state === null ? '-' : String(c.reconnects),
      c.state === null ? '-' : durationText(c.disconnectedSeconds),
      c.needsPerson
        ? `NEEDS A PERSON${c.detail ? `: ${c.detail}` : ''}${c.state === 'needs-login' && !c.stale ? ` (link it: tiphub ${c.channel} link, or the dashboard's channels page)` : ''}`
        : (c.detail ?? ''),
    ]);
    const st = c.needsPerson ? 'bad' : c.state === 'connected' ? 'good' : c.state === 'connecting' ? 'busy' : null;
    cPaints.push([null, null, st, null, null, null, null, null, c.needsPerson ? 'bad' : null]);
  }
  out.push(...table(cRows, cPaints, paint));

  if (r.queues) {
    // Intake, the queues of the channels enabled here, and any other queue that holds something.
    const on = new Set(r.channels.filter((c) => c.enabled || c.state !== null).map((c) => c.channel));
    const shown = r.queues.filter((q) => q.name === 'intake' || on.has(q.name.replace(/^(outbound|media)-/, '')) || q.waiting + q.active + q.delayed + q.failed > 0);
    const qRows: string[][] = [['queue', 'waiting', 'active', 'delayed', 'failed', 'oldest waiting']];
    const qPaints: (keyof typeof ANSI | null)[][] = [[]];
    for (const q of shown) {
      qRows.push([q.name, String(q.waiting), String(q.active), String(q.delayed), String(q.failed), ageText(q.oldestWaitingAt, now)]);
      qPaints.push([null, q.waiting ? 'busy' : null, null, null, q.failed ? 'bad' : null, null]);
    }
    out.push('', ...table(qRows, qPaints, paint));
  }

  out.push('');
  if (r.caseLog) {
    const c = r.caseLog;
    out.push(
      `${paint('head', 'case log')} (${c.via === 'hub' ? 'through the running hub' : 'opened here'}): ${c.reports} reports, ${c.cases} cases (${c.openCases} open), last commit ${ageText(c.lastCommitAt, now)}`,
    );
    const o = r.outbox!;
    out.push(`${paint('head', 'outbox')}: ${o.pending} pending${o.pending ? ` (oldest ${ageText(o.oldestPendingAt, now)})` : ''}, ${o.failed} refused by the platform`);
    out.push(`${paint('head', 'media')}: ${r.media!.pending} to fetch, ${r.media!.missing} missing`);
    out.push(`${paint('head', 'quarantine')}: ${c.quarantined ? paint('bad', `${c.quarantined} kept aside (tiphub quarantine list)`) : '0'}`);
  } else if (r.caseLogError) {
    const e = r.caseLogError;
    out.push(`${paint('head', 'case log')}: ${e.busy ? paint('busy', 'busy: another command holds the embedded case log; try again') : paint('bad', `cannot be read (${e.code})`)}`);
  }
  if (r.disk) {
    const d = r.disk;
    const low = diskIsLow(d);
    const free = `${bytesText(d.freeBytes)} free of ${bytesText(d.totalBytes)} (${Math.round((100 * d.freeBytes) / Math.max(1, d.totalBytes))} %)`;
    out.push(`${paint('head', 'disk')}: data directory ${bytesText(d.dataDirBytes)}, ${low ? paint('bad', free) : free}`);
  }

  out.push('');
  if (r.needsPerson.length) out.push(paint('bad', 'NEEDS A PERSON:'), ...r.needsPerson.map((n) => `  - ${n}`));
  else out.push(paint('good', 'nothing needs a person'));
  return `${out.join('\n')}\n`;
}
