/**
 * The HTTP calls to signal-cli-rest-api 0.100 (axios), each with the configured timeout and the
 * `Authorization` header when TIPHUB_SIGNAL_AUTH is set (the websocket upgrade carries it too:
 * `wsOptions`). Two error kinds kept apart: `SignalHttpError` (the server answered: its status,
 * its `error` text and challenge tokens kept for the adapter to classify, never logged as they
 * are) and `SignalUnreachable` (no answer). Nothing here logs.
 */
import { Transform, type Readable } from 'node:stream';
import axios, { type AxiosInstance, type AxiosResponse } from 'axios';
import { TiphubError } from '../../src/errors';

export class SignalHttpError extends Error {
  override readonly name = 'SignalHttpError';
  constructor(
    readonly status: number,
    /** The server's `error` text: may hold a number or a uuid, so never logged or stored as it is. */
    readonly serverText: string | null,
    /** A 429 of /v2/send: the tokens a captcha lifts the limit with. */
    readonly challengeTokens: readonly string[],
  ) {
    super(`signal-cli-rest-api answered ${status}`);
  }
}

export class SignalUnreachable extends Error {
  override readonly name = 'SignalUnreachable';
  constructor(readonly timedOut: boolean) {
    super(timedOut ? 'signal-cli-rest-api did not answer in time' : 'signal-cli-rest-api could not be reached');
  }
}

export interface SignalClientOptions {
  readonly url: string;
  readonly number: string;
  readonly auth: string | null;
  readonly timeoutMs: number;
}

/** What `GET /v1/about` says of the server. */
export interface About {
  readonly mode: string | null;
  readonly version: string | null;
}

export interface SendBody {
  readonly number: string;
  readonly recipients: readonly string[];
  readonly message: string;
  readonly quote_timestamp?: number;
  readonly quote_author?: string;
}

/** Attachment ids as signal-cli names them (random base64url and an extension): anything else never goes into a path. */
export const ATTACHMENT_ID = /^[A-Za-z0-9_.-]{1,256}$/;

type Obj = Record<string, unknown>;
const isObj = (v: unknown): v is Obj => typeof v === 'object' && v !== null && !Array.isArray(v);

function errorOf(res: AxiosResponse): SignalHttpError {
  const body: unknown = res.data;
  const text = isObj(body) && typeof body.error === 'string' ? body.error : typeof body === 'string' ? body.slice(0, 500) : null;
  const tokens = isObj(body) && Array.isArray(body.challenge_tokens) ? body.challenge_tokens.filter((t): t is string => typeof t === 'string' && t.length > 0 && t.length <= 512) : [];
  return new SignalHttpError(res.status, text, tokens);
}

function unreachable(err: unknown): SignalUnreachable {
  const code = (err as { code?: unknown })?.code;
  return new SignalUnreachable(code === 'ECONNABORTED' || code === 'ETIMEDOUT');
}

export class SignalClient {
  readonly http: AxiosInstance;
  private readonly numberPath: string;

  constructor(private readonly opts: SignalClientOptions) {
    this.numberPath = encodeURIComponent(opts.number);
    this.http = axios.create({
      baseURL: opts.url,
      timeout: opts.timeoutMs,
      headers: opts.auth ? { Authorization: opts.auth } : {},
      // Every status is the caller's to judge; no redirect is followed (a proxy's login page is not the server).
      validateStatus: () => true,
      maxRedirects: 0,
      proxy: false,
    });
  }

  /** The receive websocket's URL (ws: or wss:) and its options: the same Authorization header. */
  wsUrl(): string {
    return `${this.opts.url.replace(/^http/i, 'ws')}/v1/receive/${this.numberPath}`;
  }

  wsHeaders(): Record<string, string> {
    return this.opts.auth ? { Authorization: this.opts.auth } : {};
  }

  private async call<T = unknown>(p: Promise<AxiosResponse<T>>): Promise<AxiosResponse<T>> {
    try {
      return await p;
    } catch (err) {
      throw unreachable(err);
    }
  }

  async about(): Promise<About> {
    const res = await this.call(this.http.get('/v1/about'));
    if (res.status !== 200) throw errorOf(res);
    const b: unknown = res.data;
    return { mode: isObj(b) && typeof b.mode === 'string' ? b.mode : null, version: isObj(b) && typeof b.version === 'string' ? b.version : null };
  }

