/**
 * The receive path a channel's transports share (the contract's `handleInbound`), for adapters to
 * build theirs on: normalize one item,
 * then count it (ignored), record it (an event: reaction, retraction, status, a second address),
 * enqueue it (a report), or quarantine it with its reason. Resolves once one of these is done; it
 * rejects only when not started or stopping, or when the quarantine or the case log fails: the
 * caller then leaves the platform's delivery unconfirmed (Meta retries, the web session asks again).
 */
import type { AdapterPorts, InboundSink, NormalizeContext } from './channel-adapter';
import { describeIssues, InboundMessage, isEventOnly, isIgnored, isRejected, type EventOnly, type Ignored, type Rejected } from './inbound-message';
import { describeForeignError, isTiphubError, TiphubError } from '../errors';

export interface InboundPath {
  handleInbound(raw: unknown): Promise<void>;
  /** Starts taking items into this sink; `stopping()` refuses new ones. */
  open(sink: InboundSink): void;
  close(): void;
  readonly quarantined: number;
  readonly ignored: ReadonlyMap<string, number>;
}

export function inboundPath(
  ports: AdapterPorts,
  normalize: (raw: unknown, ctx: NormalizeContext) => InboundMessage | Rejected | Ignored | EventOnly,
  account: () => string,
  source: (raw: unknown) => string,
): InboundPath {
  let sink: InboundSink | null = null;
  let quarantined = 0;
  const ignored = new Map<string, number>();
  const quarantine = async (raw: unknown, code: string, reason: string) => {
    await ports.quarantine({ source: source(raw), code, reason, payload: raw });
    quarantined++;
  };
  return {
    open(s) {
      sink = s;
    },
    close() {
      sink = null;
    },
    get quarantined() {
      return quarantined;
    },
    ignored,
    async handleInbound(raw) {
      const to = sink;
      if (!to) throw new TiphubError('TIPHUB_HUB_UNAVAILABLE', `the ${ports.channel} adapter is not started`);
      const n = normalize(raw, { account: account(), receivedAt: new Date(), messageId: ports.messageId });
      if (isIgnored(n)) {
        const kind = n.reason.replace(/ .*/, '');
        ignored.set(kind, (ignored.get(kind) ?? 0) + 1);
        await ports.countIgnored(kind);
        ports.log.debug({ channel: ports.channel, reason: n.reason }, 'message ignored');
        return;
      }
      if (isRejected(n)) return quarantine(raw, 'TIPHUB_MESSAGE_INVALID', n.reason);
      if (isEventOnly(n)) {
        // The case log refusing is not this item's fault: it stays unconfirmed and comes again.
        await ports.events.record(n.event);
        for (const e of n.more ?? []) await ports.events.record(e);
        return;
      }
      const checked = InboundMessage.safeParse(n);
      if (!checked.success) return quarantine(raw, 'TIPHUB_MESSAGE_INVALID', describeIssues(checked.error));
      try {
        await to(checked.data, { origin: 'live' });
      } catch (err) {
        if (!sink) throw err; // stopping: unconfirmed, delivered again
        await quarantine(raw, isTiphubError(err) ? err.code : 'TIPHUB_MESSAGE_INVALID', `not enqueued: ${describeForeignError(err)}`);
      }
    },
  };
}
