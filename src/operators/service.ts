/**
 * The account management the command line offers (and the dashboard's admin pages will): one
 * interface, run here on an open case log, or in the running hub through its control socket.
 */
import type { Db } from '../caselog/db';
import {
  addOperator,
  disableOperator,
  enableOperator,
  listOperators,
  resetOperator,
  type NewCredentials,
  type OperatorListing,
  type OperatorRole,
} from './accounts';

export interface OperatorService {
  add(name: string, role: OperatorRole | undefined, actor: string): Promise<NewCredentials>;
  list(): Promise<OperatorListing[]>;
  disable(name: string, actor: string): Promise<{ name: string; sessionsRevoked: number; changed: boolean }>;
  enable(name: string, actor: string): Promise<{ name: string; changed: boolean }>;
  reset(name: string, role: OperatorRole | undefined, actor: string): Promise<NewCredentials & { sessionsRevoked: number }>;
}

export class LocalOperatorService implements OperatorService {
  constructor(private readonly db: Db) {}

  add(name: string, role: OperatorRole | undefined, actor: string) {
    return addOperator(this.db, name, role, { actor });
  }
  list() {
    return listOperators(this.db);
  }
  disable(name: string, actor: string) {
    return disableOperator(this.db, name, { actor });
  }
  enable(name: string, actor: string) {
    return enableOperator(this.db, name, { actor });
  }
  reset(name: string, role: OperatorRole | undefined, actor: string) {
    return resetOperator(this.db, name, role, { actor });
  }
}
