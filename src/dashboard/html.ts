/**
 * Server-rendered HTML. Everything interpolated goes through `esc` (tips are hostile input); the
 * only unescaped markup is what this module and the pages write, marked by wrapping it in `raw`.
 */
import type { Strings } from './i18n';

const RAW = Symbol('raw html');
export interface Raw {
  readonly [RAW]: string;
}

export const raw = (s: string): Raw => ({ [RAW]: s });

const ENTITIES: Record<string, string> = { '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;', '`': '&#96;' };

export function esc(v: unknown): string {
  return String(v ?? '').replace(/[&<>"'`]/g, (c) => ENTITIES[c]!);
}

type Part = string | number | null | undefined | false | Raw | readonly Part[];

function render(p: Part): string {
  if (p === null || p === undefined || p === false) return '';
  if (Array.isArray(p)) return p.map(render).join('');
  if (typeof p === 'object' && RAW in p) return (p as Raw)[RAW];
  return esc(p);
}

/** A template tag: interpolations are escaped unless they are `raw` (or arrays of them). */
export function html(strings: TemplateStringsArray, ...values: Part[]): Raw {
  let out = strings[0]!;
  values.forEach((v, i) => {
    out += render(v) + strings[i + 1]!;
  });
  return raw(out);
}

export const toString = (r: Raw): string => r[RAW];

export interface PageOptions {
  readonly operator?: string | null;
  readonly csrf?: string | null;
  /** Admins see the links to the admin pages. */
  readonly admin?: boolean;
}

/** A whole page: language and direction on <html>, one stylesheet and one script, both ours. */
export function page(s: Strings, title: string, body: Raw, opts: PageOptions = {}): string {
  const adminLinks = opts.admin ? html` <a href="/admin/operators">${s.navOperators}</a> <a href="/admin/channels">${s.navChannels}</a> <a href="/admin/audit">${s.navAudit}</a> <a href="/api/docs">${s.navApi}</a>` : '';
  const header = opts.operator
    ? html`<header><nav><a href="/">${s.cases}</a> <a href="/overview">${s.navOverview}</a>${adminLinks} <a href="/settings">${s.navSettings}</a></nav> <span>${s.signedInAs} ${opts.operator}</span>
<form method="post" action="/logout" class="inline"><input type="hidden" name="_csrf" value="${opts.csrf ?? ''}"><button type="submit">${s.logOut}</button></form></header>`
    : html``;
  return toString(html`<!doctype html>
<html lang="${s.lang}" dir="${s.dir}">
<head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1"><meta name="referrer" content="no-referrer">
<title>${title} · ${s.appName}</title><link rel="stylesheet" href="/static/dashboard.css"><script src="/static/dashboard.js" defer></script></head>
<body>${header}<main>${body}</main></body>
</html>
`);
}
