import { randomUUID } from 'node:crypto';
import type { AdapterDeps, ChannelAdapter, InboundSink, NormalizeContext, OutboundMessage, SendResult } from '../../src/contracts/channel-adapter';
import { describeIssues, InboundMessage, type Rejected } from '../../src/contracts/inbound-message';
import { describeForeignError, isTiphubError, TiphubError } from '../../src/errors';
import { normalizeSimulator, type SimulatorPayload } from './normalize';

export { normalizeSimulator, SimulatorLine, type SimulatorPayload } from './normalize';

export interface DeliveredMessage {
  readonly text: string;
  readonly replyTo: string | null;
  readonly nativeId: string;
}

/** Whoever plays an informant: a `tiphub chat` terminal, or a test. May throw to simulate failures. */
export type ChatSession = (message: DeliveredMessage) => void | Promise<void>;

/**
 * The simulator has no remote platform: messages come from ingest files and from `tiphub chat`
 * sessions (through `receive`, the same path as any live message), and `send` delivers to the
 * session connected for that address.
 */
export interface SimulatorAdapter extends ChannelAdapter<SimulatorPayload> {
  normalize(raw: SimulatorPayload, ctx: NormalizeContext): InboundMessage | Rejected;
  connect(address: string, session: ChatSession): () => void;
  /**
   * A message typed by a connected informant. One that cannot become a report is quarantined
   * (sealed, counted) and the session goes on; resolves with the line's id either way.
   */
  receive(line: { from: string; name?: string | null; text: string }): Promise<string>;
  /** The one inbound handler: resolves when the payload is enqueued or quarantined. */
  handleInbound(payload: SimulatorPayload): Promise<void>;
  /** Payloads kept in quarantine instead of enqueued, since start. */
  readonly quarantined: number;
}

export function createSimulatorAdapter(deps: AdapterDeps): SimulatorAdapter {
  const sessions = new Map<string, ChatSession>();
  let sink: InboundSink | null = null;
  let stopping = false;
  let quarantined = 0;
  const quarantine = async (payload: SimulatorPayload, code: string, reason: string) => {
    await deps.quarantine?.({ channel: 'simulator', source: 'chat', code, reason, payloadSealed: deps.keyring.seal(payload.line ?? null, 'quarantine') });
    quarantined++;
    deps.log.warn({ channel: 'simulator', code, kept: !!deps.quarantine }, 'message quarantined');
  };
  const handleInbound = async (payload: SimulatorPayload): Promise<void> => {
    if (!sink) throw new TiphubError('TIPHUB_HUB_UNAVAILABLE', 'the simulator adapter is not started');
    const m = normalizeSimulator(payload, { account: deps.account, receivedAt: new Date(), messageId: (parts) => deps.keyring.messageId('simulator', parts) });
    if ('rejected' in m) return quarantine(payload, 'TIPHUB_MESSAGE_INVALID', m.reason);
    const checked = InboundMessage.safeParse(m);
    if (!checked.success) return quarantine(payload, 'TIPHUB_MESSAGE_INVALID', describeIssues(checked.error));
    try {
      await sink(checked.data, { origin: 'live' });
    } catch (err) {
      if (stopping) throw err;
      await quarantine(payload, isTiphubError(err) ? err.code : 'TIPHUB_MESSAGE_INVALID', `not enqueued: ${describeForeignError(err)}`);
    }
  };
  const adapter: SimulatorAdapter = {
    channel: 'simulator',
    normalize: normalizeSimulator,
    handleInbound,
    get quarantined() {
      return quarantined;
    },
    async start(s) {
      sink = s;
      stopping = false;
      deps.log.info({ channel: 'simulator', account: deps.account }, 'adapter started');
    },
    connect(address, session) {
      sessions.set(address, session);
      return () => {
        if (sessions.get(address) === session) sessions.delete(address);
      };
    },
    async receive(line) {
      if (!sink) throw new TiphubError('TIPHUB_HUB_UNAVAILABLE', 'the simulator adapter is not started');
      const id = randomUUID();
      await handleInbound({ line: { id, from: line.from, name: line.name ?? null, text: line.text, sentAt: new Date().toISOString() }, baseDir: '/' });
      return id;
    },
    async send(address: string, message: OutboundMessage): Promise<SendResult> {
      const session = sessions.get(address);
      if (!session) throw new TiphubError('TIPHUB_SEND_FAILED', 'no chat session is connected for this informant');
      const nativeId = `out-${randomUUID()}`;
      await session({ text: message.text, replyTo: message.replyTo ?? null, nativeId });
      return { nativeId };
    },
    async stop() {
      stopping = true;
      sink = null;
    },
  };
  return adapter;
}
