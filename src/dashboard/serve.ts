/** The dashboard as the hub and `tiphub dashboard` serve it: the app built from the configuration, listening. */
import { readChannelQr, readChannelStates } from '../channels/state';
import type { ChannelStates } from './routes/channels';
import type { Config } from '../config';
import type { Db } from '../caselog/db';
import type { Logger } from '../log';
import { TiphubError } from '../errors';
import * as path from 'node:path';
import { buildApp } from './app';
import { loadCannedReplies } from './canned';
import { packageRoot } from '../package-root';
import type { RelayOutbox } from './case-actions';
import type { RedisTarget } from '../queue/redis';
import { publishCaseUpdates, subscribeCaseUpdates, type CaseUpdatesSubscription } from '../queue/case-updates';
import { connectRedis } from '../queue/redis';
import { overviewQueueNames, queueDepthReader } from './overview';
import type { DashboardQuarantine } from './routes/quarantine';

export interface ServedDashboard {
  readonly url: string;
  close(): Promise<void>;
}

/**
 * `relayOutbox`: moves a reply's outbox rows to the outbound queue at once (without it, the hub's
 * sweeper does). `redis`: the Redis the intake workers publish case updates on (under
 * cfg.queue.prefix), for the live list; without it the list changes on reload only.
 */
export async function serveDashboard(cfg: Readonly<Config>, db: Db, log: Logger, opts: { relayOutbox?: RelayOutbox; redis?: RedisTarget; quarantine?: DashboardQuarantine } = {}): Promise<ServedDashboard> {
  const d = cfg.dashboard;
  // Checked at start, before any connection opens: a bad replies file stops the dashboard with the file and entry named.
  const cannedReplies = loadCannedReplies(d.cannedReplies ?? path.join(packageRoot(), 'config', 'replies.yaml'));
  const updates: CaseUpdatesSubscription | null = opts.redis ? subscribeCaseUpdates(opts.redis, cfg.queue.prefix, log) : null;
  // Operators' changes go out on the intake workers' channel, so every open list hears of them.
  const publisher = opts.redis ? connectRedis(opts.redis) : null;
  // The overview's queue depth: counts only, over a connection of its own, closed with the app.
  const depth = opts.redis ? queueDepthReader(opts.redis, cfg.queue.prefix, overviewQueueNames(Object.keys(cfg.channels))) : null;
  // The channels page: each channel's state and pending QR code, over a connection of its own.
  const states = opts.redis ? connectRedis(opts.redis) : null;
  const channelStates: ChannelStates | null = states
    ? {
        async read() {
          const names = Object.keys(cfg.channels);
          const list = await readChannelStates(states, cfg.queue.prefix, names);
          return {
            channels: await Promise.all(
              list.map(async (c) => ({ ...c, enabled: cfg.channels[c.channel]?.enabled === true, qr: c.state === 'needs-login' ? await readChannelQr(states, cfg.queue.prefix, c.channel) : null })),
            ),
          };
        },
      }
    : null;
  const closeRedis = async () => {
    states?.disconnect();
    await updates?.close();
    await depth?.close();
    await publisher?.quit().catch(() => publisher.disconnect());
  };
  const app = await buildApp({
    db,
    log,
    secureCookies: d.secureCookies,
    requireTotp: d.requireTotp,
    trustedOrigins: d.trustedOrigins,
    trustProxy: d.trustProxy,
    sessionIdleMs: d.idleMinutes * 60_000,
    sessionAbsoluteMs: d.absoluteHours * 3_600_000,
    rulesDir: cfg.rulesDir,
    cannedReplies,
    mediaRoot: path.join(cfg.dataDir, 'media'),
    ...(opts.relayOutbox ? { relayOutbox: opts.relayOutbox } : {}),
    ...(updates ? { caseUpdates: updates } : {}),
    ...(depth ? { queueDepth: depth.read } : {}),
    ...(channelStates ? { channelStates } : {}),
    // Bull Board for admins, on every queue of the hub; the quarantine page's keyed actions where the caller has the keys.
    ...(opts.redis ? { queueBoard: { redis: opts.redis, prefix: cfg.queue.prefix, names: overviewQueueNames(Object.keys(cfg.channels)) } } : {}),
    ...(opts.quarantine ? { quarantine: opts.quarantine } : {}),
    ...(publisher ? { announceCases: (refs: readonly string[]) => publishCaseUpdates(publisher, cfg.queue.prefix, refs, log) } : {}),
  }).catch(async (err: unknown) => {
    await closeRedis();
    throw err;
  });
  app.addHook('onClose', closeRedis);
  try {
    await app.listen({ host: d.listen.host, port: d.listen.port });
  } catch (err) {
    await app.close().catch(() => undefined);
    const code = (err as NodeJS.ErrnoException).code;
    throw new TiphubError(
      'TIPHUB_CONFIG_INVALID',
      code === 'EADDRINUSE'
        ? `the dashboard cannot listen on ${d.listen.host}:${d.listen.port}: the port is taken (set dashboard.listen or TIPHUB_DASHBOARD_LISTEN, or dashboard.enabled: false)`
        : `the dashboard cannot listen on ${d.listen.host}:${d.listen.port} (${code ?? 'error'})`,
    );
  }
  const a = app.server.address();
  const host = a && typeof a === 'object' ? (a.family === 'IPv6' ? `[${a.address}]` : a.address) : d.listen.host;
  const port = a && typeof a === 'object' ? a.port : d.listen.port;
  const url = `http://${host}:${port}/`;
  log.info({ url }, 'dashboard listening');
  return { url, close: () => app.close() };
}
