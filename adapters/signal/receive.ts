/**
 * The receivers of signal-cli-rest-api, one per number (under the adapter's lease):
 * - json-rpc mode: the websocket `/v1/receive/{number}`. The server sends each message to every
 *   client connected at that moment and keeps nothing for one that is not (no replay), so the
 *   receiver stays connected: `ws` answers the server's pings, we ping every `pingIntervalMs` and
 *   two pongs missed count as a drop; it reconnects at once, then backs off with jitter up to the
 *   maximum; each drop is logged without identifiers and the seconds without a connection are
 *   counted.
 * - normal/native mode: polling `GET /v1/receive/{number}?timeout=1`. The server forgets what it
 *   answered, so the batch is kept in memory and handed on, frame by frame, before the next poll.
 * Both hand every frame to the `Inbox`: in order, one at a time, each retried (never dropped)
 * until the adapter's receive path took it (enqueued, recorded, ignored or quarantined).
 */
import WebSocket from 'ws';
import type { LogPort } from '../../src/contracts/channel-adapter';
import { describeForeignError } from '../../src/errors';
import { SignalHttpError, type SignalClient } from './client';

type Obj = Record<string, unknown>;
const isObj = (v: unknown): v is Obj => typeof v === 'object' && v !== null && !Array.isArray(v);

const sleep = (ms: number, abort?: AbortSignal) =>
  new Promise<void>((resolve) => {
    if (abort?.aborted) return resolve();
    const t = setTimeout(done, ms);
    function done() {
      clearTimeout(t);
      abort?.removeEventListener('abort', done);
      resolve();
    }
    abort?.addEventListener('abort', done, { once: true });
  });

/** The next wait of a backoff: the first retry at once, then doubling from `base` to `max`, each with jitter (50–100 %). */
export function backoffMs(attempt: number, base: number, max: number): number {
  if (attempt <= 0) return 0;
  const full = Math.min(max, base * 2 ** (attempt - 1));
  return Math.round(full * (0.5 + Math.random() / 2));
}

/** Why the receiver is not connected: words of a fixed list (they reach `tiphub status`). */
export type DownReason = 'server not reachable' | 'connection dropped' | 'pongs missed' | 'authorization refused' | 'receive refused' | 'standby: another process receives for this number';

export interface ReceiverEvents {
  connected(): void;
  down(reason: DownReason): void;
}

/**
 * Frames waiting to be handled, in order. `drain` hands them on one at a time and retries one
 * that failed (the receive path rejects only when the quarantine or the case log failed), with
 * backoff, until it is taken or the inbox is told to stop trying.
 */
export class Inbox {
  private readonly items: unknown[] = [];
  private running: Promise<void> | null = null;
  private giveUp = false;
  /** Ends the retry wait of a run at once when told to stop trying. */
  private wait = new AbortController();
  failures = 0;
  /** Frames that were not `{envelope, account}` (signal-cli's exception frames, text that is no JSON), counted, not handed on. */
  notEnvelopes = 0;

  constructor(
    private readonly handle: (frame: unknown) => Promise<void>,
    private readonly log: LogPort,
    private readonly retryBaseMs: number,
    private readonly retryMaxMs: number,
    private readonly countOther: (kind: string) => Promise<void>,
  ) {}

  get size(): number {
    return this.items.length;
  }

  /**
   * A frame as it came; `{envelope, account}` is kept as it is. signal-cli's `exception` frames
   * (a message it could not decrypt: nothing to read) are counted. Anything else, a frame that is
   * not JSON or has no envelope, goes to the receive path too, which quarantines it with its
   * reason: a change of the server's framing then shows in `tiphub quarantine list`, instead of
   * every message vanishing behind a counter.
   */
  push(frame: unknown): void {
    if (isObj(frame) && isObj(frame.envelope)) {
      this.items.push({ envelope: frame.envelope, account: frame.account });
      return;
    }
    this.notEnvelopes++;
    if (isObj(frame) && 'exception' in frame && !('envelope' in frame)) {
      void this.countOther('exception').catch(() => undefined);
      this.log.debug({ channel: 'signal', kind: 'exception' }, 'receive frame without an envelope (counted)');
      return;
    }
    this.items.push(frame);
  }

