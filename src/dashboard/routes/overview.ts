/**
 * The overview (GET /overview, role read; issue 11, item 9): what a shift lead looks at first.
 * Reports per hour by channel over 48 hours, the open cases' top tags and places, the cases
 * flagged as campaign, the queues' depth, and a map of the open cases by place, each tag, place
 * and point linking to the filtered list. Aggregates only: the one tip text shown (a campaign
 * case's first words) is escaped and marked dir="auto"; no informant appears.
 */
import * as path from 'node:path';
import type { FastifyPluginAsync } from 'fastify';
import fp from 'fastify-plugin';
import { loadTaggingRules } from '../../tagging/load';
import type { Place } from '../../tagging/vocabulary';
import { packageRoot } from '../../package-root';
import { html, page, type Raw } from '../html';
import { stringsFor, type Strings } from '../i18n';
import { fill, overviewStrings, type OverviewStrings } from '../i18n/overview';
import { mapBase, placeHref, renderHourlyChart, renderMap, hourLabel, type MapBase, type MapPoint } from '../map';
import { CAMPAIGN_FLAG, campaignCases, openCasePlaces, openCaseTags, reportsPerHour, type CampaignCases, type HourlyReports, type QueueCounts, type QueueDepth, type Ranked } from '../overview';
import { ageOf, caseUrl, pageOpts, priorityName, statusName } from '../page-parts';
import { htmlResponses, noQuery } from '../schemas';

export interface OverviewOptions {
  /** The queues' depth (serve.ts reads it from Redis); without it the page says it is not available here. */
  readonly queueDepth?: QueueDepth;
  /** Where places.yaml is (the configuration's rules.dir); default the package's config/. */
  readonly rulesDir?: string;
}

const TOP = 10;
const QUEUE_COLUMNS = ['waiting', 'active', 'delayed', 'failed'] as const;

const placesByDir = new Map<string, readonly Place[]>();
function gazetteer(dir: string): readonly Place[] {
  let places = placesByDir.get(dir);
  if (!places) placesByDir.set(dir, (places = loadTaggingRules(dir).places));
  return places;
}

/** A place's name in the operator's language where the gazetteer has one, else its canonical name. */
const labelOf = (place: Place | undefined, name: string, lang: string) => (place?.names as Readonly<Record<string, readonly string[] | undefined>> | undefined)?.[lang]?.[0] ?? name;

function hourlySection(o: OverviewStrings, data: HourlyReports): Raw {
  const header = html`<tr><th scope="col">${o.hour}</th>${data.channels.map((c) => html`<th scope="col">${c}</th>`)}<th scope="col">${o.total}</th></tr>`;
  const rows = data.hours.map((hour, i) => {
    const cells = data.channels.map((c) => data.counts[c]?.[i] ?? 0);
    return html`<tr data-hour="${hour}"><th scope="row">${hour.slice(0, 10)} ${hourLabel(hour)}</th>${cells.map((n, j) => html`<td data-channel="${data.channels[j]!}">${n}</td>`)}<td class="total">${cells.reduce((a, b) => a + b, 0)}</td></tr>`;
  });
  return html`<section class="ov-hourly"><h2>${o.perHourTitle}</h2>
<p>${data.total ? fill(o.perHourTotal, { n: data.total }) : o.perHourNone}</p>
<div class="ov-picture">${renderHourlyChart(data, o)}</div>
<details><summary>${o.showTable}</summary><table class="ov-hourly-table">${header}${rows}</table></details></section>`;
}

function rankedSection(title: string, column: string, o: OverviewStrings, rows: readonly Ranked[], href: (name: string) => string, label: (name: string) => string, cls: string): Raw {
  const body = rows.length
    ? html`<table class="${cls}"><thead><tr><th scope="col">${column}</th><th scope="col">${o.openCases}</th></tr></thead><tbody>${rows.map(
        (r) => html`<tr><td><a href="${href(r.name)}">${label(r.name)}</a></td><td>${r.cases}</td></tr>`,
      )}</tbody></table>`
    : html`<p>${o.noneOpen}</p>`;
  return html`<section><h2>${title}</h2>${body}</section>`;
}

