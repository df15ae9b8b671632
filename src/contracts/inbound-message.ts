/**
 * InboundMessage: what every adapter produces and the intake worker consumes. Validated with zod
 * at both ends of the queue. `sender` and `raw` are in clear only in memory: they are sealed when
 * the job is enqueued and in the case log.
 */
import { z } from 'zod';

/**
 * A channel's name as the registry lists it (adapters/registry.ts derives the type of the names
 * it has); this file stands below the registry, so it checks the shape only.
 */
export const ChannelName = z.string().regex(/^[a-z][a-z0-9]{1,31}$/, 'a channel name');
export type ChannelName = z.infer<typeof ChannelName>;

const IsoTime = z.iso.datetime({ offset: true });

export const MessageId = z.string().regex(/^m[0-9a-f]{32}$/, 'a pipeline message id');

export const MediaKind = z.enum(['photo', 'video', 'audio', 'voice', 'document', 'sticker', 'animation', 'other']);
export type MediaKind = z.infer<typeof MediaKind>;

export const MediaRef = z
  .object({
    /** The platform's reference (file id, media id, attachment id; a path for the simulator). */
    ref: z.string().min(1),
    kind: MediaKind,
    /** Declared by the platform or the sender; not trusted. */
    mime: z.string().nullable(),
    size: z.number().int().nonnegative().nullable(),
    filename: z.string().nullable(),
    /** Known once the media step stored the bytes. */
    sha256: z.string().regex(/^[0-9a-f]{64}$/).nullable(),
    sniffedMime: z.string().nullable(),
    storedSize: z.number().int().nonnegative().nullable(),
  })
  .strict();
export type MediaRef = z.infer<typeof MediaRef>;

export const InboundMessage = z
  .object({
    v: z.literal(1),
    id: MessageId,
    /**
     * The platform's message id, without the sender's or the chat's id; where the platform's own id
     * names its sender (a WhatsApp wamid), its keyed hash (`messageId`), the full id in `platformRef`.
     */
    nativeId: z.string().min(1).max(256),
    /**
     * The platform's full message id where `nativeId` is only its keyed hash: in clear only in
     * memory, sealed in the case log (reports.native_sealed), opened by the outbound step to quote
     * the report in a reply. Absent where `nativeId` is the platform's id.
     */
    platformRef: z.string().min(1).max(1024).optional(),
    channel: ChannelName,
    /** Which bot or number received it. */
    account: z.string().min(1).max(128),
    sender: z.object({ address: z.string().min(1).max(512), name: z.string().max(512).nullable() }).strict(),
    sentAt: IsoTime,
    receivedAt: IsoTime,
    text: z.string().max(65_536).nullable(),
    media: z.array(MediaRef).max(100),
    location: z
      .object({ lat: z.number().min(-90).max(90), lon: z.number().min(-180).max(180), label: z.string().max(1024).nullable() })
      .strict()
      .nullable(),
    /**
     * A shared contact card. `self`: the sender shared their own (Telegram's "share my phone
     * number"): only that fact is kept, name and phone are null. Otherwise a third party's name and
     * phone, in clear only in memory (the case log seals them).
     */
    contact: z.object({ self: z.boolean(), name: z.string().max(512).nullable(), phone: z.string().max(64).nullable() }).strict().nullable(),
    /** Native id of the message this one answers. */
    replyTo: z.string().max(256).nullable(),
    forwarded: z.boolean(),
    edited: z.boolean(),
    /** For an edit: the id of the message it edits (the edit is its own report, linked to it). */
    editOf: MessageId.nullable(),
    /** The platform's guess of the sender's language (e.g. Telegram's language_code), if any. */
    languageHint: z.string().max(16).nullable(),
    /** Messages the platform sends as one unit (a Telegram album); they belong to one case. */
    groupKey: z.string().max(256).nullable(),
    /** The platform payload as received, the sender's identifying fields removed. */
    raw: z.unknown(),
  })
  .strict();
export type InboundMessage = z.infer<typeof InboundMessage>;

