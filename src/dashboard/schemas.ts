/** JSON schemas shared by the routes (every route has one: params, querystring, body, response). */
import { CASE_STATUSES, CLOSE_REASONS } from '../caselog/actions';
import { PRIORITIES } from '../tagging/vocabulary';

const htmlBody = { content: { 'text/html; charset=utf-8': { schema: { type: 'string' } } } };
/** Pages: HTML, or a redirect (to /login, or back after a form). */
export const htmlResponses = {
  200: htmlBody,
  400: htmlBody,
  401: htmlBody,
  403: htmlBody,
  404: htmlBody,
  409: htmlBody,
  423: htmlBody,
  429: htmlBody,
  '3xx': { type: 'null' },
} as const;

/** A page or file that takes no query: anything given is dropped (Ajv's removeAdditional). */
export const noQuery = { type: 'object', properties: {}, additionalProperties: false } as const;

export const errorSchema = {
  type: 'object',
  required: ['error', 'message'],
  properties: { error: { type: 'string' }, message: { type: 'string' } },
} as const;

export const apiErrors = { 400: errorSchema, 401: errorSchema, 403: errorSchema, 404: errorSchema, 409: errorSchema } as const;

export const refParams = {
  type: 'object',
  required: ['ref'],
  properties: { ref: { type: 'string', minLength: 1, maxLength: 20 } },
} as const;

const strings = { type: 'array', items: { type: 'string' } } as const;
const nullableString = { type: ['string', 'null'] } as const;

/**
 * The list's filters. The page's filter form sends every field, the unused ones empty: an empty
 * value is no filter. `q`: words in a report (case-list.ts searchWords refuses one too short);
 * `from`, `to`: days of the last report (UTC).
 */
const day = { type: 'string', pattern: '^(\\d{4}-\\d{2}-\\d{2})?$' } as const;
export const caseListQuery = {
  type: 'object',
  properties: {
    status: { type: 'string', enum: ['', ...CASE_STATUSES] },
    priority: { type: 'string', enum: ['', ...PRIORITIES] },
    tag: { type: 'string', maxLength: 40 },
    channel: { type: 'string', maxLength: 32 },
    assignee: { type: 'string', maxLength: 64 },
    place: { type: 'string', maxLength: 80 },
    language: { type: 'string', maxLength: 16 },
    flag: { type: 'string', maxLength: 40 },
    q: { type: 'string', maxLength: 200 },
    from: day,
    to: day,
    cursor: { type: 'string', maxLength: 400 },
    limit: { type: 'integer', minimum: 1, maximum: 200 },
  },
} as const;

export const caseListRow = {
  type: 'object',
  properties: {
    ref: { type: 'string' },
    status: { type: 'string' },
    priority: { type: 'string' },
    assignee: nullableString,
    firstWords: nullableString,
    reportCount: { type: 'integer' },
    informantCount: { type: 'integer' },
    channels: strings,
    tags: strings,
    places: strings,
    flags: strings,
    firstReportAt: nullableString,
    lastReportAt: nullableString,
  },
} as const;

export const caseListResponse = {
  200: { type: 'object', properties: { cases: { type: 'array', items: caseListRow }, next: nullableString } },
  ...apiErrors,
} as const;

export const caseReport = {
  type: 'object',
  properties: {
    id: { type: 'string' },
    sentAt: { type: 'string' },
    receivedAt: { type: 'string' },
    channel: { type: 'string' },
    pseudonym: { type: 'string' },
    language: nullableString,
    tags: strings,
    places: strings,
    duplicate: { type: ['object', 'null'], properties: { of: { type: 'string' }, kind: { type: 'string' } } },
    text: nullableString,
    media: { type: 'integer' },
  },
} as const;

export const caseDetail = {
  type: 'object',
  properties: {
    ref: { type: 'string' },
    asked: nullableString,
    status: { type: 'string' },
    closeReason: nullableString,
    priority: { type: 'string' },
    assignee: nullableString,
    tags: strings,
    tagsAdded: strings,
    tagsRemoved: strings,
    places: strings,
    flags: strings,
    reportCount: { type: 'integer' },
    informantCount: { type: 'integer' },
    channels: strings,
    firstReportAt: nullableString,
    lastReportAt: nullableString,
    notes: { type: 'integer' },
    reports: { type: 'array', items: caseReport },
  },
} as const;

export const statusBody = {
  type: 'object',
  required: ['status'],
  properties: { status: { type: 'string', enum: [...CASE_STATUSES] }, reason: { type: 'string', enum: ['', ...CLOSE_REASONS] }, _csrf: { type: 'string' } },
} as const;
export const assignBody = {
  type: 'object',
  required: ['to'],
  properties: { to: { type: ['string', 'null'], maxLength: 64 }, _csrf: { type: 'string' } },
} as const;
export const priorityBody = {
  type: 'object',
  required: ['priority'],
  properties: { priority: { type: 'string', enum: [...PRIORITIES] }, _csrf: { type: 'string' } },
} as const;
export const notesBody = {
  type: 'object',
  required: ['text'],
  properties: { text: { type: 'string', minLength: 1, maxLength: 70000 }, _csrf: { type: 'string' } },
} as const;

const refString = { type: 'string', minLength: 1, maxLength: 20 } as const;

