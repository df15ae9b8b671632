/**
 * A local fake of signal-cli-rest-api 0.100 (HTTP and the receive websocket) that checks every
 * request made to it against the server's OpenAPI file (../shared/specs/signal-cli-rest-api-0.100
 * .swagger.json) and records each mismatch in `violations`; a test ends with `expectNoViolations()`.
 * It also plays the informants' side of Signal: envelopes in the shape signal-cli writes them
 * (text, attachment, edit, remote delete, reaction, receipts, typing, sync), queued for a poll in
 * normal mode or pushed to every connected websocket client in json-rpc mode, and it records the
 * bot's sends.
 *
 * How the spec is used, and where it is flawed (../shared/CHANNELS.md, Signal part):
 * - The file as a whole is not a valid Swagger 2.0 document: `/v1/contacts/{number}/{uuid}` and
 *   `/v1/contacts/{number}/{uuid}/avatar` use `{uuid}` without declaring it. So no Swagger
 *   validator is run over it: we compile only its `definitions` with ajv (draft-04, which is what
 *   Swagger 2.0 schemas are) and walk `paths` ourselves; a template segment that is not declared
 *   still matches one segment, it just is not checked.
 * - `GET /v1/configuration/{number}/settings` declares a body parameter on a GET: body parameters
 *   on GET are ignored.
 * - No property is nullable, while the real server sends null for absent values (`sourceNumber`,
 *   `message`, an attachment's `filename`, `caption`, `width`…). Responses are therefore not
 *   validated against the file; the fake's own envelopes are checked only with nulls stripped
 *   (`envelopeProblems`).
 * - Receive is described as one `data.Message`; normal mode answers a JSON array of them and
 *   json-rpc mode makes the same path a websocket whose frames are each one `data.Message`.
 * - `POST /v2/send` documents 400 as `api.SendMessageError` (with `account` required) and no 429:
 *   the server answers 400 `{error}` and 429 `{error, challenge_tokens, account}`, as the fake does.
 * - `produces: application/json` is written on the attachment, QR code and health endpoints, which
 *   answer bytes, a PNG and nothing.
 * - No definition says `additionalProperties: false`, and the server (Go, gin) ignores unknown
 *   fields: a misspelt `quoteTimestamp` would be dropped silently. The fake is stricter than the
 *   server on purpose: a property a request body's schema does not list, and a query parameter
 *   the operation does not declare, are violations (`strictBodies: false` turns the first off).
 * Checks the server makes that the file does not say, made here too: the account in the path or
 * in the send body is the fake's number; a send has at least one recipient; each
 * `base64_attachments` item is base64 or a `data:<mime>[;filename=<name>];base64,<data>` URI.
 */
import { randomBytes, randomUUID } from 'node:crypto';
import * as fs from 'node:fs';
import * as http from 'node:http';
import type { AddressInfo } from 'node:net';
import * as path from 'node:path';
import type { Duplex } from 'node:stream';
import Ajv, { type ValidateFunction } from 'ajv-draft-04';
import { toBuffer as qrPng } from 'qrcode';
import { WebSocketServer, type WebSocket } from 'ws';

export const SPEC_FILE = path.resolve(__dirname, '../../../shared/specs/signal-cli-rest-api-0.100.swagger.json');

type Json = Record<string, unknown>;
type Schema = Json;

interface SpecParameter {
  name: string;
  in: 'path' | 'query' | 'body' | 'header' | 'formData';
  required?: boolean;
  type?: string;
  schema?: Schema;
}
interface SpecOperation {
  parameters?: SpecParameter[];
  responses: Record<string, unknown>;
}
interface SwaggerFile {
  paths: Record<string, Record<string, SpecOperation>>;
  definitions: Record<string, Schema>;
}

export type SignalMode = 'json-rpc' | 'normal';

export interface SignalFakeOptions {
  mode?: SignalMode;
  /** The bot's account (E.164). */
  number?: string;
  /** When set, every request must carry exactly this `Authorization` header (TIPHUB_SIGNAL_AUTH). */
  authorization?: string;
  /** The server pings each websocket client this often (signal-cli-rest-api: about 54 s). 0: never. */
  pingIntervalMs?: number;
  /** Flag request body properties the schema does not list (default true; the server ignores them). */
  strictBodies?: boolean;
}

/** An informant as the envelope names them; `number` is null when they hide it (number privacy). */
export interface SignalPerson {
  uuid: string;
  number: string | null;
  name: string | null;
}

export type Envelope = Json & { timestamp: number };
/** What the receive endpoint gives: one envelope and the account it was received on. */
export interface ReceivedMessage {
  envelope: Envelope;
  account: string;
}
export interface Built {
  envelope: Envelope;
  timestamp: number;
}
export interface Pushed extends Built {
  /** json-rpc: the clients it was sent to (0: lost, as on the real server); normal: 1 (queued). */
  delivered: number;
}

