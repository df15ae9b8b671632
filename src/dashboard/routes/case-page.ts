/**
 * A case's page (GET /cases/:ref) with the forms that change it; each form posts here, goes
 * through applyCaseAction (src/caselog/actions.ts underneath) with the operator as actor, and
 * redirects back. Every tip text is escaped and marked dir="auto".
 */
import * as path from 'node:path';
import type { FastifyPluginAsync } from 'fastify';
import fp from 'fastify-plugin';
import { CASE_STATUSES, CLOSE_REASONS } from '../../caselog/actions';
import { appendAudit } from '../../operators/audit';
import { PRIORITIES } from '../../tagging/vocabulary';
import { applyCaseAction, mergeCaseInto, replyToCase, splitReportOut, type CaseAction, type RelayOutbox } from '../case-actions';
import { caseRecord, type CaseRecord } from '../case-history';
import { casePage, type CasePageReport } from '../case-view';
import { cannedLabel, cannedLanguages, cannedText, suggestedLanguage, type CannedReplies } from '../canned';
import { html, page, type Raw } from '../html';
import { stringsFor, type Strings } from '../i18n';
import { caseStrings, type CaseStrings } from '../i18n/case';
import { MediaFiles, type ReportMedia } from '../media-view';
import { refuse } from '../plugins/auth';
import { loadTaggingRules } from '../../tagging/load';
import { packageRoot } from '../../package-root';
import { caseUrl, list, pageOpts, priorityName, select, statusName } from '../page-parts';
import { can } from '../roles';
import { exportsStrings } from '../i18n/exports';
import { assignBody, htmlResponses, mergeBody, noQuery, notesBody, priorityBody, refParams, replyBody, splitBody, statusBody } from '../schemas';

export interface CasePageOptions {
  readonly relayOutbox?: RelayOutbox;
  /** The reply composer's canned replies (loadCannedReplies); none: the composer has free text only. */
  readonly cannedReplies?: CannedReplies;
  /** Where places.yaml is (the configuration's rules.dir), for a location's nearest place; default the package's config/. */
  readonly rulesDir?: string;
  /** The media store (read only), to tell what each stored file is. */
  readonly mediaRoot?: string;
}

/** A canned reply posted by id and language (the composer without its script); the server looks up the words. */
const cannedBody = {
  type: 'object',
  required: ['canned', 'lang', 'to'],
  properties: {
    canned: { type: 'string', minLength: 1, maxLength: 40 },
    lang: { type: 'string', minLength: 2, maxLength: 8 },
    to: { type: 'string', minLength: 1, maxLength: 80 },
    _csrf: { type: 'string' },
  },
} as const;

const mediaUrl = (sha256: string, what: 'thumb' | 'play' | 'download') => `/media/${sha256}/${what}`;

/** One media item: a re-encoded thumbnail, a player on our route, or a download only; pending and missing say so. */
function mediaItem(cs: CaseStrings, m: ReportMedia): Raw {
  const kind = (cs as Record<string, string>)[`kind_${m.kind}`] ?? m.kind;
  if (m.state !== 'stored' || !m.sha256) {
    return m.state === 'missing'
      ? html`<li class="media-item media-missing">${kind}: ${cs.mediaMissing}${m.reason ? html` (${m.reason})` : ''}</li>`
      : html`<li class="media-item media-pending">${kind}: ${cs.mediaPending}</li>`;
  }
  if (!m.available) return html`<li class="media-item media-absent">${kind}: ${cs.mediaNotHere}</li>`;
  const size = m.size !== null ? html` <span class="size">(${m.size} ${cs.bytes})</span>` : '';
  const download = (label: string) => html`<a class="download" href="${mediaUrl(m.sha256!, 'download')}" download>${label}</a>${size}`;
  switch (m.presentation) {
    case 'image':
      return html`<li class="media-item media-image"><img class="thumb" src="${mediaUrl(m.sha256, 'thumb')}" alt="${cs.thumbnailAlt}" loading="lazy"> ${download(cs.downloadOriginal)}</li>`;
    case 'audio':
      return html`<li class="media-item media-audio">${kind}: <audio controls preload="metadata" src="${mediaUrl(m.sha256, 'play')}"></audio> ${download(cs.downloadOriginal)}</li>`;
    case 'video':
      return html`<li class="media-item media-video">${kind}: <video controls preload="metadata" src="${mediaUrl(m.sha256, 'play')}"></video> ${download(cs.downloadOriginal)}</li>`;
    default:
      return html`<li class="media-item media-download">${kind}: ${download(cs.download)} <span class="meta">${cs.downloadOnly}</span></li>`;
  }
}

