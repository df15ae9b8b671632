/**
 * Headers on every answer, pages, API and errors alike. The CSP allows only our own script and
 * stylesheet: no inline code, no eval, no frames, no plugins, no <base>.
 */
import fp from 'fastify-plugin';
import type { FastifyPluginAsync } from 'fastify';

export const CONTENT_SECURITY_POLICY = [
  "default-src 'self'",
  "script-src 'self'",
  "style-src 'self'",
  "img-src 'self' data:",
  // <audio>/<video> of report media, from our own /media routes only.
  "media-src 'self'",
  "connect-src 'self'",
  "font-src 'self'",
  "object-src 'none'",
  "base-uri 'none'",
  "frame-ancestors 'none'",
  "form-action 'self'",
].join('; ');

export const SECURITY_HEADERS: Readonly<Record<string, string>> = {
  'content-security-policy': CONTENT_SECURITY_POLICY,
  'x-content-type-options': 'nosniff',
  'referrer-policy': 'no-referrer',
  'x-frame-options': 'DENY',
  'cross-origin-opener-policy': 'same-origin',
  'cross-origin-resource-policy': 'same-origin',
  'permissions-policy': 'camera=(), microphone=(), geolocation=(), interest-cohort=()',
  // Case pages and API answers hold tips: no cache keeps them.
  'cache-control': 'no-store',
};

const securityHeaders: FastifyPluginAsync = async (app) => {
  app.addHook('onSend', async (_req, reply, payload) => {
    // A route may set its own cache-control, or a stricter CSP (the media files: sandbox, nothing loads).
    for (const [k, v] of Object.entries(SECURITY_HEADERS)) if (!reply.hasHeader(k) || (k !== 'cache-control' && k !== 'content-security-policy')) reply.header(k, v);
    return payload;
  });
};

export default fp(securityHeaders, { name: 'tiphub-security-headers', fastify: '5.x' });
