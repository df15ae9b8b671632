/**
 * Issue 11, item 3: the JSON API is the documented API. The OpenAPI document @fastify/swagger
 * builds from the route schemas lists every /api route the app has (enumerated from
 * app.printRoutes, so routes added later are held to it too) and no page; it is well-formed
 * OpenAPI 3.0 (structure, path parameters, responses, references, no 3.1-only types, schemas
 * that compile); real answers match it; only admins get it, as JSON or as our own HTML page.
 */
import Ajv from 'ajv';
import type { AddressInfo } from 'node:net';
import type { FastifyInstance } from 'fastify';
import { harness, type Harness } from '../helpers/harness';
import { buildApp } from '../../src/dashboard/app';
import { addOperator, type OperatorRole } from '../../src/operators/accounts';
import { createSession } from '../../src/operators/sessions';

interface Op {
  summary?: string;
  tags?: string[];
  security?: Record<string, string[]>[];
  'x-permission'?: string;
  parameters?: { name: string; in: string; required?: boolean; schema?: unknown }[];
  requestBody?: { content: Record<string, { schema: unknown }> };
  responses: Record<string, { description?: string; content?: Record<string, { schema: unknown }> }>;
}
interface Doc {
  openapi: string;
  info: { title: string; version: string };
  components: { securitySchemes: Record<string, { type: string; in: string; name: string }>; schemas: Record<string, unknown> };
  paths: Record<string, Record<string, Op>>;
}

let h: Harness;
let app: FastifyInstance;
let base: string;
const cookie: Record<string, string> = {};

async function get(url: string, as?: string): Promise<Response> {
  return fetch(base + url, { headers: as ? { cookie: `tiphub=${cookie[as]}` } : {}, redirect: 'manual' });
}

/** Every route of the app as [METHOD, url], read from printRoutes' tree (HEAD left out: Fastify adds one per GET). */
function registeredRoutes(on: FastifyInstance): [string, string][] {
  const out: [string, string][] = [];
  const stack: string[] = [];
  for (const line of on.printRoutes({ commonPrefix: false }).split('\n')) {
    const m = /^((?:[│ ] {3})*)(?:[├└]── )?(\S+?)(?: \(([A-Z, ]+)\))?$/.exec(line);
    if (!m || !m[2]) continue;
    const depth = m[1]!.length / 4 + (line.includes('── ') ? 1 : 0);
    stack.length = depth;
    const url = (stack[depth - 1] ?? '') + m[2];
    stack[depth] = url;
    for (const method of (m[3] ?? '').split(', ').filter(Boolean)) if (method !== 'HEAD') out.push([method, url]);
  }
  return out;
}

const openapiPath = (url: string) => url.replace(/:([A-Za-z0-9_]+)/g, '{$1}');

/** Every sub-schema of a document part, to check each keyword-wise. */
function* schemasIn(v: unknown): Generator<Record<string, unknown>> {
  if (!v || typeof v !== 'object') return;
  if (Array.isArray(v)) {
    for (const x of v) yield* schemasIn(x);
    return;
  }
  const o = v as Record<string, unknown>;
  if ('type' in o || '$ref' in o || 'properties' in o) yield o;
  for (const x of Object.values(o)) yield* schemasIn(x);
}

beforeAll(async () => {
  h = await harness('postgres', { conversation: { enabled: false } });
  await h.sink(h.message({ id: 'o1', from: 'addr-openapi-0001', text: 'Road to the airport closed by soldiers this morning', sentAt: '2026-06-10T05:00:00Z' }));
  h.startWorker();
  await h.drained();
  await h.stopWorker();
  for (const [name, role] of [['adm1', 'admin'], ['sup1', 'supervisor'], ['ana1', 'analyst']] as [string, OperatorRole][]) {
    await addOperator(h.db, name, role);
    cookie[name] = (await createSession(h.db, name)).token;
  }
  app = await buildApp({ db: h.db });
  await app.listen({ host: '127.0.0.1', port: 0 });
  base = `http://127.0.0.1:${(app.server.address() as AddressInfo).port}`;
});

afterAll(async () => {
  await app?.close();
  await h?.close();
});

