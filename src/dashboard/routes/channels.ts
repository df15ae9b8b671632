/**
 * The channels page, for admins: each channel's state as the process running it last said
 * (src/channels/state.ts: connected, needs linking, disconnected since…, the last message's age),
 * and, while a WhatsApp Web session waits to be linked, its QR code to scan (drawn as SVG by the
 * qrcode package; the code is a login secret for a minute, shown to admins only, never logged).
 * While a channel needs linking the page reloads itself every 10 seconds, as codes change.
 */
import type { FastifyPluginAsync } from 'fastify';
import fp from 'fastify-plugin';
import type { ChannelStatus } from '../../channels/state';
import { html, page, raw, type Raw } from '../html';
import { stringsFor } from '../i18n';
import { channelsStrings } from '../i18n/channels';
import { pageOpts } from '../page-parts';
import { htmlResponses, noQuery } from '../schemas';

export interface ChannelStates {
  /** Every channel the hub knows, enabled here or not, with its QR code while one is pending. */
  read(): Promise<{ readonly channels: readonly (ChannelStatus & { readonly enabled: boolean; readonly qr: string | null })[] }>;
}

const minute = (iso: string | null) => (iso ? iso.slice(0, 16).replace('T', ' ') : null);

async function qrSvg(text: string): Promise<string> {
  const QRCode = await import('qrcode');
  return QRCode.toString(text, { type: 'svg', errorCorrectionLevel: 'L', margin: 2 });
}

interface ChannelsOptions {
  readonly channelStates?: ChannelStates;
}

const channelsPlugin: FastifyPluginAsync<ChannelsOptions> = async (app, opts) => {
  app.get('/admin/channels', { config: { permission: 'operators' as const }, schema: { querystring: noQuery, response: htmlResponses } }, async (req, reply) => {
    const session = req.operatorSession!;
    const s = stringsFor(session.operator.language);
    const t = channelsStrings(session.operator.language);
    const name = (k: string) => (t as Record<string, string>)[k] ?? k;
    let body: Raw;
    let waiting = false;
    if (!opts.channelStates) body = html`<p class="note">${t.noRedis}</p>`;
    else {
      const { channels } = await opts.channelStates.read();
      const rows = channels.filter((c) => c.channel !== 'simulator' || c.enabled);
      const scans: Raw[] = [];
      for (const c of rows) {
        if (c.qr && c.state === 'needs-login' && !c.stale) {
          waiting = true;
          scans.push(html`<section class="link-qr" data-channel="${c.channel}"><h2>${t.scanTitle}</h2><p>${t.scan}</p><div class="qr">${raw(await qrSvg(c.qr))}</div></section>`);
        } else if (c.state === 'needs-login') waiting = true;
      }
      const state = (c: (typeof rows)[number]): Raw =>
        c.state === null
          ? html`${t.notRunning}`
          : html`<span class="state-${c.state}">${name(`state_${c.state}`)}</span>${c.detail ? html` (${c.detail})` : ''}${c.stale ? html` — ${t.stale}` : ''}`;
      body = html`<table class="channels"><thead><tr><th>${t.channel}</th><th>${t.enabled}</th><th>${t.state}</th><th>${t.since}</th><th>${t.mode}</th><th>${t.lastMessage}</th></tr></thead><tbody>${rows.map(
        (c) =>
          html`<tr class="channel" data-channel="${c.channel}" data-state="${c.state ?? 'none'}"><td>${c.channel}</td><td>${c.enabled ? t.yes : t.no}</td><td>${state(c)}</td><td>${minute(c.since) ?? '-'}</td><td>${c.mode ?? '-'}</td><td>${minute(c.lastMessageAt) ?? t.never}</td></tr>`,
      )}</tbody></table>${scans}`;
    }
    // Codes change every 20 s or so while a session waits to be linked: the page follows them.
    if (waiting) reply.header('Refresh', '10');
    return reply
      .type('text/html; charset=utf-8')
      .header('Cache-Control', 'no-store')
      .send(page(s, t.title, html`<h1>${t.title}</h1><p>${t.intro}</p>${body}`, pageOpts(req)));
  });
};

export const channelsRoutes = fp(channelsPlugin, { name: 'tiphub-channels' });
