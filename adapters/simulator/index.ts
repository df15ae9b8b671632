import { randomUUID } from 'node:crypto';
import { z } from 'zod';
import type { AdapterPorts, ChannelAdapter, ChannelModule, InboundSink, NormalizeContext, OutboundMessage, SendResult } from '../../src/contracts/channel-adapter';
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

export const SimulatorSettings = z
  .object({ account: z.string().min(1).max(64).default('simulator') })
  .strict()
  .prefault({});
export type SimulatorSettings = z.infer<typeof SimulatorSettings>;

export function createSimulatorAdapter(ports: AdapterPorts<SimulatorSettings, null>): SimulatorAdapter {
  const sessions = new Map<string, ChatSession>();
  const account = ports.settings.account;
  let sink: InboundSink | null = null;
  let stopping = false;
  let quarantined = 0;
  const quarantine = async (payload: SimulatorPayload, code: string, reason: string) => {
    await ports.quarantine({ source: 'chat', code, reason, payload: payload.line ?? null });
    quarantined++;
  };
  const handleInbound = async (payload: SimulatorPayload): Promise<void> => {
    if (!sink) throw new TiphubError('TIPHUB_HUB_UNAVAILABLE', 'the simulator adapter is not started');
    const m = normalizeSimulator(payload, { account, receivedAt: new Date(), messageId: ports.messageId });
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
      ports.log.info({ channel: 'simulator', account }, 'adapter started');
      ports.events.state({ state: 'connected', mode: 'local' });
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
      ports.events.state({ state: 'stopped', mode: 'local' });
    },
  };
  return adapter;
}

/** The local channel (ingest files, `tiphub chat`, tests): always on, no credentials. */
export const simulator: { normalize(raw: unknown, ctx: NormalizeContext): InboundMessage | Rejected } & ChannelModule<'simulator', SimulatorSettings, null, SimulatorAdapter> = {
  name: 'simulator',
  alwaysOn: true,
  config: {
    section: SimulatorSettings,
    env: [],
    disabledNote: '(always on)',
    resolve: (_env, settings) => ({ settings, credentials: null }),
    redact: () => ({}),
  },
  limits: { mediaMaxBytes: () => 16 * 1024 * 1024, textLength: 65_536, sendPerSecond: 50 },
  normalize: (raw, ctx) => normalizeSimulator(raw as SimulatorPayload, ctx),
  // An ingest entry ({file, line}) and a simulator line.
  vocabulary: { fieldNames: ['file line id from name text sentAt location lat lon label media'], values: [] },
  create: createSimulatorAdapter,
};