/** A reply: its text and to whom ('all': every reachable informant of the case; else a pseudonym). */
export const replyBody = {
  type: 'object',
  required: ['text', 'to'],
  properties: { text: { type: 'string', minLength: 1, maxLength: 4000 }, to: { type: 'string', minLength: 1, maxLength: 80 }, _csrf: { type: 'string' } },
} as const;
export const mergeBody = { type: 'object', required: ['into'], properties: { into: refString, _csrf: { type: 'string' } } } as const;
export const splitBody = { type: 'object', required: ['report'], properties: { report: { type: 'string', minLength: 1, maxLength: 80 }, _csrf: { type: 'string' } } } as const;

export const replyResponse = {
  200: {
    type: 'object',
    required: ['ref', 'queued', 'outbox', 'relayed'],
    properties: {
      ref: { type: 'string' },
      queued: { type: 'array', items: { type: 'object', properties: { pseudonym: { type: 'string' }, channel: { type: 'string' } } } },
      outbox: { type: 'array', items: { type: 'integer' } },
      relayed: { type: 'boolean' },
    },
  },
  ...apiErrors,
} as const;
export const mergeResponse = {
  200: { type: 'object', required: ['into', 'from', 'moved'], properties: { into: { type: 'string' }, from: { type: 'string' }, moved: { type: 'integer' } } },
  ...apiErrors,
} as const;
export const splitResponse = {
  200: { type: 'object', required: ['from', 'to'], properties: { from: { type: 'string' }, to: { type: 'string' } } },
  ...apiErrors,
} as const;

/** The case's history, notes, replies with their delivery, reply targets and chain check (case-history.ts). */
export const caseRecordResponse = {
  200: {
    type: 'object',
    properties: {
      ref: { type: 'string' },
      history: {
        type: 'array',
        items: { type: 'object', properties: { seq: { type: 'integer' }, at: { type: 'string' }, kind: { type: 'string' }, actor: { type: 'string' }, summary: { type: 'string' } } },
      },
      notes: {
        type: 'array',
        items: { type: 'object', properties: { seq: { type: 'integer' }, at: { type: 'string' }, author: { type: 'string' }, text: nullableString } },
      },
      replies: {
        type: 'array',
        items: {
          type: 'object',
          properties: {
            seq: { type: 'integer' },
            at: { type: 'string' },
            actor: { type: 'string' },
            to: { type: 'string' },
            text: nullableString,
            state: { type: 'string', enum: ['queued', 'sent', 'failed'] },
            settledAt: nullableString,
            reason: nullableString,
          },
        },
      },
      informants: {
        type: 'array',
        items: {
          type: 'object',
          properties: { pseudonym: { type: 'string' }, channel: { type: 'string' }, reports: { type: 'integer' }, firstReport: { type: 'string' }, reachable: { type: 'boolean' }, why: nullableString },
        },
      },
      chain: {
        type: 'object',
        properties: {
          ok: { type: 'boolean' },
          events: { type: 'integer' },
          firstMismatch: { type: ['object', 'null'], properties: { seq: { type: ['integer', 'null'] }, what: { type: 'string' } } },
        },
      },
    },
  },
  ...apiErrors,
} as const;

/**
 * Bulk actions on the list's selected rows (routes/bulk.ts). The page's one form sends every
 * field to whichever action's button was pressed; `refs` is one value or many (Ajv makes it an
 * array); `back`, the list as it was shown (a path of ours).
 */
const bulkRefs = { type: 'array', items: refString, maxItems: 200 } as const;
const backField = { type: 'string', maxLength: 1000, pattern: '^/(\\?.*)?$' } as const;
export const bulkStatusForm = {
  type: 'object',
  required: ['status'],
  properties: { refs: bulkRefs, status: { type: 'string', enum: [...CASE_STATUSES] }, reason: { type: 'string', enum: ['', ...CLOSE_REASONS] }, back: backField, _csrf: { type: 'string' } },
} as const;
export const bulkTagForm = {
  type: 'object',
  required: ['tag'],
  properties: { refs: bulkRefs, tag: { type: 'string', minLength: 1, maxLength: 40 }, back: backField, _csrf: { type: 'string' } },
} as const;
export const bulkAssignForm = {
  type: 'object',
  properties: { refs: bulkRefs, to: { type: 'string', maxLength: 64 }, me: { type: 'string', enum: ['1'] }, back: backField, _csrf: { type: 'string' } },
} as const;

const bulkRefsRequired = { ...bulkRefs, minItems: 1 } as const;
export const bulkStatusBody = {
  type: 'object',
  required: ['refs', 'status'],
  properties: { refs: bulkRefsRequired, status: { type: 'string', enum: [...CASE_STATUSES] }, reason: { type: ['string', 'null'], enum: ['', null, ...CLOSE_REASONS] } },
} as const;
export const bulkTagsBody = {
  type: 'object',
  required: ['refs'],
  properties: {
    refs: bulkRefsRequired,
    add: { type: 'array', items: { type: 'string', minLength: 1, maxLength: 80 }, maxItems: 50 },
    remove: { type: 'array', items: { type: 'string', minLength: 1, maxLength: 80 }, maxItems: 50 },
  },
} as const;
export const bulkAssignBody = {
  type: 'object',
  required: ['refs', 'to'],
  properties: { refs: bulkRefsRequired, to: { type: ['string', 'null'], maxLength: 64 } },
} as const;

/** What a bulk action did, case by case: each change its own event with the operator as actor. */
export const bulkResponse = {
  200: {
    type: 'object',
    required: ['changed', 'unchanged', 'refused'],
    properties: {
      changed: strings,
      unchanged: strings,
      refused: { type: 'array', items: { type: 'object', required: ['ref', 'error', 'message'], properties: { ref: { type: 'string' }, error: { type: 'string' }, message: { type: 'string' } } } },
    },
  },
  ...apiErrors,
} as const;
