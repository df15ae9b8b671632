/**
 * Bull Board for admins (issue 14, item 4), under /admin/queues: every queue of the hub, its jobs
 * and their retry. Its routes come from @bull-board/fastify and carry no permission of ours, so
 * each is given the admins' one (`operators`) as it is registered: the auth plugin then refuses
 * others (403) and sessions-less requests (to /login) as for any admin page, and its state changes
 * (retry, clean, promote) need the same origin and the session's CSRF token. Its page gets the
 * token in a meta tag and a script of ours that adds it to Bull Board's own calls
 * (client/bull-board-csrf.ts).
 *
 * Its page needs its own CSP: it sets `<base href>` (allowed to our own origin), inline styles
 * and a stylesheet of web fonts from the internet, which stays blocked (the page works without).
 * Job data shows as the sealed blobs the queues hold: nothing identifying is in clear there.
 */
import type { FastifyPluginAsync } from 'fastify';
import fp from 'fastify-plugin';
import { Queue } from 'bullmq';
import { connectRedis, type RedisTarget } from '../../queue/redis';
import { esc } from '../html';
import { noQuery } from '../schemas';
import { BULL_BOARD_CSRF_JS } from '../client/bull-board-csrf';
import { refuse } from '../plugins/auth';
import { stringsFor } from '../i18n';

export const BULL_BOARD_PATH = '/admin/queues';
/** The Bull Board writes allowed (below its path): retry failed jobs, one or all; pause and resume. */
const BOARD_WRITES = /^\/api\/queues\/(?:pause|resume|[^/]+\/(?:retry\/failed|pause|resume|[^/]+\/retry(?:\/failed)?))$/;

/** Bull Board's page: our origin only, its inline styles, no font or script from elsewhere. */
export const BULL_BOARD_CSP = [
  "default-src 'self'",
  "script-src 'self'",
  "style-src 'self' 'unsafe-inline'",
  "img-src 'self' data:",
  "connect-src 'self'",
  "font-src 'self'",
  "object-src 'none'",
  "base-uri 'self'",
  "frame-ancestors 'none'",
  "form-action 'self'",
].join('; ');

export interface QueueBoardOptions {
  /** The hub's Redis and key prefix, and the queues to show (serve.ts passes every queue of the hub). */
  readonly redis: RedisTarget;
  readonly prefix: string;
  readonly names: readonly string[];
}

const CSRF_SCRIPT = '/static/bull-board-csrf.js';

const queuesPlugin: FastifyPluginAsync<QueueBoardOptions> = async (app, opts) => {
  const connection = connectRedis(opts.redis);
  const queues = opts.names.map((name) => new Queue(name, { connection, prefix: opts.prefix }));
  for (const q of queues) q.on('error', () => undefined); // the connection reconnects on its own
  app.addHook('onClose', async () => {
    await Promise.all(queues.map((q) => q.close().catch(() => undefined)));
    connection.disconnect();
  });

  app.get(CSRF_SCRIPT, { config: { permission: 'operators' as const }, schema: { querystring: noQuery, response: { 200: { type: 'string' } } } }, async (_req, reply) =>
    reply.type('text/javascript; charset=utf-8').header('cache-control', 'no-cache').send(BULL_BOARD_CSRF_JS),
  );

  await app.register(async (board) => {
    // Every route Bull Board registers here is an admin's; none is public.
    board.addHook('onRoute', (route) => {
      route.config = { ...(route.config ?? {}), permission: 'operators' };
    });
    // After auth: a second guard, in case a route slipped by without the permission.
    board.addHook('preHandler', async (req, reply) => {
      if (req.operatorSession?.operator.role !== 'admin') return refuse(req, reply, 403, 'TIPHUB_DASHBOARD_FORBIDDEN', stringsFor(req.operatorSession?.operator.language).forbidden);
      // Of Bull Board's writes, only retries and pausing: emptying, obliterating or cleaning a
      // queue loses tips that live only in Redis, and an added or duplicated outbound job has a new
      // id, so its informant would be answered twice.
      if (req.method !== 'GET' && req.method !== 'HEAD' && !BOARD_WRITES.test(req.url.split('?')[0]!.slice(BULL_BOARD_PATH.length))) {
        return refuse(req, reply, 403, 'TIPHUB_DASHBOARD_FORBIDDEN', stringsFor(req.operatorSession.operator.language).forbidden);
      }
    });
    board.addHook('onRequest', async (_req, reply) => {
      reply.header('content-security-policy', BULL_BOARD_CSP);
    });
    board.addHook('onSend', async (req, reply, payload) => {
      const type = String(reply.getHeader('content-type') ?? '');
      if (typeof payload !== 'string' || !type.startsWith('text/html') || !req.operatorSession) return payload;
      return payload.replace('<head>', `<head>\n<meta name="tiphub-csrf" content="${esc(req.operatorSession.csrf)}"><script src="${CSRF_SCRIPT}"></script>`);
    });
    // Loaded only where the board is served: its static-file plugin pulls in an ES module that
    // not every loader of this file takes (Jest's CommonJS runtime), and a dashboard without Redis never needs it.
    const [{ createBullBoard }, { BullMQAdapter }, { FastifyAdapter }] = await Promise.all([
      import('@bull-board/api'),
      import('@bull-board/api/bullMQAdapter'),
      import('@bull-board/fastify'),
    ]);
    const adapter = new FastifyAdapter();
    adapter.setBasePath(BULL_BOARD_PATH);
    createBullBoard({ queues: queues.map((q) => new BullMQAdapter(q)), serverAdapter: adapter, options: { uiConfig: { boardTitle: 'tiphub queues' } } });
    await board.register(adapter.registerPlugin(), { prefix: BULL_BOARD_PATH });
  });
};

export default fp(queuesPlugin, { name: 'tiphub-queues', fastify: '5.x', dependencies: ['tiphub-auth'] });
