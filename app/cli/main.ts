/** The `tiphub` program: one subcommand per role. */
import * as fs from 'node:fs';
import { Command, CommanderError, Option } from 'commander';
import { describeConfig, loadConfig, type Config } from '../config';
import { describeForeignError, isTiphubError, TiphubError } from '../../src/errors';
import type { Logger } from '../../src/log';
import { openCaseLogAccess, type CaseLogAccess } from '../hub/access';
import { startHub } from '../hub/hub';
import { formatVerify } from '../../src/caselog/verify';
import { runIngest } from './ingest';
import { runChat } from './chat';
import { formatStatus, NEEDS_PERSON_HELP, readStatus, useColour } from './status';
import { listenForStop, stopWithin } from './shutdown';
import { runKeysRotate } from './keys';
import { serveDashboard } from '../../src/dashboard/serve';
import { openOperatorService, registerOperatorCommands } from './operator';
import { formatPurgePlan } from '../../src/caselog/purge';
import { loadTexts } from '../../src/conversation/texts';
import { taggingRulesFor } from '../../workers/intake/worker';
import { channelModule, channelNames, enabledChannels, isChannelName } from '../../adapters/registry';
import { linkChannel, terminalQr, watchLogin } from './link';
import type { ChannelModule } from '../../src/contracts/channel-adapter';
import * as os from 'node:os';
import { OutboxRelay } from '../../src/queue/outbound-queue';
import { provideRedis, type ProvidedRedis } from '../hub/redis-provision';
import { LocalCaseLogService, type CaseLogService } from '../hub/service';
import { editorFromEnvironment, MESSAGE_MAX_BYTES, readMessageText } from './text-input';
import { formatQuarantineDetail, formatQuarantineList } from '../../src/caselog/quarantine';
import { CASE_STATUSES, CLOSE_REASONS, formatCaseView, NOTE_MAX_BYTES } from '../../src/caselog/actions';
import { PRIORITIES } from '../../src/tagging/vocabulary';
import { registerAlertsCommands } from './alerts';
import { commandLogger, endedByClosedPipe, guardOutput, progress, waitingWriter } from './output';
import { versionText } from './version';
import { registerBackupCommands } from './backup';
import { registerJobsCommands } from './jobs';
import { dashboardQuarantine, formatRetried, retryQuarantined } from '../hub/quarantine-retry';
import { findRedis } from '../hub/redis-provision';
import { confirmOnTty } from './confirm';

interface Ctx {
  cfg: Readonly<Config>;
  log: Logger;
}

/** The command being run (its first word): it decides which log lines show (app/cli/output.ts). */
let running = '';

function context(program: Command): Ctx {
  const o = program.opts<{ config?: string; logLevel?: string; logFormat?: string }>();
  const cfg = loadConfig({ configPath: o.config });
  return { cfg, log: commandLogger(cfg, running, o) };
}

/**
 * A channel's library may leave a promise unawaited (whatsapp-web.js re-injects itself after a
 * page navigation from a listener nobody awaits): on Node 20 its rejection would end the process
 * and every channel with it. In the long-running commands it is logged (by its kind, never its
 * message, which may quote a platform's text) and the process goes on; the channel's own watchdog
 * restarts what broke.
 */
function keepRunningOnStrayRejections(log: Logger): void {
  process.on('unhandledRejection', (err) => log.error({ cause: describeForeignError(err) }, 'unhandled rejection in a library; kept running'));
}

/**
 * Runs an operator action on the case log: through the hub, or here with a relay of our own. The
 * actor follows the one rule of every case command (withCaseService): `--as NAME`, else the OS
 * user, an enabled operator once any exists.
 */
async function withOperatorService(cfg: Readonly<Config>, log: Logger, as: string | undefined, fn: (s: CaseLogService, actor: string) => Promise<void>): Promise<void> {
  const access = await openCaseLogAccess(cfg, log, { role: 'operator' });
  let relay: OutboxRelay | null = null;
  let redis: ProvidedRedis | null = null;
  try {
    let service = access.service;
    if (access.local) {
      redis = await provideRedis(cfg, log);
      relay = new OutboxRelay(redis.target, cfg, access.keyring, access.local.instance);
      service = new LocalCaseLogService(access.local.db, relay);
    }
    await fn(service, await service.resolveActor(as ?? null, os.userInfo().username));
  } finally {
    await relay?.close();
    await redis?.stop();
    await access.close();
  }
}

/** The quarantine commands' service: the hub's, or the case log opened here with its keys. */
async function withQuarantineService(cfg: Readonly<Config>, log: Logger, fn: (s: CaseLogService, access: CaseLogAccess) => Promise<void>): Promise<void> {
  const access = await openCaseLogAccess(cfg, log, { role: 'quarantine' });
  try {
    await fn(access.local ? new LocalCaseLogService(access.local.db, null, access.local.keyring) : access.service, access);
  } finally {
    await access.close();
  }
}

