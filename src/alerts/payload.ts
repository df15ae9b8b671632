/**
 * What an alert POST says, and how it is signed. Only references, fixed words and counts: never
 * tip text, a pseudonym, an address or a platform id (an alert leaves the hub for a chat room or
 * a pager). The receiver checks `X-Tiphub-Signature: sha256=<hex>`, an HMAC-SHA256 of the exact
 * body under the alerts key (alerts.secret, or a key derived from the hub's secret).
 */
import { createHmac } from 'node:crypto';
import type { Config } from '../config';
import type { Keyring } from '../crypto/keyring';
import type { Priority } from '../tagging/vocabulary';

/** A case the tagging rules made high or urgent for the first time (at its creation or as a report joined it). */
export interface CaseAlert {
  readonly kind: 'case.high-priority';
  /** The case's reference (e.g. 6W2-JV9B), as operators look it up in the dashboard. */
  readonly case: string;
  readonly priority: Priority;
  readonly tags: readonly string[];
  readonly channels: readonly string[];
  readonly reportCount: number;
  /** When the transaction that raised it committed (ISO 8601). */
  readonly at: string;
}

/** A channel went down (after alerts.channelDownAfterSeconds) or came back after an alerted down. */
export interface ChannelAlert {
  readonly kind: 'channel.down' | 'channel.up';
  readonly channel: string;
  /** The channel's state (disconnected, needs-login, needs-captcha, connected), or `stale`: no process reports it any more. */
  readonly state: string;
  /** The fixed-vocabulary reason of the channel's state (e.g. "token rejected"), or null. */
  readonly detail: string | null;
  /** Since when it is down (or up again). */
  readonly since: string;
  readonly at: string;
}

export type Alert = CaseAlert | ChannelAlert;

export const SIGNATURE_HEADER = 'X-Tiphub-Signature';

/** The key alerts are signed with: alerts.secret as given, else derived from the hub's secret (`tiphub alerts key` prints it). */
export function alertsKey(cfg: Pick<Config, 'alerts'>, keyring: Pick<Keyring, 'derivedKey'>): Buffer {
  return cfg.alerts.secret ? Buffer.from(cfg.alerts.secret, 'utf8') : keyring.derivedKey('alerts/hmac-sha256');
}

/** The header's value for a body: `sha256=` and the HMAC-SHA256 of the body's bytes in hex. */
export function signAlert(key: Buffer, body: string): string {
  return `sha256=${createHmac('sha256', key).update(body, 'utf8').digest('hex')}`;
}

/** Where the webhook is, for a log line: scheme, host and port only (the path and query may hold its token). */
export function webhookOrigin(url: string): string {
  try {
    return new URL(url).origin;
  } catch {
    return '(invalid URL)';
  }
}
