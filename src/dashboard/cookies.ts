/**
 * Cookies, read and written here: the dashboard sets only opaque base64url tokens, so a small
 * parser does (and @fastify/cookie's cookie@2 is an ES module that neither this jest nor Node 20's
 * require loads).
 */
import type { FastifyReply, FastifyRequest } from 'fastify';

const NAME = /^[!#$%&'*+.^_`|~0-9A-Za-z-]+$/;
const VALUE = /^[A-Za-z0-9_-]*$/;

/** The request's cookies; a name given twice keeps its first value (as browsers order them, the most specific). */
export function cookiesOf(req: FastifyRequest): Record<string, string> {
  const header = req.headers.cookie;
  const out: Record<string, string> = Object.create(null) as Record<string, string>;
  if (typeof header !== 'string' || header.length > 8192) return out;
  for (const part of header.split(';')) {
    const eq = part.indexOf('=');
    if (eq <= 0) continue;
    const name = part.slice(0, eq).trim();
    let value = part.slice(eq + 1).trim();
    if (value.startsWith('"') && value.endsWith('"') && value.length >= 2) value = value.slice(1, -1);
    if (NAME.test(name) && VALUE.test(value) && !(name in out)) out[name] = value;
  }
  return out;
}

export interface CookieOptions {
  readonly secure: boolean;
  /** Seconds; omitted: a browser-session cookie. */
  readonly maxAge?: number;
}

/** httpOnly, SameSite=Strict, Path=/ always; Secure when served over TLS. */
export function setCookie(reply: FastifyReply, name: string, value: string, opts: CookieOptions): void {
  if (!NAME.test(name) || !VALUE.test(value)) throw new Error('a dashboard cookie is an opaque token');
  const attrs = [`${name}=${value}`, 'Path=/', 'HttpOnly', 'SameSite=Strict'];
  if (opts.secure) attrs.push('Secure');
  if (opts.maxAge !== undefined) attrs.push(`Max-Age=${Math.floor(opts.maxAge)}`);
  const prev = reply.getHeader('set-cookie');
  const list = prev === undefined ? [] : Array.isArray(prev) ? prev.map(String) : [String(prev)];
  // Fastify appends to set-cookie: remove it first, to replace an earlier value of this cookie.
  reply.removeHeader('set-cookie');
  reply.header('set-cookie', [...list.filter((c) => !c.startsWith(`${name}=`)), attrs.join('; ')]);
}

export function clearCookie(reply: FastifyReply, name: string, opts: { secure: boolean }): void {
  setCookie(reply, name, '', { ...opts, maxAge: 0 });
}
