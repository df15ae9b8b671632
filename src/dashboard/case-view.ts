/**
 * A case for its page: the header and reports from showCase (src/caselog/actions.ts), with what
 * the page shows beyond a terminal's excerpt read here: each report's full text, tags, places,
 * location (with the nearest place of the gazetteer), entities, the similarity of a near copy,
 * and its media.
 */
import type { Queryable } from '../caselog/db';
import { showCase, type CaseView, type CaseViewReport } from '../caselog/actions';
import { estimatedSimilarity } from '../grouping/minhash';
import type { Entities } from '../tagging/entities';
import type { Place } from '../tagging/vocabulary';
import { reportMedia, type MediaFiles, type ReportMedia } from './media-view';

export interface ReportLocation {
  readonly lat: number;
  readonly lon: number;
  readonly label: string | null;
  /** The gazetteer's place closest to the coordinates, and how far it is. */
  readonly nearest: { readonly name: string; readonly km: number } | null;
}

/** A report as showCase gives it, with its whole text (not the excerpt), tags and places. */
export interface CasePageReport extends Omit<CaseViewReport, 'excerpt' | 'truncated' | 'duplicate'> {
  readonly tags: string[];
  readonly places: string[];
  readonly text: string | null;
  readonly location: ReportLocation | null;
  readonly entities: Entities | null;
  /**
   * `similarity`: for a near copy, the MinHash estimate of the two texts' similarity (what grouping
   * compared; the report row keeps only the kind); 1 for an exact copy; null for the other kinds.
   */
  readonly duplicate: { of: string; kind: string; similarity: number | null } | null;
  /** Each media item with its state and what it really is (`media` stays the count, as the API gives it). */
  readonly mediaFiles: ReportMedia[];
  /** When its informant deleted it for everyone (the report is kept); null: not deleted. */
  readonly retractedAt: string | null;
}

export type CasePage = Omit<CaseView, 'reports'> & { readonly reports: CasePageReport[] };

export interface CasePageSources {
  /** The gazetteer (config/places.yaml), for a location's nearest place. */
  readonly places?: readonly Place[];
  /** The media store, to tell what each stored file really is. */
  readonly media?: MediaFiles | null;
}

const EARTH_KM = 6371.0088;

/** Great-circle distance in km. */
export function distanceKm(a: { lat: number; lon: number }, b: { lat: number; lon: number }): number {
  const rad = Math.PI / 180;
  const dLat = (b.lat - a.lat) * rad;
  const dLon = (b.lon - a.lon) * rad;
  const h = Math.sin(dLat / 2) ** 2 + Math.cos(a.lat * rad) * Math.cos(b.lat * rad) * Math.sin(dLon / 2) ** 2;
  return 2 * EARTH_KM * Math.asin(Math.min(1, Math.sqrt(h)));
}

export function nearestPlace(places: readonly Place[], at: { lat: number; lon: number }): { name: string; km: number } | null {
  let best: { name: string; km: number } | null = null;
  for (const p of places) {
    const km = distanceKm(at, p);
    if (!best || km < best.km) best = { name: p.name, km };
  }
  return best ? { name: best.name, km: Math.round(best.km * 10) / 10 } : null;
}

function locationOf(v: unknown, places: readonly Place[]): ReportLocation | null {
  if (!v || typeof v !== 'object') return null;
  const l = v as { lat?: unknown; lon?: unknown; label?: unknown };
  if (typeof l.lat !== 'number' || typeof l.lon !== 'number' || !Number.isFinite(l.lat) || !Number.isFinite(l.lon)) return null;
  return { lat: l.lat, lon: l.lon, label: typeof l.label === 'string' ? l.label : null, nearest: places.length ? nearestPlace(places, { lat: l.lat, lon: l.lon }) : null };
}

function entitiesOf(v: unknown): Entities | null {
  if (!v || typeof v !== 'object') return null;
  const e = v as Record<string, unknown>;
  const list = (k: string) => (Array.isArray(e[k]) ? (e[k] as unknown[]).filter((x): x is string => typeof x === 'string') : []);
  const out: Entities = { phones: list('phones'), urls: list('urls'), emails: list('emails'), wallets: list('wallets') };
  return Object.values(out).some((xs) => xs.length) ? out : null;
}

export async function casePage(q: Queryable, ref: string, sources: CasePageSources = {}): Promise<CasePage> {
  const v = await showCase(q, ref);
  const { rows } = await q.query<{
    id: string; text: string | null; tags: string[]; places: string[]; location: unknown; entities: unknown; minhash: number[] | null; of_minhash: number[] | null;
    retracted_at: Date | string | null;
  }>(
    `SELECT r.id, r.text, r.tags, r.places, r.location, r.entities, r.retracted_at,
            CASE WHEN r.duplicate_kind = 'near' THEN r.minhash END AS minhash,
            CASE WHEN r.duplicate_kind = 'near' THEN d.minhash END AS of_minhash
       FROM reports r JOIN cases c ON c.id = r.case_id LEFT JOIN reports d ON d.id = r.duplicate_of
      WHERE c.ref = $1`,
    [v.ref],
  );
  const byId = new Map(rows.map((r) => [r.id, r]));
  const media = await reportMedia(q, v.reports.filter((r) => r.media > 0).map((r) => r.id), sources.media ?? null);
  const places = sources.places ?? [];
  return {
    ...v,
    reports: v.reports.map((r) => {
      const d = byId.get(r.id);
      const { excerpt, truncated: _truncated, duplicate, ...rest } = r;
      let similarity: number | null = null;
      if (duplicate?.kind === 'exact') similarity = 1;
      else if (duplicate?.kind === 'near' && d?.minhash && d.of_minhash) similarity = Math.round(estimatedSimilarity(d.minhash, d.of_minhash) * 100) / 100;
      return {
        ...rest,
        tags: d?.tags ?? [],
        places: d?.places ?? [],
        text: d ? d.text : excerpt,
        location: d ? locationOf(d.location, places) : null,
        entities: d ? entitiesOf(d.entities) : null,
        duplicate: duplicate ? { ...duplicate, similarity } : null,
        mediaFiles: media.get(r.id) ?? [],
        retractedAt: d?.retracted_at ? new Date(d.retracted_at).toISOString() : null,
      };
    }),
  };
}
