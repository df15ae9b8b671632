/**
 * The ports a channel's adapter gets (src/contracts/channel-adapter.ts), made by the core: its
 * message ids, the quarantine (sealed here, so no adapter holds the keyring), counters and leases
 * in Redis under the queue prefix, and its state for `tiphub status`. One Redis connection per
 * adapter, opened on first use and closed with `close()` after the adapter stopped.
 */
import { randomUUID } from 'node:crypto';
import type { AdapterPorts, ChannelEvent, ChannelState, LeasePort } from '../contracts/channel-adapter';
import type { Config } from '../config';
import type { Keyring } from '../crypto/keyring';
import { SEAL_AAD_QUARANTINE } from '../crypto/aad';
import type { Logger } from '../log';
import type { QuarantineEntry } from '../caselog/quarantine';
import { describeForeignError, TiphubError } from '../errors';
import { Lease } from '../queue/lease';
import { connectRedis, type RedisTarget } from '../queue/redis';
import { STATE_REFRESH_MS, writeChannelState } from './state';

export interface ChannelDeps {
  readonly keyring: Keyring;
  readonly log: Logger;
  readonly cfg: Readonly<Config>;
  /** For leases, counters and the channel's state; null: none of them (a test without Redis). */
  readonly redis: RedisTarget | null;
  /** Keeps a payload that could not be normalized, with its reason (required: without it the payload would be passed over). */
  readonly quarantine: (entry: QuarantineEntry) => Promise<void>;
  /**
   * Records a channel's event (reaction, retraction, delivery status, a second address) in the
   * case log (src/caselog/channel-events.ts). Absent: a process without the case log (a test);
   * the adapter's `record` then rejects and the platform's delivery stays unconfirmed.
   */
  readonly record?: (channel: string, e: ChannelEvent) => Promise<'recorded' | 'again' | 'unmatched' | 'pending'>;
  /** Called after each write of the channel's state by this process (src/alerts/channel-alerts.ts: did it go down or come back?). */
  readonly onStateWritten?: (channel: string) => void;
}

export interface MadePorts {
  readonly ports: AdapterPorts;
  /** Closes what the ports opened (after the adapter stopped). */
  close(): Promise<void>;
}

export function channelPorts(channel: string, deps: ChannelDeps): MadePorts {
  const configured = deps.cfg.channels[channel];
  if (!configured?.enabled) throw new TiphubError('TIPHUB_CONFIG_INVALID', `the ${channel} channel is not enabled (tiphub config check says which variable enables it)`);
  const { keyring, log, cfg } = deps;
  const prefix = cfg.queue.prefix;
  let redis: ReturnType<typeof connectRedis> | null = null;
  const client = () => (deps.redis ? (redis ??= connectRedis(deps.redis)) : null);
  // This process's name for its writes of the channel's state: another process running the same
  // channel (a standby waiting for the lease) must not overwrite what the active one says.
  const owner = randomUUID();
  let current: ChannelState | null = null;
  let lastSaid = '';
  let lastAt = 0;
  const write = (s: ChannelState, force: boolean) => {
    const r = client();
    const said = `${s.state}\n${s.detail ?? ''}\n${s.mode ?? ''}\n${s.qr ?? ''}`;
    if (!r || (!force && said === lastSaid && Date.now() - lastAt < STATE_REFRESH_MS)) return;
    void writeChannelState(r, prefix, channel, s, owner).then(
      () => {
        lastSaid = said;
        lastAt = Date.now();
        deps.onStateWritten?.(channel);
      },
      // Not `err` itself: a Redis reply error carries the command's arguments (a QR code among them).
      (err: unknown) => log.debug({ channel, cause: describeForeignError(err) }, 'channel state not written'),
    );
  };
  // Rewritten while the process lives, so that `tiphub status` can tell a state from a dead process's last word.
  const heartbeat = setInterval(() => current && current.state !== 'stopped' && write(current, true), STATE_REFRESH_MS);
  heartbeat.unref();

  const ports: AdapterPorts = {
    channel,
    settings: configured.settings,
    credentials: configured.credentials,
    dataDir: cfg.dataDir,
    log,
    messageId: (parts) => keyring.messageId(channel, parts),
    async quarantine(q) {
      await deps.quarantine({ channel, source: q.source, code: q.code, reason: q.reason, payloadSealed: keyring.seal(q.payload ?? null, SEAL_AAD_QUARANTINE) });
      // Counted where operators can see it, by code only: `HGETALL <prefix>:quarantined:<channel>`.
      await client()?.hincrby(`${prefix}:quarantined:${channel}`, q.code, 1).catch(() => undefined);
      log.warn({ channel, source: q.source, code: q.code }, 'payload quarantined');
    },
    async countIgnored(kind) {
      // No id in the key or the field: `HGETALL <prefix>:ignored:<channel>`.
      await client()?.hincrby(`${prefix}:ignored:${channel}`, kind, 1).catch(() => undefined);
    },
    lease(name, ttlMs, onLost): LeasePort | null {
      const r = client();
      return r ? new Lease(r, `${prefix}:lease:${channel}:${name}`, ttlMs, onLost) : null;
    },
    events: {
      // The same state again (a poll loop reports each round) is written by the heartbeat only.
      state(s) {
        current = s;
        write(s, false);
      },
      async record(e) {
        if (!deps.record) throw new TiphubError('TIPHUB_HUB_UNAVAILABLE', `no case log in this process to record a ${e.kind}`);
        const outcome = await deps.record(channel, e);
        // A reaction to one of our own messages, say: nothing of ours to put it on. Counted by kind.
        if (outcome === 'unmatched') await client()?.hincrby(`${prefix}:ignored:${channel}`, `${e.kind}-unmatched`, 1).catch(() => undefined);
        log.debug({ channel, kind: e.kind, outcome }, 'channel event');
      },
    },
  };
  return {
    ports,
    async close() {
      clearInterval(heartbeat);
      // quit, not disconnect: the adapter's last state ("stopped") is still on its way.
      const r = redis;
      redis = null;
      await r?.quit().catch(() => r.disconnect());
    },
  };
}
