/**
 * One WhatsApp Web session: whatsapp-web.js driving Debian's Chromium, kept alive in the
 * background so that the hub's other channels never wait for it. It comes up, shows a QR code
 * when it needs a login (as the channel's state, never in a log), reports `connected` on `ready`,
 * and is restarted, with exponential backoff and jitter, whenever it fails the ways WhatsApp Web
 * sessions are known to fail:
 * - the browser does not start (no Chromium) or WhatsApp Web cannot be loaded (no network);
 * - `ready` never comes after a restored login (within readyTimeoutMs);
 * - the page stops answering, or answers with "detached Frame" / "Execution context was
 *   destroyed" after hours (a watchdog asks `getState()` every watchdogIntervalMs, and waits
 *   watchdogTimeoutMs for the answer);
 * - the phone unlinks the session: LocalAuth removes its own files (we remove nothing by hand) and
 *   WhatsApp Web asks for a new QR code, which becomes the channel's state again.
 * One session per clientId across processes: a standby waits for the lease.
 */
import * as path from 'node:path';
import type WAWebJS from 'whatsapp-web.js';
import type { ChannelState, LeasePort, LogPort } from '../../../src/contracts/channel-adapter';
import { describeForeignError } from '../../../src/errors';
import type { WhatsAppSettings } from '../config';

type WebSettings = WhatsAppSettings['web'];

/** An event listener of any arguments (a method's parameters are bivariant: EventEmitter's `any[]` fits). */
type Listener = { bivariant(...args: unknown[]): void }['bivariant'];

/** What of whatsapp-web.js's Client the back end uses: a fake stands in for it in tests. */
export interface WebClient {
  on(event: string, listener: Listener): unknown;
  initialize(): Promise<void>;
  destroy(): Promise<void>;
  getState(): Promise<string | null>;
  sendMessage(chatId: string, content: string, options?: { quotedMessageId?: string; sendSeen?: boolean }): Promise<{ id: { id: string; _serialized: string } } | null | undefined>;
  getMessageById(id: string): Promise<{ downloadMedia(): Promise<{ data: string; mimetype?: string; filesize?: number | null } | undefined> } | null>;
  getContactLidAndPhone(ids: string[]): Promise<{ lid?: string; pn?: string }[]>;
  /** The browser, once launched: killed when closing it hangs. */
  readonly pupBrowser?: { process(): { kill(signal?: NodeJS.Signals): boolean } | null } | null;
}

export interface WebClientOptions {
  readonly clientId: string;
  /** LocalAuth's directory: <dataDir>/whatsapp-web (the session lives in session-<clientId>). */
  readonly dataPath: string;
  readonly chromiumPath: string;
}

export type MakeClient = (o: WebClientOptions) => WebClient;

/** Chromium's flags: no sandbox (as in a container), and none of its own network chatter. */
export const CHROMIUM_ARGS = ['--no-sandbox', '--disable-gpu', '--disable-background-networking', '--disable-component-update', '--disable-sync', '--no-first-run'];

/** Emitted by the real client when the page failed after start (see GuardedClient). */
export const PAGE_FAILED = 'tiphub:page_failed';

type LibraryClient = WebClient & { emit(event: string, ...args: unknown[]): boolean; inject(): Promise<void> };

/** The library, loaded when a session starts: its entry pulls in puppeteer (~600 modules), which no other command needs. */
// eslint-disable-next-line @typescript-eslint/no-require-imports
const library = () => require('whatsapp-web.js') as typeof WAWebJS;

/**
 * whatsapp-web.js's Client, with one guard: after a navigation (WhatsApp Web reloading itself,
 * a logout) the library injects itself again from an async page listener whose failure nobody
 * awaits; in Node that unhandled rejection would end the whole hub. Once started, a failed
 * injection is an event instead, and the session restarts the browser. Made once, on first use.
 */
let guardedClient: (new (options: WAWebJS.ClientOptions) => LibraryClient) | null = null;
export function GuardedClient(): new (options: WAWebJS.ClientOptions) => LibraryClient {
  if (guardedClient) return guardedClient;
  const LibraryClient = library().Client as unknown as new (options: WAWebJS.ClientOptions) => LibraryClient;
  class Guarded extends LibraryClient {
    private started = false;

    override async initialize(): Promise<void> {
      try {
        await super.initialize();
      } finally {
        this.started = true;
      }
    }

    override async inject(): Promise<void> {
      if (!this.started) return super.inject();
      try {
        await super.inject();
      } catch (err) {
        this.emit(PAGE_FAILED, err);
      }
    }
  }
  return (guardedClient = Guarded);
}