/**
 * A case action: through the hub, or on the case log opened here (no Redis needed). The actor is
 * resolved first: `--as NAME`, else the OS user, an enabled operator once any exists.
 */
async function withCaseService(cfg: Readonly<Config>, log: Logger, as: string | undefined, fn: (s: CaseLogService, actor: string) => Promise<void>): Promise<void> {
  const access = await openCaseLogAccess(cfg, log, { role: 'operator' });
  try {
    const actor = await access.service.resolveActor(as ?? null, os.userInfo().username);
    await fn(access.service, actor);
  } finally {
    await access.close();
  }
}

/** Commander's collector for a repeatable option. */
const collect = (v: string, prev: string[]) => [...prev, v];

/**
 * Starts the hub with SIGTERM/SIGINT already heard: null when one came before it was running (it
 * closed what it had opened, the case log first among them).
 */
async function startUntilStopped(cfg: Readonly<Config>, log: Logger, stop: ReturnType<typeof listenForStop>, opts: Parameters<typeof startHub>[2] = {}) {
  try {
    return await startHub(cfg, log, { ...opts, signal: stop.signal });
  } catch (err) {
    if (!isTiphubError(err, 'TIPHUB_START_STOPPED')) throw err;
    log.warn({ signal: await stop.received }, 'stopped before it was running');
    return null;
  }
}

