/**
 * A small local fake of Meta's Graph API for the WhatsApp Cloud API back end, over real HTTP:
 * media metadata (`GET /{version}/{media-id}`) and downloads, both requiring the bearer token;
 * `POST /{version}/{phone-number-id}/messages` recording each request body and answering with a
 * wamid; failures programmed per call. And Meta's side of the webhook: `deliver(body)` signs a body
 * as Meta does (JSON with non-ASCII as \uXXXX and "/" as "\/", HMAC-SHA256 over those bytes with
 * the app secret) and POSTs it to the adapter. Shapes follow Meta's documentation.
 */
import { createHash, createHmac, randomBytes } from 'node:crypto';
import * as http from 'node:http';
import type { AddressInfo } from 'node:net';

export const FAKE_TOKEN = 'EAAGfakefakefakefakefakefakefake0123456789';
export const FAKE_APP_SECRET = '0123456789abcdef0123456789abcdef';
export const FAKE_VERIFY_TOKEN = 'verify-token-0123456789';
export const FAKE_PHONE_NUMBER_ID = '106540352242922';

export interface GraphFailure {
  readonly status: number;
  readonly error?: { readonly code?: number; readonly error_subcode?: number; readonly message?: string; readonly type?: string };
}

/** A wamid as Meta makes them: base64 of a small record holding the number's digits, then a random part. */
export function wamidFor(number: string, random = randomBytes(10).toString('hex').toUpperCase()): string {
  const digits = Buffer.from(number.replace(/\D/g, ''));
  const rnd = Buffer.from(random);
  return `wamid.${Buffer.concat([Buffer.from([0x1c, 0x18, digits.length]), digits, Buffer.from([0x15, 0x02, 0x00, 0x12, 0x18, rnd.length]), rnd, Buffer.from([0x00])]).toString('base64')}`;
}

