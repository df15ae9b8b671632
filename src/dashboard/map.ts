/**
 * The overview's two pictures as inline SVG, drawn on the server: reports per hour by channel
 * (stacked bars) and the open cases by place over country borders. No tiles, no script, no style
 * attribute (the CSP forbids inline style): presentation attributes and classes only. Each picture
 * carries its numbers in <title> elements; the page adds a table.
 *
 * Borders: Natural Earth's countries at 1:50m from the world-atlas package (read from
 * node_modules at start), converted with topojson-client, projected with a Mercator fitted to the
 * gazetteer's extent (the whole gazetteer, so the map and its cache do not change with the cases)
 * and clipped to the picture, so only the region's borders are sent. The projection is the few
 * lines below rather than d3-geo: d3-geo is an ES module only, which this CommonJS build can load
 * only by a dynamic import() that jest's module runtime does not survive reliably; a regional
 * Mercator of Natural Earth's shapes (already cut at the antimeridian) needs nothing more.
 */
import * as fs from 'node:fs';
import { feature, mesh } from 'topojson-client';
import type { GeometryCollection, Topology } from 'topojson-specification';
import type { Geometry, Position } from 'geojson';
import { html, raw, type Raw } from './html';
import { fill, type OverviewStrings } from './i18n/overview';
import type { HourlyReports } from './overview';

export const MAP_WIDTH = 600;
export const MAP_HEIGHT = 540;
/** Degrees around the gazetteer's extent, so its outer places are not on the edge. */
const MARGIN_DEGREES = 1.2;

export interface GazetteerPoint {
  readonly name: string;
  readonly lat: number;
  readonly lon: number;
}

/** The borders drawn once for a region, and its projection for the points. */
export interface MapBase {
  readonly land: string;
  readonly borders: string;
  project(lon: number, lat: number): [number, number] | null;
}

let world: Topology | null = null;
const bases = new Map<string, Promise<MapBase>>();

function worldTopology(): Topology {
  return (world ??= JSON.parse(fs.readFileSync(require.resolve('world-atlas/countries-50m.json'), 'utf8')) as Topology);
}

/** The region the gazetteer covers, with a margin: [[west, south], [east, north]]. */
export function extentOf(places: readonly GazetteerPoint[]): [[number, number], [number, number]] {
  if (!places.length) return [[-180, -60], [180, 75]];
  const lons = places.map((p) => p.lon);
  const lats = places.map((p) => p.lat);
  return [
    [Math.max(-180, Math.min(...lons) - MARGIN_DEGREES), Math.max(-80, Math.min(...lats) - MARGIN_DEGREES)],
    [Math.min(180, Math.max(...lons) + MARGIN_DEGREES), Math.min(84, Math.max(...lats) + MARGIN_DEGREES)],
  ];
}

/** The map of a gazetteer's region, its border paths computed once per extent and kept. */
export function mapBase(places: readonly GazetteerPoint[]): Promise<MapBase> {
  const extent = extentOf(places);
  const key = JSON.stringify(extent);
  let base = bases.get(key);
  if (!base) {
    base = drawBase(extent);
    bases.set(key, base);
    base.catch(() => bases.delete(key));
  }
  return base;
}

type Pt = [number, number];
type Rect = readonly [number, number, number, number];

/** Mercator: longitude and latitude (degrees, latitude held within ±85) to the plane, y up. */
function mercator(lon: number, lat: number): Pt {
  const phi = (Math.max(-85, Math.min(85, lat)) * Math.PI) / 180;
  return [(lon * Math.PI) / 180, Math.log(Math.tan(Math.PI / 4 + phi / 2))];
}

/** A Mercator scaled and moved so the extent's corners fit the box, centred (what fitExtent does). */
export function fittedMercator(extent: [[number, number], [number, number]], box: Rect): (lon: number, lat: number) => Pt {
  const [[w, s], [e, n]] = extent;
  const [x0, y0] = mercator(w, s);
  const [x1, y1] = mercator(e, n);
  const k = Math.min((box[2] - box[0]) / (x1 - x0), (box[3] - box[1]) / (y1 - y0));
  const dx = box[0] + (box[2] - box[0] - k * (x1 - x0)) / 2;
  const dy = box[1] + (box[3] - box[1] - k * (y1 - y0)) / 2;
  return (lon, lat) => {
    const [x, y] = mercator(lon, lat);
    return [dx + k * (x - x0), dy + k * (y1 - y)];
  };
}

