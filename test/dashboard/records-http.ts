/**
 * Shared by the exports, audit and informant tests: a dashboard on one back end over real HTTP on
 * 127.0.0.1, operators of each role with a live session, and a request helper that sends the
 * session cookie, our Origin and the CSRF token unless told otherwise.
 */
import * as path from 'node:path';
import type { AddressInfo } from 'node:net';
import type { FastifyInstance } from 'fastify';
import { buildApp } from '../../src/dashboard/app';
import { addOperator, changePassword, confirmTotpEnrolment, startTotpEnrolment, type OperatorRole } from '../../src/operators/accounts';
import { createSession } from '../../src/operators/sessions';
import { totpCode } from '../../src/operators/totp';
import type { Harness } from '../helpers/harness';

export interface Who {
  readonly name: string;
  readonly role: OperatorRole;
  readonly token: string;
  readonly csrf: string;
}

export interface Res {
  readonly status: number;
  readonly headers: Headers;
  readonly body: Buffer;
  text(): string;
  json<T = unknown>(): T;
}

export interface Req {
  readonly method?: 'GET' | 'POST';
  readonly url: string;
  readonly as?: Who | null;
  /** undefined: the session's token; null: none. */
  readonly csrf?: string | null;
  readonly json?: unknown;
  readonly form?: Record<string, string>;
}

export async function operator(h: Harness, name: string, role: OperatorRole): Promise<Who> {
  const c = await addOperator(h.db, name, role);
  await changePassword(h.db, name, c.password, 'correct horse battery staple');
  const e = await startTotpEnrolment(h.db, name);
  await confirmTotpEnrolment(h.db, name, totpCode(e.secret));
  const s = await createSession(h.db, name);
  return { name, role, token: s.token, csrf: s.csrf };
}

export interface Served {
  readonly app: FastifyInstance;
  readonly base: string;
  /** Every body answered, as text, to look for addresses at the end. */
  readonly bodies: string[];
  call(r: Req): Promise<Res>;
  close(): Promise<void>;
}

export async function serve(h: Harness): Promise<Served> {
  const app = await buildApp({ db: h.db, mediaRoot: path.join(h.dataDir, 'media') });
  await app.listen({ host: '127.0.0.1', port: 0 });
  const base = `http://127.0.0.1:${(app.server.address() as AddressInfo).port}`;
  const bodies: string[] = [];
  return {
    app,
    base,
    bodies,
    async call(r) {
      const headers: Record<string, string> = {};
      if (r.as) headers.cookie = `tiphub=${r.as.token}`;
      const method = r.method ?? 'GET';
      let body: string | undefined;
      const csrf = r.csrf === undefined ? r.as?.csrf : r.csrf;
      if (method === 'POST') headers.origin = base;
      if (r.json !== undefined) {
        headers['content-type'] = 'application/json';
        body = JSON.stringify(r.json);
        if (csrf) headers['x-csrf-token'] = csrf;
      } else if (r.form) {
        headers['content-type'] = 'application/x-www-form-urlencoded';
        body = new URLSearchParams({ ...r.form, ...(csrf ? { _csrf: csrf } : {}) }).toString();
      }
      const res = await fetch(base + r.url, { method, headers, body, redirect: 'manual' });
      const buf = Buffer.from(await res.arrayBuffer());
      bodies.push(buf.toString('utf8'), JSON.stringify([...res.headers.entries()]));
      return { status: res.status, headers: res.headers, body: buf, text: () => buf.toString('utf8'), json: <T>() => JSON.parse(buf.toString('utf8')) as T };
    },
    close: () => app.close(),
  };
}