export interface Rejected {
  readonly rejected: true;
  /** What is wrong, without quoting the payload. */
  readonly reason: string;
}

/** Not a tip and not an error: a group message, a service message, a callback… Counted, not kept. */
export interface Ignored {
  readonly ignored: true;
  readonly reason: string;
}

export function isRejected(v: InboundMessage | Rejected | Ignored | EventOnly): v is Rejected {
  return (v as Rejected).rejected === true;
}

export function isIgnored(v: InboundMessage | Rejected | Ignored | EventOnly): v is Ignored {
  return (v as Ignored).ignored === true;
}

/**
 * Not a report but a fact about one, recorded on its case by the core (ports.events.record): a
 * reaction, a retraction by its sender, a delivery status of one of our replies, a second address
 * of an informant. Addresses are in clear only in memory (the core keeps their pseudonyms); ids
 * are keyed hashes, as `nativeId` is.
 */
export type ChannelEvent =
  | {
      readonly kind: 'reaction';
      /** Its own keyed id: the same reaction delivered again is recorded once. */
      readonly id: string;
      readonly sender: string;
      /** The `nativeId` of the report reacted to. */
      readonly target: string;
      /** The emoji; null: the reaction was taken back. Sealed in the case log. */
      readonly emoji: string | null;
      readonly at: string;
    }
  | { readonly kind: 'retraction'; readonly id: string; readonly sender: string; readonly target: string; readonly at: string }
  | {
      readonly kind: 'delivery';
      /** The `nativeId` our send returned (SendResult). */
      readonly sentId: string;
      readonly status: DeliveryStatus;
      readonly at: string;
      /** For `failed`: a code of ours and words of a fixed list (never the platform's own text). */
      readonly error?: { readonly code: string; readonly reason: string } | null;
    }
  | {
      /**
       * Someone opened the chat before writing (WhatsApp's request_welcome): greeted if new to us.
       * `unreadable`: a message the platform could not pass on (WhatsApp's unsupported, 131051):
       * its sender is told so. Neither is a report.
       */
      readonly kind: 'first-contact' | 'unreadable';
      readonly id: string;
      readonly sender: string;
      readonly name?: string | null;
      readonly at: string;
    }
  | {
      readonly kind: 'alias';
      readonly id: string;
      /** The address the informant was first known by, and the one learned now (a new number, a LID). */
      readonly from: string;
      readonly to: string;
      readonly reason: 'changed-number' | 'changed-user-id' | 'lid-learned';
      readonly at: string;
    };

export const DELIVERY_STATUSES = ['sent', 'delivered', 'read', 'played', 'failed'] as const;
export type DeliveryStatus = (typeof DELIVERY_STATUSES)[number];

/** What normalize gives for a payload that is an event, not a report. */
export interface EventOnly {
  readonly event: ChannelEvent;
  /** Further events of the same payload (a Signal receipt names several of our messages), recorded after `event`, in order. */
  readonly more?: readonly ChannelEvent[];
}

export function isEventOnly(v: InboundMessage | Rejected | Ignored | EventOnly): v is EventOnly {
  return typeof v === 'object' && v !== null && 'event' in v && typeof (v as EventOnly).event === 'object';
}

/** Where a message came from: a live channel, or an import that must stay silent. */
export type Origin = 'live' | 'import';

/**
 * A zod error as text that names fields and rules, never values: it is logged and stored.
 */
export function describeIssues(error: z.ZodError): string {
  return error.issues
    .slice(0, 5)
    .map((i) => {
      const p = i.path.map(String).join('.') || '(message)';
      switch (i.code) {
        case 'invalid_type':
          return `${p}: expected ${i.expected}`;
        case 'unrecognized_keys':
          // Field names come from the sender too: count them, never quote them.
          return `${p}: ${i.keys.length} unknown field(s)`;
        case 'invalid_format':
          return `${p}: not a valid ${i.format}`;
        case 'too_big':
        case 'too_small':
          return `${p}: ${i.code === 'too_big' ? 'too large' : 'too small or empty'}`;
        default:
          return `${p}: invalid (${i.code})`;
      }
    })
    .join('; ');
}