/** The real client: LocalAuth (no userDataDir of ours: LocalAuth sets it), Debian's Chromium, headless. */
export const makeWebClient: MakeClient = (o) =>
  new (GuardedClient())({
    authStrategy: new (library().LocalAuth)({ clientId: o.clientId, dataPath: o.dataPath }),
    puppeteer: { executablePath: o.chromiumPath, headless: true, args: CHROMIUM_ARGS },
    // The page's cached copy stays in our data directory, not in the working directory.
    webVersionCache: { type: 'local', path: path.join(o.dataPath, 'web-cache') },
  });

/** Why a start failed, in words of a fixed list (the library's and Chromium's own text is not kept). */
export function launchDetail(err: unknown): string {
  const text = err instanceof Error ? err.message : typeof err === 'string' ? err : '';
  if (/Failed to launch|spawn|ENOENT|EACCES|Browser was not found|executable/i.test(text)) return 'browser failed to start';
  if (/net::ERR_|Navigation timeout|ERR_NAME_NOT_RESOLVED|ERR_INTERNET_DISCONNECTED/i.test(text)) return 'WhatsApp Web not reachable';
  if (/auth timeout|ready timeout/i.test(text)) return 'WhatsApp Web did not load';
  if (/detached|Execution context|Target closed|Session closed|Protocol error|Connection closed/i.test(text)) return 'browser page failed';
  return 'browser failed';
}

/** The `disconnected` event's reason (a WAState or "LOGOUT"), in words of a fixed list. */
export function disconnectDetail(reason: unknown): string {
  switch (reason) {
    case 'LOGOUT':
    case 'UNPAIRED':
    case 'UNPAIRED_IDLE':
      return 'logged out';
    case 'CONFLICT':
      return 'opened elsewhere';
    case 'TOS_BLOCK':
    case 'SMB_TOS_BLOCK':
      return 'blocked by WhatsApp';
    case 'DEPRECATED_VERSION':
      return 'WhatsApp Web version refused';
    case 'PROXYBLOCK':
      return 'proxy blocked';
    default:
      return 'disconnected';
  }
}

const MODE = 'web';
const CH = { channel: 'whatsapp', mode: MODE } as const;

class Timeout extends Error {}
function within<T>(p: Promise<T>, ms: number): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  return Promise.race([p, new Promise<never>((_, reject) => (timer = setTimeout(() => reject(new Timeout('timed out')), ms)))]).finally(() => clearTimeout(timer));
}
const settles = (p: Promise<unknown>, ms: number): Promise<boolean> => within(p.then(() => true, () => true), ms).catch(() => false);

export interface WebSessionOptions {
  readonly settings: WebSettings;
  readonly dataPath: string;
  readonly log: LogPort;
  readonly state: (s: ChannelState) => void;
  readonly makeClient: MakeClient;
  /** Wires the message events of a new client (the adapter's receive path). */
  readonly attach: (client: WebClient) => void;
  readonly lease: LeasePort | null;
  /** How long closing a browser may take before it is killed (tests shorten it). */
  readonly closeTimeoutMs?: number;
  readonly random?: () => number;
}

interface Life {
  end(reason: string, state?: ChannelState): void;
}

export class WebSession {
  private current: WebClient | null = null;
  private isReady = false;
  private stopped = true;
  private loop: Promise<void> | null = null;
  private life: Life | null = null;
  private wake: (() => void) | null = null;
  private attempts = 0;
  /** Restarts since start, and the last restart's wait (for tests and `status`). */
  restarts = 0;
  lastBackoffMs: number | null = null;

  constructor(private readonly o: WebSessionOptions) {}

  /** The client while its session is ready (sending, media), else null. */
  get client(): WebClient | null {
    return this.isReady ? this.current : null;
  }

  get ready(): boolean {
    return this.isReady;
  }

  /** Starts in the background; resolves at once. */
  start(): void {
    if (!this.stopped) return;
    this.stopped = false;
    this.loop = this.run().catch((err: unknown) => this.o.log.error({ ...CH, cause: describeForeignError(err) }, 'WhatsApp Web session loop stopped'));
  }