  pushText(text: string): void {
    let frame: unknown;
    try {
      frame = JSON.parse(text);
    } catch {
      frame = { unparsable: text.slice(0, 65_536) };
    }
    this.push(frame);
  }

  /** What is still waiting, taken out (the adapter keeps it in quarantine at stop). */
  takeAll(): unknown[] {
    return this.items.splice(0);
  }

  /** Resolves when every frame was handled, or the inbox was told to stop trying (`stopTrying`). */
  async drain(): Promise<void> {
    this.giveUp = false;
    // A run may be ending (its loop done, its promise not yet settled) when a frame comes: go again.
    while (this.items.length && !this.giveUp) {
      this.running ??= this.run().finally(() => {
        this.running = null;
      });
      await this.running;
    }
  }

  /** Ends a drain now, in its retry wait too (frames that failed stay in memory). */
  stopTrying(): void {
    this.giveUp = true;
    this.wait.abort();
    this.wait = new AbortController();
  }

  private async run(): Promise<void> {
    let attempt = 0;
    while (this.items.length && !this.giveUp) {
      try {
        await this.handle(this.items[0]);
        this.items.shift();
        attempt = 0;
      } catch (err) {
        this.failures++;
        attempt++;
        const wait = Math.max(200, backoffMs(attempt, this.retryBaseMs, this.retryMaxMs));
        this.log.warn({ channel: 'signal', waiting: this.items.length, retryInMs: wait, cause: describeForeignError(err) }, 'Signal message not handled yet; kept in memory and tried again');
        await sleep(wait, this.wait.signal);
      }
    }
  }
}

export interface ReceiverOptions {
  readonly client: SignalClient;
  readonly inbox: Inbox;
  readonly log: LogPort;
  readonly events: ReceiverEvents;
  readonly pingIntervalMs: number;
  readonly pollIntervalMs: number;
  readonly backoffBaseMs: number;
  readonly backoffMaxMs: number;
  readonly handshakeTimeoutMs: number;
  readonly downtime: Downtime;
}

/** One receive session until it ends: `run` resolves when it stops (dropped, stopped, lease lost). */
export interface Receiver {
  readonly mode: 'websocket' | 'polling';
  /** Receives until `stop()`; reconnects and backs off by itself. `holding()` false (the lease lost): it returns. */
  run(holding: () => boolean): Promise<void>;
  stop(): void;
  /** Seconds without a connection since start, in all (the current gap included). */
  disconnectedSeconds(): number;
}

/** Keeps the running total of time without a connection (across receivers: the adapter keeps one). */
export class Downtime {
  private totalMs = 0;
  private since: number | null = null;
  down(): void {
    this.since ??= Date.now();
  }
  up(): void {
    if (this.since !== null) this.totalMs += Date.now() - this.since;
    this.since = null;
  }
  seconds(): number {
    return Math.round((this.totalMs + (this.since !== null ? Date.now() - this.since : 0)) / 1000);
  }
}