  /**
   * Normal/native mode: what the server holds for the number (it waits up to `timeoutS` seconds
   * when it has nothing). What it answers is gone from its side: the caller keeps it until handled.
   */
  async receive(timeoutS: number, signal?: AbortSignal): Promise<unknown[]> {
    const res = await this.call(
      // Generous: a poll we give up on may already have taken messages from Signal (normal mode
      // starts a JVM and may fetch a backlog for long), and its answer would be lost with it.
      this.http.get(`/v1/receive/${this.numberPath}`, { params: { timeout: String(timeoutS) }, timeout: Math.max(this.opts.timeoutMs, 300_000) + timeoutS * 1000, ...(signal ? { signal } : {}) }),
    );
    if (res.status !== 200) throw errorOf(res);
    const b: unknown = res.data;
    if (Array.isArray(b)) return b;
    // The spec describes one message, not a list: take one as a list of one.
    if (isObj(b)) return [b];
    return [];
  }

  /**
   * The attachment's bytes, streamed, failing past `maxBytes` (TIPHUB_MEDIA_TOO_LARGE). Raises
   * SignalHttpError / SignalUnreachable before the first byte.
   */
  async attachment(id: string, maxBytes: number): Promise<NodeJS.ReadableStream> {
    const res = await this.call(this.http.get<Readable>(`/v1/attachments/${encodeURIComponent(id)}`, { responseType: 'stream' }));
    const body = res.data;
    if (res.status !== 200) {
      body.destroy();
      throw new SignalHttpError(res.status, null, []);
    }
    const declared = Number(res.headers['content-length']);
    if (Number.isFinite(declared) && declared > maxBytes) {
      body.destroy();
      throw new TiphubError('TIPHUB_MEDIA_TOO_LARGE', `file of ${declared} bytes over the limit of ${maxBytes}`);
    }
    let size = 0;
    const guard = new Transform({
      transform(chunk: Buffer, _enc, cb) {
        size += chunk.length;
        if (size > maxBytes) return cb(new TiphubError('TIPHUB_MEDIA_TOO_LARGE', `file over the limit of ${maxBytes} bytes`));
        cb(null, chunk);
      },
    });
    body.on('error', (err) => guard.destroy(new TiphubError('TIPHUB_MEDIA_UNREADABLE', 'download from signal-cli-rest-api broke off', { retryable: true, cause: err })));
    guard.on('error', () => body.destroy());
    return body.pipe(guard);
  }

  /** Deletes an attachment; false when the server had none by that id. */
  async deleteAttachment(id: string): Promise<boolean> {
    const res = await this.call(this.http.delete(`/v1/attachments/${encodeURIComponent(id)}`));
    if (res.status === 404) return false;
    if (res.status < 200 || res.status >= 300) throw errorOf(res);
    return true;
  }

  /** Sends one message; gives the timestamp the server answered (the message's id with our number). */
  async send(body: SendBody): Promise<number> {
    const res = await this.call(this.http.post('/v2/send', body, { headers: { 'content-type': 'application/json' } }));
    if (res.status !== 201 && res.status !== 200) throw errorOf(res);
    const b: unknown = res.data;
    const raw = isObj(b) ? b.timestamp : null;
    const ts = typeof raw === 'string' && /^\d{1,16}$/.test(raw) ? Number(raw) : typeof raw === 'number' && Number.isSafeInteger(raw) ? raw : null;
    if (ts === null || ts <= 0) throw new SignalHttpError(res.status, null, []);
    return ts;
  }

  /** The `sgnl://linkdevice?…` URI a phone scans to link this server as a device of its account. */
  async linkUri(deviceName: string): Promise<string> {
    const res = await this.call(this.http.get('/v1/qrcodelink/raw', { params: { device_name: deviceName } }));
    if (res.status !== 200) throw errorOf(res);
    const b: unknown = res.data;
    const uri = isObj(b) && typeof b.device_link_uri === 'string' ? b.device_link_uri : null;
    if (!uri || !/^sgnl:\/\//.test(uri)) throw new SignalHttpError(res.status, null, []);
    return uri;
  }

  async rateLimitChallenge(challengeToken: string, captcha: string): Promise<void> {
    const res = await this.call(
      this.http.post(`/v1/accounts/${this.numberPath}/rate-limit-challenge`, { challenge_token: challengeToken, captcha }, { headers: { 'content-type': 'application/json' } }),
    );
    if (res.status < 200 || res.status >= 300) throw errorOf(res);
  }
}
