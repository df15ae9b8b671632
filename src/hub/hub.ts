/**
 * `tiphub start`: the whole hub in one process. Case log (embedded PGlite under its lock, or
 * PostgreSQL), Redis, the intake worker, the configured adapters, and, on the embedded case log,
 * the control socket through which other commands reach it.
 */
import type { Config } from '../config';
import type { Logger } from '../log';
import { adapters } from '../../adapters/registry';
import type { ChannelAdapter } from '../contracts/channel-adapter';
import { createIntakeQueue, createIntakeSink } from '../queue/intake-queue';
import { startIntakeWorker, type RunningIntakeWorker } from '../../workers/intake/worker';
import { openCaseLogAccess } from './access';
import { caseLogOps, startControlServer } from './control';
import { provideRedis } from './redis-provision';

export interface RunningHub {
  readonly redis: string;
  stop(): Promise<void>;
}

export async function startHub(cfg: Readonly<Config>, log: Logger, opts: { workers?: boolean; adapters?: boolean; schema?: string } = {}): Promise<RunningHub> {
  const stack: (() => Promise<void>)[] = [];
  const stop = async () => {
    while (stack.length) await stack.pop()!().catch((err) => log.error({ err }, 'error while stopping'));
  };
  try {
    const access = await openCaseLogAccess(cfg, log, { role: 'hub', allowHub: false, schema: opts.schema });
    stack.push(() => access.close());
    const caselog = access.local!;
    const redis = await provideRedis(cfg, log);
    stack.push(() => redis.stop());

    let worker: RunningIntakeWorker | null = null;
    if (opts.workers !== false) {
      worker = startIntakeWorker({ cfg, redis: redis.target, caselog, log });
      stack.push(() => worker!.close());
    }

    const queue = createIntakeQueue(redis.target, cfg);
    stack.push(() => queue.close());
    let stopping = false;
    const sink = createIntakeSink(queue, caselog.keyring, log, { stopped: () => stopping });
    if (opts.adapters !== false) {
      for (const [channel, factory] of Object.entries(adapters)) {
        const adapter: ChannelAdapter = factory({ keyring: caselog.keyring, log: log.child({ channel }), account: cfg.channels.simulator.account });
        await adapter.start(sink);
        stack.push(async () => {
          stopping = true;
          await adapter.stop();
        });
      }
    }

    if (caselog.db.backend === 'pglite') {
      const control = await startControlServer(
        cfg.dataDir,
        caseLogOps(access.service, () => ({ pid: process.pid, backend: caselog.db.backend, redis: redis.target, keyCheck: caselog.keyring.checkValue })),
        log,
      );
      stack.push(() => control.close());
    }
    log.info({ backend: caselog.db.backend, redis: redis.private ? 'private' : 'shared', workers: !!worker }, 'hub ready');
    return { redis: redis.target, stop };
  } catch (err) {
    await stop();
    throw err;
  }
}