/** What a report carries beyond its text: where it was sent from, entities, media. */
function reportDetails(cs: CaseStrings, r: CasePageReport): Raw {
  const l = r.location;
  const location = l
    ? html`<p class="location">${cs.location}: <span class="coords">${l.lat.toFixed(5)}, ${l.lon.toFixed(5)}</span>${l.label ? html` <span dir="auto">(${l.label})</span>` : ''}${
        l.nearest ? html` · ${cs.nearestPlace}: <span class="nearest">${l.nearest.name}</span>, ${l.nearest.km} ${cs.kmAway}` : ''
      }</p>`
    : '';
  const e = r.entities;
  const entities = e
    ? html`<dl class="entities"><dt>${cs.entities}</dt>${(['phones', 'urls', 'emails', 'wallets'] as const)
        .filter((k) => e[k].length)
        .map((k) => html`<dd><span class="entity-kind">${(cs as Record<string, string>)[`entity_${k}`]}:</span> ${e[k].map((v, i) => html`${i ? ', ' : ''}<bdi class="entity" dir="auto">${v}</bdi>`)}</dd>`)}</dl>`
    : '';
  const media = r.mediaFiles.length ? html`<ul class="media" aria-label="${cs.media}">${r.mediaFiles.map((m) => mediaItem(cs, m))}</ul>` : '';
  return html`${location}${entities}${media}`;
}

/** The canned replies' form: by id and language to the server, or (with the script) into the reply box. */
function cannedForm(s: Strings, cs: CaseStrings, replies: CannedReplies, o: { action: string; csrf: Raw; uiLanguage: string; suggested: string; to: Raw }): Raw {
  const languages = cannedLanguages(replies);
  return html`<form method="post" action="${o.action}" class="canned-form" data-reply-box="reply-text">${o.csrf}<h3>${cs.cannedTitle}</h3>
<label>${cs.cannedReply} <select name="canned" required><option value="">${cs.cannedChoose}</option>${replies.map(
    (r) => html`<option value="${r.id}"${languages.map((l) => (r.texts[l] ? html` data-text-${l}="${cannedText(r, l).text}"` : ''))}>${cannedLabel(r, o.uiLanguage)}</option>`,
  )}</select></label>
<label>${cs.replyLanguage} <select name="lang">${languages.map(
    (l) => html`<option value="${l}"${l === o.suggested ? html` selected` : ''}>${(cs as Record<string, string>)[`lang_${l}`] ?? l}${l === o.suggested ? html` (${cs.suggested})` : ''}</option>`,
  )}</select></label>
<label>${s.sendTo} ${o.to}</label>
<button type="submit">${cs.sendCanned}</button><p class="meta">${cs.cannedHint}</p></form>`;
}