/** A ring clipped to the rectangle (Sutherland-Hodgman, one edge at a time); a closed ring. */
export function clipRing(ring: readonly Pt[], r: Rect): Pt[] {
  const edges: [(p: Pt) => boolean, (a: Pt, b: Pt) => Pt][] = [
    [(p) => p[0] >= r[0], (a, b) => [r[0], a[1] + ((b[1] - a[1]) * (r[0] - a[0])) / (b[0] - a[0])]],
    [(p) => p[0] <= r[2], (a, b) => [r[2], a[1] + ((b[1] - a[1]) * (r[2] - a[0])) / (b[0] - a[0])]],
    [(p) => p[1] >= r[1], (a, b) => [a[0] + ((b[0] - a[0]) * (r[1] - a[1])) / (b[1] - a[1]), r[1]]],
    [(p) => p[1] <= r[3], (a, b) => [a[0] + ((b[0] - a[0]) * (r[3] - a[1])) / (b[1] - a[1]), r[3]]],
  ];
  let out: Pt[] = [...ring];
  for (const [inside, cross] of edges) {
    const input = out;
    out = [];
    for (let i = 0; i < input.length; i++) {
      const cur = input[i]!;
      const prev = input[(i + input.length - 1) % input.length]!;
      if (inside(cur)) {
        if (!inside(prev)) out.push(cross(prev, cur));
        out.push(cur);
      } else if (inside(prev)) out.push(cross(prev, cur));
    }
    if (!out.length) break;
  }
  return out;
}

/** A line clipped to the rectangle: the pieces of it inside (Liang-Barsky per segment). */
export function clipLine(line: readonly Pt[], r: Rect): Pt[][] {
  const pieces: Pt[][] = [];
  let piece: Pt[] = [];
  for (let i = 1; i < line.length; i++) {
    const [a, b] = [line[i - 1]!, line[i]!];
    const d: Pt = [b[0] - a[0], b[1] - a[1]];
    let t0 = 0;
    let t1 = 1;
    const ok = ([p, q]: [number, number]) => {
      if (p === 0) return q >= 0;
      const t = q / p;
      if (p < 0) t0 = Math.max(t0, t);
      else t1 = Math.min(t1, t);
      return t0 <= t1;
    };
    const visible = ok([-d[0], a[0] - r[0]]) && ok([d[0], r[2] - a[0]]) && ok([-d[1], a[1] - r[1]]) && ok([d[1], r[3] - a[1]]);
    if (!visible) {
      if (piece.length > 1) pieces.push(piece);
      piece = [];
      continue;
    }
    const s: Pt = [a[0] + t0 * d[0], a[1] + t0 * d[1]];
    const e: Pt = [a[0] + t1 * d[0], a[1] + t1 * d[1]];
    if (!piece.length || t0 > 0) {
      if (piece.length > 1) pieces.push(piece);
      piece = [s];
    }
    piece.push(e);
    if (t1 < 1) {
      pieces.push(piece);
      piece = [];
    }
  }
  if (piece.length > 1) pieces.push(piece);
  return pieces;
}

const d1 = (p: Pt) => `${Math.round(p[0] * 10) / 10},${Math.round(p[1] * 10) / 10}`;

/** SVG path data of a GeoJSON geometry, projected and clipped to the picture. */
function pathOf(g: Geometry, project: (lon: number, lat: number) => Pt, r: Rect): string {
  const ring = (coords: readonly Position[]) => {
    const c = clipRing(coords.map((q) => project(q[0]!, q[1]!)), r);
    return c.length > 2 ? `M${c.map(d1).join('L')}Z` : '';
  };
  const line = (coords: readonly Position[]) =>
    clipLine(coords.map((q) => project(q[0]!, q[1]!)), r)
      .map((p) => `M${p.map(d1).join('L')}`)
      .join('');
  switch (g.type) {
    case 'Polygon':
      return g.coordinates.map(ring).join('');
    case 'MultiPolygon':
      return g.coordinates.map((poly) => poly.map(ring).join('')).join('');
    case 'LineString':
      return line(g.coordinates);
    case 'MultiLineString':
      return g.coordinates.map(line).join('');
    case 'GeometryCollection':
      return g.geometries.map((x) => pathOf(x, project, r)).join('');
    default:
      return '';
  }
}