function campaignSection(s: Strings, o: OverviewStrings, c: CampaignCases, now: number): Raw {
  const items = c.cases.map(
    (k) => html`<li class="campaign-case" data-ref="${k.ref}"><a href="${caseUrl(k.ref)}">${k.ref}</a> <span class="meta">${statusName(s, k.status)} · ${priorityName(s, k.priority)} · ${s.reports} ${k.reportCount} · ${s.informants} ${k.informantCount} · ${ageOf(k.lastReportAt, now, s)}</span>
<div dir="auto" class="first-words">${k.firstWords ?? s.noText}</div></li>`,
  );
  return html`<section class="ov-campaign"><h2>${o.campaignTitle}</h2>${
    c.total ? html`<p>${fill(o.campaignCount, { n: c.total, open: c.open })}</p><ul>${items}</ul>` : html`<p>${o.campaignNone}</p>`
  }<p><a href="/?flag=${encodeURIComponent(CAMPAIGN_FLAG)}">${o.campaignAll}</a></p></section>`;
}

function queueSection(o: OverviewStrings, depth: Record<string, QueueCounts> | 'unavailable' | 'failed'): Raw {
  const body =
    depth === 'unavailable'
      ? html`<p class="ov-queues-unavailable">${o.queuesUnavailable}</p>`
      : depth === 'failed'
        ? html`<p class="error">${o.queuesFailed}</p>`
        : html`<table class="ov-queues"><thead><tr><th scope="col">${o.queue}</th>${QUEUE_COLUMNS.map((k) => html`<th scope="col">${o[k]}</th>`)}</tr></thead><tbody>${Object.entries(depth).map(
            ([name, c]) => html`<tr data-queue="${name}"><td>${name}</td>${QUEUE_COLUMNS.map((k) => html`<td data-count="${k}" class="${k === 'failed' && c.failed ? 'ov-failed' : ''}">${c[k]}</td>`)}</tr>`,
          )}</tbody></table>`;
  return html`<section><h2>${o.queuesTitle}</h2>${body}</section>`;
}

function mapSection(o: OverviewStrings, base: MapBase, places: readonly Ranked[], byName: ReadonlyMap<string, Place>, lang: string): Raw {
  const points: MapPoint[] = [];
  const unplaced: string[] = [];
  for (const r of places) {
    const p = byName.get(r.name);
    if (p) points.push({ name: r.name, label: labelOf(p, r.name, lang), lat: p.lat, lon: p.lon, cases: r.cases });
    else unplaced.push(r.name);
  }
  return html`<section class="ov-map"><h2>${o.mapTitle}</h2><p>${points.length ? o.mapCaption : o.mapNone}</p>
<div class="ov-picture">${renderMap(base, points, o)}</div>${unplaced.length ? html`<p class="meta">${fill(o.mapUnplaced, { names: unplaced.join(', ') })}</p>` : ''}</section>`;
}

const overviewPlugin: FastifyPluginAsync<OverviewOptions> = async (app, opts) => {
  const db = app.caselog;
  // At start: the gazetteer and the borders of its region (drawn once, kept for the process).
  const places = gazetteer(opts.rulesDir ?? path.join(packageRoot(), 'config'));
  const byName = new Map(places.map((p) => [p.name, p]));
  const base = await mapBase(places);

  app.get('/overview', { config: { permission: 'read' }, schema: { querystring: noQuery, response: htmlResponses } }, async (req, reply) => {
    const lang = req.operatorSession!.operator.language;
    const s = stringsFor(lang);
    const o = overviewStrings(lang);
    const readDepth = async (): Promise<Record<string, QueueCounts> | 'unavailable' | 'failed'> => {
      if (!opts.queueDepth) return 'unavailable';
      try {
        return await opts.queueDepth();
      } catch (err) {
        req.log.warn({ err }, 'queue depth not read');
        return 'failed';
      }
    };
    const [hourly, tags, placeRows, campaign, depth] = await Promise.all([reportsPerHour(db), openCaseTags(db, TOP), openCasePlaces(db), campaignCases(db), readDepth()]);
    const label = (name: string) => labelOf(byName.get(name), name, lang);
    const body = html`<h1>${o.title}</h1>
${hourlySection(o, hourly)}
<div class="ov-grid">
${rankedSection(o.topTagsTitle, s.tag, o, tags, (t) => `/?tag=${encodeURIComponent(t)}`, (t) => t, 'ov-tags')}
${rankedSection(o.topPlacesTitle, s.place, o, placeRows.slice(0, TOP), placeHref, label, 'ov-places')}
${campaignSection(s, o, campaign, Date.now())}
${queueSection(o, depth)}
</div>
${mapSection(o, base, placeRows, byName, lang)}`;
    return reply.type('text/html; charset=utf-8').send(page(s, o.title, body, pageOpts(req)));
  });
};

export default fp(overviewPlugin, { name: 'tiphub-overview', fastify: '5.x', dependencies: ['tiphub-caselog', 'tiphub-auth'] });
