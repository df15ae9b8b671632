/**
 * A report's media as the case page shows it and the media routes serve it (issue 11, item 6).
 * What a file is comes from its own first bytes (src/media/sniff.ts), read again here, never from
 * what the sender declared: an image of a type sharp reads safely gets a thumbnail the server
 * re-encodes; audio and video of an allow-listed type play from our own route with that exact
 * type; everything else (SVG, HTML, PDF, unknown) is only ever a download.
 */
import * as fs from 'node:fs';
import type { Queryable } from '../caselog/db';
import { sniffMime } from '../media/sniff';
import { MediaStore } from '../media/store';

/** Images re-encoded into thumbnails (SVG sniffs as text and never gets here; HEIC: sharp's build cannot read it). */
export const THUMBNAIL_TYPES: ReadonlySet<string> = new Set(['image/jpeg', 'image/png', 'image/gif', 'image/webp']);
/** Played in the page, served with exactly this type. */
export const PLAYABLE_TYPES: ReadonlySet<string> = new Set(['audio/ogg', 'audio/mpeg', 'audio/mp4', 'video/mp4', 'video/webm']);

const EXTENSIONS: Readonly<Record<string, string>> = {
  'image/jpeg': 'jpg',
  'image/png': 'png',
  'image/gif': 'gif',
  'image/webp': 'webp',
  'image/heic': 'heic',
  'audio/ogg': 'ogg',
  'audio/mpeg': 'mp3',
  'audio/mp4': 'm4a',
  'audio/wav': 'wav',
  'audio/amr': 'amr',
  'video/mp4': 'mp4',
  'video/webm': 'webm',
  'video/quicktime': 'mov',
  'video/3gpp': '3gp',
  'application/pdf': 'pdf',
  'application/zip': 'zip',
  'text/plain': 'txt',
};

export type MediaPresentation = 'image' | 'audio' | 'video' | 'download';

export function presentationOf(sniffed: string | null): MediaPresentation {
  if (sniffed && THUMBNAIL_TYPES.has(sniffed)) return 'image';
  if (sniffed && PLAYABLE_TYPES.has(sniffed)) return sniffed.startsWith('audio/') ? 'audio' : 'video';
  return 'download';
}

/** The name a download gets: the start of its hash and the extension of what it really is. */
export function downloadName(sha256: string, sniffed: string | null): string {
  return `${sha256.slice(0, 12)}.${(sniffed && EXTENSIONS[sniffed]) || 'bin'}`;
}

export const isSha256 = (s: string) => /^[0-9a-f]{64}$/.test(s);

/** The media store the dashboard reads (read only: it never writes a file). */
export class MediaFiles {
  private readonly store: MediaStore;
  constructor(readonly root: string) {
    this.store = new MediaStore(root);
  }

  pathOf(sha256: string): string {
    if (!isSha256(sha256)) throw new Error('not a sha256');
    return this.store.pathOf(sha256);
  }

  /** The file's size and sniffed type, or null when the store does not hold it. */
  stat(sha256: string): { size: number; sniffed: string | null } | null {
    let fd: number;
    try {
      fd = fs.openSync(this.pathOf(sha256), fs.constants.O_RDONLY | fs.constants.O_NOFOLLOW);
    } catch {
      return null;
    }
    try {
      const st = fs.fstatSync(fd);
      if (!st.isFile()) return null;
      const head = Buffer.alloc(64);
      const n = fs.readSync(fd, head, 0, head.length, 0);
      return { size: st.size, sniffed: sniffMime(head.subarray(0, n)) };
    } finally {
      fs.closeSync(fd);
    }
  }
}

export interface ReportMedia {
  readonly idx: number;
  readonly kind: string;
  readonly state: 'stored' | 'pending' | 'missing';
  readonly reason: string | null;
  readonly sha256: string | null;
  readonly size: number | null;
  /** From the file's bytes; null when it is not stored or this dashboard holds no media store. */
  readonly sniffed: string | null;
  readonly presentation: MediaPresentation;
  /** Whether this dashboard can serve the file (its store holds it). */
  readonly available: boolean;
}

/** Each report's media in order; the original file names stay out (an informant's device may put a name in them). */
export async function reportMedia(q: Queryable, reportIds: readonly string[], files: MediaFiles | null): Promise<Map<string, ReportMedia[]>> {
  const out = new Map<string, ReportMedia[]>();
  if (!reportIds.length) return out;
  const { rows } = await q.query<{ report_id: string; idx: number; kind: string; state: 'stored' | 'pending' | 'missing'; reason: string | null; sha256: string | null; size: string | number | null }>(
    `SELECT rm.report_id, rm.idx, rm.kind, rm.state, rm.reason, rm.sha256, m.size
       FROM report_media rm LEFT JOIN media m ON m.sha256 = rm.sha256
      WHERE rm.report_id IN (SELECT jsonb_array_elements_text($1::jsonb))
      ORDER BY rm.report_id, rm.idx`,
    [JSON.stringify(reportIds)],
  );
  for (const r of rows) {
    const stored = r.state === 'stored' && r.sha256 !== null && isSha256(r.sha256);
    const st = stored && files ? files.stat(r.sha256!) : null;
    const list = out.get(r.report_id) ?? [];
    list.push({
      idx: Number(r.idx),
      kind: r.kind,
      state: r.state,
      reason: r.reason,
      sha256: r.sha256,
      size: st?.size ?? (r.size === null ? null : Number(r.size)),
      sniffed: st?.sniffed ?? null,
      presentation: st ? presentationOf(st.sniffed) : 'download',
      available: st !== null,
    });
    out.set(r.report_id, list);
  }
  return out;
}
