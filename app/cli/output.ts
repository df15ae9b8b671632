/**
 * What the command line shows a person, in one place: which log lines (and in which form) a
 * command writes, a closed pipe ending a command quietly, and progress on a terminal only.
 *
 * - The services (`start`, `worker`, `adapter`, `dashboard`) log at the configured level; every
 *   other command is a person's (or a script's) and shows warnings and errors only. `--log-level`
 *   overrides both.
 * - The format: `--log-format`, else TIPHUB_LOG_FORMAT / `log.format`, else (auto) pretty lines
 *   when stderr is a terminal and JSON lines when it is not.
 * - A reader that goes away (`tiphub export | head -1`) ends the command with status 0 and
 *   nothing on stderr: stdout's EPIPE is caught here once, and a writer that waits for its
 *   writes (export) gets it back as an error and stops.
 */
import { SingleBar } from 'cli-progress';
import { createLogger, type LogFormat, type Logger } from '../../src/log';
import type { Config } from '../config';
import { noColorRequested } from '../../src/config';

/** The long-running commands: their logs are the service's log. */
export const SERVICE_COMMANDS: ReadonlySet<string> = new Set(['start', 'worker', 'adapter', 'dashboard']);

const ORDER = ['trace', 'debug', 'info', 'warn', 'error', 'fatal', 'silent'];
/** The quieter of two pino levels. */
const quieter = (a: string, b: string) => (ORDER.indexOf(a) >= ORDER.indexOf(b) ? a : b);

export interface LogChoice {
  readonly level: string;
  readonly format: LogFormat;
}

export function logChoice(
  cfg: Pick<Config, 'log'>,
  command: string,
  flags: { logLevel?: string; logFormat?: string },
  stderrIsTTY: boolean = process.stderr.isTTY === true,
): LogChoice {
  const level = flags.logLevel ?? (SERVICE_COMMANDS.has(command) ? cfg.log.level : quieter(cfg.log.level, 'warn'));
  const setting = flags.logFormat ?? cfg.log.format ?? 'auto';
  const format: LogFormat = setting === 'auto' ? (stderrIsTTY ? 'pretty' : 'json') : (setting as LogFormat);
  return { level, format };
}

export function commandLogger(cfg: Pick<Config, 'log'>, command: string, flags: { logLevel?: string; logFormat?: string }): Logger {
  const c = logChoice(cfg, command, flags);
  return createLogger(c.level, 2, { format: c.format, colour: process.stderr.isTTY === true && !noColorRequested() });
}

let stdoutClosed = false;

/**
 * Once per process: a closed stdout (or stderr) is not an error of ours. After it, writes to
 * stdout fail (their callbacks get the error), so a long writer stops; `endedByClosedPipe` tells
 * the top level to end with status 0.
 */
export function guardOutput(): void {
  process.stdout.on('error', (err: NodeJS.ErrnoException) => {
    if (err.code === 'EPIPE') {
      stdoutClosed = true;
      return;
    }
    throw err;
  });
  process.stderr.on('error', (err: NodeJS.ErrnoException) => {
    if (err.code !== 'EPIPE') throw err;
  });
}

/**
 * True when the reader of stdout went away: what failed after it is that, not the command. Only
 * stdout's own EPIPE counts (one from a socket to Redis or PostgreSQL is a real error).
 */
export function endedByClosedPipe(): boolean {
  return stdoutClosed;
}

/**
 * A write that waits for its callback, for long writers (export): the first write a closed pipe
 * refuses rejects, and the writer stops there. `written` is called with each chunk written.
 */
export function waitingWriter(out: NodeJS.WritableStream, written?: (chunk: string) => void): (chunk: string) => Promise<void> {
  return (chunk) =>
    new Promise<void>((resolve, reject) =>
      out.write(chunk, (e?: Error | null) => {
        if (e) {
          if (out === process.stdout && ['EPIPE', 'ERR_STREAM_DESTROYED'].includes((e as NodeJS.ErrnoException).code ?? '')) stdoutClosed = true;
          return reject(e);
        }
        written?.(chunk);
        resolve();
      }),
    );
}

/** A stream that may be a terminal: progress is drawn only there. */
export type ProgressStream = NodeJS.WritableStream & { isTTY?: boolean };

export interface Progress {
  /** Done so far; a total when it is known (or changes). */
  update(done: number, total?: number, payload?: Record<string, string>): void;
  stop(): void;
}

/**
 * Progress on stderr when it is a terminal, else nothing (null). With a total, a bar; without,
 * a count and the time taken (`what` names the count); with neither, the time taken (a step that
 * cannot count, such as one the running hub does for us). `label` starts the line.
 */
export function progress(stream: ProgressStream, label: string, opts: { total?: number; what?: string; extra?: string } = {}): Progress | null {
  if (!stream.isTTY) return null;
  const extra = opts.extra ? ` ${opts.extra}` : '';
  const format =
    opts.total !== undefined
      ? `${label} [{bar}] {value}/{total}${opts.what ? ` ${opts.what}` : ''}${extra}`
      : opts.what !== undefined
        ? `${label} {value} ${opts.what}${extra} ({duration_formatted})`
        : `${label}${extra} ({duration_formatted})`;
  const bar = new SingleBar({ format, stream, hideCursor: false, clearOnComplete: true, barsize: 30, barCompleteChar: '=', barIncompleteChar: ' ' });
  bar.start(opts.total ?? 0, 0, {});
  let stopped = false;
  return {
    update(done, total, payload) {
      if (stopped) return;
      if (total !== undefined && total !== bar.getTotal()) bar.setTotal(total);
      bar.update(done, payload ?? {});
    },
    stop() {
      if (stopped) return;
      stopped = true;
      bar.stop();
    },
  };
}
