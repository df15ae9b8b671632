/**
 * Media of reports (issue 11, item 6), for a session with 'read':
 *   GET /media/:sha256/thumb     an image re-encoded by sharp (bounded size, no metadata) as WebP;
 *   GET /media/:sha256/play      audio or video whose sniffed type is allow-listed, with that exact
 *                                type and byte ranges (seeking);
 *   GET /media/:sha256/download  any stored file as application/octet-stream, attachment.
 * Only a sha256 that a report's media row names (a purged report has none) is served, from the
 * content-addressed store, never a path from the request. Each view and download goes to the
 * operators' audit.
 */
import * as fs from 'node:fs';
import type { FastifyPluginAsync, FastifyReply, FastifyRequest } from 'fastify';
import fp from 'fastify-plugin';
import sharp from 'sharp';
import { appendAudit } from '../../operators/audit';
import { IMAGE_DECODE_TIMEOUT_SECONDS, IMAGE_MAX_PIXELS } from '../../media/phash';
import { refuse } from '../plugins/auth';
import { caseStrings } from '../i18n/case';
import { downloadName, isSha256, MediaFiles, PLAYABLE_TYPES, THUMBNAIL_TYPES } from '../media-view';
import { htmlResponses, noQuery } from '../schemas';

/** The longest side of a thumbnail, in pixels. */
export const THUMBNAIL_SIZE = 320;
const THUMBNAIL_CACHE = 200;

const shaParams = {
  type: 'object',
  required: ['sha256'],
  properties: { sha256: { type: 'string', pattern: '^[0-9a-f]{64}$' } },
} as const;

const binary = (types: readonly string[]) => ({ content: Object.fromEntries(types.map((t) => [t, { schema: { type: 'string' } }])) });
const mediaResponses = (types: readonly string[]) => ({ ...htmlResponses, 200: binary(types), 206: binary(types), 415: htmlResponses[404], 416: htmlResponses[404] });

/** On every file served: opened on its own in a tab, nothing in it may run or load anything. */
const MEDIA_HEADERS = { 'content-security-policy': "default-src 'none'; frame-ancestors 'none'; sandbox", 'x-content-type-options': 'nosniff' };

