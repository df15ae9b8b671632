/**
 * A case for its page: the header and reports from showCase (src/caselog/actions.ts), with what
 * the page shows beyond a terminal's excerpt read here: each report's full text, tags and places.
 */
import type { Queryable } from '../caselog/db';
import { showCase, type CaseView } from '../caselog/actions';

export interface CasePageReport {
  readonly id: string;
  readonly sentAt: string;
  readonly receivedAt: string;
  readonly channel: string;
  readonly pseudonym: string;
  readonly language: string | null;
  readonly tags: string[];
  readonly places: string[];
  readonly duplicate: { of: string; kind: string } | null;
  readonly text: string | null;
  readonly media: number;
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
      return {
        id: r.id,
        sentAt: r.sentAt,
        receivedAt: r.receivedAt,
        channel: r.channel,
        pseudonym: r.pseudonym,
        language: r.language,
        tags: d?.tags ?? [],
        places: d?.places ?? [],
        duplicate: r.duplicate,
        text: d ? d.text : r.excerpt,
        media: r.media,
      };
    }),
  };
}
