/**
 * Each channel's state in Redis, one hash per channel (`<prefix>:channel:<name>`): what the
 * adapter said last (connected, needs login, disconnected…), since when, its receive mode, and
 * when a message last came in. Words and times only, never an identifier. Written by the process
 * that runs the adapter, read by `tiphub status` from anywhere.
 *
 * Two counters are kept here, the same for every channel, from the states the adapter reports (no
 * adapter counts anything itself): `reconnects`, each time a connected channel lost its connection
 * (went to connecting, disconnected, needs-login or needs-captcha; a stop is not one), and the time
 * it spent down (from losing the connection, or from a start that could not connect, to being
 * connected again or stopped). Both add up for as long as the hash lives (this Redis), across restarts.
 */
import type { Redis } from 'ioredis';
import type { ChannelState } from '../contracts/channel-adapter';

const key = (prefix: string, channel: string) => `${prefix}:channel:${channel}`;
/** The channel's hash (src/alerts/channel-alerts.ts keeps its alert decisions beside the state). */
export const channelStateKey = key;

/** A running process rewrites its channel's state this often; one not rewritten for STALE_MS is gone. */
export const STATE_REFRESH_MS = 30_000;
export const STALE_MS = 3 * STATE_REFRESH_MS;

// `since` moves only when the state changes: "disconnected since" survives repeated reports.
// Another process's "connecting" or "stopped" (a standby waiting for the lease, or leaving) does
// not replace what a live owner says while it is connected.
const WRITE = `
local h = redis.call('hmget', KEYS[1], 'state', 'owner', 'updatedAt')
local now = tonumber(ARGV[4])
if h[2] and h[2] ~= ARGV[5] and h[1] == 'connected' and (ARGV[1] == 'connecting' or ARGV[1] == 'stopped') and now - tonumber(h[3] or '0') < tonumber(ARGV[6]) then
  return 0
end
if h[1] ~= ARGV[1] then
  redis.call('hset', KEYS[1], 'since', ARGV[4])
  local down = ARGV[1] == 'disconnected' or ARGV[1] == 'needs-login' or ARGV[1] == 'needs-captcha'
  if h[1] == 'connected' and (down or ARGV[1] == 'connecting') then
    redis.call('hincrby', KEYS[1], 'reconnects', 1)
    down = true
  end
  local downSince = redis.call('hget', KEYS[1], 'downSince')
  if downSince and (ARGV[1] == 'connected' or ARGV[1] == 'stopped') then
    redis.call('hincrby', KEYS[1], 'disconnectedMs', math.max(0, now - tonumber(downSince)))
    redis.call('hdel', KEYS[1], 'downSince')
  elseif down and not downSince then
    redis.call('hset', KEYS[1], 'downSince', ARGV[4])
  end
end
redis.call('hset', KEYS[1], 'state', ARGV[1], 'detail', ARGV[2], 'mode', ARGV[3], 'updatedAt', ARGV[4], 'owner', ARGV[5])
if ARGV[7] ~= '' then redis.call('set', KEYS[2], ARGV[7], 'PX', ARGV[8]) elseif ARGV[1] ~= 'needs-login' then redis.call('del', KEYS[2]) end
return 1`;

/** A pairing QR code lives this long in Redis (WhatsApp Web shows a new one about every 20 s). */
export const QR_TTL_MS = 120_000;
const qrKey = (prefix: string, channel: string) => `${key(prefix, channel)}:qr`;

/** Writes a channel's state as `owner` (a process's random id, nothing else). Resolves false when a live owner's state was kept. */
export async function writeChannelState(r: Redis, prefix: string, channel: string, s: ChannelState, owner: string, now = Date.now()): Promise<boolean> {
  return (
    (await r.eval(WRITE, 2, key(prefix, channel), qrKey(prefix, channel), s.state, s.detail ?? '', s.mode ?? '', String(now), owner, String(STALE_MS), s.qr ?? '', String(QR_TTL_MS))) === 1
  );
}

/**
 * The QR code a channel waits to be scanned with (while it needs a login), for `tiphub <channel>
 * link` and the dashboard's channels page; null when none is pending. A login secret for a minute
 * or two: shown to admins only, never logged.
 */
export async function readChannelQr(r: Redis, prefix: string, channel: string): Promise<string | null> {
  return r.get(qrKey(prefix, channel));
}

/** A message of this channel was enqueued (kept to the second: one write a second at most). */
export async function noteChannelMessage(r: Redis, prefix: string, channel: string, now = Date.now()): Promise<void> {
  await r.hset(key(prefix, channel), 'lastMessageAt', String(now));
}

export interface ChannelStatus {
  readonly channel: string;
  /** Null: no process has run it against this Redis. */
  readonly state: ChannelState['state'] | null;
  readonly detail: string | null;
  readonly mode: string | null;
  /** Since when it is in this state (ISO 8601). */
  readonly since: string | null;
  readonly lastMessageAt: string | null;
  /** When the process running it last wrote its state; older than STALE_MS: that process is gone. */
  readonly updatedAt: string | null;
  /** The state is a process's last word, not rewritten for STALE_MS (it crashed, or was killed). */
  readonly stale: boolean;
  /** How often a connected channel lost its connection (see the module's comment). */
  readonly reconnects: number;
  /** Seconds spent down, the current spell included (see the module's comment). */
  readonly disconnectedSeconds: number;
}

const iso = (v: string | undefined) => (v && /^\d+$/.test(v) ? new Date(Number(v)).toISOString() : null);

export async function readChannelStates(r: Redis, prefix: string, channels: readonly string[], now = Date.now()): Promise<ChannelStatus[]> {
  const out: ChannelStatus[] = [];
  for (const channel of channels) {
    const h = await r.hgetall(key(prefix, channel));
    const state = (h.state as ChannelState['state'] | undefined) ?? null;
    out.push({
      channel,
      state,
      detail: h.detail || null,
      mode: h.mode || null,
      since: iso(h.since),
      lastMessageAt: iso(h.lastMessageAt),
      updatedAt: iso(h.updatedAt),
      stale: state !== null && state !== 'stopped' && now - Number(h.updatedAt ?? 0) > STALE_MS,
      reconnects: Number(h.reconnects ?? 0) || 0,
      disconnectedSeconds: Math.round(((Number(h.disconnectedMs ?? 0) || 0) + (h.downSince ? Math.max(0, now - Number(h.downSince)) : 0)) / 1000),
    });
  }
  return out;
}
