/**
 * Stand-ins for the WhatsApp Web back end's tests (test/unit/whatsapp-web-*.test.ts): a fake
 * whatsapp-web.js Client (an EventEmitter that starts, hangs or fails as told) and the adapter's
 * ports recording what the adapter did with them.
 */
import { EventEmitter } from 'node:events';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { WhatsAppSettings, type WhatsAppCredentials } from '../../adapters/whatsapp/config';
import type { WebClient } from '../../adapters/whatsapp/web/session';
import type { AdapterPorts, ChannelEvent, ChannelState, InboundSink, LeasePort, QuarantineRequest } from '../../src/contracts/channel-adapter';
import type { InboundMessage } from '../../src/contracts/inbound-message';
import { Keyring } from '../../src/crypto/keyring';

export type StartMode = 'ready' | 'qr' | 'hang' | 'no-ready' | { fail: unknown };
export type StateMode = 'ok' | 'hang' | 'detached' | 'unpaired';

const never = () => new Promise<never>(() => undefined);

export class FakeClient extends EventEmitter implements WebClient {
  destroyed = 0;
  stateCalls = 0;
  readonly sent: { chatId: string; content: string; options: unknown }[] = [];
  readonly media = new Map<string, { data: string; mimetype: string; filesize?: number } | undefined>();
  readonly lids = new Map<string, string>();
  lidCalls = 0;
  sendResult: 'ok' | 'none' | { fail: unknown } = 'ok';
  private seq = 0;

  constructor(
    public start: StartMode,
    public stateMode: StateMode = 'ok',
  ) {
    super();
  }

  async initialize(): Promise<void> {
    await new Promise((r) => setImmediate(r));
    const s = this.start;
    if (s === 'hang') return never();
    if (typeof s === 'object') throw s.fail;
    if (s === 'qr') {
      this.emit('qr', '2@FAKEQRREF,staticKeyB64,identityKeyB64,advSecret,1');
      return;
    }
    if (s === 'ready') {
      this.emit('authenticated');
      setImmediate(() => this.emit('ready'));
    }
  }

  async destroy(): Promise<void> {
    this.destroyed++;
  }

  async getState(): Promise<string | null> {
    this.stateCalls++;
    if (this.stateMode === 'hang') return never();
    if (this.stateMode === 'detached') throw new Error('Attempted to use detached Frame \'A1B2C3\'.');
    return this.stateMode === 'unpaired' ? 'UNPAIRED' : 'CONNECTED';
  }

  async sendMessage(chatId: string, content: string, options?: { quotedMessageId?: string; sendSeen?: boolean }) {
    if (typeof this.sendResult === 'object') throw this.sendResult.fail;
    if (this.sendResult === 'none') return undefined;
    this.sent.push({ chatId, content, options });
    const id = `3EB0${String(++this.seq).padStart(18, '0')}`;
    return { id: { id, _serialized: `true_${chatId}_${id}` } };
  }

  async getMessageById(id: string) {
    if (!this.media.has(id)) return null;
    const m = this.media.get(id);
    return { downloadMedia: async () => m };
  }

  async getContactLidAndPhone(ids: string[]) {
    this.lidCalls++;
    return ids.map((i) => (this.lids.has(i) ? { lid: this.lids.get(i)!, pn: i } : {}));
  }
}

export class FakeLease implements LeasePort {
  held = false;
  released = 0;
  private waiting: ((v: boolean) => void) | null = null;
  constructor(private free: boolean) {}
  async tryAcquire() {
    if (this.free) this.held = true;
    return this.held;
  }
  async acquire(stopped: () => boolean) {
    if (this.free) return (this.held = true);
    const got = await new Promise<boolean>((resolve) => {
      this.waiting = resolve;
      const t = setInterval(() => {
        if (stopped()) {
          clearInterval(t);
          resolve(false);
        }
      }, 10);
    });
    this.held = got;
    return got;
  }
  /** The other holder let go. */
  handOver() {
    this.free = true;
    this.waiting?.(true);
  }
  /** Another process took it. */
  takeOver() {
    this.free = false;
    this.held = false;
  }
  async release() {
    this.held = false;
    this.released++;
  }
}

export const FAST_WEB = {
  chromiumPath: '/usr/bin/chromium',
  clientId: 'test',
  watchdogIntervalMs: 40,
  watchdogTimeoutMs: 40,
  readyTimeoutMs: 400,
  restartBackoffMs: 20,
  restartBackoffMaxMs: 160,
  leaseMs: 1000,
};

export const keyring = new Keyring('web-test-secret-0123456789abcdef01234567');

export function fakePorts(opts: { web?: Partial<typeof FAST_WEB>; lease?: LeasePort | null; groups?: boolean; recordFails?: () => boolean; quarantineFails?: () => boolean } = {}) {
  const base = WhatsAppSettings.parse({ mode: 'web', groups: opts.groups ?? false });
  const settings: WhatsAppSettings = { ...base, web: { ...base.web, ...FAST_WEB, ...opts.web } };
  const dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'tiphub-waweb-'));
  const lines: string[] = [];
  const states: ChannelState[] = [];
  const events: ChannelEvent[] = [];
  const quarantined: QuarantineRequest[] = [];
  const counted: string[] = [];
  let onLost: (() => void) | undefined;
  const line = (level: string) => (fields: object, msg: string) => void lines.push(JSON.stringify({ level, ...fields, msg }));
  const ports: AdapterPorts<WhatsAppSettings, WhatsAppCredentials> = {
    channel: 'whatsapp',
    settings,
    credentials: { mode: 'web' },
    dataDir,
    log: { debug: line('debug'), info: line('info'), warn: line('warn'), error: line('error') },
    messageId: (parts) => keyring.messageId('whatsapp', parts),
    quarantine: async (q) => {
      if (opts.quarantineFails?.()) throw new Error('case log down');
      quarantined.push(q);
    },
    countIgnored: async (k) => void counted.push(k),
    lease: (_name, _ttl, lost) => {
      onLost = lost;
      return opts.lease === undefined ? null : opts.lease;
    },
    events: {
      state: (s) => void states.push(s),
      record: async (e) => {
        if (opts.recordFails?.()) throw new Error('case log down');
        events.push(e);
      },
    },
  };
  const cleanup = () => fs.rmSync(dataDir, { recursive: true, force: true });
  /** What the core's lease does when another process took it over. */
  const loseLease = () => onLost?.();
  return { ports, lines, states, events, quarantined, counted, dataDir, cleanup, loseLease };
}

export function recordingSink(): { sink: InboundSink; offered: InboundMessage[] } {
  const offered: InboundMessage[] = [];
  return { offered, sink: async (m) => (offered.push(m), { status: 'enqueued' as const }) };
}

export async function waitFor(cond: () => boolean, ms = 5000, what = 'condition'): Promise<void> {
  const until = Date.now() + ms;
  while (!cond()) {
    if (Date.now() > until) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 5));
  }
}
