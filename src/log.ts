/**
 * pino JSON logs on stderr (stdout belongs to command output such as `export`). Redaction is the
 * second line of defence; the first is that no caller passes a sender, a name or a tip text.
 */
import pino from 'pino';

export type Logger = pino.Logger;

const REDACT = [
  'address', 'sender', 'name', 'text', 'body', 'caption', 'phone', 'raw', 'secret', 'token', 'password',
  '*.address', '*.sender', '*.name', '*.text', '*.body', '*.caption', '*.phone', '*.raw', '*.secret', '*.token', '*.password',
  'err.message', 'err.stack',
];

export function createLogger(level: string, destination: pino.DestinationStream | number = 2): Logger {
  const dest = typeof destination === 'number' ? pino.destination({ fd: destination, sync: true }) : destination;
  return pino(
    {
      level,
      base: { pid: process.pid },
      redact: { paths: REDACT, censor: '[redacted]' },
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
