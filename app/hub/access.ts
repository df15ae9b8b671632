/**
 * How a command reaches the case log: PostgreSQL directly; the embedded PGlite folder under its
 * lock when no hub holds it; else through the running hub's control socket.
 */
import * as path from 'node:path';
import type { Config } from '../../src/config';
import type { Keyring } from '../../src/crypto/keyring';
import { TiphubError } from '../../src/errors';
import type { Logger } from '../../src/log';
import { isHeld, tryLock, type LockInfo } from '../../src/caselog/lock';
import { keyringFor, openCaseLogHere, type OpenCaseLog } from '../../src/caselog/open';
import { callHub, RemoteCaseLogService, type HubHello } from './control';
import { LocalCaseLogService, type CaseLogService } from './service';

export interface CaseLogAccess {
  readonly service: CaseLogService;
  readonly keyring: Keyring;
  /** Set when this process opened the case log (it may run workers on it). */
  readonly local: OpenCaseLog | null;
  /** The running hub's Redis, when the case log is reached through the hub. */
  readonly hubRedis: string | null;
  close(): Promise<void>;
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

export async function openCaseLogAccess(
  cfg: Readonly<Config>,
  log: Logger,
  opts: { role: string; schema?: string; poolSize?: number; allowHub?: boolean; exclusive?: boolean } = { role: 'command' },
): Promise<CaseLogAccess> {
  const local = (c: OpenCaseLog): CaseLogAccess => ({
    service: new LocalCaseLogService(c.db, null, c.keyring, { mediaRoot: path.join(cfg.dataDir, 'media') }),
    keyring: c.keyring,
    local: c,
    hubRedis: null,
    close: () => c.close(),
  });
  if (cfg.databaseUrl) return local(await openCaseLogHere(cfg, { log, schema: opts.schema, poolSize: opts.poolSize, exclusive: opts.exclusive }));
  if (opts.exclusive && opts.allowHub !== false) throw new Error('an exclusive opening never goes through the hub');

  const deadline = Date.now() + cfg.hub.lockWaitMs;
  let holder: LockInfo | null;
  for (;;) {
    const l = tryLock(cfg.dataDir, opts.role);
    if (isHeld(l)) return local(await openCaseLogHere(cfg, { log, lock: l }));
    holder = l;
    if (opts.allowHub !== false) {
      try {
        const hello = await callHub<HubHello>(cfg.dataDir, 'hello');
        log.debug({ hubPid: hello.pid }, 'case log reached through the running hub');
        if (!hello.keys) throw new TiphubError('TIPHUB_HUB_PROTOCOL', 'the running hub did not send the case log’s key set (an older tiphub?)');
        return {
          service: new RemoteCaseLogService(cfg.dataDir, hello),
          // The hub sends the key set sealed: only a caller with the secret opens it.
          keyring: keyringFor(cfg, hello.keyCheck, false).withStoredKeys(hello.keys),
          local: null,
          hubRedis: hello.redis,
          close: async () => undefined,
        };
      } catch (err) {
        if (!(err instanceof TiphubError) || err.code !== 'TIPHUB_HUB_UNAVAILABLE') throw err;
      }
    }
    if (Date.now() > deadline) break;
    await sleep(200);
  }
  throw new TiphubError(
    'TIPHUB_CASELOG_LOCKED',
    `the embedded case log is in use by pid ${holder?.pid} (${holder?.role})` +
      (opts.allowHub === false ? '; stop it first (the embedded case log is single-process)' : ', which offers no control socket; try again when it ends'),
  );
}