async function drawBase(extent: [[number, number], [number, number]]): Promise<MapBase> {
  const topo = worldTopology();
  const view: Rect = [0, 0, MAP_WIDTH, MAP_HEIGHT];
  const project = fittedMercator(extent, [4, 4, MAP_WIDTH - 4, MAP_HEIGHT - 4]);
  const countries = topo.objects.countries as GeometryCollection;
  const landFeature = feature(topo, topo.objects.land as GeometryCollection);
  const land = landFeature.features.map((f) => (f.geometry ? pathOf(f.geometry, project, view) : '')).join('');
  // Borders between two countries only: coasts are the land's outline.
  const borders = pathOf(mesh(topo, countries, (a, b) => a !== b), project, view);
  return {
    land,
    borders,
    project(lon, lat) {
      const p = project(lon, lat);
      if (!Number.isFinite(p[0]) || !Number.isFinite(p[1])) return null;
      return p[0] >= 0 && p[0] <= MAP_WIDTH && p[1] >= 0 && p[1] <= MAP_HEIGHT ? p : null;
    },
  };
}

export interface MapPoint {
  /** The gazetteer's canonical name (what the list filters on). */
  readonly name: string;
  /** The name shown: in the operator's language where the gazetteer has one. */
  readonly label: string;
  readonly lat: number;
  readonly lon: number;
  readonly cases: number;
}

const R_MAX = 24;
const R_MIN = 4;
/** How many of the largest points are labelled by name (all carry a <title>). */
const LABELLED = 8;
const n1 = (v: number) => Math.round(v * 10) / 10;

/** Area by count: the radius grows with the square root. */
export const radiusOf = (cases: number, max: number): number => Math.max(R_MIN, R_MAX * Math.sqrt(cases / Math.max(1, max)));

interface Disc {
  readonly label: string;
  readonly x: number;
  readonly y: number;
  readonly r: number;
}
type Box = readonly [number, number, number, number];
const overlaps = (a: Box, b: Box) => a[0] < b[2] && b[0] < a[2] && a[1] < b[3] && b[1] < a[3];

/**
 * Labels for the largest points: right of the circle, else left, above or below, whichever first
 * hides no other label or circle; a label that fits nowhere is left out (its point keeps its <title>).
 */
export function placeLabels(discs: readonly Disc[]): { label: string; x: number; y: number; anchor: 'start' | 'end' | 'middle' }[] {
  const taken: Box[] = discs.map((d) => [d.x - d.r, d.y - d.r, d.x + d.r, d.y + d.r]);
  const out: { label: string; x: number; y: number; anchor: 'start' | 'end' | 'middle' }[] = [];
  for (const [i, d] of discs.slice(0, LABELLED).entries()) {
    const w = Array.from(d.label).length * 7 + 4;
    const tries = [
      { x: d.x + d.r + 3, y: d.y + 4, anchor: 'start' as const, box: [d.x + d.r + 1, d.y - 9, d.x + d.r + 3 + w, d.y + 7] as Box },
      { x: d.x - d.r - 3, y: d.y + 4, anchor: 'end' as const, box: [d.x - d.r - 3 - w, d.y - 9, d.x - d.r - 1, d.y + 7] as Box },
      { x: d.x, y: d.y - d.r - 4, anchor: 'middle' as const, box: [d.x - w / 2, d.y - d.r - 18, d.x + w / 2, d.y - d.r - 2] as Box },
      { x: d.x, y: d.y + d.r + 14, anchor: 'middle' as const, box: [d.x - w / 2, d.y + d.r + 2, d.x + w / 2, d.y + d.r + 18] as Box },
    ];
    const fit = tries.find((t) => t.box[0] >= 0 && t.box[2] <= MAP_WIDTH && t.box[1] >= 0 && t.box[3] <= MAP_HEIGHT && !taken.some((b, j) => j !== i && overlaps(b, t.box)));
    if (!fit) continue;
    taken.push(fit.box);
    out.push({ label: d.label, x: fit.x, y: fit.y, anchor: fit.anchor });
  }
  return out;
}

