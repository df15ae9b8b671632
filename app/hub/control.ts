/**
 * The hub's control socket: a Unix socket in a 0700 directory of its own under the data directory,
 * one request per connection, newline-delimited JSON. A request `{op, args, token}` gets any number
 * of `{chunk}` lines and then `{result}` or `{error: {code, message, retryable}}`.
 *
 * Node cannot ask who is on the other end (no SO_PEERCRED), so the directory's mode is the first
 * guard and a token made at each start, in a 0600 file beside the socket, is the second: only a
 * process that can read the data directory as the hub's user can talk to the hub. Nothing secret
 * travels over the socket: the hello names the hub's Redis only by its Unix socket (whose password
 * sits in a file beside it), never by a URL that may carry credentials.
 */
import { randomBytes, timingSafeEqual } from 'node:crypto';
import * as fs from 'node:fs';
import * as net from 'node:net';
import * as path from 'node:path';
import { createInterface } from 'node:readline';
import { errorCodes, isTiphubError, TiphubError, type ErrorCode } from '../../src/errors';
import type { Logger } from '../../src/log';
import type { ExportFormat } from '../../src/caselog/export';
import type { PurgePlan, PurgeSummary } from '../../src/caselog/purge';
import type { QuarantineDetail, QuarantineEntry, QuarantineListing, QuarantineOutcome, QuarantinedPayload } from '../../src/caselog/quarantine';
import type { AssignChange, CaseLogService, PriorityChange } from './service';
import type { CaseView, StatusChange, TagChange } from '../../src/caselog/actions';
import type { VerifyResult } from '../../src/caselog/verify';
import type { CaseLogStats } from '../../src/caselog/stats';
import type { ArchiveSink, BackupSummary } from '../../src/backup/write';
import type { ReplyRequest, ReplyResult } from '../../src/conversation/operator';

export function controlDir(dataDir: string): string {
  return path.join(dataDir, 'control');
}

export function controlSocketPath(dataDir: string): string {
  return path.join(controlDir(dataDir), 'hub.sock');
}

export function controlTokenPath(dataDir: string): string {
  return path.join(controlDir(dataDir), 'token');
}

/**
 * What the hub says about itself. On the hub's side `redis` is its Redis target; what reaches the
 * caller is that target only when it is a Unix socket (no credentials in it), else null: the
 * command then uses its own REDIS_URL.
 */
export interface HubHello {
  readonly pid: number;
  readonly backend: string;
  readonly redis: string | null;
  readonly keyCheck: string | null;
  /** The case log's key set as stored: sealed under the secret, which the caller must hold. */
  readonly keys: string | null;
}

/** The hello as it travels: no URL, no password. */
interface HubHelloWire {
  readonly pid: number;
  readonly backend: string;
  readonly redisSocket: string | null;
  readonly keyCheck: string | null;
  readonly keys: string | null;
}

function helloToWire(h: HubHello): HubHelloWire {
  return { pid: h.pid, backend: h.backend, keyCheck: h.keyCheck, keys: h.keys, redisSocket: h.redis && path.isAbsolute(h.redis) ? h.redis : null };
}

function helloFromWire(w: HubHelloWire): HubHello {
  return { pid: w.pid, backend: w.backend, keyCheck: w.keyCheck, keys: typeof w.keys === 'string' ? w.keys : null, redis: typeof w.redisSocket === 'string' && path.isAbsolute(w.redisSocket) ? w.redisSocket : null };
}

/** An operation: `emit` streams chunks to the caller; `input` yields the caller's further lines (chat). */
export type OpHandler = (
  args: Record<string, unknown>,
  emit: (chunk: string) => Promise<void>,
  input: AsyncIterable<Record<string, unknown>>,
) => Promise<unknown>;

const strings = (v: unknown): string[] => (Array.isArray(v) ? v.map(String) : []);

/** A retry's outcome as it came over the socket: queued, or refused with a code and a reason. */
function settleOutcome(v: unknown): QuarantineOutcome {
  const o = (v ?? {}) as { ok?: unknown; code?: unknown; reason?: unknown };
  if (o.ok === true) return { ok: true };
  if (typeof o.code !== 'string' || typeof o.reason !== 'string') throw new TiphubError('TIPHUB_HUB_PROTOCOL', 'a quarantine retry outcome is { ok: true } or { ok: false, code, reason }');
  return { ok: false, code: o.code.slice(0, 64), reason: o.reason.slice(0, 500) };
}