export type SendFailure = { status: 400; error?: string } | { status: 429; error?: string; challengeTokens?: string[] };

export interface RecordedRequest {
  method: string;
  path: string;
  query: Record<string, string>;
  headers: http.IncomingHttpHeaders;
  body: unknown;
  status: number;
}

export interface SentAttachment {
  mime: string | null;
  filename: string | null;
  bytes: Buffer;
}

export interface PongRecord {
  client: number;
  at: number;
}

// ---------------------------------------------------------------------------------------------
// The spec: loaded and compiled once per process.

interface CompiledSpec {
  file: SwaggerFile;
  /** Request bodies, strict (no unlisted properties) and as written. */
  strictBody: (ref: Schema) => ValidateFunction;
  looseBody: (ref: Schema) => ValidateFunction;
  message: ValidateFunction;
}
let compiled: CompiledSpec | null = null;

/** Every object schema with properties and no word on others gets `additionalProperties: false`. */
function closeObjects(s: unknown): unknown {
  if (Array.isArray(s)) return s.map(closeObjects);
  if (!s || typeof s !== 'object') return s;
  const out: Json = {};
  for (const [k, v] of Object.entries(s as Json)) out[k] = k === 'example' ? v : k === 'properties' ? Object.fromEntries(Object.entries(v as Json).map(([p, ps]) => [p, closeObjects(ps)])) : closeObjects(v);
  if (out.properties && out.additionalProperties === undefined) out.additionalProperties = false;
  return out;
}

function newAjv(definitions: Record<string, Schema>, id: string): Ajv {
  // Draft-04 is the dialect of Swagger 2.0 schemas; `example` is Swagger's, unknown to JSON Schema.
  const ajv = new Ajv({ allErrors: true, strict: true, strictTypes: false, strictRequired: false });
  ajv.addKeyword('example');
  ajv.addSchema({ id, definitions });
  return ajv;
}

