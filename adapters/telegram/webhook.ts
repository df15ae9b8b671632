/**
 * The webhook transport: a Fastify plugin with one route. Telegram's secret header is checked in
 * `onRequest`, before the body is read or parsed, in constant time (both sides hashed first, so
 * not even the length shows); a wrong or missing one gets 401 and nothing is enqueued. The answer
 * waits for the enqueue (or the quarantine), so Telegram retries anything that was not stored, and
 * comes well inside Telegram's timeout. No answer quotes an error: a body or an error message may
 * hold what an informant wrote.
 */
import { createHash, timingSafeEqual } from 'node:crypto';
import Fastify, { type FastifyInstance, type FastifyPluginAsync } from 'fastify';
import { TiphubError } from '../../src/errors';

export interface TelegramWebhookOptions {
  readonly path: string;
  /** Telegram's secret_token: 32 to 256 of A-Z a-z 0-9 _ - (a short one can be guessed). */
  readonly secret: string;
  readonly handleUpdate: (update: unknown) => Promise<void>;
  /** Keeps a body that is not JSON (quarantine); without it such a body is answered 400. */
  readonly handleUnparsable?: (body: string) => Promise<void>;
  /** Past this the answer is 503 and Telegram sends the update again (its own limit is longer). */
  readonly answerWithinMs?: number;
}

export const WEBHOOK_SECRET_PATTERN = /^[A-Za-z0-9_-]{32,256}$/;

const digest = (s: string) => createHash('sha256').update(s, 'utf8').digest();

const sameSecret = (given: unknown, expected: Buffer) => typeof given === 'string' && timingSafeEqual(digest(given), expected);

export const telegramWebhook: FastifyPluginAsync<TelegramWebhookOptions> = async (app, opts) => {
  if (!WEBHOOK_SECRET_PATTERN.test(opts.secret)) {
    throw new TiphubError('TIPHUB_CONFIG_INVALID', 'TIPHUB_TELEGRAM_WEBHOOK_SECRET must be 32 to 256 characters of A-Z a-z 0-9 _ -');
  }
  const expected = digest(opts.secret);

  app.addHook('onRequest', async (req, reply) => {
    if (!sameSecret(req.headers['x-telegram-bot-api-secret-token'], expected)) {
      return reply.code(401).send({ ok: false, error: 'unauthorized' });
    }
  });
  // The body arrives as text and is parsed in the route, so a body that is not JSON is kept, not lost.
  app.removeAllContentTypeParsers();
  app.addContentTypeParser('*', { parseAs: 'string' }, (_req, body, done) => done(null, body));
  // Fastify's own answers (body too large, bad content type) say only their status.
  app.setErrorHandler((err, _req, reply) => {
    const status = typeof (err as { statusCode?: unknown }).statusCode === 'number' ? (err as { statusCode: number }).statusCode : 500;
    return reply.code(status >= 400 && status < 600 ? status : 500).send({ ok: false, error: status < 500 ? 'bad request' : 'try again' });
  });

  app.post(opts.path, async (req, reply) => {
    const text = typeof req.body === 'string' ? req.body : '';
    let update: unknown;
    let parsed = true;
    try {
      update = JSON.parse(text);
    } catch {
      parsed = false;
    }
    if (!parsed && !opts.handleUnparsable) return reply.code(400).send({ ok: false, error: 'bad request' });
    const handled = parsed ? opts.handleUpdate(update) : opts.handleUnparsable!(text);
    let timer: NodeJS.Timeout | undefined;
    const late = new Promise<'late'>((r) => (timer = setTimeout(() => r('late'), opts.answerWithinMs ?? 8000)));
    // A handler that fails (the hub stopping, the case log down) leaves the update to Telegram's retry.
    const outcome = await Promise.race([handled.then(() => 'stored' as const, () => 'failed' as const), late]);
    clearTimeout(timer);
    if (outcome !== 'stored') return reply.code(503).send({ ok: false, error: 'try again' });
    return reply.code(200).send({ ok: true });
  });
};

/** The webhook server, separate from listening so tests use `inject()`. */
export async function buildWebhookApp(opts: TelegramWebhookOptions): Promise<FastifyInstance> {
  // Fastify's own request log would hold request bodies' sizes and ids only; we keep it off.
  const app = Fastify({ logger: false, bodyLimit: 1024 * 1024 });
  await app.register(telegramWebhook, opts);
  return app;
}
