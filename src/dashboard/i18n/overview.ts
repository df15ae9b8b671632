/**
 * The overview page's strings (GET /overview), English and Arabic, the same shape as the core
 * tables in ../i18n.ts. `{n}`, `{name}`, `{channel}`, `{hour}` are filled in by the page.
 */
export const overviewEn = {
  title: 'Overview',
  perHourTitle: 'Reports per hour, last 48 hours',
  perHourTotal: 'Reports in the last 48 hours: {n}',
  perHourNone: 'No report in the last 48 hours.',
  hourAxis: 'Hour (UTC)',
  countAxis: 'Reports',
  hour: 'Hour (UTC)',
  total: 'Total',
  barTitle: '{channel}, {hour} UTC — reports: {n}',
  showTable: 'The numbers as a table',
  topTagsTitle: 'Top tags of the open cases',
  topPlacesTitle: 'Top places of the open cases',
  openCases: 'Open cases',
  noneOpen: 'None among the open cases.',
  campaignTitle: 'Cases flagged as campaign',
  campaignAll: 'All cases flagged as campaign',
  campaignNone: 'No case is flagged as campaign.',
  campaignCount: 'Cases flagged: {n}, open among them: {open}',
  queuesTitle: 'Queue depth',
  queue: 'Queue',
  waiting: 'Waiting',
  active: 'Active',
  delayed: 'Delayed',
  failed: 'Failed',
  queuesUnavailable: 'The queue depth is not available here (this dashboard has no connection to the queues).',
  queuesFailed: 'The queues did not answer just now; reload to try again.',
  mapTitle: 'Open cases by place',
  mapCaption: 'Each circle is a place with open cases, its area by their number; it links to those cases.',
  mapPoint: '{name} — open cases: {n}',
  mapNone: 'No open case names a place of the gazetteer.',
  mapUnplaced: 'Places not in the gazetteer (not on the map): {names}',
} as const;

export type OverviewStrings = { readonly [K in keyof typeof overviewEn]: string };

export const overviewAr: OverviewStrings = {
  title: 'نظرة عامة',
  perHourTitle: 'البلاغات في كل ساعة خلال آخر 48 ساعة',
  perHourTotal: 'عدد البلاغات خلال آخر 48 ساعة: {n}',
  perHourNone: 'لم يصل أي بلاغ خلال آخر 48 ساعة.',
  hourAxis: 'الساعة (بالتوقيت العالمي)',
  countAxis: 'البلاغات',
  hour: 'الساعة (بالتوقيت العالمي)',
  total: 'المجموع',
  barTitle: '{channel}، الساعة {hour} بالتوقيت العالمي — عدد البلاغات: {n}',
  showTable: 'الأرقام في جدول',
  topTagsTitle: 'أكثر الوسوم في القضايا المفتوحة',
  topPlacesTitle: 'أكثر الأماكن في القضايا المفتوحة',
  openCases: 'القضايا المفتوحة',
  noneOpen: 'لا شيء في القضايا المفتوحة.',
  campaignTitle: 'القضايا الموسومة بأنها حملة',
  campaignAll: 'كل القضايا الموسومة بأنها حملة',
  campaignNone: 'لا توجد قضية موسومة بأنها حملة.',
  campaignCount: 'عدد القضايا الموسومة: {n}، المفتوح منها: {open}',
  queuesTitle: 'حجم الطوابير',
  queue: 'الطابور',
  waiting: 'في الانتظار',
  active: 'قيد المعالجة',
  delayed: 'مؤجلة',
  failed: 'فاشلة',
  queuesUnavailable: 'حجم الطوابير غير متاح هنا (لا تتصل لوحة التحكم هذه بالطوابير).',
  queuesFailed: 'لم تستجب الطوابير الآن؛ أعد تحميل الصفحة للمحاولة مجددًا.',
  mapTitle: 'القضايا المفتوحة حسب المكان',
  mapCaption: 'كل دائرة مكانٌ فيه قضايا مفتوحة، تتناسب مساحتها مع عددها، وتؤدي إلى تلك القضايا.',
  mapPoint: '{name} — عدد القضايا المفتوحة: {n}',
  mapNone: 'لا تذكر أي قضية مفتوحة مكانًا من دليل الأماكن.',
  mapUnplaced: 'أماكن ليست في دليل الأماكن (غير ظاهرة على الخريطة): {names}',
};

const TABLES: Readonly<Record<string, OverviewStrings>> = { en: overviewEn, ar: overviewAr };

/** The overview's table for an operator's language, English when there is none. */
export function overviewStrings(language: string | null | undefined): OverviewStrings {
  return (language && TABLES[language]) || overviewEn;
}

/** Fills `{key}` placeholders. */
export function fill(template: string, values: Readonly<Record<string, string | number>>): string {
  return template.replace(/\{(\w+)\}/g, (m, k: string) => (k in values ? String(values[k]) : m));
}
