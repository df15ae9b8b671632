/**
 * The simulator channel: messages as lines of an ingest file (or typed in `tiphub chat`).
 * Line format: {"id", "from", "name"?, "text"?, "sentAt"?, "location"? {lat, lon, label?},
 * "media"? [{"file"}]}; `file` is relative to the ingest file.
 */
import * as path from 'node:path';
import { z } from 'zod';
import { describeIssues, type InboundMessage, type MediaKind, type Rejected } from '../../src/contracts/inbound-message';
import type { NormalizeContext } from '../../src/contracts/channel-adapter';

export const SimulatorLine = z
  .object({
    id: z.string().min(1).max(256),
    from: z.string().min(1).max(512),
    name: z.string().max(512).nullish(),
    text: z.string().max(65_536).nullish(),
    sentAt: z.iso.datetime({ offset: true }).nullish(),
    location: z
      .object({ lat: z.number().min(-90).max(90), lon: z.number().min(-180).max(180), label: z.string().max(1024).nullish() })
      .strict()
      .nullish(),
    media: z.array(z.object({ file: z.string().min(1).max(4096) }).strict()).max(100).nullish(),
  })
  .strict();
export type SimulatorLine = z.infer<typeof SimulatorLine>;
const ALLOWED = 'id, from, name, text, sentAt, location {lat, lon, label}, media [{file}]';

export interface SimulatorPayload {
  /** One parsed line. */
  readonly line: unknown;
  /** The folder media paths are relative to. */
  readonly baseDir: string;
}

const BY_EXTENSION: Record<string, [MediaKind, string]> = {
  '.jpg': ['photo', 'image/jpeg'],
  '.jpeg': ['photo', 'image/jpeg'],
  '.png': ['photo', 'image/png'],
  '.webp': ['photo', 'image/webp'],
  '.gif': ['animation', 'image/gif'],
  '.heic': ['photo', 'image/heic'],
  '.mp4': ['video', 'video/mp4'],
  '.mov': ['video', 'video/quicktime'],
  '.webm': ['video', 'video/webm'],
  '.3gp': ['video', 'video/3gpp'],
  '.ogg': ['voice', 'audio/ogg'],
  '.opus': ['voice', 'audio/ogg'],
  '.oga': ['voice', 'audio/ogg'],
  '.mp3': ['audio', 'audio/mpeg'],
  '.m4a': ['audio', 'audio/mp4'],
  '.wav': ['audio', 'audio/wav'],
  '.amr': ['voice', 'audio/amr'],
  '.pdf': ['document', 'application/pdf'],
  '.txt': ['document', 'text/plain'],
};

export function normalizeSimulator(payload: SimulatorPayload, ctx: NormalizeContext): InboundMessage | Rejected {
  const parsed = SimulatorLine.safeParse(payload.line);
  if (!parsed.success) {
    const unknown = parsed.error.issues.some((i) => i.code === 'unrecognized_keys');
    return { rejected: true, reason: describeIssues(parsed.error) + (unknown ? `; allowed fields: ${ALLOWED}` : '') };
  }
  const l = parsed.data;
  const text = l.text ?? null;
  const media = (l.media ?? []).map((m) => {
    const ext = path.extname(m.file).toLowerCase();
    const [kind, mime] = BY_EXTENSION[ext] ?? (['document', null] as const);
    return {
      ref: path.resolve(payload.baseDir, m.file),
      kind,
      mime,
      size: null,
      filename: path.basename(m.file),
      sha256: null,
      sniffedMime: null,
      storedSize: null,
    };
  });
  const location = l.location ? { lat: l.location.lat, lon: l.location.lon, label: l.location.label ?? null } : null;
  if (!(text && text.trim()) && media.length === 0 && !location) {
    return { rejected: true, reason: 'empty message: no text, media or location' };
  }
  const { from: _from, name: _name, ...raw } = l;
  return {
    v: 1,
    id: ctx.messageId([ctx.account, l.id]),
    nativeId: l.id,
    channel: 'simulator',
    account: ctx.account,
    sender: { address: l.from, name: l.name ?? null },
    sentAt: l.sentAt ? new Date(l.sentAt).toISOString() : ctx.receivedAt.toISOString(),
    receivedAt: ctx.receivedAt.toISOString(),
    text,
    media,
    location,
    contact: null,
    replyTo: null,
    forwarded: false,
    edited: false,
    editOf: null,
    languageHint: null,
    groupKey: null,
    raw,
  };
}
