/**
 * Alerts for channels going down and coming back, decided in Redis beside each channel's state
 * (src/channels/state.ts). One script compares and sets, so that of all the processes looking at
 * a channel only one decides each transition: the one whose state write changed it (checked right
 * after each write) or, for a down that must first last alerts.channelDownAfterSeconds and for an
 * owner gone stale (crashed, killed), whichever process's periodic check sees it first.
 *
 * The decided alert is kept in the channel's hash (`alertPending`) until it is in the alerts
 * queue, under a job id of the transition: a crash between deciding and enqueueing leaves it for
 * the checks of any process after PENDING_GRACE_MS, and a second enqueue of it is the same job.
 *
 * Down: disconnected, needs-login, needs-captcha, or stale (no process rewrote it for STALE_MS).
 * Up: connected, after an alerted down. `connecting` is neither (a reconnect in progress); a down
 * shorter than the debounce, and a `stopped` channel (stopped on purpose), alert nothing.
 */
import type { Redis } from 'ioredis';
import type { Config } from '../config';
import type { Logger } from '../log';
import { describeForeignError } from '../errors';
import { channelStateKey, STALE_MS } from '../channels/state';
import type { ChannelAlert } from './payload';
import type { AlertsQueue } from './queue';

// Fields of the channel's hash kept by this script: alerted (down | up), downFrom (ms), alertPending (JSON).
const CHECK = `
local h = redis.call('hmget', KEYS[1], 'state', 'detail', 'since', 'updatedAt', 'alerted', 'downFrom', 'alertPending')
local state = h[1]
if not state then return false end
local now = tonumber(ARGV[1])
local updated = tonumber(h[4] or '0')
local stale = state ~= 'stopped' and now - updated > tonumber(ARGV[2])
local down = stale or state == 'disconnected' or state == 'needs-login' or state == 'needs-captcha'
local pending = false
if h[7] and now - cjson.decode(h[7]).at > tonumber(ARGV[4]) then pending = h[7] end
if down then
  local from = h[6]
  if not from then
    if stale then from = tostring(updated) else from = h[3] or ARGV[1] end
    redis.call('hset', KEYS[1], 'downFrom', from)
  end
  if h[5] ~= 'down' and now - tonumber(from) >= tonumber(ARGV[3]) then
    local shown = state
    local detail = h[2] or ''
    if stale then shown = 'stale'; detail = 'no process reports it' end
    pending = cjson.encode({ kind = 'channel.down', state = shown, detail = detail, since = tonumber(from), at = now })
    redis.call('hset', KEYS[1], 'alerted', 'down', 'alertPending', pending)
  end
elseif state == 'connected' or state == 'stopped' then
  local from = tonumber(h[6] or '0')
  redis.call('hdel', KEYS[1], 'downFrom')
  if state == 'connected' and h[5] == 'down' then
    local since = tonumber(h[3] or ARGV[1])
    if since <= from then since = updated end
    pending = cjson.encode({ kind = 'channel.up', state = 'connected', detail = h[2] or '', since = since, at = now })
    redis.call('hset', KEYS[1], 'alerted', 'up', 'alertPending', pending)
  end
end
return pending`;

/** A decision not enqueued this long after it was made was left by a crash: any check enqueues it (the deciding process has it meanwhile). */
const PENDING_GRACE_MS = 5_000;

const CLEAR = `if redis.call('hget', KEYS[1], 'alertPending') == ARGV[1] then redis.call('hdel', KEYS[1], 'alertPending') end return 1`;

/**
 * States whose detail is for the person at `tiphub status`, not for a webhook or a log line: a
 * captcha's detail carries the platform's challenge token. The alert says fixed words instead.
 */
const FIXED_DETAIL: Readonly<Record<string, string>> = {
  'needs-captcha': 'the platform asks for a captcha: tiphub status says how to answer it',
  'needs-login': 'the channel must be linked again: tiphub status says how',
};

interface Pending {
  kind: ChannelAlert['kind'];
  state: string;
  detail: string;
  since: number;
  at: number;
}

/** The checks of one process, for the enabled channels of its configuration. */
export class ChannelAlerts {
  private timer: NodeJS.Timeout | null = null;
  private running: Promise<unknown> = Promise.resolve();
  private closed = false;

  constructor(
    private readonly redis: Redis,
    private readonly queue: AlertsQueue,
    private readonly cfg: Readonly<Pick<Config, 'queue' | 'alerts'>>,
    private readonly log: Logger,
  ) {}

  /** Decides (at most once per transition across processes) and enqueues; resolves to the alert enqueued, if any. */
  async check(channel: string, now = Date.now()): Promise<ChannelAlert | null> {
    const k = channelStateKey(this.cfg.queue.prefix, channel);
    const got = (await this.redis.eval(CHECK, 1, k, String(now), String(STALE_MS), String(this.cfg.alerts.channelDownAfterSeconds * 1000), String(PENDING_GRACE_MS))) as string | null;
    if (!got) return null;
    const p = JSON.parse(got) as Pending;
    const alert: ChannelAlert = {
      kind: p.kind, channel, state: p.state, detail: FIXED_DETAIL[p.state] ?? (p.detail || null), since: new Date(p.since).toISOString(), at: new Date(p.at).toISOString(),
    };
    await this.queue.add(alert.kind, alert, { jobId: `channel-${channel}-${alert.kind === 'channel.down' ? 'down' : 'up'}-${p.since}-${p.at}` });
    await this.redis.eval(CLEAR, 1, k, got);
    this.log.info({ alert: alert.kind, channel, state: alert.state, detail: alert.detail }, 'channel alert');
    return alert;
  }

  /** Checks after a state write of this process (never throws: an alert is not worth a receiver). */
  afterWrite(channel: string): void {
    if (this.closed) return;
    this.running = this.running.then(() => this.check(channel)).catch((err: unknown) => this.log.warn({ channel, cause: describeForeignError(err) }, 'channel alert check failed'));
  }

  /** Checks these channels every `everyMs` (debounced downs, stale owners, a decision a crash left unsent). */
  watch(channels: readonly string[], everyMs = 5_000): void {
    if (this.timer || !channels.length) return;
    this.timer = setInterval(() => {
      for (const c of channels) this.afterWrite(c);
    }, everyMs);
    this.timer.unref();
  }

  async close(): Promise<void> {
    this.closed = true;
    if (this.timer) clearInterval(this.timer);
    this.timer = null;
    await this.running;
  }
}
