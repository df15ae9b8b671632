/**
 * The Graph API calls of the Cloud API back end (Node's fetch, each with a timeout): send a text,
 * read a media file's metadata, stream its bytes. Two error kinds kept apart, as grammY does:
 * `GraphError` (Meta answered with an error: HTTP status, Meta's code and subcode, never its
 * text) and `GraphUnreachable` (no answer). `sendError` / `mediaError` map them to TiphubErrors
 * that say whether a retry can help; their messages hold numbers and fixed words only.
 */
import { createHash } from 'node:crypto';
import { Readable, Transform } from 'node:stream';
import type { ReadableStream as WebReadableStream } from 'node:stream/web';
import { TiphubError } from '../../../src/errors';

export class GraphError extends Error {
  override readonly name = 'GraphError';
  constructor(
    readonly status: number,
    /** Meta's `error.code` (e.g. 131047), null when the body said none. */
    readonly code: number | null,
    readonly subcode: number | null,
  ) {
    super(`Graph API answered ${status}${code === null ? '' : ` (error ${code})`}`);
  }
}

export class GraphUnreachable extends Error {
  override readonly name = 'GraphUnreachable';
  constructor(readonly timedOut: boolean) {
    super(timedOut ? 'Graph API did not answer in time' : 'Graph API could not be reached');
  }
}

export interface GraphOptions {
  readonly apiRoot: string;
  readonly apiVersion: string;
  readonly token: string;
  /** For one JSON call (send, metadata). */
  readonly callTimeoutMs?: number;
  /** For a whole media download. */
  readonly downloadTimeoutMs?: number;
}

export interface MediaInfo {
  readonly url: string;
  readonly mimeType: string | null;
  /** Meta's sha256 of the file (hex or base64, as it gives it), null when absent. */
  readonly sha256: string | null;
  readonly fileSize: number | null;
}

/** Media ids are Meta's numeric ids: anything else never goes into a URL path. */
const MEDIA_ID = /^[A-Za-z0-9_.-]{1,256}$/;

type Obj = Record<string, unknown>;
const isObj = (v: unknown): v is Obj => typeof v === 'object' && v !== null && !Array.isArray(v);
const num = (v: unknown): number | null => (typeof v === 'number' && Number.isFinite(v) ? v : null);

async function errorOf(res: Response): Promise<GraphError> {
  let body: unknown = null;
  try {
    body = await res.json();
  } catch {
    // Not JSON: the status says enough.
  }
  const e = isObj(body) && isObj(body.error) ? body.error : {};
  return new GraphError(res.status, num(e.code), num(e.error_subcode));
}

export class GraphClient {
  private readonly base: string;
  constructor(private readonly opts: GraphOptions) {
    this.base = `${opts.apiRoot.replace(/\/+$/, '')}/${opts.apiVersion}`;
  }

  private async call(path: string, init: RequestInit, timeoutMs = this.opts.callTimeoutMs ?? 20_000): Promise<Response> {
    try {
      return await fetch(`${this.base}/${path}`, {
        ...init,
        headers: { ...(init.headers as Record<string, string> | undefined), authorization: `Bearer ${this.opts.token}` },
        signal: AbortSignal.timeout(timeoutMs),
      });
    } catch (err) {
      throw new GraphUnreachable((err as { name?: unknown })?.name === 'TimeoutError');
    }
  }

  /** Sends one text; gives the sent message's wamid. */
  async sendText(phoneNumberId: string, to: string, body: string, replyTo: string | null): Promise<string> {
    const payload = {
      messaging_product: 'whatsapp',
      recipient_type: 'individual',
      to,
      type: 'text',
      text: { body, preview_url: false },
      ...(replyTo ? { context: { message_id: replyTo } } : {}),
    };
    const res = await this.call(`${encodeURIComponent(phoneNumberId)}/messages`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(payload) });
    if (!res.ok) throw await errorOf(res);
    const answer = (await res.json().catch(() => null)) as unknown;
    const id = isObj(answer) && Array.isArray(answer.messages) && isObj(answer.messages[0]) ? answer.messages[0].id : null;
    if (typeof id !== 'string' || !id) throw new GraphError(res.status, null, null);
    return id;
  }

  async mediaInfo(mediaId: string): Promise<MediaInfo> {
    if (!MEDIA_ID.test(mediaId)) throw new TiphubError('TIPHUB_MEDIA_UNREADABLE', 'not a WhatsApp media id');
    const res = await this.call(encodeURIComponent(mediaId), { method: 'GET' });
    if (!res.ok) throw await errorOf(res);
    const m = (await res.json().catch(() => null)) as unknown;
    if (!isObj(m) || typeof m.url !== 'string' || !/^https?:\/\//.test(m.url)) throw new TiphubError('TIPHUB_MEDIA_UNREADABLE', 'the Graph API gave no media URL', { retryable: true });
    const size = num(m.file_size) ?? (typeof m.file_size === 'string' && /^\d+$/.test(m.file_size) ? Number(m.file_size) : null);
    return { url: m.url, mimeType: typeof m.mime_type === 'string' ? m.mime_type : null, sha256: typeof m.sha256 === 'string' ? m.sha256 : null, fileSize: size };
  }

  /**
   * The file's bytes as a stream that fails past `maxBytes` (TIPHUB_MEDIA_TOO_LARGE) and, when
   * Meta gave a sha256, at its end if the bytes do not match it (retryable: a broken download).
   */
  async download(info: MediaInfo, maxBytes: number): Promise<NodeJS.ReadableStream> {
    let res: Response;
    try {
      res = await fetch(info.url, { headers: { authorization: `Bearer ${this.opts.token}` }, signal: AbortSignal.timeout(this.opts.downloadTimeoutMs ?? 120_000) });
    } catch {
      throw new TiphubError('TIPHUB_MEDIA_UNREADABLE', 'download from WhatsApp failed', { retryable: true });
    }
    if (!res.ok || !res.body) {
      await res.body?.cancel().catch(() => undefined);
      // The URL lives five minutes: a 404 or 401 here is cured by asking for a fresh one.
      throw new TiphubError('TIPHUB_MEDIA_UNREADABLE', `download answered ${res.status}`, { retryable: res.status >= 500 || res.status === 404 || res.status === 401 || res.status === 429 });
    }
    const declared = Number(res.headers.get('content-length'));
    if (Number.isFinite(declared) && declared > maxBytes) {
      await res.body.cancel().catch(() => undefined);
      throw new TiphubError('TIPHUB_MEDIA_TOO_LARGE', `file of ${declared} bytes over the limit of ${maxBytes}`);
    }
    const expected = expectedDigest(info.sha256);
    const hash = createHash('sha256');
    let size = 0;
    const guard = new Transform({
      transform(chunk: Buffer, _enc, cb) {
        size += chunk.length;
        if (size > maxBytes) return cb(new TiphubError('TIPHUB_MEDIA_TOO_LARGE', `file over the limit of ${maxBytes} bytes`));
        hash.update(chunk);
        cb(null, chunk);
      },
      flush(cb) {
        if (expected && !hash.digest().equals(expected)) return cb(new TiphubError('TIPHUB_MEDIA_UNREADABLE', 'the file does not match the sha256 WhatsApp gave', { retryable: true }));
        cb();
      },
    });
    const source = Readable.fromWeb(res.body as WebReadableStream);
    source.on('error', (err) => guard.destroy(new TiphubError('TIPHUB_MEDIA_UNREADABLE', 'download from WhatsApp broke off', { retryable: true, cause: err })));
    guard.on('error', () => source.destroy());
    return source.pipe(guard);
  }
}

