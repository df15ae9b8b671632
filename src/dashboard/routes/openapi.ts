/**
 * The JSON API's description (issue 11, item 3): @fastify/swagger, registered before the routes
 * in dynamic mode, builds an OpenAPI 3 document from the route schemas; only the routes under
 * /api are in it (the pages are HTML for browsers). Admins read it as JSON (GET /api/openapi.json)
 * or as a page we render ourselves (GET /api/docs): no swagger-ui, nothing from a CDN.
 */
import type { FastifyPluginAsync, FastifySchema, RouteOptions } from 'fastify';
import fp from 'fastify-plugin';
import type { FastifyDynamicSwaggerOptions } from '@fastify/swagger';
import { html, page, type Raw } from '../html';
import { stringsFor } from '../i18n';
import { pageOpts } from '../page-parts';
import { apiErrors, noQuery } from '../schemas';

const isApiUrl = (url: string) => url === '/api' || url.startsWith('/api/');

/** The permission a route declares (auth.ts: none means 'read'). */
const permissionOf = (route: RouteOptions) => (route.config as { permission?: string } | undefined)?.permission ?? 'read';

const SAFE = new Set(['GET', 'HEAD', 'OPTIONS']);

/**
 * Pages leave the document; an /api route gets its permission (x-permission), the security it
 * needs (the session cookie, and the CSRF header for a state change) and, untagged, the tag of
 * its first path segment after /api.
 */
function transform({ schema, url, route }: { schema: FastifySchema; url: string; route: RouteOptions }): { schema: FastifySchema; url: string } {
  if (!isApiUrl(url)) return { schema: { ...schema, hide: true }, url };
  const methods = ([] as string[]).concat(route.method);
  const changes = methods.some((m) => !SAFE.has(m));
  const tag = /^\/api\/([^/:]+)/.exec(url)?.[1] ?? 'api';
  return {
    schema: {
      ...schema,
      tags: schema?.tags?.length ? schema.tags : [tag],
      security: [changes ? { session: [], csrf: [] } : { session: [] }],
      'x-permission': permissionOf(route),
    } as FastifySchema,
    url,
  };
}

/** What app.ts registers @fastify/swagger with (before the routes, so that it sees every one). */
export const openapiOptions: FastifyDynamicSwaggerOptions = {
  mode: 'dynamic',
  openapi: {
    openapi: '3.0.3',
    info: {
      title: 'tiphub dashboard API',
      version: '1.0.0',
      description:
        'The JSON API the dashboard pages use. Every request needs a session (the httpOnly cookie set at login); a state change also needs the ' +
        "session's CSRF token in the x-csrf-token header, and comes from the dashboard's own origin. x-permission names what the operator's role must allow.",
    },
    components: {
      securitySchemes: {
        session: { type: 'apiKey', in: 'cookie', name: 'tiphub', description: 'The session cookie (__Host-tiphub when served over TLS).' },
        csrf: { type: 'apiKey', in: 'header', name: 'x-csrf-token', description: "The session's CSRF token." },
      },
    },
  },
  transform: transform as FastifyDynamicSwaggerOptions['transform'],
};

// --- The readable page ----------------------------------------------------------------------

interface SchemaLike {
  type?: string | string[];
  $ref?: string;
  enum?: unknown[];
  nullable?: boolean;
  properties?: Record<string, SchemaLike>;
  required?: string[];
  items?: SchemaLike;
  additionalProperties?: boolean | SchemaLike;
  minLength?: number;
  maxLength?: number;
  minimum?: number;
  maximum?: number;
  maxItems?: number;
  anyOf?: SchemaLike[];
  oneOf?: SchemaLike[];
  description?: string;
}

