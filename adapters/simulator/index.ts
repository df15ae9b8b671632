import { randomUUID } from 'node:crypto';
import type { AdapterDeps, ChannelAdapter, InboundSink, NormalizeContext, OutboundMessage, SendResult } from '../../src/contracts/channel-adapter';
import type { InboundMessage, Rejected } from '../../src/contracts/inbound-message';
import { TiphubError } from '../../src/errors';
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
  /** A message typed by a connected informant. */
  receive(line: { from: string; name?: string | null; text: string }): Promise<string>;
}

export function createSimulatorAdapter(deps: AdapterDeps): SimulatorAdapter {
  const sessions = new Map<string, ChatSession>();
  let sink: InboundSink | null = null;
  const adapter: SimulatorAdapter = {
    channel: 'simulator',
    normalize: normalizeSimulator,
    async start(s) {
      sink = s;
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
      const m = normalizeSimulator(
        { line: { id, from: line.from, name: line.name ?? null, text: line.text, sentAt: new Date().toISOString() }, baseDir: '/' },
        { account: deps.account, receivedAt: new Date(), messageId: (parts) => deps.keyring.messageId('simulator', parts) },
      );
      if ('rejected' in m) throw new TiphubError('TIPHUB_MESSAGE_INVALID', m.reason);
      await sink(m, { origin: 'live' });
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
      sink = null;
    },
  };
  return adapter;
}