export function caseLogOps(service: CaseLogService, hello: () => HubHello): Record<string, OpHandler> {
  return {
    hello: async () => helloToWire(hello()),
    'reports.present': async (a) => service.presentReports(a.ids as string[]),
    'quarantine.add': async (a) => service.quarantine(a.entries as QuarantineEntry[]),
    export: async (a, emit) => service.exportCases(a.format as ExportFormat, emit),
    verify: async () => service.verify(),
    'caselog.stats': async () => service.stats(),
    reply: async (a) => service.reply(a as unknown as ReplyRequest),
    'informant.block': async (a) => service.setBlocked(String(a.pseudonym), a.blocked !== false, String(a.actor ?? 'operator')),
    'case.merge': async (a) => service.mergeCases(String(a.into), String(a.from), String(a.actor ?? 'operator')),
    'case.split': async (a) => service.splitReport(String(a.ref), String(a.report), String(a.actor ?? 'operator')),
    // Operator actions on a case (issue 11, item 1): the caller resolved its actor first.
    'actor.resolve': async (a) => service.resolveActor(typeof a.as === 'string' ? a.as : null, String(a.osUser ?? '')),
    'case.show': async (a) => service.showCase(String(a.ref)),
    'case.status': async (a) => service.setCaseStatus(String(a.ref), String(a.status), typeof a.reason === 'string' ? a.reason : null, String(a.actor)),
    'case.assign': async (a) => service.assignCase(String(a.ref), typeof a.to === 'string' ? a.to : null, String(a.actor)),
    'case.priority': async (a) => service.setCasePriority(String(a.ref), String(a.priority), String(a.actor)),
    'case.tags': async (a) => service.editCaseTags(String(a.ref), { add: strings(a.add), remove: strings(a.remove) }, String(a.actor)),
    'case.note': async (a) => service.addCaseNote(String(a.ref), String(a.text ?? ''), String(a.actor)),
    // Quarantine (issue 10, item 16): no operation returns a payload, only its shape.
    'quarantine.list': async (a) => service.listQuarantine(Number(a.limit ?? 50)),
    'quarantine.show': async (a) => service.showQuarantine(Number(a.id)),
    'quarantine.purge': async (a) => service.purgeQuarantine(Number(a.olderThanDays)),
    // Retry and drop (issue 14, item 4): payloads go out sealed, to a caller that holds the token.
    'quarantine.payloads': async (a) => service.quarantinedPayloads(a.ids === 'all' ? 'all' : Array.isArray(a.ids) ? a.ids.map(Number) : []),
    'quarantine.settle': async (a) => service.settleQuarantine(Number(a.id), settleOutcome(a.outcome)),
    'quarantine.drop': async (a) => service.dropQuarantine(Number(a.id), String(a.actor)),
    // A backup (issue 14, item 5) of the case log the hub holds: the plain tar, in base64 chunks.
    backup: async (_a, emit) => service.backupArchive((chunk) => emit(chunk.toString('base64'))),
    'purge.plan': async (a) => service.planPurge(Number(a.olderThanDays)),
    'purge.run': async (a) => service.purgeCases(Number(a.olderThanDays), String(a.actor)),
  };
}

/**
 * The control directory, made 0700 and ours. An existing one is tightened; one that another user
 * owns, or a symlink, is refused (it could point the socket and token somewhere others can read).
 */
function prepareControlDir(dataDir: string): string {
  const dir = controlDir(dataDir);
  fs.mkdirSync(dir, { recursive: true, mode: 0o700 });
  const st = fs.lstatSync(dir);
  const uid = process.getuid?.();
  if (!st.isDirectory() || (uid !== undefined && st.uid !== uid)) {
    throw new TiphubError('TIPHUB_CONFIG_INVALID', `${dir} is not a directory of this user; remove it and start again`);
  }
  if ((st.mode & 0o777) !== 0o700) fs.chmodSync(dir, 0o700);
  return dir;
}

function sameToken(given: unknown, expected: Buffer): boolean {
  if (typeof given !== 'string') return false;
  const b = Buffer.from(given);
  return b.length === expected.length && timingSafeEqual(b, expected);
}

/** The token of the hub now running, or an error a caller can act on. */
function readControlToken(dataDir: string): string {
  try {
    return fs.readFileSync(controlTokenPath(dataDir), 'utf8').trim();
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    throw new TiphubError(
      'TIPHUB_HUB_UNAVAILABLE',
      code === 'EACCES' ? 'the hub\'s control token cannot be read: run the command as the user who runs the hub' : `no hub runs on this data directory (${code})`,
      { retryable: code !== 'EACCES' },
    );
  }
}