const mediaPlugin: FastifyPluginAsync<{ mediaRoot?: string }> = async (app, opts) => {
  const db = app.caselog;
  const files = opts.mediaRoot ? new MediaFiles(opts.mediaRoot) : null;
  // Recent thumbnails: a case page shows the same few again and again.
  const thumbs = new Map<string, Buffer>();

  /** The stored file a report's media names, or a refusal sent. */
  async function named(req: FastifyRequest<{ Params: { sha256: string } }>, reply: FastifyReply): Promise<{ path: string; size: number; sniffed: string | null } | null> {
    const s = caseStrings(req.operatorSession?.operator.language);
    const sha = req.params.sha256;
    if (!isSha256(sha)) {
      refuse(req, reply, 400, 'TIPHUB_DASHBOARD_INVALID', s.mediaUnknown);
      return null;
    }
    const { rows } = await db.query<{ n: number }>(
      `SELECT 1 AS n FROM report_media rm JOIN reports r ON r.id = rm.report_id WHERE rm.sha256 = $1 AND rm.state = 'stored' LIMIT 1`,
      [sha],
    );
    const st = rows.length && files ? files.stat(sha) : null;
    if (!st) {
      refuse(req, reply, 404, 'TIPHUB_DASHBOARD_NOT_FOUND', s.mediaUnknown);
      return null;
    }
    return { path: files!.pathOf(sha), ...st };
  }

  const audit = (req: FastifyRequest, action: string, data: Record<string, unknown>) =>
    db.transaction((tx) => appendAudit(tx, req.operatorSession!.operator.name, action, data));

  app.get<{ Params: { sha256: string } }>(
    '/media/:sha256/thumb',
    { config: { permission: 'read' }, schema: { params: shaParams, querystring: noQuery, response: mediaResponses(['image/webp']) } },
    async (req, reply) => {
      const f = await named(req, reply);
      if (!f) return reply;
      const s = caseStrings(req.operatorSession!.operator.language);
      if (!f.sniffed || !THUMBNAIL_TYPES.has(f.sniffed)) return refuse(req, reply, 415, 'TIPHUB_DASHBOARD_MEDIA_TYPE', s.mediaNoThumbnail);
      let out = thumbs.get(req.params.sha256);
      if (!out) {
        try {
          // Re-encoded from decoded pixels: no byte of the original reaches the page, and sharp
          // keeps no metadata (EXIF, GPS, ICC) unless asked to.
          out = await sharp(f.path, { failOn: 'none', pages: 1, limitInputPixels: IMAGE_MAX_PIXELS, sequentialRead: true })
            .timeout({ seconds: IMAGE_DECODE_TIMEOUT_SECONDS })
            .rotate()
            .resize(THUMBNAIL_SIZE, THUMBNAIL_SIZE, { fit: 'inside', withoutEnlargement: true })
            .webp({ quality: 75 })
            .toBuffer();
        } catch {
          return refuse(req, reply, 415, 'TIPHUB_DASHBOARD_MEDIA_TYPE', s.mediaNoThumbnail);
        }
        if (thumbs.size >= THUMBNAIL_CACHE) thumbs.delete(thumbs.keys().next().value!);
        thumbs.set(req.params.sha256, out);
      }
      await audit(req, 'media.view', { sha256: req.params.sha256, as: 'thumbnail' });
      return reply.headers(MEDIA_HEADERS).type('image/webp').send(out);
    },
  );

  app.get<{ Params: { sha256: string } }>(
    '/media/:sha256/play',
    { config: { permission: 'read' }, schema: { params: shaParams, querystring: noQuery, response: mediaResponses([...PLAYABLE_TYPES]) } },
    async (req, reply) => {
      const f = await named(req, reply);
      if (!f) return reply;
      const s = caseStrings(req.operatorSession!.operator.language);
      if (!f.sniffed || !PLAYABLE_TYPES.has(f.sniffed)) return refuse(req, reply, 415, 'TIPHUB_DASHBOARD_MEDIA_TYPE', s.mediaNotPlayable);
      const range = byteRange(req.headers.range, f.size);
      if (range === 'unsatisfiable') {
        return refuse(req, reply.header('content-range', `bytes */${f.size}`), 416, 'TIPHUB_DASHBOARD_MEDIA_RANGE', s.mediaRange);
      }
      // A player asks for many ranges of one file: the first (from byte 0) is the view.
      if (!range || range.start === 0) await audit(req, 'media.view', { sha256: req.params.sha256, as: 'player' });
      reply.headers(MEDIA_HEADERS).header('accept-ranges', 'bytes').type(f.sniffed);
      if (!range) return reply.header('content-length', f.size).send(fs.createReadStream(f.path));
      return reply
        .code(206)
        .header('content-range', `bytes ${range.start}-${range.end}/${f.size}`)
        .header('content-length', range.end - range.start + 1)
        .send(fs.createReadStream(f.path, { start: range.start, end: range.end }));
    },
  );

  app.get<{ Params: { sha256: string } }>(
    '/media/:sha256/download',
    { config: { permission: 'read' }, schema: { params: shaParams, querystring: noQuery, response: mediaResponses(['application/octet-stream']) } },
    async (req, reply) => {
      const f = await named(req, reply);
      if (!f) return reply;
      await audit(req, 'media.download', { sha256: req.params.sha256 });
      return reply
        .headers(MEDIA_HEADERS)
        .header('content-disposition', `attachment; filename="${downloadName(req.params.sha256, f.sniffed)}"`)
        .header('content-length', f.size)
        .type('application/octet-stream')
        .send(fs.createReadStream(f.path));
    },
  );
};

/** One `bytes=a-b`, `bytes=a-` or `bytes=-n` range; null: the whole file (no header, or one we do not serve partially). */
export function byteRange(header: string | undefined, size: number): { start: number; end: number } | null | 'unsatisfiable' {
  if (!header) return null;
  const m = /^bytes=(\d*)-(\d*)$/.exec(header.trim());
  if (!m || (m[1] === '' && m[2] === '')) return null; // several ranges or another unit: the whole file, as RFC 9110 allows
  let start: number;
  let end: number;
  if (m[1] === '') {
    const n = Number(m[2]);
    if (n === 0) return 'unsatisfiable';
    start = Math.max(0, size - n);
    end = size - 1;
  } else {
    start = Number(m[1]);
    end = m[2] === '' ? size - 1 : Math.min(Number(m[2]), size - 1);
  }
  if (!Number.isSafeInteger(start) || start >= size || end < start) return 'unsatisfiable';
  return { start, end };
}

export default fp(mediaPlugin, { name: 'tiphub-media', fastify: '5.x', dependencies: ['tiphub-caselog', 'tiphub-auth'] });
