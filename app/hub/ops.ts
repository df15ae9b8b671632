/**
 * The operations listener of a hub process (`tiphub start`, `worker`, `adapter`): `/metrics` for
 * Prometheus, `/healthz` (the process is alive: 200) and `/readyz` (200 only when Redis and the
 * case log answer and each receiver this process runs is connected; else 503 with a JSON body
 * naming the part that is not ready). Plain node:http: three routes need no framework, and the
 * listener stays up while the rest of the process is degraded. Nothing identifying is served.
 */
import * as http from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Config } from '../../src/config';
import { TiphubError } from '../../src/errors';
import type { Logger } from '../../src/log';
import { createHubMetrics, NO_METRICS, type HubMetrics, type PipelineMetrics } from '../../src/metrics';
import type { Db } from '../../src/caselog/db';
import { readChannelStates } from '../../src/channels/state';
import { overviewQueueNames, queueDepthReader } from '../../src/dashboard/overview';
import { connectRedis, redisAnswers, type RedisTarget } from '../../src/queue/redis';

/** One part's answer: `ok`, or a short reason of a fixed list. */
export type Readiness = 'ok' | string;

export interface ReadinessChecks {
  readonly redis: () => Promise<boolean>;
  /** Null: this process has no case log of its own. */
  readonly caselog: (() => Promise<boolean>) | null;
  /** Each receiver this process runs (or tried to start): its state, `connected` when ready. */
  readonly receivers: () => Promise<Record<string, string>>;
}

export interface OpsListener {
  readonly url: string;
  close(): Promise<void>;
}

/** A check that does not answer within this time counts as not answering. */
export const CHECK_TIMEOUT_MS = 2000;

function within<T>(p: Promise<T>, fallback: T, ms = CHECK_TIMEOUT_MS): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  return Promise.race([p.catch(() => fallback), new Promise<T>((r) => (timer = setTimeout(() => r(fallback), ms)))]).finally(() => clearTimeout(timer));
}

/** What /readyz answers: every part's state, and whether all are ready. */
export async function readiness(checks: ReadinessChecks): Promise<{ ready: boolean; redis: Readiness; caselog: Readiness; channels: Record<string, Readiness> }> {
  const [redis, caselog, receivers] = await Promise.all([
    within(checks.redis(), false),
    checks.caselog ? within(checks.caselog(), false) : Promise.resolve(null),
    within(checks.receivers(), null),
  ]);
  const channels: Record<string, Readiness> = {};
  for (const [c, s] of Object.entries(receivers ?? {})) channels[c] = s === 'connected' ? 'ok' : s;
  const r = {
    redis: redis ? 'ok' : 'not answering',
    caselog: caselog === null ? 'ok' : caselog ? 'ok' : 'not answering',
    channels: receivers ? channels : { '*': 'unknown (Redis did not answer)' },
  };
  return { ready: r.redis === 'ok' && r.caselog === 'ok' && Object.values(r.channels).every((v) => v === 'ok'), ...r };
}