export async function startControlServer(dataDir: string, ops: Record<string, OpHandler>, log: Logger): Promise<{ close(): Promise<void> }> {
  const dir = prepareControlDir(dataDir);
  const file = controlSocketPath(dataDir);
  const tokenFile = controlTokenPath(dataDir);
  fs.rmSync(file, { force: true }); // left by a hub that died; we hold the case log lock
  fs.rmSync(path.join(dataDir, 'hub.sock'), { force: true }); // where older versions put it
  // A new token at each start: a caller of an earlier hub must read it again.
  const token = randomBytes(32).toString('hex');
  const expected = Buffer.from(token);
  fs.rmSync(tokenFile, { force: true });
  fs.writeFileSync(tokenFile, token + '\n', { mode: 0o600, flag: 'wx' });
  // Connections still open when the hub stops (a chat session, a reader paused on a pipe) are
  // ended, then cut: server.close() alone would wait for them, and the stop for its time limit.
  const open = new Set<net.Socket>();
  const server = net.createServer((sock) => {
    open.add(sock);
    sock.on('close', () => open.delete(sock));
    const send = (obj: unknown) =>
      new Promise<void>((resolve) => {
        if (sock.destroyed) return resolve();
        sock.write(JSON.stringify(obj) + '\n', () => resolve());
      });
    const rl = createInterface({ input: sock });
    // Lines after the request feed the operation's input (only `chat` reads them).
    const pending: Record<string, unknown>[] = [];
    let wake: (() => void) | null = null;
    let ended = false;
    const input: AsyncIterable<Record<string, unknown>> = {
      async *[Symbol.asyncIterator]() {
        for (;;) {
          if (pending.length) yield pending.shift()!;
          else if (ended) return;
          else await new Promise<void>((r) => (wake = r));
        }
      },
    };
    const push = (line: string) => {
      try {
        pending.push(JSON.parse(line) as Record<string, unknown>);
      } catch {
        /* not JSON: ignored */
      }
      wake?.();
    };
    rl.on('close', () => {
      ended = true;
      wake?.();
    });
    // A caller that goes away mid-stream (`tiphub export | head`) resets the socket: readline
    // passes the socket's error on, and unheard it would end the hub.
    rl.on('error', () => undefined);
    let first = true;
    rl.on('line', async (line) => {
      if (!first) return push(line);
      first = false;
      let req: { op?: unknown; args?: unknown; token?: unknown };
      try {
        req = JSON.parse(line) as typeof req;
      } catch {
        await send({ error: { code: 'TIPHUB_HUB_PROTOCOL', message: 'request is not JSON', retryable: false } });
        return sock.end();
      }
      if (!sameToken(req.token, expected)) {
        log.warn({ op: typeof req.op === 'string' ? req.op.slice(0, 40) : null }, 'control request refused: no valid token');
        await send({ error: { code: 'TIPHUB_HUB_PROTOCOL', message: `refused: the request has no valid token (the hub's token is in ${tokenFile})`, retryable: false } });
        return sock.end();
      }
      const op = typeof req.op === 'string' ? ops[req.op] : undefined;
      try {
        if (!op) throw new TiphubError('TIPHUB_UNKNOWN_OPERATION', `unknown operation ${JSON.stringify(String(req.op)).slice(0, 60)}`);
        // Once the caller is gone, the next chunk stops the operation (an export would run on for nobody).
        const emit = (chunk: string) => (sock.destroyed ? Promise.reject(new TiphubError('TIPHUB_HUB_UNAVAILABLE', 'the caller closed the control connection')) : send({ chunk }));
        const result = await op((req.args ?? {}) as Record<string, unknown>, emit, input);
        await send({ result: result ?? null });
      } catch (err) {
        if (sock.destroyed) return; // the caller went away: nobody to answer, nothing wrong here
        log.warn({ err, op: req.op }, 'control operation failed');
        const e = isTiphubError(err) ? err : new TiphubError('TIPHUB_CASELOG_WRITE_FAILED', 'operation failed in the hub');
        await send({ error: { code: e.code, message: e.message, retryable: e.retryable } });
      }
      sock.end();
    });
    sock.on('error', () => undefined);
  });
  // The socket is born 0700 under umask 077 (no window where it is open to others), inside a 0700
  // directory; the umask is put back for the rest of an in-process caller (tests).
  const umask = process.umask(0o077);
  try {
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(file, () => resolve());
    });
  } finally {
    process.umask(umask);
  }
  log.debug({ dir }, 'control socket listening');
  return {
    close: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        fs.rmSync(file, { force: true });
        fs.rmSync(tokenFile, { force: true });
        for (const sock of open) sock.end();
        const cut = setTimeout(() => {
          for (const sock of open) sock.destroy();
        }, 1000);
        cut.unref();
      }),
  };
}