  /** Closes the browser (and waits for it), gives up any wait. */
  async stop(): Promise<void> {
    this.stopped = true;
    this.life?.end('stopped');
    this.wake?.();
    await this.loop;
    this.loop = null;
  }

  /** The lease went elsewhere: close this browser (the loop waits for the lease again). */
  leaseLost(): void {
    this.life?.end('lease lost', { state: 'connecting', detail: 'session lease lost', mode: MODE });
  }

  private async run(): Promise<void> {
    const lease = this.o.lease;
    // After start has returned: the first client loads the library (half a second of module loading).
    await new Promise<void>((resolve) => setImmediate(resolve));
    while (!this.stopped) {
      if (lease && !lease.held) {
        this.o.state({ state: 'connecting', detail: 'waiting for the session lease', mode: MODE });
        this.o.log.info({ ...CH }, 'waiting for the WhatsApp Web session lease');
        const got = await lease.acquire(() => this.stopped);
        if (!got || this.stopped) break;
        this.o.log.info({ ...CH }, 'WhatsApp Web session lease taken');
      }
      const reason = await this.once();
      if (this.stopped) break;
      const wait = this.backoff();
      this.restarts++;
      this.lastBackoffMs = wait;
      this.o.log.warn({ ...CH, reason, restartInMs: wait }, 'WhatsApp Web session ended; restarting');
      await this.sleep(wait);
    }
  }

  /** Exponential, from restartBackoffMs to restartBackoffMaxMs, with jitter (half of it random). */
  private backoff(): number {
    const s = this.o.settings;
    const base = Math.min(s.restartBackoffMaxMs, s.restartBackoffMs * 2 ** Math.min(this.attempts, 30));
    this.attempts++;
    return Math.round(base / 2 + (this.o.random ?? Math.random)() * (base / 2));
  }

  private sleep(ms: number): Promise<void> {
    return new Promise<void>((resolve) => {
      const t = setTimeout(done, ms);
      function done() {
        clearTimeout(t);
        resolve();
      }
      this.wake = done;
    }).finally(() => (this.wake = null));
  }

