/**
 * Every listener of the hub has one shape: a YAML `{host, port}` object and a
 * `TIPHUB_<NAME>_LISTEN=host:port` override. The override's syntax, shared by the core's
 * listeners and the channels' webhooks.
 */
import { z } from 'zod';

/** `host:port` (IPv6 in brackets: `[::1]:8080`). */
export const ListenEnv = z
  .string()
  .regex(/^(\[[0-9A-Fa-f:.]+\]|[A-Za-z0-9.-]+):([0-9]{1,5})$/, 'must be host:port, e.g. 127.0.0.1:8080 or [::1]:8080')
  .refine((v) => Number(v.slice(v.lastIndexOf(':') + 1)) >= 1 && Number(v.slice(v.lastIndexOf(':') + 1)) <= 65535, 'the port must be 1 to 65535')
  .transform((v) => ({ host: v.slice(0, v.lastIndexOf(':')).replace(/^\[(.*)\]$/, '$1'), port: Number(v.slice(v.lastIndexOf(':') + 1)) }));

/** A URL with any `user:password@` masked, for `tiphub config check`. */
export function maskUserinfo(url: string | null): string | null {
  return url ? url.replace(/\/\/([^@/]*)@/, '//***@') : null;
}

/** A zod error as lines naming the variable: `environment: NAME: what is wrong`. */
export function envProblems(error: z.ZodError): string[] {
  return error.issues.map((i) => `environment: ${i.path.map(String).join('.')}${i.path.length ? ': ' : ''}${i.message}`);
}