export function websocketReceiver(o: ReceiverOptions): Receiver {
  let stopped = false;
  let socket: WebSocket | null = null;
  const wake = new AbortController();
  const downtime = o.downtime;

  /** One connection, until it closes: whether it was opened, and how long it lasted. */
  const session = (): Promise<{ opened: boolean; lastedMs: number; reason: DownReason }> =>
    new Promise((resolve) => {
      let opened = false;
      let openedAt = 0;
      let reason: DownReason = 'server not reachable';
      let missed = 0;
      let pinger: NodeJS.Timeout | null = null;
      const ws = new WebSocket(o.client.wsUrl(), { headers: o.client.wsHeaders(), handshakeTimeout: o.handshakeTimeoutMs, perMessageDeflate: false });
      socket = ws;
      const finish = () => {
        if (pinger) clearInterval(pinger);
        pinger = null;
        socket = null;
        resolve({ opened, lastedMs: opened ? Date.now() - openedAt : 0, reason });
      };
      ws.on('unexpected-response', (_req, res) => {
        reason = res.statusCode === 401 || res.statusCode === 403 ? 'authorization refused' : 'receive refused';
        res.resume();
        ws.terminate();
      });
      ws.on('open', () => {
        opened = true;
        openedAt = Date.now();
        reason = 'connection dropped';
        downtime.up();
        o.events.connected();
        pinger = setInterval(() => {
          if (missed >= 2) {
            reason = 'pongs missed';
            ws.terminate();
            return;
          }
          missed++;
          try {
            ws.ping();
          } catch {
            ws.terminate();
          }
        }, o.pingIntervalMs);
      });
      ws.on('pong', () => {
        missed = 0;
      });
      ws.on('message', (data, isBinary) => {
        o.inbox.pushText(isBinary ? '' : Buffer.isBuffer(data) ? data.toString('utf8') : Array.isArray(data) ? Buffer.concat(data).toString('utf8') : Buffer.from(data).toString('utf8'));
        void o.inbox.drain();
      });
      // Not the error itself: its message may name the URL, and with it the number.
      ws.on('error', () => undefined);
      ws.on('close', finish);
    });

  return {
    mode: 'websocket',
    disconnectedSeconds: () => downtime.seconds(),
    async run(holding) {
      let attempt = 0;
      while (!stopped && holding()) {
        const s = await session();
        if (stopped) break;
        downtime.down();
        o.events.down(s.reason);
        // A connection that held a while starts the backoff over: the first reconnect is at once.
        if (s.opened && s.lastedMs >= 5_000) attempt = 0;
        const wait = backoffMs(attempt, o.backoffBaseMs, o.backoffMaxMs);
        attempt++;
        if (s.opened) o.log.warn({ channel: 'signal', reason: s.reason, connectedSeconds: Math.round(s.lastedMs / 1000), disconnectedSeconds: downtime.seconds(), retryInMs: wait }, 'Signal receive websocket dropped; reconnecting');
        else o.log.warn({ channel: 'signal', reason: s.reason, disconnectedSeconds: downtime.seconds(), retryInMs: wait }, 'Signal receive websocket not connected; trying again');
        if (wait) await sleep(wait, wake.signal);
      }
    },
    stop() {
      stopped = true;
      wake.abort();
      socket?.close(1000);
      // A close handshake that does not come: cut it.
      const s = socket;
      if (s) setTimeout(() => s.terminate(), 1000).unref();
    },
  };
}

export function pollingReceiver(o: ReceiverOptions): Receiver {
  let stopped = false;
  const abort = new AbortController();
  const downtime = o.downtime;
  return {
    mode: 'polling',
    disconnectedSeconds: () => downtime.seconds(),
    async run(holding) {
      let attempt = 0;
      while (!stopped && holding()) {
        // What the last poll gave is handed on before the server is asked again: it has forgotten it.
        if (o.inbox.size) {
          await o.inbox.drain();
          continue;
        }
        let frames: unknown[];
        try {
          // Not aborted on stop: what the server answers it has forgotten, so the answer is awaited and kept.
          frames = await o.client.receive(1);
        } catch (err) {
          if (stopped) break;
          downtime.down();
          const reason: DownReason = err instanceof SignalHttpError ? (err.status === 401 || err.status === 403 ? 'authorization refused' : 'receive refused') : 'server not reachable';
          o.events.down(reason);
          attempt++;
          const wait = Math.max(o.pollIntervalMs, backoffMs(attempt, o.backoffBaseMs, o.backoffMaxMs));
          o.log.warn({ channel: 'signal', reason, status: err instanceof SignalHttpError ? err.status : null, disconnectedSeconds: downtime.seconds(), retryInMs: wait }, 'Signal receive poll failed; trying again');
          await sleep(wait, abort.signal);
          continue;
        }
        attempt = 0;
        downtime.up();
        o.events.connected();
        for (const f of frames) o.inbox.push(f);
        await o.inbox.drain();
        if (!frames.length && !stopped) await sleep(o.pollIntervalMs, abort.signal);
      }
    },
    stop() {
      stopped = true;
      abort.abort();
    },
  };
}
