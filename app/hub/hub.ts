/**
 * `tiphub start`: the whole hub in one process. Case log (embedded PGlite under its lock, or
 * PostgreSQL), Redis, the intake worker, the configured adapters with their outbound workers, and
 * the control socket through which other commands (ingest, export, verify, reply, chat…) reach it.
 */
import * as path from 'node:path';
import { operatorOps } from './operator-ops';
import { serveDashboard } from '../../src/dashboard/serve';
import type { Config } from '../../src/config';
import type { Logger } from '../../src/log';
import { channelModule, createChannel, enabledChannels, type ChannelName, type SimulatorAdapter } from '../../adapters/registry';
import { addQuarantine, purgeQuarantine } from '../../src/caselog/quarantine';
import type { ChannelAdapter, InboundSink } from '../../src/contracts/channel-adapter';
import { noteChannelMessage } from '../../src/channels/state';
import { loadTexts } from '../../src/conversation/texts';
import { taggingRulesFor } from '../../workers/intake/worker';
import { createIntakeQueue, createIntakeSink, intakeJobId } from '../../src/queue/intake-queue';
import { OutboxRelay } from '../../src/queue/outbound-queue';
import { recordChannelEvent } from '../../src/caselog/channel-events';
import { connectRedis } from '../../src/queue/redis';
import { startIntakeWorker } from '../../workers/intake/worker';
import { startOutboundWorker } from '../../workers/outbound/worker';
import { startMediaWorker } from '../../workers/media/worker';
import { openCaseLogAccess } from './access';
import { caseLogOps, startControlServer, type OpHandler } from './control';
import { provideRedis } from './redis-provision';
import { startHubOps } from './ops';
import { LocalCaseLogService } from './service';
import { startProcessStats } from './process-stats';
import { startAlerts } from '../../src/alerts';
import { dashboardQuarantine } from './quarantine-retry';

export interface RunningHub {
  readonly redis: string;
  readonly adapters: ReadonlyMap<ChannelName, ChannelAdapter>;
  /** Where the operators' dashboard answers; null when this process serves none. */
  readonly dashboardUrl: string | null;
  /** Where /metrics, /healthz and /readyz answer (app/hub/ops.ts); null when ops.enabled is false. */
  readonly opsUrl: string | null;
  stop(): Promise<void>;
}

