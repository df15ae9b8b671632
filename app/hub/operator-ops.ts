/**
 * Operator accounts through the running hub (the embedded case log is single-process): the hub's
 * handlers, and the client the command line uses when the hub holds the case log.
 */
import type { Db } from '../../src/caselog/db';
import { checkOperatorRole, type NewCredentials, type OperatorListing, type OperatorRole } from '../../src/operators/accounts';
import { LocalOperatorService, type OperatorService } from '../../src/operators/service';
import { callHub, type OpHandler } from './control';

const optionalRole = (r: unknown): OperatorRole | undefined => (r === undefined || r === null ? undefined : checkOperatorRole(r));

/** Merged into the hub's operations (app/hub/hub.ts). */
export function operatorOps(db: Db): Record<string, OpHandler> {
  const s = new LocalOperatorService(db);
  return {
    'operator.add': async (a) => s.add(String(a.name), optionalRole(a.role), String(a.actor)),
    'operator.list': async () => s.list(),
    'operator.disable': async (a) => s.disable(String(a.name), String(a.actor)),
    'operator.enable': async (a) => s.enable(String(a.name), String(a.actor)),
    'operator.reset': async (a) => s.reset(String(a.name), optionalRole(a.role), String(a.actor)),
  };
}

export class RemoteOperatorService implements OperatorService {
  constructor(private readonly dataDir: string) {}

  add(name: string, role: OperatorRole | undefined, actor: string) {
    return callHub<NewCredentials>(this.dataDir, 'operator.add', { name, role, actor });
  }
  list() {
    return callHub<OperatorListing[]>(this.dataDir, 'operator.list');
  }
  disable(name: string, actor: string) {
    return callHub<{ name: string; sessionsRevoked: number; changed: boolean }>(this.dataDir, 'operator.disable', { name, actor });
  }
  enable(name: string, actor: string) {
    return callHub<{ name: string; changed: boolean }>(this.dataDir, 'operator.enable', { name, actor });
  }
  reset(name: string, role: OperatorRole | undefined, actor: string) {
    return callHub<NewCredentials & { sessionsRevoked: number }>(this.dataDir, 'operator.reset', { name, role, actor });
  }
}
