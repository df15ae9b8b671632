import type { AdapterPorts, ChannelAdapter } from '../../../src/contracts/channel-adapter';
import { TiphubError } from '../../../src/errors';
import type { WhatsAppCredentials, WhatsAppSettings } from '../config';

/** Placeholder until the WhatsApp Web back end lands. */
export function createWebAdapter(_ports: AdapterPorts<WhatsAppSettings, WhatsAppCredentials>): ChannelAdapter {
  throw new TiphubError('TIPHUB_CONFIG_INVALID', 'the WhatsApp Web back end is not built yet');
}