/** The case's record below its reports: chain check, notes, replies, reply composer, history. */
function recordSections(s: Strings, r: CaseRecord, opts: { csrf: Raw; replyAction: string | null; canned: ((to: Raw) => Raw) | null }): Raw {
  const chain = r.chain.ok
    ? html`<p class="chain ok">${s.chainIntact} (${r.chain.events} ${s.events})</p>`
    : html`<p class="chain broken" role="alert">${s.chainBroken}${r.chain.firstMismatch?.seq != null ? html` ${s.atEvent} ${r.chain.firstMismatch.seq}` : ''}: ${r.chain.firstMismatch?.what ?? ''} (${r.chain.events} ${s.events})</p>`;
  const notes = r.notes.length
    ? html`<ul class="notes">${r.notes.map((n) => html`<li class="note"><span class="meta">${n.author} · ${when(n.at)}</span><div dir="auto" class="note-text">${n.text ?? s.textGone}</div></li>`)}</ul>`
    : html`<p>${s.noNotes}</p>`;
  const replies = r.replies.length
    ? html`<table class="replies"><thead><tr><th>${s.time}</th><th>${s.actor}</th><th>${s.pseudonym}</th><th>${s.replyText}</th><th>${s.delivery}</th></tr></thead><tbody>${r.replies.map(
      (x) => html`<tr class="reply state-${x.state}"><td>${when(x.at)}</td><td>${x.actor}</td><td>${x.to}</td><td dir="auto">${x.text ?? s.textGone}</td><td class="delivery">${(s as Record<string, string>)[`state_${x.state}`] ?? x.state}${x.settledAt ? html` ${x.settledAt}` : ''}${x.reason ? html` (${(s as Record<string, string>)[`reason_${x.reason}`] ?? x.reason})` : ''}</td></tr>`,
    )}</tbody></table>`
    : html`<p>${s.noReplies}</p>`;
  const informants = html`<table class="informants"><thead><tr><th>${s.pseudonym}</th><th>${s.channel}</th><th>${s.reports}</th><th>${s.reachable}</th></tr></thead><tbody>${r.informants.map(
    (i) => html`<tr><td>${informantLink(i.pseudonym)}</td><td>${i.channel}</td><td>${i.reports}</td><td>${i.reachable ? s.reachable : html`${s.notReachable} (${i.why ?? ''})`}</td></tr>`,
  )}</tbody></table>`;
  const reachable = r.informants.filter((i) => i.reachable);
  const to = html`<select name="to"><option value="all">${s.allReachable} (${reachable.length})</option>${reachable.map((i) => html`<option value="${i.pseudonym}">${i.pseudonym} (${i.channel})</option>`)}</select>`;
  const composer = opts.replyAction
    ? html`<form method="post" action="${opts.replyAction}" class="reply-form">${opts.csrf}<label>${s.replyText}<br><textarea id="reply-text" name="text" dir="auto" required rows="3" cols="60" maxlength="4000"></textarea></label><br>
<label>${s.sendTo} ${to}</label>
<button type="submit">${s.queueReply}</button></form>${opts.canned ? opts.canned(to) : ''}`
    : html``;
  const history = html`<table class="history"><thead><tr><th>#</th><th>${s.time}</th><th>${s.event}</th><th>${s.actor}</th><th>${s.summary}</th></tr></thead><tbody>${r.history.map(
    (e) => html`<tr class="event" data-kind="${e.kind}"><td>${e.seq}</td><td>${when(e.at)}</td><td>${e.kind}</td><td>${e.actor}</td><td dir="auto">${e.summary}</td></tr>`,
  )}</tbody></table>`;
  return html`<section class="verify"><h2>${s.verifyTitle}</h2>${chain}</section>
<section class="case-notes"><h2>${s.notes}</h2>${notes}</section>
<section class="case-replies"><h2>${s.replyTitle}</h2>${informants}${composer}<h3>${s.replies}</h3>${replies}</section>
<section class="case-history"><h2>${s.history}</h2>${history}</section>`;
}

/** A time, kept left to right inside an Arabic page (its digits and dashes would be reordered). */
const when = (iso: string | null | undefined): Raw => (iso ? html`<time dir="ltr" datetime="${iso}">${iso}</time>` : html`-`);

/** A pseudonym, linking to the informant's view (never an address). */
const informantLink = (pseudonym: string): Raw => html`<a class="pseudonym" href="/informants/${encodeURIComponent(pseudonym)}">${pseudonym}</a>`;

