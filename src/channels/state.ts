/**
 * Each channel's state in Redis, one hash per channel (`<prefix>:channel:<name>`): what the
 * adapter said last (connected, needs login, disconnected…), since when, its receive mode, and
 * when a message last came in. Words and times only, never an identifier. Written by the process
 * that runs the adapter, read by `tiphub status` from anywhere.
 */
import type { Redis } from 'ioredis';
import type { ChannelState } from '../contracts/channel-adapter';

const key = (prefix: string, channel: string) => `${prefix}:channel:${channel}`;

// `since` moves only when the state changes: "disconnected since" survives repeated reports.
const WRITE = `
local cur = redis.call('hget', KEYS[1], 'state')
if cur ~= ARGV[1] then redis.call('hset', KEYS[1], 'since', ARGV[4]) end
redis.call('hset', KEYS[1], 'state', ARGV[1], 'detail', ARGV[2], 'mode', ARGV[3], 'updatedAt', ARGV[4])
return 1`;

export async function writeChannelState(r: Redis, prefix: string, channel: string, s: ChannelState, now = Date.now()): Promise<void> {
  await r.eval(WRITE, 1, key(prefix, channel), s.state, s.detail ?? '', s.mode ?? '', String(now));
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
}

const iso = (v: string | undefined) => (v && /^\d+$/.test(v) ? new Date(Number(v)).toISOString() : null);

export async function readChannelStates(r: Redis, prefix: string, channels: readonly string[]): Promise<ChannelStatus[]> {
  const out: ChannelStatus[] = [];
  for (const channel of channels) {
    const h = await r.hgetall(key(prefix, channel));
    out.push({
      channel,
      state: (h.state as ChannelState['state'] | undefined) ?? null,
      detail: h.detail || null,
      mode: h.mode || null,
      since: iso(h.since),
      lastMessageAt: iso(h.lastMessageAt),
    });
  }
  return out;
}
