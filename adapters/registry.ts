/** One line per channel: a new channel is one folder and one line here. */
import type { AdapterFactory } from '../src/contracts/channel-adapter';
import type { ChannelName } from '../src/contracts/inbound-message';
import type { Config } from '../src/config';
import { createSimulatorAdapter } from './simulator';
import { createTelegramAdapter } from './telegram';

export const adapters = {
  simulator: createSimulatorAdapter,
  telegram: createTelegramAdapter,
} satisfies Record<ChannelName, AdapterFactory>;

/** The channels configured to run: the simulator always, the others when their credentials are set. */
export function enabledChannels(cfg: Readonly<Config>): ChannelName[] {
  return cfg.telegram ? ['simulator', 'telegram'] : ['simulator'];
}