/** Results that change form between the wire and the caller. */
const decoders: Record<string, (wire: unknown) => unknown> = { hello: (w) => helloFromWire(w as HubHelloWire) };

/** One call to the hub, with the token of the hub now running. Rejects with TIPHUB_HUB_UNAVAILABLE when none runs. */
export async function callHub<T>(dataDir: string, op: string, args: unknown = {}, onChunk?: (c: string) => void | Promise<void>): Promise<T> {
  const token = readControlToken(dataDir);
  const result = await callHubWith<unknown>(dataDir, token, op, args, onChunk);
  const decode = decoders[op];
  return (decode ? decode(result) : result) as T;
}

/** One call with a given token (tests pass a wrong one). */
export function callHubWith<T>(dataDir: string, token: string | null, op: string, args: unknown = {}, onChunk?: (c: string) => void | Promise<void>): Promise<T> {
  return new Promise<T>((resolve, reject) => {
    const sock = net.createConnection(controlSocketPath(dataDir));
    let settled = false;
    const done = (fn: () => void) => {
      if (!settled) {
        settled = true;
        fn();
      }
    };
    sock.on('error', (err) =>
      done(() => reject(new TiphubError('TIPHUB_HUB_UNAVAILABLE', `no hub answers on its control socket (${(err as NodeJS.ErrnoException).code})`))),
    );
    sock.on('connect', () => sock.write(JSON.stringify(token === null ? { op, args } : { op, args, token }) + '\n'));
    const rl = createInterface({ input: sock });
    rl.on('error', () => undefined); // the socket's own error listener above answers for it
    let chain = Promise.resolve();
    rl.on('line', (line) => {
      chain = chain.then(async () => {
        let msg: { chunk?: string; result?: T; error?: { code: string; message: string; retryable: boolean } };
        try {
          msg = JSON.parse(line) as typeof msg;
        } catch {
          return done(() => reject(new TiphubError('TIPHUB_HUB_PROTOCOL', 'the hub answered something that is not JSON')));
        }
        if (msg.chunk !== undefined) {
          sock.pause();
          try {
            await onChunk?.(msg.chunk);
          } catch (err) {
            // Our reader went away (a closed pipe): stop the hub's stream instead of waiting on it.
            sock.destroy();
            return done(() => reject(err));
          }
          sock.resume();
        } else if (msg.error) {
          const code = (msg.error.code in errorCodes ? msg.error.code : 'TIPHUB_HUB_PROTOCOL') as ErrorCode;
          done(() => reject(new TiphubError(code, msg.error!.message, { retryable: msg.error!.retryable })));
        } else if ('result' in msg) {
          done(() => resolve(msg.result as T));
        }
      });
    });
    sock.on('close', () => {
      void chain.then(() => done(() => reject(new TiphubError('TIPHUB_HUB_UNAVAILABLE', 'the hub closed the connection without an answer'))));
    });
  });
}

/** A long-lived call: lines go to the hub with `send`; chunks come back through `onChunk`. */
export function openHubStream(dataDir: string, op: string, args: unknown, onChunk: (c: string) => void): Promise<{ send(obj: unknown): void; close(): void; done: Promise<unknown> }> {
  let token: string;
  try {
    token = readControlToken(dataDir);
  } catch (err) {
    return Promise.reject(err);
  }
  return new Promise((resolve, reject) => {
    const sock = net.createConnection(controlSocketPath(dataDir));
    let done!: (v: unknown) => void;
    let fail!: (e: unknown) => void;
    const finished = new Promise<unknown>((res, rej) => ((done = res), (fail = rej)));
    finished.catch(() => undefined);
    sock.on('error', (err) => {
      const e = new TiphubError('TIPHUB_HUB_UNAVAILABLE', `no hub answers on its control socket (${(err as NodeJS.ErrnoException).code}); start it with \`npm start\``);
      reject(e);
      fail(e);
    });
    sock.on('connect', () => {
      sock.write(JSON.stringify({ op, args, token }) + '\n');
      resolve({ send: (obj) => sock.write(JSON.stringify(obj) + '\n'), close: () => sock.end(), done: finished });
    });
    createInterface({ input: sock }).on('line', (line) => {
      try {
        const msg = JSON.parse(line) as { chunk?: string; result?: unknown; error?: { code: string; message: string } };
        if (msg.chunk !== undefined) onChunk(msg.chunk);
        else if (msg.error) fail(new TiphubError((msg.error.code in errorCodes ? msg.error.code : 'TIPHUB_HUB_PROTOCOL') as ErrorCode, msg.error.message));
        else done(msg.result);
      } catch {
        /* ignore */
      }
    });
    sock.on('close', () => done(null));
  });
}

