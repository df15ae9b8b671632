/**
 * The operator dashboard as a Fastify app (issue 11, items 3 to 6), built apart from listening so
 * tests drive it with app.inject(). Plugins, each named with its dependencies: the case log, the
 * security headers, auth (cookie, sessions, origin and CSRF checks, roles), then the page areas.
 */
import { channelsRoutes, type ChannelStates } from './routes/channels';
import Fastify, { LogController, type FastifyBaseLogger, type FastifyError, type FastifyInstance, type FastifyServerOptions } from 'fastify';
import formbody from '@fastify/formbody';
import swagger from '@fastify/swagger';
import type { Db } from '../caselog/db';
import type { Logger } from '../log';
import { TiphubError } from '../errors';
import caselogPlugin from './plugins/caselog';
import securityHeaders from './plugins/security-headers';
import caseChanges, { type AnnounceCases } from './plugins/case-changes';
import authPlugin, { refuse } from './plugins/auth';
import loginRoutes from './routes/login';
import staticRoutes from './routes/static';
import listPageRoutes from './routes/list-page';
import casePageRoutes from './routes/case-page';
import mediaRoutes from './routes/media';
import recordsRoutes from './routes/exports';
import type { CannedReplies } from './canned';
import apiRoutes from './routes/api';
import eventsRoutes from './routes/events';
import bulkRoutes from './routes/bulk';
import overviewRoutes from './routes/overview';
import type { QueueDepth } from './overview';
import adminRoutes from './routes/admin';
import type { CaseUpdates } from '../queue/case-updates';
import { refusalOf, type RelayOutbox } from './case-actions';
import { stringsFor } from './i18n';
import settingsRoutes from './routes/settings';
import openapiRoutes, { openapiOptions } from './routes/openapi';
import queuesRoutes, { BULL_BOARD_PATH, type QueueBoardOptions } from './routes/queues';
import quarantineRoutes, { type DashboardQuarantine } from './routes/quarantine';

export interface DashboardOptions {
  readonly db: Db;
  readonly log?: Logger;
  /** Secure cookies: set when the dashboard is reached over TLS (behind a proxy that terminates it). */
  readonly secureCookies?: boolean;
  /** A second factor for every operator (dashboard.requireTotp); default true. */
  readonly requireTotp?: boolean;
  /** Origins allowed to post besides the request's own Host, e.g. a proxy's https://tips.example.org. */
  readonly trustedOrigins?: readonly string[];
  /** Trust X-Forwarded-For for the client address (only behind a proxy of ours). */
  readonly trustProxy?: boolean;
  /** Failed logins from one client address within 15 minutes before it must wait (default 20). */
  readonly loginFailuresPerClient?: number;
  /** A session's idle timeout (dashboard.idleMinutes; default that of src/operators/sessions.ts). */
  readonly sessionIdleMs?: number;
  /** A session's absolute lifetime (dashboard.absoluteHours; default that of src/operators/sessions.ts). */
  readonly sessionAbsoluteMs?: number;
  /**
   * Hands the outbox rows a reply queued to the outbound queue at once (the hub passes
   * `(ids) => relay.relay(db, ids).then(() => undefined)` with its OutboxRelay); without it the
   * hub's sweeper relays them within conversation.outboxSweepMs.
   */
  readonly relayOutbox?: RelayOutbox;
  /**
   * Which cases got reports, for the live list (GET /events): serve.ts subscribes to the intake
   * workers' `${queue.prefix}:case-updates` channel (src/queue/case-updates.ts). Without it the
   * stream only keeps its heartbeat and the list changes on reload.
   */
  readonly caseUpdates?: CaseUpdates;
  /**
   * Tells the other dashboards' lists which cases an operator changed (serve.ts publishes them on
   * the same Redis channel as the intake workers); without it only this dashboard's lists learn.
   */
  readonly announceCases?: AnnounceCases;
  /**
   * The intake, outbound and media queues' waiting/active/delayed/failed counts for the overview
   * (serve.ts reads them from Redis); without it the overview says the queue depth is not available.
   */
  readonly queueDepth?: QueueDepth;
  /** Each channel's state and pending QR code (serve.ts reads them from Redis), for the channels page. */
  readonly channelStates?: ChannelStates;
  /** Where the gazetteer (places.yaml) is, for the overview's map: the configuration's rules.dir (default the package's config/). */
  readonly rulesDir?: string;
  /** The reply composer's canned replies (loadCannedReplies of dashboard.cannedReplies); without them, free text only. */
  readonly cannedReplies?: CannedReplies;
  /** The media store's folder (`<dataDir>/media`), read only, for the case page's media; without it media show as not available. */
  readonly mediaRoot?: string;
  /** Between two live events (default 500 ms) and two heartbeats (default 15 s); tests shorten them. */
  readonly liveCoalesceMs?: number;
  readonly liveHeartbeatMs?: number;
  /** Bull Board for admins under /admin/queues (routes/queues.ts): the hub's Redis, prefix and queues; without it the page is not there. */
  readonly queueBoard?: QueueBoardOptions;
  /** The quarantine page's detail, retry and drop, run where the keys are (routes/quarantine.ts); without it the page lists entries only. */
  readonly quarantine?: DashboardQuarantine;
}

