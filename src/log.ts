/**
 * pino logs on stderr (stdout belongs to command output such as `export`): JSON lines for a
 * service's log collector, or short readable lines for a person at a terminal (`pretty`). Both
 * go through the same redaction and error serializer; the pretty lines are made from the JSON
 * line pino already redacted, in-process, so neither format can show what the other hides.
 * Redaction is the second line of defence; the first is that no caller passes a sender, a name
 * or a tip text.
 */
import pino from 'pino';

export type Logger = pino.Logger;
export type LogFormat = 'json' | 'pretty';

const CENSOR = '[redacted]';
const REDACT = [
  'address', 'sender', 'name', 'text', 'body', 'caption', 'phone', 'raw', 'secret', 'token', 'password',
  '*.address', '*.sender', '*.name', '*.text', '*.body', '*.caption', '*.phone', '*.raw', '*.secret', '*.token', '*.password',
  'err.message', 'err.stack',
];

export interface LoggerOptions {
  /** Default json. */
  readonly format?: LogFormat;
  /** Pretty lines: colour the level (default: when the destination is fd 2 and stderr is a terminal). */
  readonly colour?: boolean;
}

export function createLogger(level: string, destination: pino.DestinationStream | number = 2, opts: LoggerOptions = {}): Logger {
  let dest: pino.DestinationStream;
  if (typeof destination === 'number') {
    const boom = pino.destination({ fd: destination, sync: true });
    // A closed stderr (`tiphub … 2>&1 | head`): the lines have nowhere to go; not a reason to crash.
    boom.on('error', (err: NodeJS.ErrnoException) => {
      if (err.code !== 'EPIPE') throw err;
    });
    dest = boom;
  } else {
    dest = destination;
  }
  if (opts.format === 'pretty') {
    const colour = opts.colour ?? (destination === 2 && process.stderr.isTTY === true);
    dest = prettyDestination(dest, { colour });
  }
  return pino(
    {
      level,
      base: { pid: process.pid },
      redact: { paths: REDACT, censor: CENSOR },
      // Foreign errors may quote values (PostgreSQL, JSON.parse): log their kind and code only.
      serializers: {
        err: (e: unknown) => {
          const x = e as { name?: string; code?: unknown; retryable?: unknown; message?: string };
          const ours = typeof x?.code === 'string' && x.code.startsWith('TIPHUB_');
          return { type: x?.name, code: x?.code, retryable: x?.retryable, ...(ours ? { detail: x.message } : {}) };
        },
      },
      timestamp: pino.stdTimeFunctions.isoTime,
    },
    dest,
  );
}

const LEVELS: Record<number, { name: string; colour: string }> = {
  10: { name: 'TRACE', colour: '90' },
  20: { name: 'DEBUG', colour: '36' },
  30: { name: 'INFO', colour: '32' },
  40: { name: 'WARN', colour: '33' },
  50: { name: 'ERROR', colour: '31' },
  60: { name: 'FATAL', colour: '35' },
};
/** Said by the line itself (level, time, message) or the same on every line (pid). */
const OWN_FIELDS = new Set(['level', 'time', 'msg', 'pid', 'hostname']);
/** At most this many fields after the message, each value cut at VALUE_MAX characters: a line stays a line. */
const FIELDS_MAX = 8;
const VALUE_MAX = 80;

function hhmmss(iso: unknown): string {
  const d = typeof iso === 'string' || typeof iso === 'number' ? new Date(iso) : new Date();
  const p = (n: number) => String(n).padStart(2, '0');
  return `${p(d.getHours())}:${p(d.getMinutes())}:${p(d.getSeconds())}`;
}

function scalar(v: unknown): string {
  const s = typeof v === 'string' ? (/^[^\s"=]+$/.test(v) ? v : JSON.stringify(v)) : String(v);
  return s.length > VALUE_MAX ? s.slice(0, VALUE_MAX - 1) + '…' : s;
}

/** key=value pairs of the scalars, one level of nesting flattened (cause.kind=…); redacted fields are left out, not shown as such. */
function fields(o: Record<string, unknown>): string[] {
  const out: string[] = [];
  const add = (k: string, v: unknown, depth: number) => {
    if (v === undefined || v === null || v === CENSOR) return;
    if (typeof v === 'object') {
      if (depth > 0 || Array.isArray(v)) return;
      for (const [k2, v2] of Object.entries(v as Record<string, unknown>)) add(`${k}.${k2}`, v2, depth + 1);
      return;
    }
    out.push(`${k}=${scalar(v)}`);
  };
  for (const [k, v] of Object.entries(o)) {
    if (OWN_FIELDS.has(k)) continue;
    if (k === 'err' && v && typeof v === 'object') {
      // The serializer's form: a foreign error by its kind and code, ours with its message.
      const e = v as { type?: unknown; code?: unknown; detail?: unknown; retryable?: unknown };
      const kind = [e.code, e.type].filter((x) => typeof x === 'string' && x).join('/') || 'error';
      out.push(`err=${scalar(kind)}${typeof e.detail === 'string' ? ` (${scalar(e.detail)})` : ''}${e.retryable === true ? ' retryable' : ''}`);
      continue;
    }
    add(k, v, 0);
  }
  return out.length > FIELDS_MAX ? [...out.slice(0, FIELDS_MAX), `(+${out.length - FIELDS_MAX})`] : out;
}

/** One pino JSON line as a person reads it: `12:04:31 WARN  message  key=value …`. */
export function prettyLine(json: string, opts: { colour?: boolean } = {}): string {
  let o: Record<string, unknown>;
  try {
    o = JSON.parse(json) as Record<string, unknown>;
  } catch {
    return json.endsWith('\n') ? json : json + '\n';
  }
  const lv = LEVELS[Number(o.level)] ?? { name: String(o.level).toUpperCase(), colour: '0' };
  const name = lv.name.padEnd(5);
  const level = opts.colour ? `\u001b[${lv.colour}m${name}\u001b[0m` : name;
  const msg = typeof o.msg === 'string' ? o.msg : '';
  const rest = fields(o);
  return `${hhmmss(o.time)} ${level} ${msg}${rest.length ? '  ' + rest.join(' ') : ''}\n`;
}

/** A pino destination that turns each JSON line into a pretty one and hands it on (synchronously, as the JSON would be). */
export function prettyDestination(out: pino.DestinationStream, opts: { colour?: boolean } = {}): pino.DestinationStream {
  return {
    write(line: string) {
      // pino writes one line per call; split anyway, should it ever batch.
      for (const l of line.split('\n')) if (l) out.write(prettyLine(l, opts));
    },
  };
}
