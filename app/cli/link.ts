/**
 * Linking a channel whose login is a QR code (a WhatsApp Web session): `tiphub whatsapp link`, and
 * `tiphub start` when the session is not linked. The adapter puts its pairing code in Redis with
 * its state (src/channels/state.ts); this prints each new one in the terminal until the channel
 * says it is connected. When no process runs the channel yet, `link` runs its adapter here and
 * stops it once linked (the session stays on disk for `tiphub start`).
 */
import type { Config } from '../../src/config';
import type { Logger } from '../../src/log';
import { readChannelQr, readChannelStates } from '../../src/channels/state';
import { connectRedis, type RedisTarget } from '../../src/queue/redis';
import { TiphubError } from '../../src/errors';
import { findRedis } from '../hub/redis-provision';
import { startHub, type RunningHub } from '../hub/hub';
import type { ChannelName } from '../../adapters/registry';

/** The QR code as terminal text (two rows a line, so it fits an 80-column terminal). */
export async function terminalQr(text: string): Promise<string> {
  const QRCode = await import('qrcode');
  return QRCode.toString(text, { type: 'utf8', errorCorrectionLevel: 'L', margin: 2 });
}

export interface WatchOptions {
  readonly out: NodeJS.WritableStream;
  /** Gives up (false) after this long without being linked. */
  readonly timeoutMs: number;
  readonly stopped?: () => boolean;
  readonly pollMs?: number;
  /** Goes on after a login (`tiphub start`: a logout later asks for a new code). */
  readonly keepWatching?: boolean;
}

/** Prints each pairing code the channel waits with; resolves true once it is connected. */
export async function watchLogin(target: RedisTarget, prefix: string, channel: string, o: WatchOptions): Promise<boolean> {
  const r = connectRedis(target);
  let shown: string | null = null;
  let said = '';
  const until = Date.now() + o.timeoutMs;
  try {
    while (Date.now() < until && !o.stopped?.()) {
      const [st] = await readChannelStates(r, prefix, [channel]);
      if (st?.state === 'connected' && !st.stale) {
        if (!o.keepWatching) {
          o.out.write(`${channel}: linked and connected.\n`);
          return true;
        }
        if (shown) o.out.write(`${channel}: linked and connected.\n`);
        shown = null;
        said = 'connected';
        await new Promise((res) => setTimeout(res, o.pollMs ?? 500));
        continue;
      }
      const qr = await readChannelQr(r, prefix, channel);
      if (qr && qr !== shown) {
        shown = qr;
        o.out.write(
          `\n${await terminalQr(qr)}\nScan this with WhatsApp on the tip line's phone: Settings → Linked devices → Link a device.\n` +
            '(A new code appears every 20 seconds or so; this one is no use to anyone once it has changed.)\n',
        );
      } else if (!qr && !o.keepWatching) {
        const now = st?.state ? `${st.state}${st.detail ? ` (${st.detail})` : ''}` : 'not running';
        if (now !== said) {
          said = now;
          o.out.write(`${channel}: ${now}; waiting for a QR code…\n`);
        }
      }
      await new Promise((res) => setTimeout(res, o.pollMs ?? 500));
    }
    return false;
  } finally {
    r.disconnect();
  }
}

/** Is a live process (not this one) running the channel against this Redis? */
async function runningElsewhere(cfg: Readonly<Config>, channel: string): Promise<RedisTarget | null> {
  const target = await findRedis(cfg);
  if (!target) return null;
  const r = connectRedis(target);
  try {
    const [st] = await readChannelStates(r, cfg.queue.prefix, [channel]);
    return st && st.state !== null && st.state !== 'stopped' && !st.stale ? target : null;
  } finally {
    r.disconnect();
  }
}

export async function linkChannel(cfg: Readonly<Config>, log: Logger, channel: ChannelName, o: WatchOptions): Promise<boolean> {
  if (!cfg.channels[channel]?.enabled) {
    throw new TiphubError('TIPHUB_CONFIG_INVALID', `the ${channel} channel is not enabled (tiphub config check says which variable enables it)`);
  }
  const elsewhere = await runningElsewhere(cfg, channel);
  if (elsewhere) {
    o.out.write(`${channel} is run by another tiphub process; showing its QR code.\n`);
    return watchLogin(elsewhere, cfg.queue.prefix, channel, o);
  }
  let hub: RunningHub | null = null;
  try {
    hub = await startHub(cfg, log, { workers: false, channels: [channel] });
    if (!hub.adapters.has(channel)) throw new TiphubError('TIPHUB_CONFIG_INVALID', `the ${channel} adapter did not start (see the log above)`);
    return await watchLogin(hub.redis, cfg.queue.prefix, channel, o);
  } finally {
    await hub?.stop();
  }
}