/** One line for a schema's own type: "string (1..20)", "one of: new, closed", "string or null". */
function typeLine(s: SchemaLike): string {
  if (s.$ref) return s.$ref.replace(/^#\/components\/schemas\//, '');
  const alts = s.anyOf ?? s.oneOf;
  if (alts) return alts.map(typeLine).join(' | ');
  let t = Array.isArray(s.type) ? s.type.join(' or ') : (s.type ?? 'any');
  if (t === 'array') t = `array of ${s.items ? typeLine(s.items) : 'any'}`;
  if (s.enum) t += `, one of: ${s.enum.map((v) => JSON.stringify(v)).join(', ')}`;
  const range = (lo?: number, hi?: number) => (lo !== undefined || hi !== undefined ? ` (${lo ?? ''}..${hi ?? ''})` : '');
  t += range(s.minLength, s.maxLength) + range(s.minimum, s.maximum);
  if (s.maxItems !== undefined) t += ` (at most ${s.maxItems})`;
  if (s.nullable) t += ' or null';
  return t;
}

/** A schema as a nested list of its properties (objects, and the items of arrays of objects). */
function schemaView(s: SchemaLike | undefined, requiredWord: string, depth = 0): Raw {
  if (!s) return html``;
  const props = s.properties ?? (s.type === 'array' ? s.items?.properties : undefined);
  const required = new Set(s.properties ? (s.required ?? []) : (s.items?.required ?? []));
  const inner =
    props && depth < 6
      ? html`<ul>${Object.entries(props).map(
          ([name, p]) => html`<li><code>${name}</code>: ${typeLine(p)}${required.has(name) ? html` <em>${requiredWord}</em>` : ''}${schemaView(p, requiredWord, depth + 1)}</li>`,
        )}</ul>`
      : html``;
  return depth === 0 ? html`<div class="schema"><span>${typeLine(s)}</span>${inner}</div>` : inner;
}

interface Operation {
  summary?: string;
  description?: string;
  tags?: string[];
  'x-permission'?: string;
  parameters?: { name: string; in: string; required?: boolean; schema?: SchemaLike; description?: string }[];
  requestBody?: { content?: Record<string, { schema?: SchemaLike }> };
  responses?: Record<string, { description?: string; content?: Record<string, { schema?: SchemaLike }> }>;
}

interface OpenApiDocument {
  info: { title: string; version: string; description?: string };
  paths: Record<string, Record<string, Operation>>;
}

const METHODS = ['get', 'put', 'post', 'delete', 'options', 'head', 'patch', 'trace'];

const openapiPlugin: FastifyPluginAsync = async (app) => {
  const admin = { permission: 'operators' as const };
  const documentOf = () => app.swagger() as unknown as OpenApiDocument;

  app.get(
    '/api/openapi.json',
    {
      config: admin,
      schema: {
        summary: 'This document: the JSON API as OpenAPI 3, generated from the route schemas',
        tags: ['api'],
        querystring: noQuery,
        response: { 200: { type: 'object', additionalProperties: true }, ...apiErrors },
      },
    },
    // Sent as text: the response schema would otherwise strip what it does not list.
    async (_req, reply) => reply.type('application/json; charset=utf-8').send(JSON.stringify(documentOf())),
  );

  app.get(
    '/api/docs',
    {
      config: admin,
      schema: {
        summary: 'The same document as a readable page (HTML)',
        tags: ['api'],
        querystring: noQuery,
        response: { 200: { content: { 'text/html; charset=utf-8': { schema: { type: 'string' } } } }, ...apiErrors },
      },
    },
    async (req, reply) => {
      const s = stringsFor(req.operatorSession!.operator.language);
      const doc = documentOf();
      const ops = Object.keys(doc.paths)
        .sort()
        .flatMap((path) =>
          METHODS.filter((m) => doc.paths[path]![m]).map((m) => {
            const op = doc.paths[path]![m]!;
            const params = op.parameters?.length
              ? html`<h4>${s.apiParameters}</h4><ul>${op.parameters.map(
                  (p) => html`<li><code>${p.name}</code> (${p.in}): ${p.schema ? typeLine(p.schema) : 'any'}${p.required ? html` <em>${s.apiRequired}</em>` : ''}${p.description ? ` — ${p.description}` : ''}</li>`,
                )}</ul>`
              : html``;
            const body = op.requestBody?.content
              ? html`<h4>${s.apiRequestBody}</h4>${Object.entries(op.requestBody.content).map(([type, c]) => html`<p><code>${type}</code></p>${schemaView(c.schema, s.apiRequired)}`)}`
              : html``;
            const responses = html`<h4>${s.apiResponses}</h4><dl>${Object.entries(op.responses ?? {}).map(
              ([status, r]) =>
                html`<dt><code>${status}</code> ${r.description ?? ''}</dt><dd>${Object.entries(r.content ?? {}).map(
                  ([type, c]) => html`<p><code>${type}</code></p>${schemaView(c.schema, s.apiRequired)}`,
                )}</dd>`,
            )}</dl>`;
            return html`<section class="api-op" id="${`${m}-${path}`}"><h3 dir="ltr"><span class="method">${m.toUpperCase()}</span> <code>${path}</code></h3>
<p>${op.summary ?? ''}</p><p class="meta">${s.apiPermission}: <code>${op['x-permission'] ?? '-'}</code></p>${params}${body}${responses}</section>`;
          }),
        );
      const body = html`<h1>${s.apiTitle}</h1><p>${s.apiIntro}</p><p><a href="/api/openapi.json">${s.apiDocument}</a> · <span dir="ltr">${doc.info.title} ${doc.info.version}</span></p>
<div class="api-docs" dir="ltr">${ops}</div>`;
      return reply.type('text/html; charset=utf-8').send(page(s, s.apiTitle, body, pageOpts(req)));
    },
  );
};

export default fp(openapiPlugin, { name: 'tiphub-openapi', fastify: '5.x', dependencies: ['tiphub-caselog', 'tiphub-auth', '@fastify/swagger'] });
