/**
 * The channels: one line each. A new channel is one folder under adapters/ whose index exports a
 * ChannelModule, and one line here; the core learns its configuration, limits and adapter from
 * this list, and the channel-name type is derived from it.
 */
import type { ChannelAdapter, ChannelModule, InboundSink } from '../src/contracts/channel-adapter';
import { ChannelName as ChannelNameShape } from '../src/contracts/inbound-message';
import type { Config } from '../src/config';
import { channelPorts, type ChannelDeps } from '../src/channels/ports';
import { shapeVocabulary, type ShapeVocabulary } from '../src/caselog/quarantine';
import { simulator } from './simulator';
import { telegram } from './telegram';
import { whatsapp } from './whatsapp';
import { signal } from './signal';

export const channelModules = [simulator, telegram, whatsapp, signal] as const;

export type ChannelName = (typeof channelModules)[number]['name'];
type ModuleOf<N extends ChannelName> = Extract<(typeof channelModules)[number], { name: N }>;
type AdapterOf<N extends ChannelName> = ReturnType<ModuleOf<N>['create']>;

export const channelNames: readonly ChannelName[] = channelModules.map((m) => m.name);

/** What `quarantine show` may print by name: the core's words, the channels' names and each platform's own. */
export const quarantineVocabulary: ShapeVocabulary = shapeVocabulary([{ values: channelNames }, ...channelModules.map((m) => m.vocabulary ?? {})]);

export function isChannelName(v: string): v is ChannelName {
  return (channelNames as readonly string[]).includes(v);
}

export function channelModule<N extends ChannelName>(name: N): ModuleOf<N> {
  return channelModules.find((m) => m.name === name) as ModuleOf<N>;
}

/** The channels configured to run: the simulator always, the others when their credentials are set. */
export function enabledChannels(cfg: Readonly<Config>): ChannelName[] {
  return channelNames.filter((n) => cfg.channels[n]?.enabled);
}

/**
 * A channel's adapter on its ports (src/channels/ports.ts). Its `stop()` also closes what the
 * ports opened (their Redis connection).
 */
export function createChannel<N extends ChannelName>(name: N, deps: ChannelDeps): AdapterOf<N> {
  const made = channelPorts(name, deps);
  const adapter = (channelModule(name) as ChannelModule).create(made.ports) as ChannelAdapter;
  if (adapter.channel !== name) throw new Error(`the ${name} module made an adapter that calls itself ${adapter.channel}`);
  const start = adapter.start.bind(adapter);
  const stop = adapter.stop.bind(adapter);
  return Object.assign(adapter, {
    // A start that throws leaves nothing running (the contract); the ports go with it.
    async start(sink: InboundSink) {
      try {
        await start(sink);
      } catch (err) {
        made.ports.events.state({ state: 'disconnected', detail: 'not started' });
        await made.close();
        throw err;
      }
    },
    async stop() {
      try {
        await stop();
      } finally {
        await made.close();
      }
    },
  }) as AdapterOf<N>;
}

// Each module's name is a channel name the message contract takes (checked once, at load).
for (const m of channelModules) ChannelNameShape.parse(m.name);

export type { SimulatorAdapter, DeliveredMessage, SimulatorSettings } from './simulator';
export type { TelegramAdapter } from './telegram';
export type { WhatsAppAdapter } from './whatsapp';
export type { SignalAdapter } from './signal';
