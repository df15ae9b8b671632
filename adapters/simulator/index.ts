import { EventEmitter } from 'node:events';
import { randomUUID } from 'node:crypto';
import type { AdapterDeps, ChannelAdapter, InboundSink, OutboundMessage, SendResult } from '../../src/contracts/channel-adapter';
import { normalizeSimulator, type SimulatorPayload } from './normalize';

export { normalizeSimulator, SimulatorLine, type SimulatorPayload } from './normalize';

/**
 * The simulator has no remote platform: messages come from ingest files (and, later, the
 * interactive `tiphub chat`), and `send` hands answers to whoever listens on `outbox`.
 */
export interface SimulatorAdapter extends ChannelAdapter<SimulatorPayload> {
  readonly outbox: EventEmitter;
  /** The sink given to start(), for in-process feeders. */
  readonly sink: InboundSink | null;
}

export function createSimulatorAdapter(deps: AdapterDeps): SimulatorAdapter {
  const outbox = new EventEmitter();
  let sink: InboundSink | null = null;
  return {
    channel: 'simulator',
    outbox,
    get sink() {
      return sink;
    },
    normalize: normalizeSimulator,
    async start(s) {
      sink = s;
      deps.log.info({ channel: 'simulator', account: deps.account }, 'adapter started');
    },
    async send(address: string, message: OutboundMessage): Promise<SendResult> {
      const nativeId = `out-${randomUUID()}`;
      outbox.emit('message', { address, text: message.text, replyTo: message.replyTo ?? null, nativeId });
      return { nativeId };
    },
    async stop() {
      sink = null;
    },
  };
}
