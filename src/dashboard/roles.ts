/**
 * What each role may do, checked on the server route by route (issue 11, item 4). An analyst reads
 * and annotates and moves a case up to escalated; a supervisor also closes (and reopens), assigns
 * sets priority, replies to informants, merges or splits cases, blocks informants and exports; an
 * admin also manages operators and sessions, reads the audit trail and the API's description.
 */
import type { OperatorRole } from '../operators/accounts';

export const PERMISSIONS = ['read', 'note', 'tag', 'status', 'close', 'assign', 'priority', 'reply', 'merge', 'block', 'export', 'operators'] as const;
export type Permission = (typeof PERMISSIONS)[number];

const ANALYST: readonly Permission[] = ['read', 'note', 'tag', 'status'];
const SUPERVISOR: readonly Permission[] = [...ANALYST, 'close', 'assign', 'priority', 'reply', 'merge', 'block', 'export'];
const ADMIN: readonly Permission[] = [...SUPERVISOR, 'operators'];

export const ROLE_PERMISSIONS = {
  analyst: new Set(ANALYST),
  supervisor: new Set(SUPERVISOR),
  admin: new Set(ADMIN),
} satisfies Record<OperatorRole, ReadonlySet<Permission>>;

export function can(role: OperatorRole, permission: Permission): boolean {
  return ROLE_PERMISSIONS[role]?.has(permission) ?? false;
}