test('only admins get the document and its page: 401 anonymous, 403 analysts and supervisors', async () => {
  for (const url of ['/api/openapi.json', '/api/docs']) {
    const anon = await get(url);
    expect(anon.status).toBe(401);
    expect(((await anon.json()) as { error: string }).error).toBe('TIPHUB_DASHBOARD_LOGIN');
    for (const who of ['ana1', 'sup1']) {
      const r = await get(url, who);
      expect(r.status).toBe(403);
      expect(((await r.json()) as { error: string }).error).toBe('TIPHUB_DASHBOARD_FORBIDDEN');
    }
    const ok = await get(url, 'adm1');
    expect(ok.status).toBe(200);
    expect(ok.headers.get('content-type')).toMatch(url.endsWith('.json') ? /^application\/json/ : /^text\/html/);
  }
});

test('the document lists every /api route with its responses, and no page', async () => {
  const doc = (await (await get('/api/openapi.json', 'adm1')).json()) as Doc;
  const routes = registeredRoutes(app);
  const api = routes.filter(([, url]) => url === '/api' || url.startsWith('/api/'));
  // The enumeration itself works: the routes of api.ts and of this part are among them.
  expect(api).toEqual(expect.arrayContaining([['GET', '/api/cases'], ['GET', '/api/cases/:ref'], ['POST', '/api/cases/:ref/status'], ['GET', '/api/openapi.json'], ['GET', '/api/docs']]));
  expect(routes).toEqual(expect.arrayContaining([['GET', '/'], ['GET', '/settings'], ['POST', '/settings/password'], ['GET', '/login']]));
  for (const [method, url] of api) {
    const op = doc.paths[openapiPath(url)]?.[method.toLowerCase()];
    if (!op) throw new Error(`${method} ${url} is not in the API's description`);
    expect(Object.keys(op.responses)).toContain('200');
    expect(op['x-permission']).toMatch(/^[a-z]+$/);
    expect(op.security).toEqual([method === 'GET' ? { session: [] } : { session: [], csrf: [] }]);
    if (method === 'POST') expect(op.requestBody?.content).toBeDefined();
  }
  // Nothing but the API: each operation in the document is a route of the app.
  const documented = Object.entries(doc.paths).flatMap(([p, ops]) => Object.keys(ops).map((m) => `${m.toUpperCase()} ${p}`));
  expect(documented.sort()).toEqual(api.map(([m, u]) => `${m} ${openapiPath(u)}`).sort());
  expect(Object.keys(doc.paths).every((p) => p.startsWith('/api/'))).toBe(true);
  // The routes of api.ts say what they do.
  for (const p of ['/api/cases', '/api/cases/{ref}', '/api/cases/{ref}/history']) expect(doc.paths[p]!.get!.summary).toMatch(/\w{4}/);
  for (const a of ['status', 'assign', 'priority', 'tags', 'notes', 'reply', 'merge', 'split']) expect(doc.paths[`/api/cases/{ref}/${a}`]!.post!.summary).toMatch(/\w{4}/);
  expect(doc.paths['/api/openapi.json']!.get!['x-permission']).toBe('operators');
  expect(doc.paths['/api/cases/{ref}/status']!.post!['x-permission']).toBe('status');
});