export const placeHref = (name: string) => `/?place=${encodeURIComponent(name)}`;

/** The map: land, borders, one linked circle per place (largest first, so small ones stay on top). */
export function renderMap(base: MapBase, points: readonly MapPoint[], s: OverviewStrings): Raw {
  const max = Math.max(1, ...points.map((p) => p.cases));
  const drawn = points
    .map((p) => ({ p, at: base.project(p.lon, p.lat) }))
    .filter((d): d is { p: MapPoint; at: [number, number] } => d.at !== null)
    .sort((a, b) => b.p.cases - a.p.cases || a.p.name.localeCompare(b.p.name));
  const circles = drawn.map(({ p, at }) => {
    const r = n1(radiusOf(p.cases, max));
    const title = fill(s.mapPoint, { name: p.label, n: p.cases });
    return html`<a class="map-point" href="${placeHref(p.name)}" data-place="${p.name}" data-cases="${p.cases}" aria-label="${title}"><title>${title}</title><circle cx="${n1(at[0])}" cy="${n1(at[1])}" r="${r}" fill="#c0392b" fill-opacity="0.55" stroke="#7b1f14" stroke-width="1"></circle></a>`;
  });
  const labels = placeLabels(drawn.map(({ p, at }) => ({ label: p.label, x: at[0], y: at[1], r: radiusOf(p.cases, max) }))).map(
    (l) => html`<text class="map-label" x="${n1(l.x)}" y="${n1(l.y)}" text-anchor="${l.anchor}" fill="#222" stroke="#fff" stroke-width="3" paint-order="stroke" font-size="12">${l.label}</text>`,
  );
  return html`<svg class="map" dir="ltr" direction="ltr" viewBox="0 0 ${MAP_WIDTH} ${MAP_HEIGHT}" width="${MAP_WIDTH}" height="${MAP_HEIGHT}" role="group" aria-label="${s.mapTitle}" xmlns="http://www.w3.org/2000/svg">
<rect class="sea" x="0" y="0" width="${MAP_WIDTH}" height="${MAP_HEIGHT}" fill="#dce9f2"></rect>
<path class="land" d="${raw(base.land)}" fill="#f3efe4" stroke="#8a8f96" stroke-width="0.6"></path>
<path class="borders" d="${raw(base.borders)}" fill="none" stroke="#8a8f96" stroke-width="0.8" stroke-dasharray="3 2"></path>
<g class="labels" pointer-events="none">${labels}</g>
<g class="points">${circles}</g>
</svg>`;
}

const CHART_WIDTH = 760;
const CHART_HEIGHT = 260;
const PAD = { left: 44, right: 10, top: 28, bottom: 40 };
/** Channel colours, in the order of the sorted channel names. */
const PALETTE = ['#1f77b4', '#e67e22', '#2ca02c', '#9467bd', '#8c564b', '#d62728', '#17becf', '#7f7f7f'];

/** A round top for the count axis, with its step: 1, 2 or 5 times a power of ten, about four steps. */
export function niceScale(max: number): { top: number; step: number } {
  if (max <= 0) return { top: 4, step: 1 };
  const rough = max / 4;
  const pow = 10 ** Math.floor(Math.log10(rough));
  const step = ([1, 2, 5, 10].map((m) => m * pow).find((v) => v >= rough) ?? 10 * pow);
  const whole = Math.max(1, Math.round(step));
  return { top: Math.ceil(max / whole) * whole, step: whole };
}

export const hourLabel = (iso: string) => iso.slice(11, 16);
export const colourOf = (channels: readonly string[], channel: string) => PALETTE[Math.max(0, channels.indexOf(channel)) % PALETTE.length]!;

