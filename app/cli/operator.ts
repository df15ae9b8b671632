/**
 * `tiphub operator add|list|disable|enable|reset`: operator accounts for the dashboard, on the case
 * log opened here or through the running hub. The command line acts with admin rights (whoever
 * runs it can read the secret); `--as NAME` records an operator as the one who acted.
 */
import * as os from 'node:os';
import type { Command } from 'commander';
import type { Config } from '../../src/config';
import type { Logger } from '../../src/log';
import { openCaseLogAccess } from '../hub/access';
import { RemoteOperatorService } from '../hub/operator-ops';
import { checkOperatorRole, OPERATOR_ROLES, type NewCredentials, type OperatorListing, type OperatorRole } from '../../src/operators/accounts';
import { LocalOperatorService, type OperatorService } from '../../src/operators/service';

export interface OperatorAccess {
  readonly ops: OperatorService;
  close(): Promise<void>;
}

/** The accounts on the case log: here when this process can open it, else in the running hub. */
export async function openOperatorService(cfg: Readonly<Config>, log: Logger): Promise<OperatorAccess> {
  const access = await openCaseLogAccess(cfg, log, { role: 'operator' });
  return {
    ops: access.local ? new LocalOperatorService(access.local.db) : new RemoteOperatorService(cfg.dataDir),
    close: () => access.close(),
  };
}

export interface OperatorOutput {
  write(text: string): unknown;
}

function localActor(): string {
  let user = 'unknown';
  try {
    user = os.userInfo().username || user;
  } catch {
    /* no passwd entry (a container with an arbitrary uid) */
  }
  return `local:${user.replace(/\s/g, '_').slice(0, 64)}`;
}

const roleOption = (r: string | undefined): OperatorRole | undefined => (r === undefined ? undefined : checkOperatorRole(r));

function credentials(c: NewCredentials, what: string): string {
  return (
    `${what} ${c.name} (${c.role}).\n` +
    `one-time password: ${c.password}\n` +
    `It is shown only now. At the first login ${c.name} sets a new password and enrols the second factor (an authenticator app).\n`
  );
}

/** The listing as a table (times in UTC, to the minute). */
export function formatOperatorList(rows: readonly OperatorListing[]): string {
  if (!rows.length) return 'no operators yet: add one with `tiphub operator add NAME`\n';
  const minute = (t: string | null) => (t ? t.slice(0, 16).replace('T', ' ') : '-');
  const table = [
    ['NAME', 'ROLE', 'STATE', '2FA', 'LAST LOGIN', 'CREATED'],
    ...rows.map((r) => [
      r.name,
      r.role,
      !r.enabled ? 'disabled' : r.lockedUntil ? `locked until ${minute(r.lockedUntil)}` : r.mustChangePassword ? 'new password due' : 'enabled',
      r.totpEnrolled ? 'yes' : 'no',
      minute(r.lastLogin),
      minute(r.createdAt),
    ]),
  ];
  const widths = table[0]!.map((_, i) => Math.max(...table.map((row) => row[i]!.length)));
  return table.map((row) => row.map((cell, i) => (i === row.length - 1 ? cell : cell.padEnd(widths[i]!))).join('  ')).join('\n') + '\n';
}

export function registerOperatorCommands(program: Command, open: () => Promise<OperatorAccess>, out: OperatorOutput = process.stdout): Command {
  const run = async (fn: (ops: OperatorService) => Promise<void>) => {
    const access = await open();
    try {
      await fn(access.ops);
    } finally {
      await access.close();
    }
  };
  const actorOf = (o: { as?: string }) => o.as ?? localActor();
  const roles = OPERATOR_ROLES.join('|');

  const operator = program.command('operator').description('operator accounts for the dashboard (the command line acts as an admin)');
  operator
    .command('add')
    .description('add an operator and print a one-time password; the first login sets a new password and enrols the second factor')
    .argument('<name>', 'letters, digits, dots, dashes, underscores (up to 64)')
    .option('--role <role>', `${roles} (default: admin for the first operator, else analyst)`)
    .option('--as <name>', 'the operator recorded as having done this (default: local:<your user name>)')
    .action(async (name: string, o: { role?: string; as?: string }) => {
      const role = roleOption(o.role);
      await run(async (ops) => {
        out.write(credentials(await ops.add(name, role, actorOf(o)), 'added operator'));
      });
    });
  operator
    .command('list')
    .description('the operators: role, state, second factor, last login')
    .option('--json', 'one JSON object per line')
    .action(async (o: { json?: boolean }) => {
      await run(async (ops) => {
        const rows = await ops.list();
        out.write(o.json ? rows.map((r) => JSON.stringify(r) + '\n').join('') : formatOperatorList(rows));
      });
    });
  operator
    .command('disable')
    .description('disable an operator; their sessions end at once')
    .argument('<name>')
    .option('--as <name>', 'the operator recorded as having done this')
    .action(async (name: string, o: { as?: string }) => {
      await run(async (ops) => {
        const r = await ops.disable(name, actorOf(o));
        out.write(`${r.changed ? 'disabled' : 'already disabled:'} ${r.name}; ${r.sessionsRevoked} session(s) ended\n`);
      });
    });
  operator
    .command('enable')
    .description('enable a disabled operator again')
    .argument('<name>')
    .option('--as <name>', 'the operator recorded as having done this')
    .action(async (name: string, o: { as?: string }) => {
      await run(async (ops) => {
        const r = await ops.enable(name, actorOf(o));
        out.write(`${r.changed ? 'enabled' : 'already enabled:'} ${r.name}\n`);
      });
    });
  operator
    .command('reset')
    .description('a new one-time password; the second factor is enrolled again, sessions end, a lock is lifted')
    .argument('<name>')
    .option('--role <role>', `change the role too (${roles})`)
    .option('--as <name>', 'the operator recorded as having done this')
    .action(async (name: string, o: { role?: string; as?: string }) => {
      const role = roleOption(o.role);
      await run(async (ops) => {
        const r = await ops.reset(name, role, actorOf(o));
        out.write(credentials(r, 'reset operator'));
        out.write(`${r.sessionsRevoked} session(s) ended.\n`);
      });
    });
  return operator;
}