const KNOWN = new Set(['db', 'log', 'secureCookies', 'requireTotp', 'trustedOrigins', 'trustProxy', 'loginFailuresPerClient', 'sessionIdleMs', 'sessionAbsoluteMs', 'relayOutbox', 'caseUpdates', 'announceCases', 'liveCoalesceMs', 'liveHeartbeatMs', 'queueDepth', 'channelStates', 'rulesDir', 'cannedReplies', 'mediaRoot', 'queueBoard', 'quarantine']);

export async function buildApp(opts: DashboardOptions): Promise<FastifyInstance> {
  for (const k of Object.keys(opts)) if (!KNOWN.has(k)) throw new TiphubError('TIPHUB_CONFIG_INVALID', `unknown dashboard option ${k}`);
  if (opts.relayOutbox !== undefined && typeof opts.relayOutbox !== 'function') throw new TiphubError('TIPHUB_CONFIG_INVALID', 'relayOutbox is a function');
  if (opts.channelStates !== undefined && typeof opts.channelStates?.read !== 'function') throw new TiphubError('TIPHUB_CONFIG_INVALID', 'channelStates has a read function');
  if (opts.announceCases !== undefined && typeof opts.announceCases !== 'function') throw new TiphubError('TIPHUB_CONFIG_INVALID', 'announceCases is a function');
  if (opts.caseUpdates !== undefined && typeof opts.caseUpdates?.subscribe !== 'function') throw new TiphubError('TIPHUB_CONFIG_INVALID', 'caseUpdates has a subscribe function');
  if (opts.queueDepth !== undefined && typeof opts.queueDepth !== 'function') throw new TiphubError('TIPHUB_CONFIG_INVALID', 'queueDepth is a function');
  if (!opts.db) throw new TiphubError('TIPHUB_CONFIG_INVALID', 'the dashboard needs a case log');
  for (const origin of opts.trustedOrigins ?? []) {
    let ok = false;
    try {
      ok = new URL(origin).origin === origin && /^https?:$/.test(new URL(origin).protocol);
    } catch {
      /* below */
    }
    if (!ok) throw new TiphubError('TIPHUB_CONFIG_INVALID', `a trusted origin is scheme://host[:port] with nothing after it (${JSON.stringify(String(origin).slice(0, 80))})`);
  }
  const o = Object.freeze({ ...opts, trustedOrigins: Object.freeze([...(opts.trustedOrigins ?? [])]) });
  const serverOptions: FastifyServerOptions = {
    ...(o.log ? { loggerInstance: o.log.child({ area: 'dashboard' }) as FastifyBaseLogger } : { logger: false as const }),
    trustProxy: o.trustProxy ?? false,
    bodyLimit: 256 * 1024,
    // Not the URL's query (filters), nor bodies: only method, route and status.
    logController: new LogController({ disableRequestLogging: true }),
    return503OnClosing: true,
  };
  const app: FastifyInstance = Fastify(serverOptions);

  // Every route declares its schema (the API's documentation is generated from them later):
  // a route without one fails at start, not in review.
  app.addHook('onRoute', (route) => {
    // Bull Board's routes are its own, schemaless (routes/queues.ts guards them).
    if (route.url === BULL_BOARD_PATH || route.url.startsWith(`${BULL_BOARD_PATH}/`)) return;
    const schema = route.schema as { response?: unknown; params?: unknown; querystring?: unknown; body?: unknown } | undefined;
    const missing = (what: string) => new TiphubError('TIPHUB_CONFIG_INVALID', `dashboard route ${String(route.method)} ${route.url} has no ${what} schema`);
    if (!schema?.response) throw missing('response');
    if (route.url.includes(':') && !schema.params) throw missing('params');
    const methods = ([] as string[]).concat(route.method);
    if (methods.includes('GET') && !schema.querystring) throw missing('querystring');
    if (methods.includes('POST') && !schema.body) throw missing('body');
  });
  // Before the routes: a route keeps the error handler in force where it is declared.
  app.addHook('onResponse', async (req, reply) => {
    req.log.info({ method: req.method, route: req.routeOptions.url, status: reply.statusCode, ms: Math.round(reply.elapsedTime) }, 'dashboard request');
  });

  app.setNotFoundHandler((req, reply) => refuse(req, reply, 404, 'TIPHUB_DASHBOARD_NOT_FOUND', stringsFor(req.operatorSession?.operator.language).notFound));

  app.setErrorHandler((err: FastifyError, req, reply) => {
    if (err.validation) return refuse(req, reply, 400, 'TIPHUB_DASHBOARD_INVALID', err.message);
    const r = refusalOf(err);
    if (r) return refuse(req, reply, r.status, r.code, r.message);
    if (typeof err.statusCode === 'number' && err.statusCode >= 400 && err.statusCode < 500) {
      // Fastify's own refusals (a body too large, a bad media type) answer with one of our codes, not its FST_ERR_*.
      const code = typeof err.code === 'string' && err.code.startsWith('TIPHUB_') ? err.code : 'TIPHUB_DASHBOARD_INVALID';
      return refuse(req, reply, err.statusCode, code, 'the request was refused');
    }
    req.log.error({ err }, 'dashboard request failed');
    return refuse(req, reply, 500, 'TIPHUB_DASHBOARD_FAILED', stringsFor(req.operatorSession?.operator.language).error);
  });

  await app.register(formbody, { bodyLimit: 256 * 1024 });
  await app.register(caselogPlugin, { db: o.db });
  await app.register(securityHeaders);
  await app.register(caseChanges, { announce: o.announceCases });
  await app.register(authPlugin, { secureCookies: o.secureCookies, trustedOrigins: o.trustedOrigins, idleMs: o.sessionIdleMs });
  // Before the routes: it documents every route registered after it (the /api ones, see openapi.ts).
  await app.register(swagger, openapiOptions);
  await app.register(staticRoutes);
  await app.register(eventsRoutes, { caseUpdates: o.caseUpdates, coalesceMs: o.liveCoalesceMs, heartbeatMs: o.liveHeartbeatMs });
  await app.register(loginRoutes, { requireTotp: o.requireTotp, clientFailures: o.loginFailuresPerClient, absoluteMs: o.sessionAbsoluteMs });
  await app.register(listPageRoutes);
  await app.register(casePageRoutes, { relayOutbox: o.relayOutbox, cannedReplies: o.cannedReplies, rulesDir: o.rulesDir, mediaRoot: o.mediaRoot });
  await app.register(apiRoutes, { relayOutbox: o.relayOutbox });
  await app.register(bulkRoutes);
  await app.register(overviewRoutes, { queueDepth: o.queueDepth, rulesDir: o.rulesDir });
  await app.register(adminRoutes);
  await app.register(channelsRoutes, o.channelStates ? { channelStates: o.channelStates } : {});
  await app.register(mediaRoutes, { mediaRoot: o.mediaRoot });
  await app.register(recordsRoutes, { mediaRoot: o.mediaRoot });
  await app.register(settingsRoutes);
  await app.register(openapiRoutes);
  if (o.queueBoard) await app.register(queuesRoutes, o.queueBoard);
  await app.register(quarantineRoutes, o.quarantine ? { quarantine: o.quarantine } : {});

  return app;
}
