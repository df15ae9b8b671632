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

/** A whole page: language and direction on <html>, one stylesheet and one script, both ours. */
export function page(s: Strings, title: string, body: Raw, opts: { operator?: string | null; csrf?: string | null } = {}): string {
  const header = opts.operator
    ? html`<header><a href="/">${s.cases}</a> <span>${s.signedInAs} ${opts.operator}</span>
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