/** Meta's sha256 as bytes, whether it gave hex or base64; null when it is neither (then not checked). */
export function expectedDigest(sha256: string | null): Buffer | null {
  if (!sha256) return null;
  if (/^[0-9a-f]{64}$/i.test(sha256)) return Buffer.from(sha256, 'hex');
  if (/^[A-Za-z0-9+/_-]{43}=?$/.test(sha256)) {
    const b = Buffer.from(sha256.replace(/-/g, '+').replace(/_/g, '/'), 'base64');
    return b.length === 32 ? b : null;
  }
  return null;
}

/** Meta's codes for "too many messages": per number (130429), to one user (131056), per app (80007, 4). */
const RATE_CODES = new Set([130429, 131056, 80007, 4, 613]);
/** Not a WhatsApp user, or a recipient this number may not write to. */
const UNREACHABLE_CODES = new Set([131026, 131030, 131021]);

/** A failed send as a TiphubError that says whether a retry can help. */
export function sendError(err: unknown): TiphubError {
  if (err instanceof TiphubError) return err;
  if (err instanceof GraphError) {
    const { status, code } = err;
    const what = `WhatsApp answered ${status}${code === null ? '' : ` (error ${code})`}`;
    if (status === 429 || (code !== null && RATE_CODES.has(code))) {
      // No wait for the whole queue (the outbound worker would pause every recipient): this job
      // backs off alone, and the pair rate (131056, one message per 6 s to a person) passes.
      return new TiphubError('TIPHUB_SEND_RATE_LIMITED', `${what}: too many messages`);
    }
    // Outside the 24-hour window only a template may be sent: the informant must write first.
    if (code === 131047) return new TiphubError('TIPHUB_WINDOW_CLOSED', `${what}: the 24-hour window is closed, the informant must write first`);
    if (code !== null && UNREACHABLE_CODES.has(code)) return new TiphubError('TIPHUB_RECIPIENT_UNREACHABLE', `${what}: recipient cannot be written to`);
    if (status === 401 || code === 190) return new TiphubError('TIPHUB_SEND_FAILED', `${what}: access token rejected`, { retryable: false });
    // Meta's own transient errors (131000 something went wrong, 131016 service unavailable, 1, 2).
    const transient = status >= 500 || code === 131000 || code === 131016 || code === 1 || code === 2;
    return new TiphubError('TIPHUB_SEND_FAILED', what, { retryable: transient });
  }
  if (err instanceof GraphUnreachable) return new TiphubError('TIPHUB_SEND_FAILED', err.message, { retryable: true });
  return new TiphubError('TIPHUB_SEND_FAILED', 'sending to WhatsApp failed');
}

/** A failed metadata call for media as a TiphubError. */
export function mediaError(err: unknown): TiphubError {
  if (err instanceof TiphubError) return err;
  if (err instanceof GraphError) {
    const what = `WhatsApp media lookup answered ${err.status}${err.code === null ? '' : ` (error ${err.code})`}`;
    // An unknown or expired media id (ids live 7 days) never comes back.
    if (err.status === 404 || err.status === 400) return new TiphubError('TIPHUB_MEDIA_UNREADABLE', `${what}: unknown or expired`, { retryable: false });
    return new TiphubError('TIPHUB_MEDIA_UNREADABLE', what, { retryable: err.status >= 500 || err.status === 429 });
  }
  if (err instanceof GraphUnreachable) return new TiphubError('TIPHUB_MEDIA_UNREADABLE', err.message, { retryable: true });
  return new TiphubError('TIPHUB_MEDIA_UNREADABLE', 'media lookup failed', { retryable: true });
}
