import type { AdapterPorts, ChannelAdapter } from '../../../src/contracts/channel-adapter';
import { TiphubError } from '../../../src/errors';
import type { WhatsAppCloudCredentials, WhatsAppSettings } from '../config';

/** Placeholder until the Cloud API back end lands. */
export function createCloudAdapter(_ports: AdapterPorts<WhatsAppSettings, WhatsAppCloudCredentials>): ChannelAdapter {
  throw new TiphubError('TIPHUB_CONFIG_INVALID', 'the WhatsApp Cloud API back end is not built yet');
}