function spec(): CompiledSpec {
  if (compiled) return compiled;
  const file = JSON.parse(fs.readFileSync(SPEC_FILE, 'utf8')) as SwaggerFile;
  // Only `definitions` are compiled: the file as a whole is invalid (see the head of this file).
  const strict = newAjv(closeObjects(file.definitions) as Record<string, Schema>, 'https://signal-fake.invalid/strict.json');
  const loose = newAjv(file.definitions, 'https://signal-fake.invalid/spec.json');
  const cache = new Map<string, ValidateFunction>();
  const compile = (ajv: Ajv, id: string) => (ref: Schema) => {
    const key = `${id}|${JSON.stringify(ref)}`;
    let v = cache.get(key);
    if (!v) {
      // A body schema is a $ref into definitions ("#/definitions/X"): resolve it in the compiled document.
      const rebased = JSON.parse(JSON.stringify(ref).replace(/"#\/definitions\//g, `"${id}#/definitions/`)) as Schema;
      v = ajv.compile(rebased);
      cache.set(key, v);
    }
    return v;
  };
  const strictBody = compile(strict, 'https://signal-fake.invalid/strict.json');
  const looseBody = compile(loose, 'https://signal-fake.invalid/spec.json');
  compiled = { file, strictBody, looseBody, message: looseBody({ $ref: '#/definitions/data.Message' }) };
  return compiled;
}

/** A copy without null values (in objects and arrays): what the spec, which has no nullable field, can judge. */
export function stripNulls(v: unknown): unknown {
  if (Array.isArray(v)) return v.filter((x) => x !== null).map(stripNulls);
  if (!v || typeof v !== 'object') return v;
  return Object.fromEntries(
    Object.entries(v as Json)
      .filter(([, x]) => x !== null)
      .map(([k, x]) => [k, stripNulls(x)]),
  );
}

/** Where a received message (nulls stripped) departs from the spec's `data.Message`; [] if nowhere. */
export function envelopeProblems(message: ReceivedMessage): string[] {
  const v = spec().message;
  return v(stripNulls(message)) ? [] : (v.errors ?? []).map((e) => `${e.instancePath || '/'} ${e.message ?? ''}`);
}

interface Route {
  template: string;
  op: SpecOperation;
  params: Record<string, string>;
}

function matchRoute(method: string, pathname: string): { route: Route | null; pathKnown: boolean } {
  const segs = pathname.split('/');
  let pathKnown = false;
  let best: { route: Route; templated: number } | null = null;
  for (const [template, ops] of Object.entries(spec().file.paths)) {
    const t = template.split('/');
    if (t.length !== segs.length) continue;
    const params: Record<string, string> = {};
    let ok = true;
    let templated = 0;
    for (let i = 0; i < t.length && ok; i++) {
      const m = t[i]!.match(/^\{(.+)\}$/);
      if (m) {
        templated++;
        try {
          params[m[1]!] = decodeURIComponent(segs[i]!);
        } catch {
          ok = false;
        }
        if (segs[i] === '') ok = false;
      } else ok = t[i] === segs[i];
    }
    if (!ok) continue;
    pathKnown = true;
    const op = ops[method.toLowerCase()];
    // A literal segment wins over a template (/v1/contacts/{number}/sync over /v1/contacts/{number}/{uuid}).
    if (op && (!best || templated < best.templated)) best = { route: { template, op, params }, templated };
  }
  return { route: best?.route ?? null, pathKnown };
}

// ---------------------------------------------------------------------------------------------
// Envelopes, in the shape signal-cli writes them (JsonMessageEnvelope and its parts): fields it
// always writes are present, null where it has no value; optional parts are left out.

let lastTimestamp = 0;
/** A fresh millisecond timestamp, never repeated in this process (the message id with the sender). */
export function nextTimestamp(): number {
  lastTimestamp = Math.max(Date.now(), lastTimestamp + 1);
  return lastTimestamp;
}

function envelopeFrom(from: SignalPerson, timestamp: number, part: Json): Envelope {
  return {
    source: from.number ?? from.uuid,
    sourceNumber: from.number,
    sourceUuid: from.uuid,
    sourceName: from.name,
    sourceDevice: 1,
    timestamp,
    serverReceivedTimestamp: timestamp + 40,
    serverDeliveredTimestamp: timestamp + 55,
    ...part,
  };
}

function dataMessage(timestamp: number, message: string | null, extra: Json = {}): Json {
  return { timestamp, message, expiresInSeconds: 0, viewOnce: false, ...extra };
}

export interface AttachmentSpec {
  id: string;
  contentType: string;
  size: number;
  filename?: string | null;
  caption?: string | null;
  width?: number | null;
  height?: number | null;
}

export interface QuoteSpec {
  /** The quoted message's timestamp. */
  id: number;
  author: SignalPerson;
  text: string | null;
}

/** Builders of envelopes (pure): `SignalFake.informant()` pushes what these build. */
export const envelopes = {
  text(from: SignalPerson, text: string, o: { quote?: QuoteSpec; mentions?: { uuid: string; number: string | null; name: string | null; start: number; length: number }[] } = {}): Built {
    const timestamp = nextTimestamp();
    const extra: Json = {};
    if (o.quote) {
      const a = o.quote.author;
      extra.quote = { id: o.quote.id, author: a.number ?? a.uuid, authorNumber: a.number, authorUuid: a.uuid, text: o.quote.text, attachments: [] };
    }
    if (o.mentions) extra.mentions = o.mentions;
    return { envelope: envelopeFrom(from, timestamp, { dataMessage: dataMessage(timestamp, text, extra) }), timestamp };
  },
  attachment(from: SignalPerson, attachments: AttachmentSpec[], text: string | null = null): Built {
    const timestamp = nextTimestamp();
    const list = attachments.map((a) => ({
      contentType: a.contentType,
      filename: a.filename ?? null,
      id: a.id,
      size: a.size,
      width: a.width ?? null,
      height: a.height ?? null,
      caption: a.caption ?? null,
      uploadTimestamp: timestamp - 300,
    }));
    return { envelope: envelopeFrom(from, timestamp, { dataMessage: dataMessage(timestamp, text, { attachments: list }) }), timestamp };
  },
  edit(from: SignalPerson, targetTimestamp: number, text: string): Built {
    const timestamp = nextTimestamp();
    return { envelope: envelopeFrom(from, timestamp, { editMessage: { targetSentTimestamp: targetTimestamp, dataMessage: dataMessage(timestamp, text) } }), timestamp };
  },
  remoteDelete(from: SignalPerson, targetTimestamp: number): Built {
    const timestamp = nextTimestamp();
    return { envelope: envelopeFrom(from, timestamp, { dataMessage: dataMessage(timestamp, null, { remoteDelete: { timestamp: targetTimestamp } }) }), timestamp };
  },
  reaction(from: SignalPerson, emoji: string, target: { uuid: string; number: string | null }, targetTimestamp: number, remove = false): Built {
    const timestamp = nextTimestamp();
    const reaction = { emoji, targetAuthor: target.number ?? target.uuid, targetAuthorNumber: target.number, targetAuthorUuid: target.uuid, targetSentTimestamp: targetTimestamp, isRemove: remove };
    return { envelope: envelopeFrom(from, timestamp, { dataMessage: dataMessage(timestamp, null, { reaction }) }), timestamp };
  },
  receipt(from: SignalPerson, kind: 'delivery' | 'read' | 'viewed', timestamps: number[]): Built {
    const timestamp = nextTimestamp();
    const receiptMessage = { when: timestamp, isDelivery: kind === 'delivery', isRead: kind === 'read', isViewed: kind === 'viewed', timestamps };
    return { envelope: envelopeFrom(from, timestamp, { receiptMessage }), timestamp };
  },
  typing(from: SignalPerson, action: 'STARTED' | 'STOPPED' = 'STARTED'): Built {
    const timestamp = nextTimestamp();
    return { envelope: envelopeFrom(from, timestamp, { typingMessage: { action, timestamp } }), timestamp };
  },
  /** What our own account's other device sent to `to`: a syncMessage from ourselves. */
  sync(self: SignalPerson, to: SignalPerson, text: string): Built {
    const timestamp = nextTimestamp();
    const sentMessage = { destination: to.number ?? to.uuid, destinationNumber: to.number, destinationUuid: to.uuid, ...dataMessage(timestamp, text) };
    return { envelope: envelopeFrom(self, timestamp, { syncMessage: { sentMessage } }), timestamp };
  },
};

/** One informant on the fake: each call builds an envelope from them and pushes it. */
export class Informant {
  constructor(
    private readonly fake: SignalFake,
    readonly person: SignalPerson,
  ) {}

  private pushed(b: Built): Pushed {
    return { ...b, delivered: this.fake.push(b.envelope) };
  }

  text(text: string, o: Parameters<typeof envelopes.text>[2] = {}): Pushed {
    return this.pushed(envelopes.text(this.person, text, o));
  }
  /** Puts each file on the fake (GET /v1/attachments/{id}) and sends them in one message. */
  attachment(files: { bytes: Buffer; contentType: string; filename?: string | null; caption?: string | null; width?: number; height?: number }[], text: string | null = null): Pushed & { ids: string[] } {
    const specs = files.map((f) => ({ ...f, id: this.fake.putAttachment(f.bytes, f.contentType), size: f.bytes.length }));
    return { ...this.pushed(envelopes.attachment(this.person, specs, text)), ids: specs.map((s) => s.id) };
  }
  edit(targetTimestamp: number, text: string): Pushed {
    return this.pushed(envelopes.edit(this.person, targetTimestamp, text));
  }
  remoteDelete(targetTimestamp: number): Pushed {
    return this.pushed(envelopes.remoteDelete(this.person, targetTimestamp));
  }
  /** A reaction to a message by `targetAuthor` (the bot, by default: a reaction to one of its replies). */
  reaction(emoji: string, targetTimestamp: number, o: { targetAuthor?: { uuid: string; number: string | null }; remove?: boolean } = {}): Pushed {
    return this.pushed(envelopes.reaction(this.person, emoji, o.targetAuthor ?? this.fake.self, targetTimestamp, o.remove ?? false));
  }
  receipt(kind: 'delivery' | 'read' | 'viewed', timestamps: number[]): Pushed {
    return this.pushed(envelopes.receipt(this.person, kind, timestamps));
  }
  typing(action: 'STARTED' | 'STOPPED' = 'STARTED'): Pushed {
    return this.pushed(envelopes.typing(this.person, action));
  }
  /** Our own phone (a linked device of the bot's account) wrote `text` to this informant. */
  sync(text: string): Pushed {
    return this.pushed(envelopes.sync(this.fake.self, this.person, text));
  }
  /** The texts the bot sent to this informant (by uuid or number), in order. */
  received(): string[] {
    return this.fake.sent.filter((s) => s.recipients.some((r) => r === this.person.uuid || r === this.person.number)).map((s) => s.message);
  }
}

export interface SentMessage {
  number: string;
  recipients: string[];
  message: string;
  quote_timestamp?: number;
  quote_author?: string;
  base64_attachments?: string[];
  [k: string]: unknown;
}

// ---------------------------------------------------------------------------------------------

export class SignalFake {
  mode: SignalMode = 'json-rpc';
  number = '+4915112345678';
  authorization: string | null = null;
  pingIntervalMs = 0;
  strictBodies = true;
  /** The bot's own account, as envelopes name it. */
  readonly self: SignalPerson = { uuid: randomUUID(), number: this.number, name: null };

  /** Every mismatch between a request and the spec (or the server's own checks), in order. */
  readonly violations: string[] = [];
  readonly requests: RecordedRequest[] = [];
  /** Bodies of accepted POST /v2/send, in order, and the timestamp answered for each. */
  readonly sent: SentMessage[] = [];
  readonly sentTimestamps: number[] = [];
  /** The attachments of `sent`, decoded, per send. */
  readonly sentAttachments: SentAttachment[][] = [];
  /** The next sends answer these, one each. */
  readonly sendFailures: SendFailure[] = [];
  /** Bodies of POST /v1/accounts/{number}/rate-limit-challenge. */
  readonly challenges: { challenge_token: string; captcha: string }[] = [];
  readonly deletedAttachments: string[] = [];
  readonly attachments = new Map<string, { bytes: Buffer; contentType: string }>();
  /** Pongs answered to the server's pings, and pings the clients sent. */
  readonly pongs: PongRecord[] = [];
  readonly clientPings: PongRecord[] = [];
  /** json-rpc: envelopes pushed while no client was connected (lost, as on the real server). */
  readonly dropped: Envelope[] = [];
  /** Websocket connections accepted since start. */
  connections = 0;
  /** Link URI the QR code of GET /v1/qrcodelink encodes (set at the first request). */
  linkUri: string | null = null;
  /** Device names asked for by GET /v1/qrcodelink. */
  readonly linkRequests: string[] = [];

  private server: http.Server | null = null;
  private wss: WebSocketServer | null = null;
  private readonly clients = new Map<WebSocket, number>();
  private pingTimer: NodeJS.Timeout | null = null;
  private queue: ReceivedMessage[] = [];
  private waiters: (() => void)[] = [];
  private port = 0;
  private pendingChallenge: string[] | null = null;

  async start(o: SignalFakeOptions = {}): Promise<this> {
    this.mode = o.mode ?? this.mode;
    if (o.number) {
      this.number = o.number;
      this.self.number = o.number;
    }
    this.authorization = o.authorization ?? null;
    this.pingIntervalMs = o.pingIntervalMs ?? 0;
    this.strictBodies = o.strictBodies ?? true;
    spec();
    await this.listen(0);
    return this;
  }

  get url(): string {
    return `http://127.0.0.1:${this.port}`;
  }

  /** Clients connected to the receive websocket now. */
  get connectedClients(): number {
    return this.clients.size;
  }

  informant(person: Partial<SignalPerson> = {}): Informant {
    return new Informant(this, { uuid: person.uuid ?? randomUUID(), number: person.number === undefined ? null : person.number, name: person.name === undefined ? 'Informant' : person.name });
  }

  /**
   * Normal mode: queues the envelope for the next GET /v1/receive. json-rpc: sends it as one frame
   * to every connected client; with none connected it is lost (kept in `dropped` for the test).
   * Gives the number of clients reached (normal: 1).
   */
  push(envelope: Envelope): number {
    const message: ReceivedMessage = { envelope, account: this.number };
    if (this.mode === 'normal') {
      this.queue.push(message);
      for (const w of this.waiters.splice(0)) w();
      return 1;
    }
    const n = this.pushFrame(JSON.stringify(message));
    if (n === 0) this.dropped.push(envelope);
    return n;
  }

  /**
   * json-rpc: sends any text as one frame to every connected client (a frame that is not
   * `{envelope, account}`: signal-cli also reports failures to decrypt, with an `exception`). Gives the clients reached.
   */
  pushFrame(text: string): number {
    let n = 0;
    for (const ws of this.clients.keys()) {
      if (ws.readyState !== ws.OPEN) continue;
      ws.send(text);
      n++;
    }
    return n;
  }

  /** Envelopes queued for a poll (normal mode). */
  pending(): number {
    return this.queue.length;
  }

  putAttachment(bytes: Buffer, contentType: string): string {
    // signal-cli names an attachment by a random id and the type's extension.
    const ext = contentType.split('/')[1]?.replace(/[^a-z0-9]/gi, '').slice(0, 4) || 'bin';
    const id = `${randomBytes(15).toString('base64url')}.${ext}`;
    this.attachments.set(id, { bytes, contentType });
    return id;
  }

  /** Every send answers 429 with these tokens until one of them is posted to rate-limit-challenge. */
  requireChallenge(tokens: string[] = [randomUUID()]): string[] {
    this.pendingChallenge = tokens;
    return tokens;
  }

  get challengePending(): boolean {
    return this.pendingChallenge !== null;
  }

  expectNoViolations(): void {
    if (this.violations.length) throw new Error(`signal-cli-rest-api fake: ${this.violations.length} request(s) departed from the spec:\n- ${this.violations.join('\n- ')}`);
  }

  /** Closes every websocket at once, without a close frame (a network drop). */
  dropClients(): void {
    for (const ws of this.clients.keys()) ws.terminate();
    this.clients.clear();
  }

  async stop(): Promise<void> {
    if (this.pingTimer) clearInterval(this.pingTimer);
    this.pingTimer = null;
    for (const w of this.waiters.splice(0)) w();
    this.dropClients();
    this.wss?.close();
    this.wss = null;
    const server = this.server;
    this.server = null;
    if (!server) return;
    server.closeAllConnections();
    await new Promise<void>((r) => server.close(() => r()));
  }

  /** The server going away and coming back on the same port (after `downMs`); queued envelopes stay. */
  async restart(downMs = 0): Promise<void> {
    const port = this.port;
    await this.stop();
    if (downMs) await new Promise((r) => setTimeout(r, downMs));
    await this.listen(port);
  }

  // -------------------------------------------------------------------------------------------

  private async listen(port: number): Promise<void> {
    const server = http.createServer((req, res) => void this.handle(req, res));
    server.on('upgrade', (req, socket) => this.upgrade(req, socket as Duplex));
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(port, '127.0.0.1', () => resolve());
    });
    this.server = server;
    this.port = (server.address() as AddressInfo).port;
    this.wss = new WebSocketServer({ noServer: true });
    if (this.pingIntervalMs > 0) this.pingTimer = setInterval(() => this.pingAll(), this.pingIntervalMs).unref();
  }

  private pingAll(): void {
    for (const ws of this.clients.keys()) if (ws.readyState === ws.OPEN) ws.ping();
  }

  private violation(req: { method?: string; url?: string }, what: string): void {
    this.violations.push(`${req.method} ${(req.url ?? '').split('?')[0]}: ${what}`);
  }

  /**
   * Checks what the spec and the server's gate say of a request: the Authorization header, path
   * and method, path and query parameters. Gives the failure to answer, or the matched operation.
   */
  private check(req: http.IncomingMessage, url: URL): { fail: { status: number; body: unknown } } | { route: Route } {
    if (this.authorization !== null && req.headers.authorization !== this.authorization) {
      this.violation(req, req.headers.authorization === undefined ? 'no Authorization header' : 'wrong Authorization header');
      return { fail: { status: 401, body: { error: 'unauthorized' } } };
    }
    const { route, pathKnown } = matchRoute(req.method ?? 'GET', url.pathname);
    if (!route) {
      // gin answers both an unknown path and a known path with another method 404 "404 page not found".
      this.violation(req, pathKnown ? 'method not in the spec for this path' : 'path not in the spec');
      return { fail: { status: 404, body: '404 page not found' } };
    }
    const declared = route.op.parameters ?? [];
    const problems: string[] = [];
    for (const p of declared) {
      if (p.in === 'path' && !route.params[p.name]) problems.push(`path parameter ${p.name} missing`);
      if (p.in !== 'query') continue;
      const values = url.searchParams.getAll(p.name);
      if (!values.length) {
        if (p.required) problems.push(`query parameter ${p.name} missing`);
        continue;
      }
      for (const v of values) {
        if (p.type === 'integer' && !/^-?\d+$/.test(v)) problems.push(`query parameter ${p.name} is not an integer: ${v}`);
        if (p.type === 'boolean' && v !== 'true' && v !== 'false') problems.push(`query parameter ${p.name} is not a boolean: ${v}`);
      }
    }
    for (const k of new Set(url.searchParams.keys())) if (!declared.some((p) => p.in === 'query' && p.name === k)) problems.push(`query parameter ${k} is not declared`);
    if (route.params.number !== undefined && route.params.number !== this.number) problems.push(`account ${route.params.number} is not the fake's (${this.number})`);
    if (problems.length) {
      for (const p of problems) this.violation(req, p);
      return { fail: { status: 400, body: { error: problems.join('; ') } } };
    }
    return { route };
  }

  /** Validates the JSON body against the operation's body parameter; gives the parsed body or null on a violation. */
  private checkBody(req: http.IncomingMessage, route: Route, raw: Buffer): { ok: true; body: unknown } | { ok: false; error: string } {
    const param = (route.op.parameters ?? []).find((p) => p.in === 'body');
    // Body parameters on a GET (one in the file: /v1/configuration/{number}/settings) are a flaw of the file: ignored.
    if (!param || req.method === 'GET') {
      if (raw.length) this.violation(req, 'a body where the spec declares none');
      return { ok: true, body: undefined };
    }
    if (!raw.length) {
      if (!param.required) return { ok: true, body: undefined };
      this.violation(req, 'body missing');
      return { ok: false, error: "Couldn't process request - invalid request" };
    }
    const type = req.headers['content-type'] ?? '';
    if (!/^application\/json\b/i.test(type)) this.violation(req, `content-type ${type || '(none)'} where the spec consumes application/json`);
    let body: unknown;
    try {
      body = JSON.parse(raw.toString('utf8'));
    } catch {
      this.violation(req, 'body is not JSON');
      return { ok: false, error: "Couldn't process request - invalid request" };
    }
    const validate = (this.strictBodies ? spec().strictBody : spec().looseBody)(param.schema ?? {});
    if (!validate(body)) {
      for (const e of validate.errors ?? []) {
        const extra = e.keyword === 'additionalProperties' ? ` (${String((e.params as { additionalProperty?: string }).additionalProperty)})` : '';
        this.violation(req, `body ${e.instancePath || '/'} ${e.message ?? e.keyword}${extra}`);
      }
      return { ok: false, error: "Couldn't process request - invalid request" };
    }
    return { ok: true, body };
  }

  private reply(res: http.ServerResponse, status: number, body?: unknown): void {
    if (body === undefined) {
      res.writeHead(status);
      return void res.end();
    }
    if (typeof body === 'string') {
      res.writeHead(status, { 'content-type': 'text/plain; charset=utf-8' });
      return void res.end(body);
    }
    res.writeHead(status, { 'content-type': 'application/json; charset=utf-8' });
    res.end(JSON.stringify(body));
  }

  private async handle(req: http.IncomingMessage, res: http.ServerResponse): Promise<void> {
    const url = new URL(req.url ?? '/', 'http://x');
    const chunks: Buffer[] = [];
    for await (const c of req) chunks.push(c as Buffer);
    const raw = Buffer.concat(chunks);
    const record: RecordedRequest = { method: req.method ?? 'GET', path: url.pathname, query: Object.fromEntries(url.searchParams), headers: req.headers, body: undefined, status: 0 };
    this.requests.push(record);
    const answer = (status: number, body?: unknown) => {
      record.status = status;
      this.reply(res, status, body);
    };
    const checked = this.check(req, url);
    if ('fail' in checked) return answer(checked.fail.status, checked.fail.body);
    const { route } = checked;
    const parsed = this.checkBody(req, route, raw);
    if (!parsed.ok) return answer(400, { error: parsed.error });
    record.body = parsed.body;
    const key = `${req.method} ${route.template}`;
    switch (key) {
      case 'GET /v1/about':
        return answer(200, { versions: ['v1', 'v2'], build: 2, mode: this.mode, version: '0.100', capabilities: { 'v2/send': ['quotes', 'mentions'] } });
      case 'GET /v1/health':
        return answer(204);
      case 'GET /v1/receive/{number}':
        return this.receivePlain(req, url, answer);
      case 'GET /v1/attachments/{attachment}': {
        const a = this.attachments.get(route.params.attachment!);
        if (!a) return answer(404, { error: 'No attachment with that name found' });
        record.status = 200;
        // The real server sniffs the type from the bytes; here the type given to putAttachment.
        res.writeHead(200, { 'content-type': a.contentType, 'content-length': String(a.bytes.length) });
        return void res.end(a.bytes);
      }
      case 'DELETE /v1/attachments/{attachment}': {
        const id = route.params.attachment!;
        if (!this.attachments.delete(id)) return answer(404, { error: 'No attachment with that name found' });
        this.deletedAttachments.push(id);
        return answer(204);
      }
      case 'POST /v2/send':
        return this.send(req, parsed.body as SentMessage, answer);
      case 'POST /v1/accounts/{number}/rate-limit-challenge': {
        const b = parsed.body as { challenge_token: string; captcha: string };
        this.challenges.push(b);
        if (this.pendingChallenge && !this.pendingChallenge.includes(b.challenge_token)) return answer(400, { error: 'Failed to submit rate limit challenge: invalid challenge token' });
        this.pendingChallenge = null;
        return answer(204);
      }
      case 'GET /v1/qrcodelink': {
        const name = url.searchParams.get('device_name')!;
        this.linkRequests.push(name);
        this.linkUri ??= `sgnl://linkdevice?uuid=${encodeURIComponent(randomBytes(16).toString('base64'))}&pub_key=${encodeURIComponent(Buffer.concat([Buffer.from([5]), randomBytes(32)]).toString('base64'))}`;
        const png = await qrPng(this.linkUri, { type: 'png', margin: 1 });
        record.status = 200;
        res.writeHead(200, { 'content-type': 'image/png', 'content-length': String(png.length) });
        return void res.end(png);
      }
      case 'GET /v1/qrcodelink/raw':
        this.linkRequests.push(url.searchParams.get('device_name')!);
        this.linkUri ??= `sgnl://linkdevice?uuid=${encodeURIComponent(randomBytes(16).toString('base64'))}&pub_key=${encodeURIComponent(randomBytes(33).toString('base64'))}`;
        return answer(200, { device_link_uri: this.linkUri });
      default: {
        // Other operations of the spec: accepted (checked above and recorded), with the first 2xx it lists and no body.
        const ok = Object.keys(route.op.responses).find((s) => s.startsWith('2')) ?? '200';
        return answer(Number(ok), ok === '204' ? undefined : {});
      }
    }
  }

  private async receivePlain(req: http.IncomingMessage, url: URL, answer: (status: number, body?: unknown) => void): Promise<void> {
    if (this.mode === 'json-rpc') {
      // In json-rpc mode the path is a websocket only; gorilla refuses a plain GET with 400.
      this.violation(req, 'plain GET on the receive websocket (json-rpc mode): poll only in normal mode');
      return answer(400, 'Bad Request\nwebsocket: the client is not using the websocket protocol: \'upgrade\' token not found in \'Connection\' header');
    }
    // signal-cli receive waits up to `timeout` seconds (default 1) for messages when none are there.
    const timeoutS = Number(url.searchParams.get('timeout') ?? '1');
    if (!this.queue.length && timeoutS > 0) {
      await new Promise<void>((resolve) => {
        const t = setTimeout(resolve, timeoutS * 1000);
        this.waiters.push(() => {
          clearTimeout(t);
          resolve();
        });
      });
    }
    const max = url.searchParams.has('max_messages') ? Number(url.searchParams.get('max_messages')) : Infinity;
    // What is read is gone: the server has no acknowledgement; the next poll does not repeat it.
    const out = this.queue.splice(0, Math.min(max, this.queue.length));
    answer(200, out);
  }

  private send(req: http.IncomingMessage, body: SentMessage, answer: (status: number, body?: unknown) => void): void {
    const problems: string[] = [];
    if (body.number !== this.number) problems.push(`number ${body.number} is not the fake's account (${this.number})`);
    if (!body.recipients.length) problems.push('no recipient');
    const decoded: SentAttachment[] = [];
    for (const a of body.base64_attachments ?? []) {
      const m = a.match(/^data:([^;,]+)(?:;filename=([^;,]*))?;base64,(.*)$/s);
      const b64 = m ? m[3]! : a;
      if (!/^[A-Za-z0-9+/]*={0,2}$/.test(b64) || b64.length % 4 !== 0) problems.push(`a base64_attachments item is neither base64 nor a data URI (${a.slice(0, 40)}…)`);
      else decoded.push({ mime: m?.[1] ?? null, filename: m?.[2] ?? null, bytes: Buffer.from(b64, 'base64') });
    }
    if ((body.quote_timestamp === undefined) !== (body.quote_author === undefined)) problems.push('quote_timestamp and quote_author go together');
    if (problems.length) {
      for (const p of problems) this.violation(req, p);
      return answer(400, { error: `Couldn't process request - ${problems.join('; ')}` });
    }
    if (this.pendingChallenge) return answer(429, this.rateLimited(undefined, this.pendingChallenge));
    const f = this.sendFailures.shift();
    if (f?.status === 400) return answer(400, { error: f.error ?? 'Failed to send message: Invalid recipient' });
    if (f?.status === 429) return answer(429, this.rateLimited(f.error, f.challengeTokens ?? [randomUUID()]));
    const timestamp = nextTimestamp();
    this.sent.push(body);
    this.sentTimestamps.push(timestamp);
    this.sentAttachments.push(decoded);
    answer(201, { timestamp: String(timestamp) });
  }

  private rateLimited(error: string | undefined, tokens: string[]): Json {
    return {
      error: error ?? 'Failed to send message due to rate limiting: a captcha is required (see /v1/accounts/{number}/rate-limit-challenge)',
      challenge_tokens: tokens,
      account: this.number,
    };
  }

  private upgrade(req: http.IncomingMessage, socket: Duplex): void {
    const url = new URL(req.url ?? '/', 'http://x');
    const refuse = (status: number, text: string) => {
      socket.end(`HTTP/1.1 ${status} ${http.STATUS_CODES[status]}\r\ncontent-type: text/plain\r\ncontent-length: ${Buffer.byteLength(text)}\r\nconnection: close\r\n\r\n${text}`);
    };
    const record: RecordedRequest = { method: 'GET', path: url.pathname, query: Object.fromEntries(url.searchParams), headers: req.headers, body: undefined, status: 0 };
    this.requests.push(record);
    const checked = this.check(req, url);
    if ('fail' in checked) {
      record.status = checked.fail.status;
      return refuse(checked.fail.status, typeof checked.fail.body === 'string' ? checked.fail.body : JSON.stringify(checked.fail.body));
    }
    if (checked.route.template !== '/v1/receive/{number}' || this.mode !== 'json-rpc') {
      this.violation(req, this.mode === 'json-rpc' ? 'websocket on a path that is not the receive endpoint' : 'websocket receive in normal mode: poll GET /v1/receive/{number}');
      record.status = 400;
      return refuse(400, JSON.stringify({ error: 'not a websocket endpoint in this mode' }));
    }
    record.status = 101;
    this.wss!.handleUpgrade(req, socket, Buffer.alloc(0), (ws) => {
      const id = ++this.connections;
      this.clients.set(ws, id);
      ws.on('pong', () => this.pongs.push({ client: id, at: Date.now() }));
      ws.on('ping', () => this.clientPings.push({ client: id, at: Date.now() }));
      ws.on('message', () => this.violations.push(`websocket client ${id} sent a frame: the receive websocket takes none`));
      ws.on('close', () => this.clients.delete(ws));
      ws.on('error', () => this.clients.delete(ws));
    });
  }
}
