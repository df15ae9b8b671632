/**
 * The hub's control socket: a Unix socket in the data directory (mode 0600), one request per
 * connection, newline-delimited JSON. A request `{op, args}` gets any number of `{chunk}` lines
 * and then `{result}` or `{error: {code, message, retryable}}`.
 */
import * as fs from 'node:fs';
import * as net from 'node:net';
import * as path from 'node:path';
import { createInterface } from 'node:readline';
import { errorCodes, isTiphubError, TiphubError, type ErrorCode } from '../errors';
import type { Logger } from '../log';
import type { ExportFormat } from '../caselog/export';
import type { QuarantineEntry } from '../caselog/quarantine';
import type { CaseLogService } from './service';
import type { VerifyResult } from '../caselog/verify';
import type { ReplyRequest, ReplyResult } from '../conversation/operator';

export function controlSocketPath(dataDir: string): string {
  return path.join(dataDir, 'hub.sock');
}

export interface HubHello {
  readonly pid: number;
  readonly backend: string;
  readonly redis: string;
  readonly keyCheck: string | null;
}

/** An operation: `emit` streams chunks to the caller; `input` yields the caller's further lines (chat). */
export type OpHandler = (
  args: Record<string, unknown>,
  emit: (chunk: string) => Promise<void>,
  input: AsyncIterable<Record<string, unknown>>,
) => Promise<unknown>;

export function caseLogOps(service: CaseLogService, hello: () => HubHello): Record<string, OpHandler> {
  return {
    hello: async () => hello(),
    'reports.present': async (a) => service.presentReports(a.ids as string[]),
    'quarantine.add': async (a) => service.quarantine(a.entries as QuarantineEntry[]),
    export: async (a, emit) => service.exportCases(a.format as ExportFormat, emit),
    verify: async () => service.verify(),
    reply: async (a) => service.reply(a as unknown as ReplyRequest),
    'informant.block': async (a) => service.setBlocked(String(a.pseudonym), a.blocked !== false, String(a.actor ?? 'operator')),
    'case.merge': async (a) => service.mergeCases(String(a.into), String(a.from), String(a.actor ?? 'operator')),
    'case.split': async (a) => service.splitReport(String(a.ref), String(a.report), String(a.actor ?? 'operator')),
  };
}

export async function startControlServer(dataDir: string, ops: Record<string, OpHandler>, log: Logger): Promise<{ close(): Promise<void> }> {
  const file = controlSocketPath(dataDir);
  fs.rmSync(file, { force: true }); // left by a hub that died; we hold the case log lock
  const server = net.createServer((sock) => {
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
    let first = true;
    rl.on('line', async (line) => {
      if (!first) return push(line);
      first = false;
      let req: { op?: unknown; args?: unknown };
      try {
        req = JSON.parse(line) as typeof req;
      } catch {
        await send({ error: { code: 'TIPHUB_HUB_PROTOCOL', message: 'request is not JSON', retryable: false } });
        return sock.end();
      }
      const op = typeof req.op === 'string' ? ops[req.op] : undefined;
      try {
        if (!op) throw new TiphubError('TIPHUB_UNKNOWN_OPERATION', `unknown operation ${JSON.stringify(String(req.op)).slice(0, 60)}`);
        const result = await op((req.args ?? {}) as Record<string, unknown>, (chunk) => send({ chunk }), input);
        await send({ result: result ?? null });
      } catch (err) {
        log.warn({ err, op: req.op }, 'control operation failed');
        const e = isTiphubError(err) ? err : new TiphubError('TIPHUB_CASELOG_WRITE_FAILED', 'operation failed in the hub');
        await send({ error: { code: e.code, message: e.message, retryable: e.retryable } });
      }
      sock.end();
    });
    sock.on('error', () => undefined);
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(file, () => resolve());
  });
  fs.chmodSync(file, 0o600);
  return {
    close: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        fs.rmSync(file, { force: true });
      }),
  };
}

/** One call to the hub. Rejects with TIPHUB_HUB_UNAVAILABLE when nothing listens. */
export function callHub<T>(dataDir: string, op: string, args: unknown = {}, onChunk?: (c: string) => void | Promise<void>): Promise<T> {
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
    sock.on('connect', () => sock.write(JSON.stringify({ op, args }) + '\n'));
    const rl = createInterface({ input: sock });
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
          await onChunk?.(msg.chunk);
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
      sock.write(JSON.stringify({ op, args }) + '\n');
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
}
