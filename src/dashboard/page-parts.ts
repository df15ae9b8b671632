/**
 * Pieces the pages share: ages, status and priority names, a select, a case's URL, the options
 * of page() for the signed-in operator.
 */
import type { FastifyRequest } from 'fastify';
import { html, type PageOptions, type Raw } from './html';
import type { Strings } from './i18n';

/** "5 min", "3 h", "2 d": how long ago. */
export function ageOf(iso: string | null, now = Date.now(), s: Pick<Strings, 'ageMinutes' | 'ageHours' | 'ageDays'> = { ageMinutes: '{n} min', ageHours: '{n} h', ageDays: '{n} d' }): string {
  if (!iso) return '-';
  const min = Math.max(0, Math.floor((now - Date.parse(iso)) / 60_000));
  const say = (t: string, n: number) => t.replace('{n}', String(n));
  if (min < 60) return say(s.ageMinutes, min);
  if (min < 48 * 60) return say(s.ageHours, Math.floor(min / 60));
  return say(s.ageDays, Math.floor(min / 1440));
}

export const statusName = (s: Strings, v: string) => (s as Record<string, string>)[`status_${v}`] ?? v;
export const priorityName = (s: Strings, v: string) => (s as Record<string, string>)[`priority_${v}`] ?? v;
export const list = (xs: readonly string[]) => (xs.length ? xs.join(', ') : '-');
export const caseUrl = (ref: string) => `/cases/${encodeURIComponent(ref)}`;

export function select(name: string, values: readonly string[], label: (v: string) => string, selected: string | undefined, anyLabel?: string): Raw {
  return html`<select name="${name}">${anyLabel !== undefined ? html`<option value="">${anyLabel}</option>` : ''}${values.map(
    (v) => html`<option value="${v}"${v === selected ? html` selected` : ''}>${label(v)}</option>`,
  )}</select>`;
}

export const pageOpts = (req: FastifyRequest): PageOptions => ({
  operator: req.operatorSession!.operator.name,
  csrf: req.operatorSession!.csrf,
  admin: req.operatorSession!.operator.role === 'admin',
});
