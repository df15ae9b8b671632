/**
 * The ports a channel's adapter gets (src/contracts/channel-adapter.ts), made by the core: its
 * message ids, the quarantine (sealed here, so no adapter holds the keyring), counters and leases
 * in Redis under the queue prefix, and its state for `tiphub status`. One Redis connection per
 * adapter, opened on first use and closed with `close()` after the adapter stopped.
 */
import type { AdapterPorts, LeasePort } from '../contracts/channel-adapter';
import type { Config } from '../config';
import type { Keyring } from '../crypto/keyring';
import { SEAL_AAD_QUARANTINE } from '../crypto/aad';
import type { Logger } from '../log';
import type { QuarantineEntry } from '../caselog/quarantine';
import { TiphubError } from '../errors';
import { Lease } from '../queue/lease';
import { connectRedis, type RedisTarget } from '../queue/redis';
import { writeChannelState } from './state';

export interface ChannelDeps {
  readonly keyring: Keyring;
  readonly log: Logger;
  readonly cfg: Readonly<Config>;
  /** For leases, counters and the channel's state; null: none of them (a test without Redis). */
  readonly redis: RedisTarget | null;
  /** Keeps a payload that could not be normalized, with its reason. */
  readonly quarantine?: (entry: QuarantineEntry) => Promise<void>;
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
  let lastSaid = '';
  let lastAt = 0;

  const ports: AdapterPorts = {
    settings: configured.settings,
    credentials: configured.credentials,
    dataDir: cfg.dataDir,
    log,
    messageId: (parts) => keyring.messageId(channel, parts),
    async quarantine(q) {
      const kept = !!deps.quarantine;
      await deps.quarantine?.({ channel, source: q.source, code: q.code, reason: q.reason, payloadSealed: keyring.seal(q.payload ?? null, SEAL_AAD_QUARANTINE) });
      // Counted where operators can see it, by code only: `HGETALL <prefix>:quarantined:<channel>`.
      await client()?.hincrby(`${prefix}:quarantined:${channel}`, q.code, 1).catch(() => undefined);
      log.warn({ channel, source: q.source, code: q.code, kept }, 'payload quarantined');
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
      state(s) {
        const r = client();
        // The same state again is written once a minute at most (a poll loop reports each round).
        const said = `${s.state}\n${s.detail ?? ''}\n${s.mode ?? ''}`;
        if (!r || (said === lastSaid && Date.now() - lastAt < 60_000)) return;
        lastSaid = said;
        lastAt = Date.now();
        void writeChannelState(r, prefix, channel, s).catch((err: unknown) => log.debug({ channel, err }, 'channel state not written'));
      },
    },
  };
  return {
    ports,
    async close() {
      // quit, not disconnect: the adapter's last state ("stopped") is still on its way.
      const r = redis;
      redis = null;
      await r?.quit().catch(() => r.disconnect());
    },
  };
}