export async function startOpsListener(cfg: Readonly<Config>, log: Logger, metrics: HubMetrics, checks: ReadinessChecks): Promise<OpsListener> {
  const { host, port } = cfg.ops.listen;
  const server = http.createServer((req, res) => {
    const send = (status: number, type: string, body: string) => {
      res.writeHead(status, { 'content-type': type, 'cache-control': 'no-store' });
      res.end(req.method === 'HEAD' ? undefined : body);
    };
    if (req.method !== 'GET' && req.method !== 'HEAD') return send(405, 'text/plain', 'GET only\n');
    const route = (req.url ?? '/').split('?')[0];
    if (route === '/healthz') return send(200, 'text/plain', 'ok\n');
    if (route === '/metrics') {
      metrics.text().then(
        (text) => send(200, metrics.contentType, text),
        () => send(500, 'text/plain', 'metrics could not be collected\n'),
      );
      return;
    }
    if (route === '/readyz') {
      void readiness(checks).then((r) => send(r.ready ? 200 : 503, 'application/json', JSON.stringify(r) + '\n'));
      return;
    }
    send(404, 'text/plain', 'not found: /metrics, /healthz, /readyz\n');
  });
  // A scraper that keeps its connection open must not hold the process at stop.
  server.keepAliveTimeout = 5000;
  try {
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(port, host, () => resolve());
    });
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    throw new TiphubError(
      'TIPHUB_CONFIG_INVALID',
      code === 'EADDRINUSE'
        ? `the operations listener cannot listen on ${host}:${port}: the port is taken (another tiphub process on this host? give each its own: TIPHUB_OPS_LISTEN=host:port or ops.listen, or ops.enabled: false)`
        : `the operations listener cannot listen on ${host}:${port} (${code ?? 'error'})`,
    );
  }
  const a = server.address() as AddressInfo;
  const url = `http://${a.family === 'IPv6' ? `[${a.address}]` : a.address}:${a.port}/`;
  log.info({ url }, 'operations listener ready');
  return {
    url,
    close: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      }),
  };
}

export interface HubOps {
  /** What the workers and the sink count (counts nothing when the listener is off). */
  readonly metrics: PipelineMetrics;
  /** Where the listener answers; null when `ops.enabled` is false. */
  readonly url: string | null;
  close(): Promise<void>;
}

/**
 * The metrics and the listener of one hub process: queue depths over a connection of their own,
 * the state of the channels it runs from Redis, open cases and the data directory's disk.
 */
export async function startHubOps(
  cfg: Readonly<Config>,
  log: Logger,
  parts: { readonly redis: RedisTarget; readonly db: Db; readonly receivers: readonly string[] },
): Promise<HubOps> {
  if (!cfg.ops.enabled) return { metrics: NO_METRICS, url: null, close: async () => undefined };
  const names = Object.keys(cfg.channels);
  const depth = queueDepthReader(parts.redis, cfg.queue.prefix, overviewQueueNames(names));
  const states = connectRedis(parts.redis);
  const closeReaders = async () => {
    await depth.close();
    await states.quit().catch(() => states.disconnect());
  };
  const receiverStates = async () => {
    const read = await readChannelStates(states, cfg.queue.prefix, parts.receivers);
    return Object.fromEntries(read.map((s) => [s.channel, s.stale ? 'not running' : (s.state ?? 'not started')]));
  };
  const metrics = createHubMetrics(names, {
    queues: depth.read,
    channels: async () => Object.entries(await receiverStates()).map(([channel, state]) => ({ channel, connected: state === 'connected' })),
    openCases: async () =>
      Number((await parts.db.query<{ n: number }>(`SELECT count(*)::int AS n FROM cases c WHERE c.status <> 'closed' AND c.merged_into IS NULL`)).rows[0]!.n),
    dataDir: cfg.dataDir,
  });
  let listener: OpsListener;
  try {
    listener = await startOpsListener(cfg, log, metrics, {
      redis: () => redisAnswers(parts.redis, CHECK_TIMEOUT_MS),
      caselog: async () => (await parts.db.query('SELECT 1')).rows.length === 1,
      receivers: receiverStates,
    });
  } catch (err) {
    await closeReaders();
    // The default port taken (`tiphub start` and a `tiphub worker` on one host, neither told its
    // own): this process goes on without a listener rather than not at all.
    if (cfg.opsListenChosen === false && (err as { code?: string }).code === 'TIPHUB_CONFIG_INVALID' && /port is taken/.test((err as Error).message)) {
      log.warn(
        { listen: `${cfg.ops.listen.host}:${cfg.ops.listen.port}` },
        'operations listener not started: the default port is taken by another process; give this one its own with TIPHUB_OPS_LISTEN=host:port',
      );
      return { metrics: NO_METRICS, url: null, close: async () => undefined };
    }
    throw err;
  }
  return {
    metrics: metrics.pipeline,
    url: listener.url,
    async close() {
      await listener.close();
      await closeReaders();
    },
  };
}
