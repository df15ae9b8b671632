/**
 * The Cloud API webhook: a Fastify plugin in its own scope. The verification GET answers Meta's
 * challenge when hub.verify_token matches (constant time). A POST is checked against
 * X-Hub-Signature-256 over the raw bytes, before any JSON parsing (Meta escapes non-ASCII and "/",
 * so re-serialized JSON would not match): a wrong or missing signature gets 401, nothing is
 * handled and nothing of the body is logged. A signed body is split into one item per message and
 * per status; the answer is 200 only once every item is enqueued, recorded, ignored or
 * quarantined, else 500 and Meta delivers the body again (the wamid keeps that idempotent). No
 * answer quotes an error or the body.
 */
import { createHash, createHmac, timingSafeEqual } from 'node:crypto';
import Fastify, { type FastifyInstance, type FastifyPluginAsync } from 'fastify';
import type { CloudPayload } from '../payload';

export interface CloudWebhookOptions {
  readonly path: string;
  /** The app secret: the HMAC key of X-Hub-Signature-256. */
  readonly appSecret: string;
  /** What the verification GET must present as hub.verify_token. */
  readonly verifyToken: string;
  readonly bodyLimitBytes: number;
  /** One item of the body; resolves once it is enqueued, recorded, ignored or quarantined. */
  readonly handleItem: (item: CloudPayload) => Promise<void>;
  /** A signed body that is not JSON, or not a WhatsApp notification: kept whole, as text. */
  readonly handleUnusable: (body: string, reason: 'not-json' | 'not-whatsapp') => Promise<void>;
  /** A change of another field than `messages` (template status, account updates…), or a value's own errors: counted. */
  readonly handleOther: (kind: 'other-field' | 'webhook-errors') => Promise<void>;
  /** A POST refused for its signature (missing or wrong): said to the operator, nothing of the request with it. */
  readonly onRefused?: () => void;
  /** Past this the answer is 500 and Meta delivers again. */
  readonly answerWithinMs?: number;
}

type Obj = Record<string, unknown>;
const isObj = (v: unknown): v is Obj => typeof v === 'object' && v !== null && !Array.isArray(v);

const digest = (b: Buffer | string) => createHash('sha256').update(b).digest();

/** Whether `header` is `sha256=<hex HMAC-SHA256(body, secret)>`, compared in constant time. */
export function signatureMatches(header: unknown, body: Buffer, appSecret: string): boolean {
  if (typeof header !== 'string' || !header.startsWith('sha256=')) return false;
  const given = header.slice(7);
  if (!/^[0-9a-fA-F]{64}$/.test(given)) return false;
  const expected = createHmac('sha256', appSecret).update(body).digest();
  return timingSafeEqual(Buffer.from(given, 'hex'), expected);
}

export interface SplitBody {
  readonly items: CloudPayload[];
  readonly others: ('other-field' | 'webhook-errors')[];
}

/** A parsed webhook body as items (one per message, one per status); null: not a WhatsApp Business Account notification. */
export function splitWebhookBody(body: unknown): SplitBody | null {
  if (!isObj(body) || body.object !== 'whatsapp_business_account' || !Array.isArray(body.entry)) return null;
  const items: CloudPayload[] = [];
  const others: SplitBody['others'] = [];
  for (const entry of body.entry) {
    if (!isObj(entry) || !Array.isArray(entry.changes)) return null;
    for (const change of entry.changes) {
      if (!isObj(change)) return null;
      if (change.field !== 'messages') {
        others.push('other-field');
        continue;
      }
      const value = change.value;
      if (!isObj(value)) return null;
      const metadata = isObj(value.metadata) ? value.metadata : {};
      const phoneNumberId = typeof metadata.phone_number_id === 'string' ? metadata.phone_number_id : '';
      const contacts = Array.isArray(value.contacts) ? value.contacts : [];
      const messages = Array.isArray(value.messages) ? value.messages : [];
      const statuses = Array.isArray(value.statuses) ? value.statuses : [];
      for (const message of messages) items.push({ backend: 'cloud', phoneNumberId, contacts, message });
      for (const status of statuses) items.push({ backend: 'cloud', phoneNumberId, contacts: [], status });
      if (Array.isArray(value.errors) && value.errors.length) others.push('webhook-errors');
    }
  }
  return { items, others };
}

export const cloudWebhook: FastifyPluginAsync<CloudWebhookOptions> = async (app, opts) => {
  const verifyDigest = digest(opts.verifyToken);

  // Raw bytes for the signature: no parser of this scope ever turns the body into an object.
  app.removeAllContentTypeParsers();
  app.addContentTypeParser('*', { parseAs: 'buffer', bodyLimit: opts.bodyLimitBytes }, (_req, body, done) => done(null, body));
  // Fastify's own answers (body too large, bad content type) say only their status.
  app.setErrorHandler((err, _req, reply) => {
    const status = typeof (err as { statusCode?: unknown }).statusCode === 'number' ? (err as { statusCode: number }).statusCode : 500;
    return reply.code(status >= 400 && status < 600 ? status : 500).send({ ok: false, error: status < 500 ? 'bad request' : 'try again' });
  });

  app.get(opts.path, async (req, reply) => {
    const q = (isObj(req.query) ? req.query : {}) as Obj;
    const token = q['hub.verify_token'];
    const challenge = q['hub.challenge'];
    const tokenOk = typeof token === 'string' && timingSafeEqual(digest(token), verifyDigest);
    if (q['hub.mode'] !== 'subscribe' || !tokenOk || typeof challenge !== 'string' || !/^[A-Za-z0-9_-]{1,256}$/.test(challenge)) {
      return reply.code(403).type('text/plain').send('forbidden');
    }
    return reply.code(200).type('text/plain').send(challenge);
  });

  app.post(opts.path, { bodyLimit: opts.bodyLimitBytes }, async (req, reply) => {
    const raw = Buffer.isBuffer(req.body) ? req.body : Buffer.alloc(0);
    if (!signatureMatches(req.headers['x-hub-signature-256'], raw, opts.appSecret)) {
      opts.onRefused?.();
      return reply.code(401).send({ ok: false, error: 'unauthorized' });
    }
    const text = raw.toString('utf8');
    let body: unknown;
    let parsed = true;
    try {
      body = JSON.parse(text);
    } catch {
      parsed = false;
    }
    const split = parsed ? splitWebhookBody(body) : null;
    const work = async () => {
      if (!split) return opts.handleUnusable(text, parsed ? 'not-whatsapp' : 'not-json');
      // In order: a message and its status updates come as Meta sent them.
      for (const item of split.items) await opts.handleItem(item);
      for (const kind of split.others) await opts.handleOther(kind);
    };
    let timer: NodeJS.Timeout | undefined;
    const late = new Promise<'late'>((r) => (timer = setTimeout(() => r('late'), opts.answerWithinMs ?? 15_000)));
    // A handler that fails (the hub stopping, the case log down) leaves the body to Meta's retry.
    const outcome = await Promise.race([work().then(() => 'stored' as const, () => 'failed' as const), late]);
    clearTimeout(timer);
    if (outcome !== 'stored') return reply.code(500).send({ ok: false, error: 'try again' });
    return reply.code(200).send({ ok: true });
  });
};

/** The webhook server, separate from listening so tests can build it alone. */
export async function buildCloudWebhookApp(opts: CloudWebhookOptions): Promise<FastifyInstance> {
  // Fastify's own request log is off: it would log URLs with the verify token in them.
  const app = Fastify({ logger: false, bodyLimit: opts.bodyLimitBytes });
  await app.register(cloudWebhook, opts);
  return app;
}
