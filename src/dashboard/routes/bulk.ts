/**
 * Bulk actions on the case list's selected rows (issue 11, item 5): set a status, add a tag,
 * assign (or assign to me). One route per action, each with the permission it needs, so a role
 * without it is refused before any case is touched; then every case goes through applyCaseAction
 * one by one, each change its own event in that case's chain with the operator as actor, and a
 * case the action may not change (closing needs 'close', say) is refused alone.
 *
 * The page's form (POST /bulk/<action>, works without a script) answers with what changed and
 * what was refused; the API (POST /api/bulk/<action>, x-csrf-token) with the same as JSON.
 */
import type { FastifyPluginAsync, FastifyRequest } from 'fastify';
import fp from 'fastify-plugin';
import type { Db } from '../../caselog/db';
import { applyCaseAction, refusalOf, type CaseAction } from '../case-actions';
import { html, page } from '../html';
import { stringsFor } from '../i18n';
import { listStrings } from '../i18n/list';
import { caseUrl, pageOpts } from '../page-parts';
import { bulkAssignBody, bulkAssignForm, bulkResponse, bulkStatusBody, bulkStatusForm, bulkTagForm, bulkTagsBody, htmlResponses } from '../schemas';
import type { ActiveSession } from '../../operators/sessions';
import type { Logger } from '../../log';

export interface BulkOutcome {
  readonly changed: string[];
  readonly unchanged: string[];
  readonly refused: { ref: string; error: string; message: string }[];
}

/** Applies one action to each case in turn; a refusal or failure of one case does not stop the others. */
export async function applyToCases(db: Db, session: ActiveSession, refs: readonly string[], action: CaseAction, log?: Pick<Logger, 'error'>): Promise<BulkOutcome> {
  const out: BulkOutcome = { changed: [], unchanged: [], refused: [] };
  for (const ref of [...new Set(refs)]) {
    try {
      const r = await applyCaseAction(db, session, ref, action);
      (r.changed ? out.changed : out.unchanged).push(r.ref);
    } catch (err) {
      const refusal = refusalOf(err);
      if (refusal) out.refused.push({ ref, error: refusal.code, message: refusal.message });
      else {
        log?.error({ err }, 'bulk action failed on one case');
        out.refused.push({ ref, error: 'TIPHUB_DASHBOARD_FAILED', message: 'the change failed' });
      }
    }
  }
  return out;
}

interface FormBase {
  refs?: string[];
  back?: string;
}

const bulkPlugin: FastifyPluginAsync = async (app) => {
  const db = app.caselog;

  const outcomePage = (req: FastifyRequest, back: string | undefined, o: BulkOutcome) => {
    const s = stringsFor(req.operatorSession!.operator.language);
    const l = listStrings(req.operatorSession!.operator.language);
    const links = (refs: string[]) => (refs.length ? refs.map((r) => html`<a href="${caseUrl(r)}">${r}</a> `) : '-');
    return page(
      s,
      l.bulkTitle,
      html`<h1>${l.bulkTitle}</h1>
<dl class="bulk-outcome">
<dt>${l.changed}</dt><dd class="changed" data-count="${o.changed.length}">${o.changed.length}: ${links(o.changed)}</dd>
<dt>${l.unchanged}</dt><dd class="unchanged" data-count="${o.unchanged.length}">${o.unchanged.length}: ${links(o.unchanged)}</dd>
<dt>${l.refused}</dt><dd class="refused" data-count="${o.refused.length}">${o.refused.length}${
        o.refused.length ? html`<ul>${o.refused.map((r) => html`<li data-ref="${r.ref}"><a href="${caseUrl(r.ref)}">${r.ref}</a>: ${r.message}</li>`)}</ul>` : ''
      }</dd>
</dl>
<p><a href="${back ?? '/'}">${l.backToList}</a></p>`,
      pageOpts(req),
    );
  };

  const form = <B extends FormBase>(what: string, permission: 'status' | 'tag' | 'assign', body: object, toAction: (b: B, req: FastifyRequest) => CaseAction) =>
    app.post(`/bulk/${what}`, { config: { permission }, schema: { body, response: htmlResponses } }, async (req, reply) => {
      const b = req.body as B;
      const refs = b.refs ?? [];
      if (!refs.length) {
        const s = stringsFor(req.operatorSession!.operator.language);
        const l = listStrings(req.operatorSession!.operator.language);
        return reply
          .code(400)
          .type('text/html; charset=utf-8')
          .send(page(s, l.bulkTitle, html`<p class="error" role="alert">${l.noneSelected}</p><p><a href="${b.back ?? '/'}">${l.backToList}</a></p>`, pageOpts(req)));
      }
      const o = await applyToCases(db, req.operatorSession!, refs, toAction(b, req), req.log);
      return reply.type('text/html; charset=utf-8').send(outcomePage(req, b.back, o));
    });
  form<FormBase & { status: string; reason?: string }>('status', 'status', bulkStatusForm, (b) => ({ kind: 'status', status: b.status, reason: b.status === 'closed' && b.reason ? b.reason : null }));
  form<FormBase & { tag: string }>('tags', 'tag', bulkTagForm, (b) => ({ kind: 'tags', add: [b.tag.trim()], remove: [] }));
  form<FormBase & { to?: string; me?: string }>('assign', 'assign', bulkAssignForm, (b, req) => ({
    kind: 'assign',
    to: b.me ? req.operatorSession!.operator.name : b.to?.trim() || null,
  }));

  const api = <B extends { refs: string[] }>(what: string, permission: 'status' | 'tag' | 'assign', body: object, toAction: (b: B) => CaseAction) =>
    app.post(`/api/bulk/${what}`, { config: { permission }, schema: { body, response: bulkResponse } }, async (req) => {
      const b = req.body as B;
      return applyToCases(db, req.operatorSession!, b.refs, toAction(b), req.log);
    });
  api<{ refs: string[]; status: string; reason?: string | null }>('status', 'status', bulkStatusBody, (b) => ({ kind: 'status', status: b.status, reason: b.reason || null }));
  api<{ refs: string[]; add?: string[]; remove?: string[] }>('tags', 'tag', bulkTagsBody, (b) => ({ kind: 'tags', add: b.add ?? [], remove: b.remove ?? [] }));
  api<{ refs: string[]; to: string | null }>('assign', 'assign', bulkAssignBody, (b) => ({ kind: 'assign', to: b.to || null }));
};

export default fp(bulkPlugin, { name: 'tiphub-bulk', fastify: '5.x', dependencies: ['tiphub-caselog', 'tiphub-auth'] });
