/**
 * The webhook transport: a Fastify plugin with one route. Telegram's secret header is checked
 * (a wrong or missing one gets 401 and nothing is enqueued); the answer waits for the enqueue, so
 * Telegram retries anything that was not stored, and comes well inside Telegram's timeout.
 */
import { timingSafeEqual } from 'node:crypto';
import Fastify, { type FastifyInstance, type FastifyPluginAsync } from 'fastify';

export interface TelegramWebhookOptions {
  readonly path: string;
  readonly secret: string;
  readonly handleUpdate: (update: unknown) => Promise<void>;
  /** Past this the answer is 503 and Telegram sends the update again (its own limit is longer). */
  readonly answerWithinMs?: number;
}

const sameSecret = (given: unknown, secret: string) => {
  if (typeof given !== 'string') return false;
  const a = Buffer.from(given);
  const b = Buffer.from(secret);
  return a.length === b.length && timingSafeEqual(a, b);
};

export const telegramWebhook: FastifyPluginAsync<TelegramWebhookOptions> = async (app, opts) => {
  app.post(
    opts.path,
    {
      schema: {
        headers: { type: 'object', properties: { 'x-telegram-bot-api-secret-token': { type: 'string' } } },
        body: { type: 'object', required: ['update_id'], properties: { update_id: { type: 'integer' } } },
      },
    },
    async (req, reply) => {
      if (!sameSecret(req.headers['x-telegram-bot-api-secret-token'], opts.secret)) {
        return reply.code(401).send({ ok: false, error: 'unauthorized' });
      }
      let timer: NodeJS.Timeout | undefined;
      const late = new Promise<'late'>((r) => (timer = setTimeout(() => r('late'), opts.answerWithinMs ?? 8000)));
      const outcome = await Promise.race([opts.handleUpdate(req.body).then(() => 'stored' as const), late]);
      clearTimeout(timer);
      if (outcome === 'late') return reply.code(503).send({ ok: false, error: 'try again' });
      return reply.code(200).send({ ok: true });
    },
  );
};

/** The webhook server, separate from listening so tests use `inject()`. */
export async function buildWebhookApp(opts: TelegramWebhookOptions): Promise<FastifyInstance> {
  // Fastify's own request log would hold request bodies' sizes and ids only; we keep it off.
  const app = Fastify({ logger: false, bodyLimit: 1024 * 1024 });
  await app.register(telegramWebhook, opts);
  return app;
}
