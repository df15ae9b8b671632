/**
 * The Cloud API back end: Meta's webhook in (webhook.ts, on its own listener), the Graph API out
 * (graph.ts). Every webhook item goes through the one inbound path both back ends share
 * (../inbound.ts), so a recorded item replays through exactly what production runs. Ids are keyed
 * hashes of the wamid (normalize.ts): Meta delivering a body again adds nothing.
 */
import type { FastifyInstance } from 'fastify';
import type { AdapterPorts, ChannelAdapter, NormalizeContext, OutboundMessage, SendResult } from '../../../src/contracts/channel-adapter';
import type { EventOnly, Ignored, InboundMessage, Rejected } from '../../../src/contracts/inbound-message';
import { TiphubError } from '../../../src/errors';
import type { WhatsAppCloudCredentials, WhatsAppSettings } from '../config';
import { inboundPath } from '../../../src/contracts/inbound-path';
import { isCloudPayload, isWebPayload } from '../payload';
import { normalizeWeb } from '../web/normalize';
import { GraphClient, mediaError, sendError } from './graph';
import { normalizeCloud } from './normalize';
import { buildCloudWebhookApp } from './webhook';

/** WhatsApp's longest text message (index.ts says the same to the core). */
const TEXT_LIMIT = 4096;

export interface CloudAdapter extends ChannelAdapter<unknown> {
  /** Where the webhook listens once started (its real port when configured with 0), else null. */
  readonly webhookUrl: string | null;
  readonly quarantined: number;
  readonly ignored: ReadonlyMap<string, number>;
}

/** The module's normalize (both back ends' items), here too so that adapter and module agree. */
function normalizeItem(raw: unknown, ctx: NormalizeContext): InboundMessage | Rejected | Ignored | EventOnly {
  if (isCloudPayload(raw)) return normalizeCloud(raw, ctx);
  if (isWebPayload(raw)) return normalizeWeb(raw, ctx);
  return { rejected: true, reason: 'not a WhatsApp item (backend is neither cloud nor web)' };
}

function chunks(text: string, size: number): string[] {
  const out: string[] = [];
  for (let i = 0; i < text.length; ) {
    let end = Math.min(i + size, text.length);
    // Never between the two halves of a surrogate pair (an emoji).
    if (end < text.length && /[\uD800-\uDBFF]/.test(text[end - 1]!)) end--;
    out.push(text.slice(i, end));
    i = end;
  }
  return out.length ? out : [''];
}

