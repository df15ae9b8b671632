/**
 * Signal, through a signal-cli-rest-api 0.100 server (adapter.ts): the websocket of json-rpc mode
 * or polling, attachments fetched and then deleted, replies quoting the report, receipts of them.
 * The sender is a uuid and the message id names its author, so `nativeId` is a keyed hash and the
 * quote's `<timestamp>:<uuid>` travels sealed (`platformRef`).
 */
import type { ChannelModule } from '../../src/contracts/channel-adapter';
import { clientOf, createSignalAdapter, linkUri, postChallenge, SIGNAL_TEXT_LIMIT, type SignalAdapter } from './adapter';
import { signalConfig, type SignalCredentials, type SignalSettings } from './config';
import { normalizeSignal } from './normalize';

export type { SignalAdapter } from './adapter';
export type { SignalSettings, SignalCredentials } from './config';
export { normalizeSignal } from './normalize';
export { SIGNAL_TEXT_LIMIT } from './adapter';

/**
 * signal-cli-rest-api's own words, which `tiphub quarantine show` prints by name in a kept
 * frame's shape: the field names of its receive frames (JsonMessageEnvelope and its parts) and
 * the values of their fixed lists. Anything else shows by its length only.
 */
export const signalVocabulary = {
  fieldNames: [
    'envelope account source sourceNumber sourceUuid sourceName sourceDevice timestamp serverReceivedTimestamp serverDeliveredTimestamp',
    'dataMessage editMessage targetSentTimestamp syncMessage sentMessage readMessages receiptMessage typingMessage callMessage storyMessage exception',
    'message expiresInSeconds viewOnce isExpirationUpdate attachments contentType filename id size width height caption uploadTimestamp voiceNote',
    'groupInfo groupId groupName revision type quote author authorNumber authorUuid text mentions start length name number uuid',
    'reaction emoji targetAuthor targetAuthorNumber targetAuthorUuid isRemove remoteDelete sticker packId stickerId attachment',
    'contacts phone email address organization avatar given family prefix suffix middle nickname display value label previews url title description image',
    'textStyles style when isDelivery isRead isViewed timestamps action destination destinationNumber destinationUuid',
    'offerMessage answerMessage hangupMessage busyMessage iceUpdateMessages allowsReplies hasReply textAttachment fileAttachment',
  ],
  values: ['STARTED STOPPED DELIVER UPDATE QUIT UNKNOWN BOLD ITALIC SPOILER STRIKETHROUGH MONOSPACE HOME WORK MOBILE OTHER CUSTOM'],
};

export const signal: ChannelModule<'signal', SignalSettings, SignalCredentials, SignalAdapter> = {
  name: 'signal',
  config: signalConfig,
  // signal-cli sends one message at a time per account; Signal rate-limits bursts with a captcha.
  limits: { mediaMaxBytes: (s) => s.mediaMaxBytes, textLength: SIGNAL_TEXT_LIMIT, sendPerSecond: 5 },
  normalize: normalizeSignal,
  vocabulary: signalVocabulary,
  // `tiphub signal link` and `tiphub signal challenge TOKEN CAPTCHA`, without a running adapter.
  account: {
    linkUri: (settings, credentials, deviceName) => linkUri(clientOf(settings, credentials), deviceName),
    submitChallenge: (settings, credentials, token, captcha) => postChallenge(clientOf(settings, credentials), token, captcha),
  },
  create: createSignalAdapter,
};