export async function startHub(
  cfg: Readonly<Config>,
  log: Logger,
  /** `signal`: a stop asked for during the start (SIGTERM while Redis is waited for) ends it with TIPHUB_START_STOPPED, everything opened closed. */
  opts: { workers?: boolean; adapters?: boolean; channels?: ChannelName[]; signal?: AbortSignal } = {},
): Promise<RunningHub> {
  const stack: (() => Promise<void>)[] = [];
  let dashboardUrl: string | null = null;
  const stop = async () => {
    while (stack.length) await stack.pop()!().catch((err) => log.error({ err }, 'error while stopping'));
  };
  try {
    if (cfg.hub.statsLogSeconds !== null) stack.push(startProcessStats(log, cfg.hub.statsLogSeconds));
    const texts = loadTexts(); // validated at start: a bad text file stops the hub here
    taggingRulesFor(cfg); // and so does a bad rules file (tags, places, priority)
    const access = await openCaseLogAccess(cfg, log, { role: 'hub', allowHub: false });
    stack.push(() => access.close());
    const caselog = access.local!;
    const redis = await provideRedis(cfg, log, { wait: true, signal: opts.signal }); // a Redis that is down (restarting) is waited for
    stack.push(() => redis.stop());
    // One outbox relay for the whole process (intake, media steps, operator actions, dashboard);
    // closed after everything that uses it has stopped.
    const relay = new OutboxRelay(redis.target, cfg, caselog.keyring, caselog.instance);
    stack.push(() => relay.close());
    // The channels this process runs: /readyz waits for each to be connected.
    const receivers = opts.adapters !== false ? enabledChannels(cfg).filter((c) => !opts.channels || opts.channels.includes(c)) : [];
    const operations = await startHubOps(cfg, log, { redis: redis.target, db: caselog.db, receivers });
    stack.push(() => operations.close());
    const metrics = operations.metrics;

    // Alerts (alerts.webhookUrl): channel transitions wherever channels run, posting where the workers are.
    const alerts = startAlerts({ cfg, redis: redis.target, log, keyring: caselog.keyring, instance: caselog.instance, db: opts.workers !== false ? caselog.db : null, send: opts.workers !== false });
    if (alerts) stack.push(() => alerts.close());

    if (opts.workers !== false) {
      const worker = startIntakeWorker({ cfg, redis: redis.target, caselog, log, relay, alerts: alerts?.cases, metrics });
      stack.push(() => worker.close());
    }

    // Quarantine retention (issue 10, item 16): at start and hourly, in the processes that write
    // the case log (the hub, `tiphub worker`), not in adapter-only ones. Counts only are logged.
    const quarantineDays = cfg.retention.quarantineDays;
    if (opts.workers !== false && quarantineDays !== null) {
      const purge = () =>
        purgeQuarantine(caselog.db, quarantineDays).then(
          (n) => (n ? log.info({ deleted: n, olderThanDays: quarantineDays }, 'quarantine purged') : undefined),
          (err: unknown) => log.warn({ err }, 'quarantine purge failed'),
        );
      await purge();
      const timer = setInterval(() => void purge(), 60 * 60 * 1000);
      timer.unref();
      stack.push(async () => clearInterval(timer));
    }

    const queue = createIntakeQueue(redis.target, cfg);
    const counters = connectRedis(redis.target);
    stack.push(async () => {
      await queue.close();
      counters.disconnect();
    });
    let stopping = false;
    const sink = createIntakeSink(queue, caselog.keyring, log, {
      stopped: () => stopping,
      flood: cfg.conversation.enabled ? { counters, perMinute: cfg.conversation.floodPerMinute, prefix: cfg.queue.prefix } : undefined,
    });
    const running = new Map<ChannelName, ChannelAdapter>();
    // The sink each channel gets: the shared one, and the time of its last message for `tiphub status` (once a second at most).
    const noting = (channel: ChannelName): InboundSink => {
      let noted = 0;
      return async (m, meta) => {
        const done = await sink(m, meta);
        metrics.received(channel);
        if (Date.now() - noted >= 1000) {
          noted = Date.now();
          void noteChannelMessage(counters, cfg.queue.prefix, channel).catch(() => undefined);
        }
        return done;
      };
    };
    if (opts.adapters !== false) {
      for (const channel of receivers) {
        const adapter: ChannelAdapter = createChannel(channel, {
          keyring: caselog.keyring,
          log: log.child({ channel }),
          cfg,
          redis: redis.target,
          quarantine: (entry) => addQuarantine(caselog.db, [entry]),
          record: (name, e) => recordChannelEvent(caselog.db, caselog.keyring, name, e, { conversation: cfg.conversation.enabled }),
          onStateWritten: alerts ? (name) => alerts.channels.afterWrite(name) : undefined,
        });
        try {
          await adapter.start(noting(channel));
        } catch (err) {
          // One channel that cannot start (a rejected token) does not stop the others; its ports
          // are closed and `tiphub status` says it did not start (adapters/registry.ts).
          log.error({ err, channel }, 'channel not started');
          continue;
        }
        running.set(channel, adapter);
        stack.push(async () => {
          stopping = true;
          await adapter.stop();
        });
        if (adapter.openMedia) {
          const media = startMediaWorker({
            cfg, redis: redis.target, db: caselog.db, keyring: caselog.keyring, adapter, log,
            relay: cfg.conversation.enabled ? relay : null,
            metrics,
            maxBytes: (channelModule(channel).limits.mediaMaxBytes as (s: unknown) => number)(cfg.channels[channel]!.settings),
          });
          stack.push(() => media.close());
        }
        if (cfg.conversation.enabled) {
          const out = startOutboundWorker({ cfg, redis: redis.target, db: caselog.db, keyring: caselog.keyring, adapter, texts, log, metrics });
          stack.push(() => out.close());
        }
      }
    }

    const service = new LocalCaseLogService(caselog.db, relay, caselog.keyring, {
      mediaRoot: path.join(cfg.dataDir, 'media'),
      // A purged report's intake job record (kept a while after completion) goes too.
      onPurged: async (ids) => {
        for (const id of ids) await queue.remove(intakeJobId(id)).catch(() => 0);
      },
    });

    // Case retention (issue 10, item 17): where the workers run, at start and hourly. Several
    // processes purging at once is harmless: each case is re-checked under its row lock.
    const closedDays = cfg.retention.closedCaseDays;
    if (opts.workers !== false && closedDays !== null) {
      const purge = () =>
        service.purgeCases(closedDays, 'retention').then(
          (r) => (r.cases ? log.info({ cases: r.cases, reports: r.reports, media: r.media, olderThanDays: closedDays }, 'closed cases purged') : undefined),
          (err: unknown) => log.warn({ err }, 'case purge failed'),
        );
      await purge();
      const timer = setInterval(() => void purge(), 60 * 60 * 1000);
      timer.unref();
      stack.push(async () => clearInterval(timer));
    }
    const ops: Record<string, OpHandler> = {
      ...caseLogOps(service, () => ({ pid: process.pid, backend: caselog.db.backend, redis: redis.target, keyCheck: caselog.keyring.checkValue, keys: caselog.keyring.sealKeySet() })),
      ...operatorOps(caselog.db),
      chat: async (a, emit, input) => {
        const sim = running.get('simulator') as SimulatorAdapter | undefined;
        if (!sim) throw new Error('the simulator channel is not running in this hub');
        const address = String(a.address);
        const name = typeof a.name === 'string' ? a.name : null;
        const disconnect = sim.connect(address, (m) => emit(JSON.stringify({ text: m.text, replyTo: m.replyTo })));
        try {
          await emit(JSON.stringify({ connected: true, pseudonym: caselog.keyring.pseudonym('simulator', address) }));
          for await (const line of input) {
            if (typeof line.text === 'string' && line.text.trim()) await sim.receive({ from: address, name, text: line.text });
          }
        } finally {
          disconnect();
        }
        return null;
      },
    };
    if (opts.adapters !== false && !opts.channels) {
      // One control socket per data directory: the hub's (a `tiphub worker` or `adapter` beside it has none).
      const control = await startControlServer(cfg.dataDir, ops, log);
      stack.push(() => control.close());
      if (cfg.dashboard.enabled) {
        const dashboard = await serveDashboard(cfg, caselog.db, log, {
          relayOutbox: (ids) => relay.relay(caselog.db, ids).then(() => undefined),
          redis: redis.target,
          quarantine: dashboardQuarantine(cfg, caselog.keyring, service, redis.target),
        });
        stack.push(() => dashboard.close());
        dashboardUrl = dashboard.url;
      }
    }
    log.info({ backend: caselog.db.backend, redis: redis.private ? 'private' : 'shared', dashboard: dashboardUrl, ops: operations.url, channels: [...running.keys()] }, 'hub ready');
    return { redis: redis.target, adapters: running, dashboardUrl, opsUrl: operations.url, stop };
  } catch (err) {
    await stop();
    throw err;
  }
}