export async function main(argv: string[]): Promise<number> {
  guardOutput();
  let exitCode = 0;
  const program = new Command('tiphub')
    .description('An open tip line: messages from Telegram, WhatsApp and Signal become reports in one case log.')
    .option('--config <file>', 'YAML configuration file (default: ./tiphub.yaml if present)')
    .addOption(
      new Option('--log-format <format>', 'log lines as json, or pretty for a person (default: pretty when stderr is a terminal, else json; TIPHUB_LOG_FORMAT)').choices([
        'json',
        'pretty',
      ]),
    )
    .addOption(
      new Option('--log-level <level>', 'log from this level on (default: log.level for start, worker, adapter and dashboard; warn for every other command)').choices([
        'trace', 'debug', 'info', 'warn', 'error', 'fatal', 'silent',
      ]),
    )
    .version(versionText(), '-V, --version', 'the version, and the case log schema it expects')
    .exitOverride()
    .showHelpAfterError()
    .hook('preAction', (_root, action) => {
      let c: Command = action;
      while (c.parent && c.parent !== program) c = c.parent;
      running = c.name();
    });

  program
    .command('start')
    .description('run the whole hub in one process (case log, Redis, workers, adapters)')
    .action(async () => {
      const { cfg, log } = context(program);
      keepRunningOnStrayRejections(log);
      const stop = listenForStop();
      const hub = await startUntilStopped(cfg, log, stop);
      if (!hub) return;
      process.stderr.write(
        `tiphub is running (data in ${cfg.dataDir}).` + (hub.dashboardUrl ? ` Dashboard: ${hub.dashboardUrl} (add an operator: tiphub operator add NAME).` : '') + ' Ctrl-C stops it.\n',
      );
      // A channel waiting for a QR login (WhatsApp Web) shows its code here on a terminal; off a
      // terminal (a service's log) a pointer to `tiphub whatsapp link` and the dashboard instead.
      let stopping = false;
      const watchers = [...hub.adapters.keys()]
        .filter((c) => (channelModule(c) as ChannelModule).login?.(cfg.channels[c]!.credentials) === 'qr')
        .map((c) =>
          process.stderr.isTTY
            ? watchLogin(hub.redis, cfg.queue.prefix, c, { out: process.stderr, timeoutMs: Number.MAX_SAFE_INTEGER, stopped: () => stopping, keepWatching: true, pollMs: 1000 })
            : Promise.resolve(process.stderr.write(`${c}: if it needs linking, run \`tiphub ${c} link\` on a terminal or open the dashboard's channels page.\n`)),
        );
      const sig = await stop.received;
      stopping = true;
      await Promise.all(watchers);
      log.info({ signal: sig }, 'stopping');
      exitCode = await stopWithin(hub.stop, log);
    });

  program
    .command('worker')
    .description('run the workers only (scale them out against one Redis and one PostgreSQL)')
    .action(async () => {
      const { cfg, log } = context(program);
      const stop = listenForStop();
      const hub = await startUntilStopped(cfg, log, stop, { adapters: false });
      if (!hub) return;
      const sig = await stop.received;
      log.info({ signal: sig }, 'stopping');
      exitCode = await stopWithin(hub.stop, log);
    });

  program
    .command('adapter')
    .description('run one channel\'s adapter (receiving, and sending its outbound queue) without the workers')
    .argument('<channel>', channelNames.filter((n) => n !== 'simulator').join(' | '))
    .action(async (channel: string) => {
      const { cfg, log } = context(program);
      if (!isChannelName(channel) || !enabledChannels(cfg).includes(channel)) {
        throw new TiphubError('TIPHUB_ADAPTER_UNKNOWN', `channel ${JSON.stringify(channel).slice(0, 30)} is not built or not configured (enabled: ${enabledChannels(cfg).join(', ')})`);
      }
      keepRunningOnStrayRejections(log);
      const stop = listenForStop();
      const hub = await startUntilStopped(cfg, log, stop, { workers: false, channels: [channel] });
      if (!hub) return;
      if (!hub.adapters.has(channel)) {
        await hub.stop();
        throw new TiphubError('TIPHUB_CONFIG_INVALID', `the ${channel} adapter did not start (see the log above)`);
      }
      const sig = await stop.received;
      log.info({ signal: sig }, 'stopping');
      await hub.stop();
    });

  program
    .command('whatsapp')
    .description('WhatsApp channel')
    .command('link')
    .description('link the WhatsApp Web session: shows the QR code to scan with the tip line\'s phone, until it is linked')
    .option('--timeout <seconds>', 'give up after this long', '300')
    .action(async (o: { timeout: string }) => {
      const { cfg, log } = context(program);
      if (cfg.channels.whatsapp?.enabled !== true || (cfg.channels.whatsapp.credentials as { mode?: string } | null)?.mode !== 'web') {
        throw new TiphubError('TIPHUB_CONFIG_INVALID', 'tiphub whatsapp link is for a WhatsApp Web session: set TIPHUB_WHATSAPP_MODE=web (the Cloud API needs no linking)');
      }
      const linked = await linkChannel(cfg, log, 'whatsapp', { out: process.stdout, timeoutMs: Math.max(1, Number(o.timeout) || 300) * 1000 });
      if (!linked) {
        process.stderr.write('not linked in time; run it again (a new code is shown)\n');
        exitCode = 1;
      }
    });

  const signal = program.command('signal').description('Signal channel (a signal-cli-rest-api server)');
  const signalAccount = () => {
    const { cfg } = context(program);
    const c = cfg.channels.signal;
    if (!c?.enabled || !c.credentials) throw new TiphubError('TIPHUB_CONFIG_INVALID', 'the Signal channel is not enabled: set TIPHUB_SIGNAL_URL and TIPHUB_SIGNAL_NUMBER');
    const m = channelModule('signal') as ChannelModule;
    return { settings: c.settings, credentials: c.credentials, ops: m.account ?? {} };
  };
  signal
    .command('link')
    .description("link the hub as a device of the tip line's existing Signal account: prints the QR code to scan in Signal on that phone")
    .option('--device-name <name>', 'the name the phone lists the hub under', 'tiphub')
    .action(async (o: { deviceName: string }) => {
      const a = signalAccount();
      if (!a.ops.linkUri) throw new TiphubError('TIPHUB_CONFIG_INVALID', 'this Signal channel cannot link devices');
      const uri = await a.ops.linkUri(a.settings, a.credentials, o.deviceName.slice(0, 64));
      process.stdout.write(
        `\n${await terminalQr(uri)}\nScan it in Signal on the tip line's phone: Settings → Linked devices → Link new device (+).\n` +
          'The code is good for a minute or so; the server finishes the link itself. Then start the hub.\n',
      );
    });
  signal
    .command('challenge')
    .description('answer Signal\'s rate-limit challenge (when sends are refused with a captcha): the token from the log or tiphub status, and the captcha solved at https://signalcaptchas.org/challenge/generate.html')
    .argument('<token>', 'the challenge token')
    .argument('<captcha>', 'the solved captcha (signalcaptcha://…)')
    .action(async (token: string, captcha: string) => {
      const a = signalAccount();
      if (!a.ops.submitChallenge) throw new TiphubError('TIPHUB_CONFIG_INVALID', 'this Signal channel takes no challenge');
      await a.ops.submitChallenge(a.settings, a.credentials, token, captcha);
      process.stdout.write('challenge answered: waiting replies go out again\n');
    });

  program
    .command('dashboard')
    .description("serve the operators' dashboard alone, on dashboard.listen (PostgreSQL; on the embedded case log `tiphub start` serves it)")
    .action(async () => {
      const { cfg, log } = context(program);
      if (!cfg.databaseUrl) {
        throw new TiphubError('TIPHUB_CONFIG_INVALID', 'tiphub dashboard alone needs PostgreSQL (DATABASE_URL); on the embedded case log, tiphub start serves the dashboard');
      }
      const access = await openCaseLogAccess(cfg, log, { role: 'dashboard', allowHub: false });
      try {
        // Live list: the Redis the intake workers publish on (REDIS_URL); without it, the list changes on reload.
        const served = await serveDashboard(cfg, access.local!.db, log, {
          ...(cfg.redisUrl ? { redis: cfg.redisUrl } : {}),
          quarantine: dashboardQuarantine(cfg, access.keyring, access.service, cfg.redisUrl ?? null),
        });
        process.stderr.write(`tiphub dashboard: ${served.url} Ctrl-C stops it.\n`);
        const sig = await listenForStop().received;
        log.info({ signal: sig }, 'stopping');
        await served.close();
      } finally {
        await access.close();
      }
    });

  program
    .command('migrate')
    .description('create or upgrade the case log schema')
    .action(async () => {
      const { cfg, log } = context(program);
      const access = await openCaseLogAccess(cfg, log, { role: 'migrate' });
      await access.close();
      process.stdout.write(access.local ? 'migrate: the case log is up to date\n' : 'migrate: the running hub already migrated the case log\n');
    });

  program
    .command('status')
    .description('the hub at a glance: channels, queues, the case log, outbox, media backlog, disk (no identifiers)')
    .option('--json', 'print JSON for scripts (stable field names)')
    .addHelpText('after', `\n${NEEDS_PERSON_HELP}\nColours on a terminal only (not on a pipe, nor with NO_COLOR set).`)
    .action(async (o: { json?: boolean }) => {
      const { cfg, log } = context(program);
      const report = await readStatus(cfg, log, channelNames, enabledChannels(cfg));
      process.stdout.write(o.json ? `${JSON.stringify(report, null, 2)}\n` : formatStatus(report, { colour: useColour(process.stdout) }));
      if (report.needsPerson.length) exitCode = 1;
    });

  const config = program.command('config').description('configuration');
  config
    .command('check')
    .description('validate the configuration and print it (secrets masked)')
    .action(() => {
      try {
        const cfg = loadConfig({ configPath: program.opts<{ config?: string }>().config });
        loadTexts();
        const rules = taggingRulesFor(cfg);
        process.stdout.write(`configuration OK\n${JSON.stringify(describeConfig(cfg), null, 2)}\n`);
        process.stdout.write(`rules (${cfg.rulesDir}): ${Object.keys(rules.tags).length} tags, ${rules.places.length} places, ${rules.priority.rules.length} priority rules\n`);
      } catch (err) {
        if (!isTiphubError(err, 'TIPHUB_CONFIG_INVALID')) throw err;
        process.stderr.write(`${err.message}\n`);
        exitCode = 1;
      }
    });

  program
    .command('ingest')
    .description('import messages from a JSONL file through the simulator channel (records only; nobody is answered)')
    .argument('<file>', 'one message per line: {"id","from","name"?,"text"?,"sentAt"?,"location"?,"media"?}')
    .action(async (file: string) => {
      const { cfg, log } = context(program);
      const s = await runIngest(cfg, log, file, { out: process.stdout, err: process.stderr });
      process.stdout.write(`ingest: ${s.lines} lines: ${s.accepted} accepted, ${s.present} already present, ${s.rejected} rejected\n`);
      exitCode = s.rejected ? 1 : 0;
    });

  program
    .command('export')
    .description('export the case log: one case per line (jsonl) or one report per row (csv)')
    .option('--format <format>', 'jsonl or csv', 'jsonl')
    .option('--out <file>', 'write to a file instead of standard output')
    .action(async (o: { format: string; out?: string }) => {
      if (o.format !== 'jsonl' && o.format !== 'csv') throw new TiphubError('TIPHUB_CONFIG_INVALID', '--format must be jsonl or csv');
      const { cfg, log } = context(program);
      const access = await openCaseLogAccess(cfg, log, { role: 'export' });
      const out = o.out ? fs.createWriteStream(o.out, { mode: 0o600 }) : process.stdout;
      const shown = progress(process.stderr, 'export:', { what: o.format === 'jsonl' ? 'cases' : 'lines' });
      let lines = 0;
      const write = waitingWriter(out, (chunk) => {
        if (!shown) return;
        for (let i = chunk.indexOf('\n'); i >= 0; i = chunk.indexOf('\n', i + 1)) lines++;
        shown.update(lines);
      });
      try {
        const s = await access.service.exportCases(o.format, write);
        shown?.stop();
        process.stderr.write(`export: ${s.cases} cases, ${s.reports} reports\n`);
      } finally {
        shown?.stop();
        if (o.out) await new Promise<void>((r) => (out as fs.WriteStream).end(() => r()));
        await access.close();
      }
    });

  program
    .command('verify')
    .description('check every case’s event chain, its reports against their recorded hashes, and its counters')
    .action(async () => {
      const { cfg, log } = context(program);
      const access = await openCaseLogAccess(cfg, log, { role: 'verify' });
      const shown = progress(process.stderr, 'verify: checking every chain, report and counter');
      try {
        const r = await access.service.verify();
        shown?.stop();
        (r.ok ? process.stdout : process.stderr).write(formatVerify(r) + '\n');
        exitCode = r.ok ? 0 : 2;
      } finally {
        shown?.stop();
        await access.close();
      }
    });

  program
    .command('reply')
    .description('answer the informant(s) of a case on their own channel')
    .argument('<ref>', 'case reference, e.g. K7Q-4M2P')
    .argument('[text]', 'the message; better left out: a text here is visible in shell history and process lists')
    .option('--informant <pseudonym>', 'answer this informant of the case')
    .option('--report <id>', 'answer the informant of this report (quoted where the channel can)')
    .option('--all', 'answer every reachable informant of the case')
    .option('--as <operator>', 'who answers, for the case history: an enabled operator once any exists (default: your user name; before any operator exists, recorded as local:NAME)')
    .addHelpText(
      'after',
      [
        '',
        'The text: leave it out of the command line, where shell history and process lists (ps) keep it.',
        '  piped:     tiphub reply K7Q-4M2P < answer.txt     (all of standard input, UTF-8; one trailing newline dropped)',
        '  editor:    tiphub reply K7Q-4M2P                  (at a terminal: $VISUAL, else $EDITOR, else vi, on a private',
        `             temporary file deleted afterwards; lines starting with # are dropped)`,
        `An empty text, or one over ${MESSAGE_MAX_BYTES} bytes, is refused and nothing is sent.`,
      ].join('\n'),
    )
    .action(async (ref: string, given: string | undefined, o: { informant?: string; report?: string; all?: boolean; as?: string }) => {
      const { cfg, log } = context(program);
      // Read before the case log is opened: an editor may stay open for minutes.
      const text = await readMessageText({ text: given, what: `reply to case ${ref.slice(0, 20)}`, editor: editorFromEnvironment() });
      await withOperatorService(cfg, log, o.as, async (service, actor) => {
        const r = await service.reply({ ref, text, informant: o.informant ?? null, report: o.report ?? null, all: o.all === true, actor });
        for (const q of r.queued) process.stdout.write(`reply: queued to ${q.pseudonym} on ${q.channel} (case ${r.ref})\n`);
      });
    });

  const informant = program.command('informant').description('informants, by pseudonym');
  for (const [name, blocked] of [['block', true], ['unblock', false]] as const) {
    informant
      .command(name)
      .description(blocked ? 'record their later messages as blocked and never answer them' : 'lift a block')
      .argument('<pseudonym>')
      .option('--as <operator>', 'who does it, for the informant log: an enabled operator once any exists (default: your user name; before any operator exists, recorded as local:NAME)')
      .action(async (pseudonym: string, o: { as?: string }) => {
        const { cfg, log } = context(program);
        await withOperatorService(cfg, log, o.as, (service, actor) => service.setBlocked(pseudonym, blocked, actor));
        process.stdout.write(`informant ${pseudonym} ${blocked ? 'blocked' : 'unblocked'}\n`);
      });
  }

  const kase = program
    .command('case')
    .description('work a case: show it, set its status, assignee, priority and tags, add a note; correct the grouping (each action is an event in the chains involved)');
  const asOption = '--as <operator>';
  const asHelp = 'who acts, for the case history: an enabled operator once any exists (default: your user name; before any operator exists, recorded as local:NAME)';
  kase
    .command('show')
    .allowExcessArguments(false)
    .description('the case, and each report by pseudonym with the start of its text (never an address)')
    .argument('<ref>', 'case reference, e.g. K7Q-4M2P')
    .option('--json', 'as one JSON object')
    .action(async (ref: string, o: { json?: boolean }) => {
      const { cfg, log } = context(program);
      const access = await openCaseLogAccess(cfg, log, { role: 'operator' });
      try {
        const v = await access.service.showCase(ref);
        process.stdout.write((o.json ? JSON.stringify(v) : formatCaseView(v)) + '\n');
      } finally {
        await access.close();
      }
    });
  kase
    .command('status')
    .allowExcessArguments(false)
    .description(`set the status (${CASE_STATUSES.join(' → ')}); closing needs --reason; any change away from closed reopens the case`)
    .argument('<ref>')
    .argument('<status>', CASE_STATUSES.join('|'))
    .option('--reason <reason>', `why it is closed: ${CLOSE_REASONS.join(', ')}`)
    .option(asOption, asHelp)
    .action(async (ref: string, status: string, o: { reason?: string; as?: string }) => {
      const { cfg, log } = context(program);
      await withCaseService(cfg, log, o.as, async (service, actor) => {
        const r = await service.setCaseStatus(ref, status, o.reason ?? null, actor);
        const now = `${r.status}${r.reason ? ` (${r.reason})` : ''}`;
        process.stdout.write(r.changed ? `case ${r.ref}: status ${r.from} → ${now}\n` : `case ${r.ref}: already ${now}; nothing recorded\n`);
      });
    });
  kase
    .command('assign')
    .allowExcessArguments(false)
    .description('assign the case to an operator, or to nobody with --none')
    .argument('<ref>')
    .argument('[operator]', 'an enabled operator once any exists')
    .option('--none', 'assign it to nobody')
    .option(asOption, asHelp)
    .action(async (ref: string, to: string | undefined, o: { none?: boolean; as?: string }) => {
      if ((to === undefined) === (o.none !== true)) throw new TiphubError('TIPHUB_CONFIG_INVALID', 'name the operator to assign, or give --none (not both)');
      const { cfg, log } = context(program);
      await withCaseService(cfg, log, o.as, async (service, actor) => {
        const r = await service.assignCase(ref, to ?? null, actor);
        const who = r.to ?? 'nobody';
        process.stdout.write(r.changed ? `case ${r.ref}: assigned to ${who}\n` : `case ${r.ref}: already assigned to ${who}; nothing recorded\n`);
      });
    });
  kase
    .command('priority')
    .allowExcessArguments(false)
    .description('set the priority (the rules may still raise it when reports arrive, never lower it)')
    .argument('<ref>')
    .argument('<priority>', PRIORITIES.join('|'))
    .option(asOption, asHelp)
    .action(async (ref: string, priority: string, o: { as?: string }) => {
      const { cfg, log } = context(program);
      await withCaseService(cfg, log, o.as, async (service, actor) => {
        const r = await service.setCasePriority(ref, priority, actor);
        process.stdout.write(r.changed ? `case ${r.ref}: priority ${r.from} → ${r.priority}\n` : `case ${r.ref}: already ${r.priority}; nothing recorded\n`);
      });
    });
  kase
    .command('tag')
    .allowExcessArguments(false)
    .description("add or remove tags (kept beside the tags its reports give; a removed tag stays removed when later reports bring it)")
    .argument('<ref>')
    .option('--add <tag>', 'a tag to add (repeatable)', collect, [])
    .option('--remove <tag>', 'a tag to remove (repeatable)', collect, [])
    .option(asOption, asHelp)
    .action(async (ref: string, o: { add: string[]; remove: string[]; as?: string }) => {
      const { cfg, log } = context(program);
      await withCaseService(cfg, log, o.as, async (service, actor) => {
        const r = await service.editCaseTags(ref, { add: o.add, remove: o.remove }, actor);
        process.stdout.write(`case ${r.ref}: tags ${r.tags.length ? r.tags.join(', ') : '(none)'}${r.changed ? '' : '; nothing changed, nothing recorded'}\n`);
      });
    });
  kase
    .command('note')
    // A text after the reference is refused, not ignored: it belongs on standard input.
    .allowExcessArguments(false)
    .description('add a note to the case (sealed in the case log; the event names it)')
    .argument('<ref>')
    .option(asOption, asHelp)
    .addHelpText(
      'after',
      [
        '',
        'The text is never taken from the command line (shell history, process lists):',
        '  piped:     tiphub case note K7Q-4M2P < note.txt     (all of standard input, UTF-8; one trailing newline dropped)',
        '  editor:    tiphub case note K7Q-4M2P                (at a terminal: $VISUAL, else $EDITOR, else vi; lines starting with # are dropped)',
        `An empty note, or one over ${NOTE_MAX_BYTES} bytes, is refused and nothing is recorded.`,
      ].join('\n'),
    )
    .action(async (ref: string, o: { as?: string }) => {
      const { cfg, log } = context(program);
      // Read before the case log is opened: an editor may stay open for minutes.
      const text = await readMessageText({ what: `note on case ${ref.slice(0, 20)}`, editor: editorFromEnvironment(), maxBytes: NOTE_MAX_BYTES });
      await withCaseService(cfg, log, o.as, async (service, actor) => {
        const r = await service.addCaseNote(ref, text, actor);
        process.stdout.write(`case ${r.ref}: note ${r.note} recorded\n`);
      });
    });
  kase
    .command('merge')
    .description('move every report of the second case into the first; the second is closed and its reference answers for the first')
    .argument('<into>', 'the case that stays')
    .argument('<from>', 'the case merged into it')
    .option(asOption, asHelp)
    .action(async (into: string, from: string, o: { as?: string }) => {
      const { cfg, log } = context(program);
      await withOperatorService(cfg, log, o.as, async (service, actor) => {
        const r = await service.mergeCases(into, from, actor);
        process.stdout.write(`case ${r.from} merged into ${r.into} (${r.moved} report(s) moved)\n`);
      });
    });
  kase
    .command('split')
    .description('move one report out of its case into a new case')
    .argument('<ref>')
    .argument('<report>', 'the report id (as in the export)')
    .option(asOption, asHelp)
    .action(async (ref: string, report: string, o: { as?: string }) => {
      const { cfg, log } = context(program);
      await withOperatorService(cfg, log, o.as, async (service, actor) => {
        const r = await service.splitReport(ref, report, actor);
        process.stdout.write(`report ${report} moved from ${r.from} to the new case ${r.to}\n`);
      });
    });

  // --- quarantine (issue 10, item 16): no command prints a payload, only its shape ---
  const quarantine = program.command('quarantine').description('messages that could not become reports, kept sealed for a retry');
  quarantine
    .command('list')
    .description('the newest entries: id, time, channel, source, code, reason, sealed size (no payload)')
    .option('--limit <n>', 'how many', '50')
    .action(async (o: { limit: string }) => {
      const limit = Number(o.limit);
      if (!Number.isInteger(limit) || limit < 1) throw new TiphubError('TIPHUB_CONFIG_INVALID', '--limit must be a whole number, 1 or more');
      const { cfg, log } = context(program);
      await withQuarantineService(cfg, log, async (service) => {
        process.stdout.write(formatQuarantineList(await service.listQuarantine(limit)) + '\n');
      });
    });
  quarantine
    .command('show')
    .description("one entry and the shape of its payload (keys, types, lengths): never its text, names, numbers or ids")
    .argument('<id>', 'as in `tiphub quarantine list`')
    .action(async (idText: string) => {
      const id = Number(idText);
      if (!Number.isSafeInteger(id) || id < 1) throw new TiphubError('TIPHUB_CONFIG_INVALID', 'the quarantine id is a whole number, as `tiphub quarantine list` shows');
      const { cfg, log } = context(program);
      await withQuarantineService(cfg, log, async (service) => {
        const d = await service.showQuarantine(id);
        if (!d) {
          process.stderr.write(`quarantine: no entry ${id}\n`);
          exitCode = 1;
          return;
        }
        process.stdout.write(formatQuarantineDetail(d) + '\n');
      });
    });
  const quarantineId = (idText: string) => {
    const id = Number(idText);
    if (!Number.isSafeInteger(id) || id < 1) throw new TiphubError('TIPHUB_CONFIG_INVALID', 'the quarantine id is a whole number, as `tiphub quarantine list` shows');
    return id;
  };
  quarantine
    .command('retry')
    .description("feed an entry (or --all) through its channel's normalize again, after a fix: queued, it leaves quarantine; refused, it stays with the new reason")
    .argument('[id]', 'as in `tiphub quarantine list`')
    .option('--all', 'every entry')
    .action(async (idText: string | undefined, o: { all?: boolean }) => {
      if ((idText === undefined) === !o.all) throw new TiphubError('TIPHUB_CONFIG_INVALID', 'give an entry id or --all (not both)');
      const ids = idText === undefined ? ('all' as const) : [quarantineId(idText)];
      const { cfg, log } = context(program);
      await withQuarantineService(cfg, log, async (service, access) => {
        // The running hub's Redis (where its workers take the intake queue), else the one that answers here.
        const redis = access.hubRedis ?? (await findRedis(cfg));
        if (!redis) throw new TiphubError('TIPHUB_REDIS_UNAVAILABLE', 'no Redis answers: a retried message is queued there (start the hub, or set REDIS_URL)');
        const done = await retryQuarantined(cfg, access.keyring, service, redis, ids);
        if (ids !== 'all' && !done.length) {
          process.stderr.write(`quarantine: no entry ${ids[0]}\n`);
          exitCode = 1;
          return;
        }
        process.stdout.write(formatRetried(done) + '\n');
        if (done.some((d) => d.outcome === 'refused')) exitCode = 1;
      });
    });
  quarantine
    .command('drop')
    .description("delete an entry for good (recorded in the operators' audit chain); asks first on a terminal")
    .argument('<id>', 'as in `tiphub quarantine list`')
    .option('--yes', 'do not ask')
    .option('--as <operator>', 'who drops it, for the audit chain: an enabled operator once any exists (default: your user name)')
    .action(async (idText: string, o: { yes?: boolean; as?: string }) => {
      const id = quarantineId(idText);
      if (!o.yes && !(await confirmOnTty(`drop quarantine entry ${id} for good? [y/N] `))) {
        process.stderr.write('quarantine: not dropped (give --yes when not on a terminal)\n');
        exitCode = 1;
        return;
      }
      const { cfg, log } = context(program);
      await withQuarantineService(cfg, log, async (service) => {
        const actor = await service.resolveActor(o.as ?? null, os.userInfo().username);
        if (!(await service.dropQuarantine(id, actor))) {
          process.stderr.write(`quarantine: no entry ${id}\n`);
          exitCode = 1;
          return;
        }
        process.stdout.write(`quarantine: entry ${id} dropped\n`);
      });
    });
  quarantine
    .command('purge')
    .description('delete the entries older than the retention (retention.quarantineDays, or --older-than)')
    .option('--older-than <days>', 'delete entries quarantined more than this many days ago (0: all)')
    .action(async (o: { olderThan?: string }) => {
      const { cfg, log } = context(program);
      const days = o.olderThan !== undefined ? Number(o.olderThan) : cfg.retention.quarantineDays;
      if (days === null) {
        process.stderr.write('quarantine: retention.quarantineDays is null (keep everything); give --older-than DAYS to purge\n');
        exitCode = 1;
        return;
      }
      if (!Number.isFinite(days) || days < 0) throw new TiphubError('TIPHUB_CONFIG_INVALID', '--older-than must be a number of days, 0 or more');
      await withQuarantineService(cfg, log, async (service) => {
        const n = await service.purgeQuarantine(days);
        process.stdout.write(`quarantine: ${n} entr${n === 1 ? 'y' : 'ies'} older than ${days} day${days === 1 ? '' : 's'} deleted\n`);
      });
    });

  program
    .command('purge')
    .description('retention: purge closed cases unchanged for retention.closedCaseDays days (their chains stay, ending in a tombstone)')
    .option('--dry-run', 'list what would be purged, change nothing')
    .option('--older-than <days>', 'instead of retention.closedCaseDays')
    .option('--as <operator>', 'who purges, for the case history: an enabled operator once any exists (default: your user name; before any operator exists, recorded as local:NAME)')
    .action(async (o: { dryRun?: boolean; olderThan?: string; as?: string }) => {
      const { cfg, log } = context(program);
      const days = o.olderThan !== undefined ? Number(o.olderThan) : cfg.retention.closedCaseDays;
      if (days === null) {
        process.stderr.write('purge: retention.closedCaseDays is not set (the case log keeps everything); set it, or give --older-than DAYS\n');
        exitCode = 1;
        return;
      }
      if (!Number.isInteger(days) || days < 1) throw new TiphubError('TIPHUB_CONFIG_INVALID', '--older-than must be a whole number of days, 1 or more');
      const access = await openCaseLogAccess(cfg, log, { role: 'purge' });
      try {
        if (o.dryRun) {
          process.stdout.write(formatPurgePlan(await access.service.planPurge(days)) + '\n');
          return;
        }
        const actor = await access.service.resolveActor(o.as ?? null, os.userInfo().username);
        const shown = progress(process.stderr, `purge: closed cases older than ${days} days`);
        const r = await access.service.purgeCases(days, actor).finally(() => shown?.stop());
        process.stdout.write(`purge: ${r.cases} case(s) purged: ${r.reports} report(s), ${r.texts} text(s), ${r.media} media (${r.files} file(s) removed); their chains end in a case.purged event\n`);
      } finally {
        await access.close();
      }
    });

  const keys = program.command('keys').description('the case log’s secret and keys');
  keys
    .command('rotate')
    .description(
      'a new secret, and every sealed value re-sealed under a new key (pseudonyms stay); stop the hub first. ' +
        'Resumable: run it again after an interruption. With the key file, the new one replaces it and the old one is kept as secret.key.old-<time>',
    )
    .option('--new-secret-file <file>', 'the new secret (needed when TIPHUB_SECRET is set; a file only you can read)')
    .action(async (o: { newSecretFile?: string }) => {
      const { cfg, log } = context(program);
      await runKeysRotate(cfg, log, { newSecretFile: o.newSecretFile }, { out: process.stdout, err: process.stderr });
    });

  program
    .command('chat')
    .description('play an informant on the simulator channel of the running hub (try the line in a minute)')
    .option('--as <name>', 'which informant to be (default: your user name)')
    .action(async (o: { as?: string }) => {
      const { cfg } = context(program);
      exitCode = await runChat(cfg, { as: o.as }, { input: process.stdin, out: process.stdout });
    });

  registerAlertsCommands(program, () => context(program));
  registerBackupCommands(program, () => context(program), (code) => (exitCode = code));
  registerJobsCommands(program, () => context(program), (code) => (exitCode = code));

  registerOperatorCommands(program, () => {
    const { cfg, log } = context(program);
    return openOperatorService(cfg, log);
  });

  try {
    await program.parseAsync(argv);
  } catch (err) {
    // The reader of our output went away (`| head`): it had what it wanted.
    if (endedByClosedPipe()) return 0;
    if (err instanceof CommanderError) return err.exitCode;
    if (isTiphubError(err)) {
      process.stderr.write(`tiphub: ${err.code}: ${err.message}${err.retryable ? ' (may succeed if tried again)' : ''}\n`);
      return 1;
    }
    // A foreign error's message may quote data (PostgreSQL does): name and code only.
    process.stderr.write(`tiphub: unexpected error (${describeForeignError(err)})\n`);
    return 1;
  }
  return exitCode;
}