/** Reports per hour as stacked bars, one colour per channel, hours along x (left to right, also in Arabic). */
export function renderHourlyChart(data: HourlyReports, s: OverviewStrings): Raw {
  const plotW = CHART_WIDTH - PAD.left - PAD.right;
  const plotH = CHART_HEIGHT - PAD.top - PAD.bottom;
  const perHour = data.hours.map((_, i) => data.channels.reduce((sum, c) => sum + (data.counts[c]?.[i] ?? 0), 0));
  const { top, step } = niceScale(Math.max(0, ...perHour));
  const bw = plotW / data.hours.length;
  const y = (v: number) => PAD.top + plotH - (v / top) * plotH;
  const bars = data.hours.map((hour, i) => {
    let base = 0;
    return data.channels.map((c) => {
      const n = data.counts[c]?.[i] ?? 0;
      if (!n) return '';
      const y0 = y(base);
      base += n;
      const y1 = y(base);
      return html`<rect class="bar" data-channel="${c}" data-hour="${hour}" data-count="${n}" x="${n1(PAD.left + i * bw + 1)}" y="${n1(y1)}" width="${n1(Math.max(1, bw - 2))}" height="${n1(Math.max(0.5, y0 - y1))}" fill="${colourOf(data.channels, c)}"><title>${fill(s.barTitle, { channel: c, hour: `${hour.slice(0, 10)} ${hourLabel(hour)}`, n })}</title></rect>`;
    });
  });
  const ticks: Raw[] = [];
  for (let v = 0; v <= top; v += step) {
    ticks.push(html`<line x1="${PAD.left}" x2="${CHART_WIDTH - PAD.right}" y1="${n1(y(v))}" y2="${n1(y(v))}" stroke="#ddd" stroke-width="1"></line><text x="${PAD.left - 6}" y="${n1(y(v) + 4)}" text-anchor="end" font-size="11" fill="#444">${v}</text>`);
  }
  const hourTicks = data.hours.map((hour, i) => {
    const h = Number(hour.slice(11, 13));
    if (h % 6 !== 0) return '';
    const x = n1(PAD.left + i * bw);
    const day = h === 0 ? html`<text x="${x}" y="${CHART_HEIGHT - PAD.bottom + 28}" text-anchor="middle" font-size="10" fill="#666">${hour.slice(5, 10)}</text>` : '';
    return html`<line x1="${x}" x2="${x}" y1="${PAD.top + plotH}" y2="${PAD.top + plotH + 4}" stroke="#444"></line><text x="${x}" y="${CHART_HEIGHT - PAD.bottom + 16}" text-anchor="middle" font-size="11" fill="#444">${hourLabel(hour)}</text>${day}`;
  });
  const legend = data.channels.map(
    (c, i) => html`<g class="legend-item" transform="translate(${PAD.left + i * 130} 8)"><rect width="12" height="12" fill="${colourOf(data.channels, c)}"></rect><text x="16" y="10" font-size="12" fill="#222">${c} (${(data.counts[c] ?? []).reduce((a, b) => a + b, 0)})</text></g>`,
  );
  return html`<svg class="chart" dir="ltr" direction="ltr" viewBox="0 0 ${CHART_WIDTH} ${CHART_HEIGHT}" width="${CHART_WIDTH}" height="${CHART_HEIGHT}" role="img" aria-label="${s.perHourTitle}" xmlns="http://www.w3.org/2000/svg">
<title>${s.perHourTitle}</title>
<g class="grid">${ticks}</g>
<g class="bars">${bars}</g>
<line x1="${PAD.left}" x2="${CHART_WIDTH - PAD.right}" y1="${PAD.top + plotH}" y2="${PAD.top + plotH}" stroke="#444"></line>
<g class="hours">${hourTicks}</g>
<text x="${CHART_WIDTH - PAD.right}" y="${CHART_HEIGHT - 2}" text-anchor="end" font-size="11" fill="#444">${s.hourAxis}</text>
<text x="12" y="${PAD.top + plotH / 2}" text-anchor="middle" font-size="11" fill="#444" transform="rotate(-90 12 ${PAD.top + plotH / 2})">${s.countAxis}</text>
<g class="legend">${legend}</g>
</svg>`;
}
