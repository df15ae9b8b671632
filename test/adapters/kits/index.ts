/**
 * Every registered channel's conformance kit. A channel added to adapters/registry.ts without a
 * kit here fails the suite (and the type check): no channel skips it.
 */
import type { ChannelName } from '../../../adapters/registry';
import type { ChannelKit } from './kit';
import { simulatorKit } from './simulator';
import { telegramKit } from './telegram';
import { whatsappKit } from './whatsapp';
import { signalKit } from './signal';

export const kits: Readonly<Record<ChannelName, ChannelKit>> = {
  simulator: simulatorKit,
  telegram: telegramKit,
  whatsapp: whatsappKit,
  signal: signalKit,
};

export type { ChannelKit } from './kit';