test('the document is well-formed OpenAPI 3.0', async () => {
  const doc = (await (await get('/api/openapi.json', 'adm1')).json()) as Doc;
  expect(doc.openapi).toMatch(/^3\.0\.\d+$/);
  expect(typeof doc.info.title).toBe('string');
  expect(doc.info.title.length).toBeGreaterThan(0);
  expect(typeof doc.info.version).toBe('string');
  const schemes = doc.components.securitySchemes;
  expect(schemes.session).toMatchObject({ type: 'apiKey', in: 'cookie', name: 'tiphub' });
  expect(schemes.csrf).toMatchObject({ type: 'apiKey', in: 'header', name: 'x-csrf-token' });
  const METHODS = new Set(['get', 'put', 'post', 'delete', 'options', 'head', 'patch', 'trace']);
  const operationIds = new Set<string>();
  const ajv = new Ajv({ strict: false, allErrors: true });
  for (const [path, ops] of Object.entries(doc.paths)) {
    expect(path).toMatch(/^\/[^\s:]*$/);
    const pathParams = [...path.matchAll(/\{([^}]+)\}/g)].map((m) => m[1]);
    for (const [method, op] of Object.entries(ops)) {
      expect(METHODS.has(method)).toBe(true);
      // Each {param} of the path is a required path parameter, and each path parameter is in the path.
      const declared = (op.parameters ?? []).filter((p) => p.in === 'path');
      expect(declared.map((p) => p.name).sort()).toEqual([...pathParams].sort());
      for (const p of declared) expect(p.required).toBe(true);
      for (const p of op.parameters ?? []) {
        expect(['query', 'header', 'path', 'cookie']).toContain(p.in);
        expect(p.schema).toBeDefined();
      }
      const seen = new Set<string>();
      for (const p of op.parameters ?? []) {
        expect(seen.has(`${p.in} ${p.name}`)).toBe(false);
        seen.add(`${p.in} ${p.name}`);
      }
      expect(Object.keys(op.responses).length).toBeGreaterThan(0);
      for (const [status, r] of Object.entries(op.responses)) {
        expect(status).toMatch(/^([1-5][0-9][0-9]|[1-5]XX|default)$/);
        expect(typeof r.description).toBe('string');
      }
      for (const s of op.security ?? []) for (const name of Object.keys(s)) expect(schemes[name]).toBeDefined();
      const id = (op as { operationId?: string }).operationId;
      if (id) {
        expect(operationIds.has(id)).toBe(false);
        operationIds.add(id);
      }
      // Every schema compiles (Ajv knows OpenAPI 3.0's nullable).
      for (const part of [...Object.values(op.requestBody?.content ?? {}), ...Object.values(op.responses).flatMap((r) => Object.values(r.content ?? {}))]) {
        expect(() => ajv.compile(part.schema as object)).not.toThrow();
      }
    }
  }
  for (const s of schemasIn(doc.paths)) {
    // OpenAPI 3.0 has one type per schema and no 'null' type (nullable: true instead).
    if ('type' in s) {
      expect(typeof s.type).toBe('string');
      expect(s.type).not.toBe('null');
    }
    if (typeof s.$ref === 'string') {
      const target = s.$ref.replace(/^#\/components\/schemas\//, '');
      expect(doc.components.schemas[target]).toBeDefined();
    }
  }
});

test("real answers match the document's response schemas", async () => {
  const doc = (await (await get('/api/openapi.json', 'adm1')).json()) as Doc;
  const ajv = new Ajv({ strict: false, allErrors: true });
  const schemaOf = (path: string, status: string) => doc.paths[path]!.get!.responses[status]!.content!['application/json']!.schema as object;
  const list = await get('/api/cases', 'ana1');
  const listBody = (await list.json()) as { cases: { ref: string }[] };
  const validList = ajv.compile(schemaOf('/api/cases', '200'));
  expect(validList(listBody)).toBe(true);
  // A schema that could fail: a row whose count is a string does not match.
  expect(validList({ cases: [{ ref: 'x', reportCount: 'one' }], next: null })).toBe(false);
  const ref = listBody.cases[0]!.ref;
  const one = await get(`/api/cases/${ref}`, 'ana1');
  expect(ajv.validate(schemaOf('/api/cases/{ref}', '200'), await one.json())).toBe(true);
  const missing = await get('/api/cases/ZZZ-ZZZZ', 'ana1');
  expect(missing.status).toBe(404);
  expect(ajv.validate(schemaOf('/api/cases/{ref}', '404'), await missing.json())).toBe(true);
});

test('the readable page: every operation, from our own origin only, nothing inline', async () => {
  const doc = (await (await get('/api/openapi.json', 'adm1')).json()) as Doc;
  const res = await get('/api/docs', 'adm1');
  expect(res.headers.get('content-security-policy')).toContain("script-src 'self'");
  const page = await res.text();
  expect(page).toMatch(/^<!doctype html>\n<html lang="en" dir="ltr">/);
  for (const [path, ops] of Object.entries(doc.paths)) {
    for (const [method, op] of Object.entries(ops)) {
      const esc = (s: string) => s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;').replace(/'/g, '&#39;');
      expect(page).toContain(`<span class="method">${method.toUpperCase()}</span> <code>${esc(path)}</code>`);
      if (op.summary) expect(page).toContain(esc(op.summary));
    }
  }
  // Parameters, bodies and response schemas are spelled out.
  expect(page).toContain('<code>ref</code> (path): string (1..20) <em>required</em>');
  expect(page).toContain('<code>status</code>: string, one of: &quot;new&quot;');
  expect(page).toMatch(/<dt><code>403<\/code>/);
  expect(page).not.toMatch(/<script(?! src="\/static\/dashboard\.js" defer><\/script>)/);
  expect(page).not.toMatch(/\sstyle=|\son[a-z]+=/i);
  expect(page).not.toMatch(/(src|href)="(https?:)?\/\//);
});
