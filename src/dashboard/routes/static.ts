/** The one script and the one stylesheet, served by the app (no CDN). */
import type { FastifyPluginAsync } from 'fastify';
import fp from 'fastify-plugin';
import { DASHBOARD_CSS, DASHBOARD_JS } from '../assets';
import { noQuery } from '../schemas';

const text = { 200: { content: { 'text/javascript; charset=utf-8': { schema: { type: 'string' } }, 'text/css; charset=utf-8': { schema: { type: 'string' } } } } } as const;

const staticPlugin: FastifyPluginAsync = async (app) => {
  const pub = { permission: 'public' as const };
  app.get('/static/dashboard.js', { config: pub, schema: { querystring: noQuery, response: text } }, async (_req, reply) =>
    reply.type('text/javascript; charset=utf-8').header('cache-control', 'no-cache').send(DASHBOARD_JS),
  );
  app.get('/static/dashboard.css', { config: pub, schema: { querystring: noQuery, response: text } }, async (_req, reply) =>
    reply.type('text/css; charset=utf-8').header('cache-control', 'no-cache').send(DASHBOARD_CSS),
  );
};

export default fp(staticPlugin, { name: 'tiphub-static', fastify: '5.x', dependencies: ['tiphub-auth'] });