const casePagePlugin: FastifyPluginAsync<CasePageOptions> = async (app, opts) => {
  const db = app.caselog;
  const replies = opts.cannedReplies ?? [];
  const files = opts.mediaRoot ? new MediaFiles(opts.mediaRoot) : null;
  // The gazetteer, read and checked once at start.
  const places = loadTaggingRules(opts.rulesDir ?? path.join(packageRoot(), 'config')).places;

  app.get<{ Params: { ref: string } }>('/cases/:ref', { config: { permission: 'read' }, schema: { params: refParams, querystring: noQuery, response: htmlResponses } }, async (req, reply) => {
    const session = req.operatorSession!;
    const s = stringsFor(session.operator.language);
    const cs = caseStrings(session.operator.language);
    const c = await casePage(db, req.params.ref, { places, media: files });
    const record = await caseRecord(db, c.ref);
    await db.transaction((tx) => appendAudit(tx, session.operator.name, 'case.view', { ref: c.ref }));
    const role = session.operator.role;
    const csrf = html`<input type="hidden" name="_csrf" value="${session.csrf}">`;
    const action = (what: string) => `${caseUrl(c.ref)}/${what}`;
    const statuses = can(role, 'close') ? CASE_STATUSES : CASE_STATUSES.filter((x) => x !== 'closed');
    const forms: Raw[] = [];
    if (can(role, 'status') && (c.status !== 'closed' || can(role, 'close'))) {
      forms.push(html`<form method="post" action="${action('status')}">${csrf}<label>${s.status} ${select('status', statuses, (v) => statusName(s, v), c.status)}</label>
${can(role, 'close') ? html`<label>${s.closeReason} ${select('reason', CLOSE_REASONS, (v) => v, c.closeReason ?? undefined, '-')}</label>` : ''}
<button type="submit">${s.setStatus}</button></form>`);
    }
    if (can(role, 'assign')) {
      forms.push(html`<form method="post" action="${action('assign')}">${csrf}<label>${s.assignee} <input name="to" value="${c.assignee ?? ''}" maxlength="64" size="12"></label><button type="submit">${s.assign}</button></form>
<form method="post" action="${action('assign')}">${csrf}<input type="hidden" name="to" value="${session.operator.name}"><button type="submit">${s.assignToMe}</button></form>`);
    }
    if (can(role, 'priority')) {
      forms.push(html`<form method="post" action="${action('priority')}">${csrf}<label>${s.priority} ${select('priority', PRIORITIES, (v) => priorityName(s, v), c.priority)}</label><button type="submit">${s.setPriority}</button></form>`);
    }
    if (can(role, 'tag')) {
      forms.push(html`<form method="post" action="${action('tags')}">${csrf}<label>${s.tag} <input name="add" required maxlength="40" size="14"></label><button type="submit">${s.addTag}</button></form>
${c.tags.map((t) => html`<form method="post" action="${action('tags')}" class="inline" data-confirm="${s.removeTag}: ${t}?">${csrf}<input type="hidden" name="remove" value="${t}"><button type="submit">${s.removeTag} ${t}</button></form> `)}`);
    }
    if (can(role, 'note')) {
      forms.push(html`<form method="post" action="${action('notes')}">${csrf}<label>${s.note}<br><textarea name="text" dir="auto" required rows="3" cols="60" maxlength="65536"></textarea></label><br><button type="submit">${s.addNote}</button></form>`);
    }
    if (can(role, 'merge')) {
      forms.push(html`<form method="post" action="${action('merge')}" data-confirm="${s.mergeInto}?">${csrf}<label>${s.mergeInto} <input name="into" required maxlength="20" size="10"></label><button type="submit">${s.merge}</button></form>`);
    }
    if (can(role, 'export')) forms.push(html`<p class="case-export"><a href="${caseUrl(c.ref)}/export">${exportsStrings(session.operator.language).bundleTitle}</a></p>`);
    const splittable = can(role, 'merge') && c.reports.length > 1;
    const header = html`<h1>${s.caseRef} ${c.ref}</h1>
<dl class="case-header">
<dt>${s.status}</dt><dd class="status">${statusName(s, c.status)}${c.closeReason ? ` (${c.closeReason})` : ''}</dd>
<dt>${s.priority}</dt><dd class="prio-${c.priority}">${priorityName(s, c.priority)}</dd>
<dt>${s.assignee}</dt><dd class="assignee">${c.assignee ?? s.nobody}</dd>
<dt>${s.tags}</dt><dd class="tags">${list(c.tags)}</dd>
<dt>${s.places}</dt><dd>${list(c.places)}</dd>
<dt>${s.reports}</dt><dd>${c.reportCount}</dd>
<dt>${s.informants}</dt><dd>${c.informantCount}</dd>
<dt>${s.channels}</dt><dd>${list(c.channels)}</dd>
<dt>${s.firstReport}</dt><dd>${when(c.firstReportAt)}</dd>
<dt>${s.lastReport}</dt><dd>${when(c.lastReportAt)}</dd>
<dt>${s.notes}</dt><dd>${c.notes}</dd>
</dl>`;
    const reports = c.reports.map(
      (r) => html`<article class="report" id="r-${r.id}">
<p class="meta">${s.channel}: ${r.channel} · ${informantLink(r.pseudonym)} · ${s.sent} ${when(r.sentAt)} · ${s.received} ${when(r.receivedAt)} · ${s.language}: ${r.language ?? '-'}${
        r.tags.length ? html` · ${s.tags}: ${r.tags.join(', ')}` : ''
      }${r.places.length ? html` · ${s.places}: ${r.places.join(', ')}` : ''}${
        r.duplicate
          ? html` · ${s.duplicate}: <span class="dup-kind">${r.duplicate.kind}</span> ${cs.duplicateOf} <code>${r.duplicate.of.slice(0, 12)}</code>${
              r.duplicate.similarity !== null ? html`, ${cs.similarity} <span class="similarity">${r.duplicate.similarity.toFixed(2)}</span>` : ''
            }`
          : ''
      }${r.retractedAt ? html` · <span class="retracted">${(s as Record<string, string>).retracted} ${when(r.retractedAt)}</span>` : ''}</p>
<div class="tip" dir="auto">${r.text ?? s.noText}</div>${reportDetails(cs, r)}${
        splittable
          ? html`<form method="post" action="${action('split')}" class="inline split" data-confirm="${s.splitOut}?">${csrf}<input type="hidden" name="report" value="${r.id}"><button type="submit">${s.splitOut}</button></form>`
          : ''
      }</article>`,
    );
    const canned =
      replies.length && can(role, 'reply')
        ? (to: Raw) =>
            cannedForm(s, cs, replies, { action: action('reply-canned'), csrf, uiLanguage: session.operator.language, suggested: suggestedLanguage(replies, c.reports.map((r) => r.language)), to })
        : null;
    const sections = recordSections(s, record, { csrf, replyAction: can(role, 'reply') ? action('reply') : null, canned });
    return reply
      .type('text/html; charset=utf-8')
      .send(page(s, `${s.caseRef} ${c.ref}`, html`<p><a href="/">${s.back}</a></p>${header}<section class="actions">${forms}</section><section class="reports">${reports}</section>${sections}`, pageOpts(req)));
  });

  const post = <B>(what: string, permission: 'status' | 'assign' | 'priority' | 'tag' | 'note', body: object, toAction: (b: B) => CaseAction) =>
    app.post<{ Params: { ref: string }; Body: B }>(
      `/cases/:ref/${what}`,
      { config: { permission }, schema: { params: refParams, body, response: htmlResponses } },
      async (req, reply) => {
        const r = await applyCaseAction(db, req.operatorSession!, req.params.ref, toAction(req.body as B));
        return reply.redirect(caseUrl(r.ref), 303);
      },
    );
  post<{ status: string; reason?: string }>('status', 'status', statusBody, (b) => ({ kind: 'status', status: b.status, reason: b.status === 'closed' && b.reason ? b.reason : null }));
  post<{ to: string | null }>('assign', 'assign', assignBody, (b) => ({ kind: 'assign', to: b.to ? b.to.trim() || null : null }));
  post<{ priority: string }>('priority', 'priority', priorityBody, (b) => ({ kind: 'priority', priority: b.priority }));
  post<{ add?: string; remove?: string }>(
    'tags',
    'tag',
    { type: 'object', properties: { add: { type: 'string', maxLength: 80 }, remove: { type: 'string', maxLength: 80 }, _csrf: { type: 'string' } } },
    (b) => ({ kind: 'tags', add: b.add ? [b.add] : [], remove: b.remove ? [b.remove] : [] }),
  );
  post<{ text: string }>('notes', 'note', notesBody, (b) => ({ kind: 'note', text: b.text }));

  app.post<{ Params: { ref: string }; Body: { text: string; to: string } }>(
    '/cases/:ref/reply',
    { config: { permission: 'reply' }, schema: { params: refParams, body: replyBody, response: htmlResponses } },
    async (req, reply) => {
      const r = await replyToCase(db, req.operatorSession!, req.params.ref, { text: req.body.text, to: req.body.to }, opts.relayOutbox, req.log);
      return reply.redirect(caseUrl(r.ref), 303);
    },
  );
  app.post<{ Params: { ref: string }; Body: { canned: string; lang: string; to: string } }>(
    '/cases/:ref/reply-canned',
    { config: { permission: 'reply' }, schema: { params: refParams, body: cannedBody, response: htmlResponses } },
    async (req, reply) => {
      const chosen = replies.find((x) => x.id === req.body.canned);
      if (!chosen) return refuse(req, reply, 400, 'TIPHUB_DASHBOARD_INVALID', `no canned reply ${JSON.stringify(req.body.canned)}`);
      const { text } = cannedText(chosen, req.body.lang);
      const r = await replyToCase(db, req.operatorSession!, req.params.ref, { text, to: req.body.to }, opts.relayOutbox, req.log);
      return reply.redirect(caseUrl(r.ref), 303);
    },
  );
  app.post<{ Params: { ref: string }; Body: { into: string } }>(
    '/cases/:ref/merge',
    { config: { permission: 'merge' }, schema: { params: refParams, body: mergeBody, response: htmlResponses } },
    async (req, reply) => {
      const r = await mergeCaseInto(db, req.operatorSession!, req.params.ref, req.body.into.trim());
      return reply.redirect(caseUrl(r.into), 303);
    },
  );
  app.post<{ Params: { ref: string }; Body: { report: string } }>(
    '/cases/:ref/split',
    { config: { permission: 'merge' }, schema: { params: refParams, body: splitBody, response: htmlResponses } },
    async (req, reply) => {
      const r = await splitReportOut(db, req.operatorSession!, req.params.ref, req.body.report);
      return reply.redirect(caseUrl(r.from), 303);
    },
  );
};

export default fp(casePagePlugin, { name: 'tiphub-case-page', fastify: '5.x', dependencies: ['tiphub-caselog', 'tiphub-auth'] });
