/**
 * A small local stand-in for the Telegram Bot API, for what telegram-test-api does not do: it
 * honours getUpdates' offset (updates below it are confirmed and dropped), serves getFile and file
 * downloads, and can be told to answer sendMessage with 429 or 403. Shapes follow the Bot API.
 */
import * as http from 'node:http';
import type { AddressInfo } from 'node:net';

export interface StandinUpdate {
  update_id: number;
  [k: string]: unknown;
}

export class BotApiStandin {
  readonly token: string;
  readonly botId = 7000000001;
  private server: http.Server | null = null;
  private updates: StandinUpdate[] = [];
  private waiters: (() => void)[] = [];
  /** The highest offset any getUpdates call confirmed. */
  confirmed = 0;
  getUpdatesCalls = 0;
  readonly sent: { chat_id: number; text: string; reply_parameters?: { message_id: number } }[] = [];
  readonly commands: { language_code?: string; commands: unknown[] }[] = [];
  sendFailures: { error_code: number; description: string; parameters?: { retry_after: number } }[] = [];
  readonly files = new Map<string, Buffer>();
  private nextUpdateId = 1;
  private nextMessageId = 1000;

  constructor(token = '7000000001:AAStandinStandinStandinStandinStandin0') {
    this.token = token;
  }

  get apiRoot(): string {
    return `http://127.0.0.1:${(this.server!.address() as AddressInfo).port}`;
  }

  /** Queues an update as Telegram would deliver it (update_id assigned here). */
  push(body: Record<string, unknown>): number {
    const update_id = this.nextUpdateId++;
    this.updates.push({ update_id, ...body });
    for (const w of this.waiters.splice(0)) w();
    return update_id;
  }

  pending(): number {
    return this.updates.length;
  }

  async start(): Promise<void> {
    this.server = http.createServer((req, res) => void this.handle(req, res));
    await new Promise<void>((r) => this.server!.listen(0, '127.0.0.1', () => r()));
  }

  async stop(): Promise<void> {
    for (const w of this.waiters.splice(0)) w();
    this.server?.closeAllConnections();
    await new Promise<void>((r) => this.server?.close(() => r()) ?? r());
  }

  private reply(res: http.ServerResponse, status: number, body: unknown): void {
    res.writeHead(status, { 'content-type': 'application/json' });
    res.end(JSON.stringify(body));
  }

  private async handle(req: http.IncomingMessage, res: http.ServerResponse): Promise<void> {
    const url = new URL(req.url ?? '/', 'http://x');
    const file = url.pathname.match(/^\/file\/bot([^/]+)\/(.+)$/);
    if (file) {
      const bytes = file[1] === this.token ? this.files.get(decodeURIComponent(file[2]!)) : undefined;
      if (!bytes) return this.reply(res, 404, { ok: false, error_code: 404, description: 'Not Found' });
      res.writeHead(200, { 'content-type': 'application/octet-stream' });
      return void res.end(bytes);
    }
    const m = url.pathname.match(/^\/bot([^/]+)\/(\w+)$/);
    if (!m) return this.reply(res, 404, { ok: false, error_code: 404, description: 'Not Found' });
    if (m[1] !== this.token) return this.reply(res, 401, { ok: false, error_code: 401, description: 'Unauthorized' });
    let body: Record<string, unknown> = {};
    const chunks: Buffer[] = [];
    for await (const c of req) chunks.push(c as Buffer);
    if (chunks.length) {
      try {
        body = JSON.parse(Buffer.concat(chunks).toString('utf8')) as Record<string, unknown>;
      } catch {
        return this.reply(res, 400, { ok: false, error_code: 400, description: 'Bad Request: body is not JSON' });
      }
    }
    for (const [k, v] of url.searchParams) body[k] = v;
    const ok = (result: unknown) => this.reply(res, 200, { ok: true, result });
    switch (m[2]) {
      case 'getMe':
        return ok({ id: this.botId, is_bot: true, first_name: 'Tip line', username: 'tip_line_bot' });
      case 'deleteWebhook':
      case 'setWebhook':
        return ok(true);
      case 'setMyCommands':
        this.commands.push(body as { language_code?: string; commands: unknown[] });
        return ok(true);
      case 'getUpdates': {
        this.getUpdatesCalls++;
        const offset = Number(body.offset ?? 0);
        if (offset > 0) {
          this.updates = this.updates.filter((u) => u.update_id >= offset);
          this.confirmed = Math.max(this.confirmed, offset);
        }
        const limit = Math.min(100, Number(body.limit ?? 100));
        const timeout = Number(body.timeout ?? 0);
        if (!this.updates.length && timeout > 0) {
          await new Promise<void>((r) => {
            this.waiters.push(r);
            setTimeout(r, Math.min(timeout, 2) * 1000);
          });
        }
        return ok(this.updates.slice(0, limit));
      }
      case 'sendMessage': {
        const failure = this.sendFailures.shift();
        if (failure) return this.reply(res, failure.error_code, { ok: false, ...failure });
        this.sent.push(body as { chat_id: number; text: string });
        return ok({ message_id: this.nextMessageId++, date: Math.floor(Date.now() / 1000), chat: { id: body.chat_id, type: 'private' }, text: body.text });
      }
      case 'getFile': {
        const id = String(body.file_id);
        const bytes = this.files.get(id);
        if (!bytes) return this.reply(res, 400, { ok: false, error_code: 400, description: 'Bad Request: invalid file_id' });
        return ok({ file_id: id, file_unique_id: `u-${id}`, file_size: bytes.length, file_path: id });
      }
      default:
        return this.reply(res, 404, { ok: false, error_code: 404, description: 'Not Found: method not found' });
    }
  }
}

/** A private-chat text update from user `userId`. */
export function textUpdate(userId: number, messageId: number, text: string, date = Math.floor(Date.now() / 1000)): Record<string, unknown> {
  return {
    message: {
      message_id: messageId,
      from: { id: userId, is_bot: false, first_name: 'User', language_code: 'en' },
      chat: { id: userId, type: 'private', first_name: 'User' },
      date,
      text,
    },
  };
}
