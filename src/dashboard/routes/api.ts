/**
 * The JSON API under /api: the same list and case as the pages, and the same actions (through
 * applyCaseAction). State changes carry the session's CSRF token in x-csrf-token.
 */
import type { FastifyPluginAsync } from 'fastify';
import fp from 'fastify-plugin';
import { appendAudit } from '../../operators/audit';
import { applyCaseAction, mergeCaseInto, replyToCase, splitReportOut, type CaseAction, type RelayOutbox } from '../case-actions';
import { caseRecord } from '../case-history';
import { listCases, type CaseListFilter } from '../case-list';
import { casePage } from '../case-view';
import {
  apiErrors,
  assignBody,
  caseDetail,
  caseListQuery,
  caseListResponse,
  caseRecordResponse,
  mergeBody,
  mergeResponse,
  noQuery,
  notesBody,
  priorityBody,
  refParams,
  replyBody,
  replyResponse,
  splitBody,
  splitResponse,
  statusBody,
} from '../schemas';
import type { Permission } from '../roles';

const actionResponse = {
  200: { type: 'object', required: ['ref', 'changed'], properties: { ref: { type: 'string' }, changed: { type: 'boolean' } } },
  ...apiErrors,
} as const;

/** The case actions' summaries in the API's description (GET /api/openapi.json). */
const ACTION_SUMMARIES: Readonly<Record<string, string>> = {
  status: "Set a case's status (closing takes a reason; an analyst may go up to escalated)",
  assign: 'Assign a case to an operator, or to nobody (to: null)',
  priority: "Set a case's priority",
  tags: 'Add and remove tags of a case',
  notes: 'Add a note to a case',
};
const tags = ['cases'];

const apiPlugin: FastifyPluginAsync<{ relayOutbox?: RelayOutbox }> = async (app, opts) => {
  const db = app.caselog;

  app.get<{ Querystring: CaseListFilter }>('/api/cases', { config: { permission: 'read' }, schema: { summary: 'The case list: filtered, urgent first then the most recent report, keyset paged', tags, querystring: caseListQuery, response: caseListResponse } }, async (req) =>
    listCases(db, req.query),
  );

  app.get<{ Params: { ref: string } }>(
    '/api/cases/:ref',
    { config: { permission: 'read' }, schema: { summary: 'A case with its reports (pseudonyms only); the view is audited', tags, params: refParams, querystring: noQuery, response: { 200: caseDetail, ...apiErrors } } },
    async (req) => {
      const c = await casePage(db, req.params.ref);
      await db.transaction((tx) => appendAudit(tx, req.operatorSession!.operator.name, 'case.view', { ref: c.ref }));
      return c;
    },
  );

  const post = <B>(what: string, permission: Permission, body: object, toAction: (b: B) => CaseAction) =>
    app.post<{ Params: { ref: string }; Body: B }>(
      `/api/cases/:ref/${what}`,
      { config: { permission }, schema: { summary: ACTION_SUMMARIES[what], tags, params: refParams, body, response: actionResponse } },
      async (req) => applyCaseAction(db, req.operatorSession!, req.params.ref, toAction(req.body as B)),
    );
  post<{ status: string; reason?: string }>('status', 'status', statusBody, (b) => ({ kind: 'status', status: b.status, reason: b.reason || null }));
  post<{ to: string | null }>('assign', 'assign', assignBody, (b) => ({ kind: 'assign', to: b.to || null }));
  post<{ priority: string }>('priority', 'priority', priorityBody, (b) => ({ kind: 'priority', priority: b.priority }));
  post<{ add?: string[]; remove?: string[] }>(
    'tags',
    'tag',
    {
      type: 'object',
      properties: {
        add: { type: 'array', items: { type: 'string', maxLength: 80 }, maxItems: 50 },
        remove: { type: 'array', items: { type: 'string', maxLength: 80 }, maxItems: 50 },
      },
    },
    (b) => ({ kind: 'tags', add: b.add ?? [], remove: b.remove ?? [] }),
  );
  post<{ text: string }>('notes', 'note', notesBody, (b) => ({ kind: 'note', text: b.text }));

  // The case's event history, notes, replies and their delivery, reply targets, chain check.
  app.get<{ Params: { ref: string } }>(
    '/api/cases/:ref/history',
    { config: { permission: 'read' }, schema: { summary: "A case's event history, notes, replies with their delivery, reply targets and chain check", tags, params: refParams, querystring: noQuery, response: caseRecordResponse } },
    async (req) => {
      const r = await caseRecord(db, req.params.ref);
      await db.transaction((tx) => appendAudit(tx, req.operatorSession!.operator.name, 'case.view', { ref: r.ref }));
      return r;
    },
  );
  app.post<{ Params: { ref: string }; Body: { text: string; to: string } }>(
    '/api/cases/:ref/reply',
    { config: { permission: 'reply' }, schema: { summary: "Queue a reply to the case's informants (all reachable ones, or one pseudonym)", tags, params: refParams, body: replyBody, response: replyResponse } },
    async (req) => replyToCase(db, req.operatorSession!, req.params.ref, { text: req.body.text, to: req.body.to }, opts.relayOutbox, req.log),
  );
  app.post<{ Params: { ref: string }; Body: { into: string } }>(
    '/api/cases/:ref/merge',
    { config: { permission: 'merge' }, schema: { summary: 'Merge this case into another', tags, params: refParams, body: mergeBody, response: mergeResponse } },
    async (req) => mergeCaseInto(db, req.operatorSession!, req.params.ref, req.body.into),
  );
  app.post<{ Params: { ref: string }; Body: { report: string } }>(
    '/api/cases/:ref/split',
    { config: { permission: 'merge' }, schema: { summary: 'Split one report out of this case into a new case', tags, params: refParams, body: splitBody, response: splitResponse } },
    async (req) => splitReportOut(db, req.operatorSession!, req.params.ref, req.body.report),
  );
};

export default fp(apiPlugin, { name: 'tiphub-api', fastify: '5.x', dependencies: ['tiphub-caselog', 'tiphub-auth'] });