/** JSON as Meta writes a webhook body: non-ASCII as \uXXXX, "/" as "\/". */
export function metaJson(body: unknown): string {
  return JSON.stringify(body)
    .replace(/\//g, '\\/')
    .replace(/[\u0080-\uffff]/g, (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`);
}

export function metaSignature(bytes: Buffer | string, appSecret = FAKE_APP_SECRET): string {
  return `sha256=${createHmac('sha256', appSecret).update(bytes).digest('hex')}`;
}

/** A webhook body holding these messages and statuses under one change, as Meta sends them. */
export function webhookBody(
  parts: { messages?: unknown[]; statuses?: unknown[]; contacts?: unknown[] },
  phoneNumberId = FAKE_PHONE_NUMBER_ID,
): Record<string, unknown> {
  const value: Record<string, unknown> = {
    messaging_product: 'whatsapp',
    metadata: { display_phone_number: '15550001234', phone_number_id: phoneNumberId },
  };
  if (parts.contacts) value.contacts = parts.contacts;
  if (parts.messages) value.messages = parts.messages;
  if (parts.statuses) value.statuses = parts.statuses;
  return { object: 'whatsapp_business_account', entry: [{ id: '102290129340398', changes: [{ value, field: 'messages' }] }] };
}

/** Webhook items (test/fixtures/whatsapp-cloud) back into one body, as Meta would have sent them. */
export function bodyOfItems(items: readonly { phoneNumberId: string; contacts: readonly unknown[]; message?: unknown; status?: unknown }[]): Record<string, unknown> {
  const body = webhookBody({});
  const entry = (body.entry as { changes: unknown[] }[])[0]!;
  entry.changes = items.map((i) => ({
    field: 'messages',
    value: {
      messaging_product: 'whatsapp',
      metadata: { display_phone_number: '15550001234', phone_number_id: i.phoneNumberId },
      ...(i.message !== undefined ? { contacts: i.contacts, messages: [i.message] } : { statuses: [i.status] }),
    },
  }));
  return body;
}

export class GraphApiFake {
  private server: http.Server | null = null;
  readonly token: string;
  readonly version = 'v23.0';
  /** Request bodies of POST /messages, in order. */
  readonly sent: Record<string, unknown>[] = [];
  /** The next calls of each kind answer these, one each. */
  /** The wamid answered for each of `sent`, in order. */
  readonly sentIds: string[] = [];
  readonly sendFailures: GraphFailure[] = [];
  readonly mediaFailures: GraphFailure[] = [];
  readonly downloadFailures: GraphFailure[] = [];
  /** Media by id, with what the metadata says of them (a lie, where a test wants one). */
  readonly media = new Map<string, { bytes: Buffer; mime: string; sha256?: string; fileSize?: number }>();
  /** Authorization headers seen, by kind of call. */
  readonly auth: { kind: 'send' | 'media' | 'download'; header: string | null }[] = [];
  private nextMedia = 1;

  constructor(token = FAKE_TOKEN) {
    this.token = token;
  }

  get apiRoot(): string {
    return `http://127.0.0.1:${(this.server!.address() as AddressInfo).port}`;
  }

  async start(): Promise<void> {
    this.server = http.createServer((req, res) => void this.handle(req, res));
    await new Promise<void>((r) => this.server!.listen(0, '127.0.0.1', () => r()));
  }

  async stop(): Promise<void> {
    this.server?.closeAllConnections();
    await new Promise<void>((r) => (this.server ? this.server.close(() => r()) : r()));
  }

  /** Puts a media file on the fake; gives its media id. */
  putMedia(bytes: Buffer, mime = 'image/jpeg', lie: { sha256?: string; fileSize?: number } = {}): string {
    const id = String(1_000_000_000_000_000 + this.nextMedia++);
    this.media.set(id, { bytes, mime, ...lie });
    return id;
  }

  /** The texts sent so far to `to`. */
  textsTo(to: string): string[] {
    return this.sent.filter((b) => b.to === to).map((b) => (b.text as { body: string }).body);
  }

  /**
   * Meta's delivery of a webhook body to `url`: serialized and signed as Meta does (unless the
   * test overrides the body bytes or the signature header).
   */
  async deliver(url: string, body: unknown, o: { appSecret?: string; signature?: string | null; rawBody?: string } = {}): Promise<{ status: number; text: string }> {
    const bytes = o.rawBody ?? metaJson(body);
    const headers: Record<string, string> = { 'content-type': 'application/json' };
    const signature = o.signature === undefined ? metaSignature(bytes, o.appSecret ?? FAKE_APP_SECRET) : o.signature;
    if (signature !== null) headers['x-hub-signature-256'] = signature;
    const r = await fetch(url, { method: 'POST', headers, body: bytes });
    return { status: r.status, text: await r.text() };
  }

  private reply(res: http.ServerResponse, status: number, body: unknown): void {
    res.writeHead(status, { 'content-type': 'application/json' });
    res.end(JSON.stringify(body));
  }

  private fail(res: http.ServerResponse, f: GraphFailure): void {
    this.reply(res, f.status, { error: { message: 'fake failure', type: 'OAuthException', code: f.error?.code ?? f.status, ...f.error, fbtrace_id: 'AbCdEf' } });
  }

  private authorized(req: http.IncomingMessage, kind: 'send' | 'media' | 'download'): boolean {
    const header = req.headers.authorization ?? null;
    this.auth.push({ kind, header });
    return header === `Bearer ${this.token}`;
  }

  private async handle(req: http.IncomingMessage, res: http.ServerResponse): Promise<void> {
    const url = new URL(req.url ?? '/', 'http://x');
    const chunks: Buffer[] = [];
    for await (const c of req) chunks.push(c as Buffer);
    const unauthorized = () => this.reply(res, 401, { error: { message: 'Invalid OAuth access token.', type: 'OAuthException', code: 190 } });

    const download = url.pathname.match(/^\/download\/(\w+)$/);
    if (download && req.method === 'GET') {
      if (!this.authorized(req, 'download')) return unauthorized();
      const f = this.downloadFailures.shift();
      if (f) return this.fail(res, f);
      const m = this.media.get(download[1]!);
      if (!m) return this.reply(res, 404, { error: { message: 'not found', code: 100 } });
      res.writeHead(200, { 'content-type': m.mime });
      return void res.end(m.bytes);
    }
    const messages = url.pathname.match(/^\/(v\d+\.\d+)\/(\d+)\/messages$/);
    if (messages && req.method === 'POST') {
      if (!this.authorized(req, 'send')) return unauthorized();
      let body: Record<string, unknown>;
      try {
        body = JSON.parse(Buffer.concat(chunks).toString('utf8')) as Record<string, unknown>;
      } catch {
        return this.reply(res, 400, { error: { message: 'bad JSON', code: 100 } });
      }
      const f = this.sendFailures.shift();
      if (f) return this.fail(res, f);
      if (body.messaging_product !== 'whatsapp' || typeof body.to !== 'string' || body.type !== 'text') return this.reply(res, 400, { error: { message: 'invalid parameter', code: 100 } });
      this.sent.push(body);
      const id = wamidFor(body.to);
      this.sentIds.push(id);
      return this.reply(res, 200, { messaging_product: 'whatsapp', contacts: [{ input: body.to, wa_id: body.to }], messages: [{ id }] });
    }
    const media = url.pathname.match(/^\/(v\d+\.\d+)\/([\w.-]+)$/);
    if (media && req.method === 'GET') {
      if (!this.authorized(req, 'media')) return unauthorized();
      const f = this.mediaFailures.shift();
      if (f) return this.fail(res, f);
      const m = this.media.get(media[2]!);
      if (!m) return this.reply(res, 400, { error: { message: 'Unsupported get request.', type: 'GraphMethodException', code: 100, error_subcode: 33 } });
      return this.reply(res, 200, {
        messaging_product: 'whatsapp',
        url: `${this.apiRoot}/download/${media[2]}`,
        mime_type: m.mime,
        sha256: m.sha256 ?? createHash('sha256').update(m.bytes).digest('hex'),
        file_size: m.fileSize ?? m.bytes.length,
        id: media[2],
      });
    }
    return this.reply(res, 404, { error: { message: 'Unknown path', code: 803 } });
  }
}
