/**
 * An operator's change reaches the other operators' open lists (issue 11, item 5, live): after a
 * state-changing request that succeeded, the cases it named — the route's `:ref`, a merge's
 * `into`, a bulk action's `refs` — are announced like the intake workers announce the cases a
 * batch wrote to (src/queue/case-updates.ts: references only, never content). Every route that
 * changes a case names it so; one hook here rather than a call in each route, so a new action
 * cannot forget it.
 */
import fp from 'fastify-plugin';
import type { FastifyPluginAsync, FastifyRequest } from 'fastify';

export type AnnounceCases = (refs: readonly string[]) => Promise<void>;

const strings = (v: unknown): string[] => (typeof v === 'string' ? [v] : Array.isArray(v) ? v.filter((x): x is string => typeof x === 'string') : []);

/** The cases a request names: its route's ref, a merge target, a bulk action's list. */
export function casesNamedBy(req: Pick<FastifyRequest, 'params' | 'body'>): string[] {
  const params = (req.params ?? {}) as { ref?: unknown };
  const body = (req.body && typeof req.body === 'object' ? req.body : {}) as { into?: unknown; refs?: unknown };
  return [...new Set([...strings(params.ref), ...strings(body.into), ...strings(body.refs)].map((r) => r.trim()).filter(Boolean))];
}

const caseChangesPlugin: FastifyPluginAsync<{ announce?: AnnounceCases }> = async (app, opts) => {
  const announce = opts.announce;
  if (!announce) return;
  app.addHook('onResponse', async (req, reply) => {
    if (req.method !== 'POST' || reply.statusCode >= 400) return;
    const refs = casesNamedBy(req);
    if (!refs.length) return;
    // A failure only delays the other lists until their next change or reload.
    await announce(refs).catch((err: unknown) => req.log.warn({ err, cases: refs.length }, 'case changes not announced'));
  });
};

export default fp(caseChangesPlugin, { name: 'tiphub-case-changes', fastify: '5.x' });
