/**
 * `tiphub alerts key`: the key a webhook receiver checks X-Tiphub-Signature with, when
 * alerts.secret is not set (then it is derived from the hub's secret, and only the hub can say
 * it). Printed on stdout alone, for a receiver's secret store; never logged.
 */
import type { Command } from 'commander';
import type { Config } from '../config';
import type { Logger } from '../../src/log';
import { alertsKey } from '../../src/alerts';
import { openCaseLogAccess } from '../hub/access';

export function registerAlertsCommands(program: Command, context: () => { cfg: Readonly<Config>; log: Logger }): void {
  const alerts = program.command('alerts').description('alerts posted to alerts.webhookUrl (new high-priority cases, channels down and back)');
  alerts
    .command('key')
    .description('print the key (hex) that signs each alert (X-Tiphub-Signature: sha256=HMAC-SHA256(key, body)); alerts.secret as bytes when set')
    .action(async () => {
      const { cfg, log } = context();
      if (cfg.alerts.secret) {
        process.stdout.write(`${Buffer.from(cfg.alerts.secret, 'utf8').toString('hex')}\n`);
        return;
      }
      const access = await openCaseLogAccess(cfg, log, { role: 'alerts key' });
      try {
        process.stdout.write(`${alertsKey(cfg, access.keyring).toString('hex')}\n`);
      } finally {
        await access.close();
      }
    });
}