export function createCloudAdapter(ports: AdapterPorts<WhatsAppSettings, WhatsAppCloudCredentials>): CloudAdapter {
  const cred = ports.credentials;
  if (!cred || cred.mode !== 'cloud') throw new TiphubError('TIPHUB_CONFIG_INVALID', 'the WhatsApp Cloud API back end needs TIPHUB_WHATSAPP_MODE=cloud and its credentials');
  const settings = ports.settings.cloud;
  const log = ports.log;
  const graph = new GraphClient({ apiRoot: cred.apiRoot, apiVersion: settings.apiVersion, token: cred.token });
  const path = inboundPath(ports, normalizeItem, () => cred.phoneNumberId, () => 'webhook item');
  let webhook: FastifyInstance | null = null;
  let webhookUrl: string | null = null;

  const handleUnusable = async (body: string, reason: 'not-json' | 'not-whatsapp') => {
    await ports.quarantine({
      source: 'webhook body',
      code: 'TIPHUB_MESSAGE_INVALID',
      reason: reason === 'not-json' ? 'webhook body is not JSON' : 'webhook body is not a WhatsApp Business Account notification',
      payload: { unparsable: body },
    });
  };
  const handleOther = async (kind: string) => {
    await ports.countIgnored(kind);
  };
  // A wrong app secret would refuse every delivery in silence (Meta retries for days): said, at most once a minute.
  let refused = 0;
  let refusedSaidAt = 0;
  const onRefused = () => {
    refused++;
    if (Date.now() - refusedSaidAt < 60_000) return;
    refusedSaidAt = Date.now();
    log.warn({ channel: 'whatsapp', refused }, 'webhook POST refused: X-Hub-Signature-256 missing or wrong (is TIPHUB_WHATSAPP_APP_SECRET the app\'s secret?)');
  };

  return {
    channel: 'whatsapp',
    normalize: normalizeItem,
    handleInbound: (raw) => path.handleInbound(raw),
    get webhookUrl() {
      return webhookUrl;
    },
    get quarantined() {
      return path.quarantined;
    },
    ignored: path.ignored,

    async start(sink) {
      const listen = settings.webhookListen;
      // Items for another number are ignored (counted); a wrong TIPHUB_WHATSAPP_PHONE_NUMBER_ID
      // would make every tip vanish behind that counter, so it is said, once a minute at most.
      let otherSaidAt = 0;
      const otherNumber = () => {
        if (Date.now() - otherSaidAt < 60_000) return;
        otherSaidAt = Date.now();
        log.warn({ channel: 'whatsapp' }, 'webhook items for another phone number id are being ignored: check TIPHUB_WHATSAPP_PHONE_NUMBER_ID against the number subscribed in Meta\'s app');
      };
      const app = await buildCloudWebhookApp({
        path: listen.path,
        appSecret: cred.appSecret,
        verifyToken: cred.verifyToken,
        bodyLimitBytes: settings.bodyLimitBytes,
        handleItem: (item) => {
          if (item.phoneNumberId !== cred.phoneNumberId) otherNumber();
          return path.handleInbound(item);
        },
        handleUnusable,
        handleOther,
        onRefused,
      });
      try {
        await app.listen({ host: listen.host, port: listen.port });
      } catch (err) {
        await app.close().catch(() => undefined);
        const code = (err as { code?: unknown })?.code;
        const why = code === 'EADDRINUSE' ? 'the address is in use' : code === 'EADDRNOTAVAIL' ? 'the address is not on this machine' : code === 'EACCES' ? 'permission denied' : 'it failed';
        throw new TiphubError('TIPHUB_CONFIG_INVALID', `the WhatsApp webhook cannot listen on ${listen.host}:${listen.port} (${why}): set channels.whatsapp.cloud.webhookListen or TIPHUB_WHATSAPP_WEBHOOK_LISTEN`);
      }
      webhook = app;
      const address = app.server.address();
      const port = typeof address === 'object' && address ? address.port : listen.port;
      const host = listen.host.includes(':') ? `[${listen.host}]` : listen.host;
      webhookUrl = `http://${host}:${port}${listen.path}`;
      path.open(sink);
      log.info({ channel: 'whatsapp', backend: 'cloud', listen: `${listen.host}:${port}${listen.path}` }, 'WhatsApp webhook listening');
      ports.events.state({ state: 'connected', mode: 'webhook' });
    },

    async stop() {
      // Refuse new items first (Meta is answered 500 and delivers them again), then let the
      // in-flight ones finish: Fastify's close waits for the requests under way.
      path.close();
      const app = webhook;
      webhook = null;
      webhookUrl = null;
      await app?.close();
      ports.events.state({ state: 'stopped', mode: 'webhook' });
    },

    async send(address: string, message: OutboundMessage): Promise<SendResult> {
      let first: string | null = null;
      try {
        for (const part of chunks(message.text, TEXT_LIMIT)) {
          // Only a wamid can be quoted: an answer to a command (not a report) names its keyed hash.
          const quote = first === null && message.replyTo?.startsWith('wamid.') ? message.replyTo : null;
          const id = await graph.sendText(cred.phoneNumberId, address, part, quote);
          first ??= id;
        }
      } catch (err) {
        const e = sendError(err);
        log.warn({ channel: 'whatsapp', code: e.code, retryable: e.retryable }, 'WhatsApp send failed');
        throw e;
      }
      return { nativeId: ports.messageId(['wa', first!]), platformRef: first! };
    },

    async openMedia(ref: string, maxBytes: number) {
      let info;
      try {
        info = await graph.mediaInfo(ref);
      } catch (err) {
        throw mediaError(err);
      }
      if (info.fileSize !== null && info.fileSize > maxBytes) throw new TiphubError('TIPHUB_MEDIA_TOO_LARGE', `file of ${info.fileSize} bytes over the limit of ${maxBytes}`);
      return graph.download(info, maxBytes);
    },
  };
}
