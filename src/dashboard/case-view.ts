/**
 * A case for its page: the header and reports from showCase (src/caselog/actions.ts), with what
 * the page shows beyond a terminal's excerpt read here: each report's full text, tags and places.
 */
import type { Queryable } from '../caselog/db';
import { showCase, type CaseView, type CaseViewReport } from '../caselog/actions';

/** A report as showCase gives it, with its whole text (not the excerpt), tags and places. */
export interface CasePageReport extends Omit<CaseViewReport, 'excerpt' | 'truncated'> {
  readonly tags: string[];
  readonly places: string[];
  readonly text: string | null;
}

export type CasePage = Omit<CaseView, 'reports'> & { readonly reports: CasePageReport[] };

export async function casePage(q: Queryable, ref: string): Promise<CasePage> {
  const v = await showCase(q, ref);
  const { rows } = await q.query<{ id: string; text: string | null; tags: string[]; places: string[] }>(
    'SELECT r.id, r.text, r.tags, r.places FROM reports r JOIN cases c ON c.id = r.case_id WHERE c.ref = $1',
    [v.ref],
  );
  const byId = new Map(rows.map((r) => [r.id, r]));
  return {
    ...v,
    reports: v.reports.map((r) => {
      const d = byId.get(r.id);
      const { excerpt, truncated: _truncated, ...rest } = r;
      return {
        ...rest,
        tags: d?.tags ?? [],
        places: d?.places ?? [],
        text: d ? d.text : excerpt,
      };
    }),
  };
}