  /** One browser's life: resolves, with why, once it ended and its browser is closed. */
  private once(): Promise<string> {
    const s = this.o.settings;
    const { log, state } = this.o;
    return new Promise<string>((resolve) => {
      let client: WebClient;
      try {
        client = this.o.makeClient({ clientId: s.clientId, dataPath: this.o.dataPath, chromiumPath: s.chromiumPath });
      } catch (err) {
        log.error({ ...CH, event: 'launch', reason: 'browser failed to start', cause: describeForeignError(err) }, 'WhatsApp Web client could not be made');
        state({ state: 'disconnected', detail: 'browser failed to start', mode: MODE });
        resolve('launch');
        return;
      }
      this.current = client;
      this.isReady = false;
      let ended = false;
      let readyTimer: NodeJS.Timeout | undefined;
      let watchTimer: NodeJS.Timeout | undefined;
      let init: Promise<void> = Promise.resolve();

      const end = (reason: string, st?: ChannelState) => {
        if (ended) return;
        ended = true;
        clearTimeout(readyTimer);
        clearTimeout(watchTimer);
        this.isReady = false;
        if (this.life === life) this.life = null;
        if (st) state(st);
        void this.close(client, init).then(() => {
          if (this.current === client) this.current = null;
          resolve(reason);
        });
      };
      const life: Life = { end };
      this.life = life;

      const waitReady = () => {
        clearTimeout(readyTimer);
        readyTimer = setTimeout(() => {
          log.warn({ ...CH, event: 'ready', reason: 'ready timeout' }, 'WhatsApp Web did not become ready; restarting the browser');
          end('ready timeout', { state: 'disconnected', detail: 'WhatsApp Web did not become ready', mode: MODE });
        }, s.readyTimeoutMs);
      };

      const watch = () => {
        watchTimer = setTimeout(() => void tick(), s.watchdogIntervalMs);
      };
      const tick = async () => {
        if (ended) return;
        let st: string | null;
        try {
          st = await within(client.getState(), s.watchdogTimeoutMs);
        } catch (err) {
          if (ended) return;
          const hung = err instanceof Timeout;
          log.warn({ ...CH, event: 'watchdog', reason: hung ? 'no answer' : launchDetail(err), cause: hung ? 'timeout' : describeForeignError(err) }, 'WhatsApp Web page failed the watchdog; restarting the browser');
          end(hung ? 'watchdog timeout' : 'watchdog error', { state: 'disconnected', detail: hung ? 'browser not answering' : 'browser page failed', mode: MODE });
          return;
        }
        if (ended) return;
        if (this.isReady && (st === 'UNPAIRED' || st === 'UNPAIRED_IDLE')) {
          // Unlinked while we thought we were in: a fresh start shows a new QR code.
          log.warn({ ...CH, event: 'watchdog', reason: 'logged out' }, 'WhatsApp Web session was unlinked');
          end('logged out', { state: 'needs-login', detail: 'logged out', mode: MODE });
          return;
        }
        // Up and answering: the next failure backs off from the start again.
        if (this.isReady) this.attempts = 0;
        watch();
      };

      client.on('qr', (qr: string) => {
        if (ended || typeof qr !== 'string') return;
        // Waiting for a person to scan: no ready timeout meanwhile (the QR itself rotates).
        clearTimeout(readyTimer);
        this.isReady = false;
        log.info({ ...CH, event: 'qr' }, 'WhatsApp Web needs a login: scan the QR code (tiphub whatsapp link, or the channels page)');
        state({ state: 'needs-login', qr, mode: MODE });
      });
      client.on('authenticated', () => {
        if (ended) return;
        log.info({ ...CH, event: 'authenticated' }, 'WhatsApp Web authenticated');
        state({ state: 'connecting', detail: 'authenticated', mode: MODE });
        waitReady();
      });
      client.on('auth_failure', () => {
        log.warn({ ...CH, event: 'auth_failure', reason: 'authentication failed' }, 'WhatsApp Web authentication failed');
        end('auth_failure', { state: 'disconnected', detail: 'authentication failed', mode: MODE });
      });
      client.on('ready', () => {
        if (ended) return;
        clearTimeout(readyTimer);
        this.isReady = true;
        log.info({ ...CH, event: 'ready' }, 'WhatsApp Web session ready');
        state({ state: 'connected', mode: MODE });
      });
      client.on(PAGE_FAILED, (err: unknown) => {
        log.warn({ ...CH, event: 'inject', reason: launchDetail(err), cause: describeForeignError(err) }, 'WhatsApp Web page failed after a navigation; restarting the browser');
        end('page failed', { state: 'disconnected', detail: 'browser page failed', mode: MODE });
      });
      client.on('disconnected', (reason: unknown) => {
        if (ended) return;
        const detail = disconnectDetail(reason);
        this.isReady = false;
        log.warn({ ...CH, event: 'disconnected', reason: detail }, 'WhatsApp Web disconnected');
        if (reason === 'LOGOUT') {
          // LocalAuth removes the session itself and the page asks for a new QR code; should none
          // come, a fresh browser will ask.
          state({ state: 'needs-login', detail: 'logged out', mode: MODE });
          waitReady();
          return;
        }
        end(`disconnected ${detail}`, { state: 'disconnected', detail, mode: MODE });
      });
      this.o.attach(client);

      log.info({ ...CH, event: 'launch' }, 'starting WhatsApp Web');
      state({ state: 'connecting', detail: 'starting the browser', mode: MODE });
      waitReady();
      init = Promise.resolve()
        .then(() => client.initialize())
        .then(
          () => {
            if (!ended) watch();
          },
          (err: unknown) => {
            if (ended) return;
            const detail = launchDetail(err);
            log.error({ ...CH, event: 'launch', reason: detail, cause: describeForeignError(err) }, 'WhatsApp Web did not start');
            end('launch', { state: 'disconnected', detail, mode: MODE });
          },
        );
    });
  }

  /**
   * Closes a client's browser, killing it when closing hangs; and once a start still under way
   * settles (a browser may come up after we closed), closes that one too.
   */
  private async close(client: WebClient, init: Promise<void>): Promise<void> {
    const ms = this.o.closeTimeoutMs ?? 10_000;
    const closeOnce = async () => {
      if (!(await settles(Promise.resolve().then(() => client.destroy()), ms))) {
        try {
          client.pupBrowser?.process()?.kill('SIGKILL');
        } catch {
          // already gone
        }
      }
    };
    await closeOnce();
    if (await settles(init, ms * 1.5)) await closeOnce();
    else void init.finally(closeOnce);
  }
}
