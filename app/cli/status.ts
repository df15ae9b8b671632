/**
 * `tiphub status`: each channel, as the process running it last said (its state in Redis, see
 * src/channels/state.ts): enabled here or not, its state and since when, its receive mode, and
 * how long ago a message last came in. No identifier is ever in it. `--json` for scripts. Exit
 * status 1 when an enabled channel needs a person (disconnected, logged out, a captcha, or not
 * running). The operations issue adds the queues, the case log and the rest to this screen.
 */
import type { Config } from '../../src/config';
import { readChannelStates, type ChannelStatus } from '../../src/channels/state';
import { connectRedis } from '../../src/queue/redis';
import { findRedis } from '../hub/redis-provision';

export interface StatusReport {
  /** Null: no Redis answers (nothing of the hub is running). */
  readonly redis: 'answers' | null;
  readonly channels: (ChannelStatus & { readonly enabled: boolean; readonly needsPerson: boolean })[];
}

const FINE = new Set(['connected', 'connecting']);

export async function channelStatus(cfg: Readonly<Config>, channels: readonly string[], enabled: readonly string[]): Promise<StatusReport> {
  const target = await findRedis(cfg);
  const states: ChannelStatus[] = target
    ? await read(target, cfg.queue.prefix, channels)
    : channels.map((channel) => ({ channel, state: null, detail: null, mode: null, since: null, lastMessageAt: null, updatedAt: null, stale: false }));
  return {
    redis: target ? 'answers' : null,
    channels: states.map((s) => {
      const on = enabled.includes(s.channel);
      // Enabled here, or run by a hub whose environment enables it (this shell's may not): a state that is not fine needs a person.
      const running = on || (s.state !== null && s.state !== 'stopped' && !s.stale);
      return { ...s, enabled: on, needsPerson: running && (s.stale || !FINE.has(s.state ?? '')) };
    }),
  };
}

async function read(target: string, prefix: string, channels: readonly string[]): Promise<ChannelStatus[]> {
  const r = connectRedis(target);
  try {
    return await readChannelStates(r, prefix, channels);
  } finally {
    r.disconnect();
  }
}

/** "3 min ago", "2 h ago": an age for a person. */
export function ageText(iso: string | null, now = Date.now()): string {
  if (!iso) return '-';
  const s = Math.max(0, Math.round((now - Date.parse(iso)) / 1000));
  if (s < 90) return `${s} s ago`;
  if (s < 90 * 60) return `${Math.round(s / 60)} min ago`;
  if (s < 36 * 3600) return `${Math.round(s / 3600)} h ago`;
  return `${Math.round(s / 86400)} d ago`;
}

export function formatStatus(r: StatusReport, now = Date.now()): string {
  const rows = [['channel', 'enabled', 'state', 'since', 'mode', 'last message', 'detail']];
  for (const c of r.channels) {
    rows.push([
      c.channel,
      c.enabled ? 'yes' : 'no',
      c.stale ? `not running (said ${c.state} ${ageText(c.updatedAt, now)})` : (c.state ?? (c.enabled ? 'not running' : '-')),
      ageText(c.since, now),
      c.mode ?? '-',
      ageText(c.lastMessageAt, now),
      c.needsPerson
        ? `NEEDS A PERSON${c.detail ? `: ${c.detail}` : ''}${c.state === 'needs-login' && !c.stale ? ` (link it: tiphub ${c.channel} link, or the dashboard's channels page)` : ''}`
        : (c.detail ?? ''),
    ]);
  }
  const widths = rows[0]!.map((_, i) => Math.max(...rows.map((row) => row[i]!.length)));
  const lines = rows.map((row) => row.map((v, i) => v.padEnd(widths[i]!)).join('  ').trimEnd());
  return `${r.redis ? '' : 'no Redis answers: nothing of the hub is running here\n'}${lines.join('\n')}\n`;
}