export class RemoteCaseLogService implements CaseLogService {
  readonly via = 'hub' as const;
  constructor(private readonly dataDir: string, readonly hello: HubHello) {}

  async keyCheck() {
    return this.hello.keyCheck;
  }
  presentReports(ids: readonly string[]) {
    return callHub<string[]>(this.dataDir, 'reports.present', { ids });
  }
  async quarantine(entries: readonly QuarantineEntry[]) {
    await callHub(this.dataDir, 'quarantine.add', { entries });
  }
  exportCases(format: ExportFormat, write: (chunk: string) => void | Promise<void>) {
    return callHub<{ cases: number; reports: number }>(this.dataDir, 'export', { format }, write);
  }
  verify() {
    return callHub<VerifyResult>(this.dataDir, 'verify');
  }
  stats() {
    return callHub<CaseLogStats>(this.dataDir, 'caselog.stats');
  }
  reply(req: ReplyRequest) {
    return callHub<ReplyResult>(this.dataDir, 'reply', req);
  }
  async setBlocked(pseudonym: string, blocked: boolean, actor: string) {
    await callHub(this.dataDir, 'informant.block', { pseudonym, blocked, actor });
  }
  mergeCases(into: string, from: string, actor: string) {
    return callHub<{ into: string; from: string; moved: number }>(this.dataDir, 'case.merge', { into, from, actor });
  }
  splitReport(ref: string, report: string, actor: string) {
    return callHub<{ from: string; to: string }>(this.dataDir, 'case.split', { ref, report, actor });
  }

  // --- Operator actions on a case (issue 11, item 1) ---
  resolveActor(as: string | null, osUser: string) {
    return callHub<string>(this.dataDir, 'actor.resolve', { as, osUser });
  }
  showCase(ref: string) {
    return callHub<CaseView>(this.dataDir, 'case.show', { ref });
  }
  setCaseStatus(ref: string, status: string, reason: string | null, actor: string) {
    return callHub<StatusChange>(this.dataDir, 'case.status', { ref, status, reason, actor });
  }
  assignCase(ref: string, to: string | null, actor: string) {
    return callHub<AssignChange>(this.dataDir, 'case.assign', { ref, to, actor });
  }
  setCasePriority(ref: string, priority: string, actor: string) {
    return callHub<PriorityChange>(this.dataDir, 'case.priority', { ref, priority, actor });
  }
  editCaseTags(ref: string, edit: { add: readonly string[]; remove: readonly string[] }, actor: string) {
    return callHub<TagChange>(this.dataDir, 'case.tags', { ref, add: edit.add, remove: edit.remove, actor });
  }
  addCaseNote(ref: string, text: string, actor: string) {
    return callHub<{ ref: string; note: string }>(this.dataDir, 'case.note', { ref, text, actor });
  }

  // --- Quarantine (issue 10, item 16) ---
  listQuarantine(limit: number) {
    return callHub<QuarantineListing[]>(this.dataDir, 'quarantine.list', { limit });
  }
  showQuarantine(id: number) {
    return callHub<QuarantineDetail | null>(this.dataDir, 'quarantine.show', { id });
  }
  purgeQuarantine(olderThanDays: number) {
    return callHub<number>(this.dataDir, 'quarantine.purge', { olderThanDays });
  }
  quarantinedPayloads(ids: readonly number[] | 'all') {
    return callHub<QuarantinedPayload[]>(this.dataDir, 'quarantine.payloads', { ids });
  }
  settleQuarantine(id: number, outcome: QuarantineOutcome) {
    return callHub<boolean>(this.dataDir, 'quarantine.settle', { id, outcome });
  }
  dropQuarantine(id: number, actor: string) {
    return callHub<boolean>(this.dataDir, 'quarantine.drop', { id, actor });
  }

  backupArchive(sink: ArchiveSink) {
    return callHub<BackupSummary>(this.dataDir, 'backup', {}, (c) => sink(Buffer.from(c, 'base64')));
  }

  // --- Retention (issue 10, item 17) ---
  planPurge(olderThanDays: number) {
    return callHub<PurgePlan>(this.dataDir, 'purge.plan', { olderThanDays });
  }
  purgeCases(olderThanDays: number, actor: string) {
    return callHub<Omit<PurgeSummary, 'reportIds'>>(this.dataDir, 'purge.run', { olderThanDays, actor });
  }
}
