/** One line per channel: a new channel is one folder and one line here. */
import type { AdapterFactory } from '../src/contracts/channel-adapter';
import type { ChannelName } from '../src/contracts/inbound-message';
import { createSimulatorAdapter } from './simulator';

export const adapters = {
  simulator: createSimulatorAdapter,
} satisfies Record<ChannelName, AdapterFactory>;
