/**
 * The export pages' strings (the filtered list as CSV or JSON lines, a case's evidence bundle),
 * English and Arabic, beside the core tables of src/dashboard/i18n.ts (which give the page its
 * language and direction).
 */
export const exportsEn = {
  exportTitle: 'Export',
  exportIntro: 'Download every case that matches these filters, across all pages of the list.',
  filters: 'Filters',
  noFilters: 'none: every case',
  csv: 'CSV (spreadsheet)',
  jsonl: 'JSON lines',
  exportRecorded: 'Each export is recorded in the operators’ audit log.',
  bundleTitle: 'Evidence bundle',
  bundleIntro:
    'One zip archive with the case’s reports, their media files, the event history and the chain check, and a manifest with the sha256 of every file. Tick the reports to leave out; the event history stays whole so that the chain can still be checked.',
  leaveOut: 'Leave out',
  report: 'Report',
  media: 'Media',
  download: 'Download the bundle',
  chainState: 'Chain check',
  backToCase: 'Back to the case',
  noReports: 'This case has no reports.',
} as const;

export type ExportsStrings = { readonly [K in keyof typeof exportsEn]: string };

export const exportsAr: ExportsStrings = {
  exportTitle: 'تصدير',
  exportIntro: 'نزِّل كل القضايا المطابقة لهذه المرشِّحات، عبر جميع صفحات القائمة.',
  filters: 'المرشِّحات',
  noFilters: 'لا شيء: كل القضايا',
  csv: 'CSV (جدول بيانات)',
  jsonl: 'أسطر JSON',
  exportRecorded: 'يُسجَّل كل تصدير في سجل تدقيق المشغّلين.',
  bundleTitle: 'حزمة الأدلة',
  bundleIntro:
    'أرشيف zip واحد يضم بلاغات القضية وملفات الوسائط المرفقة بها وسجل الأحداث ونتيجة التحقق من السلسلة، مع بيان يتضمن بصمة sha256 لكل ملف. ضع علامة على البلاغات التي تريد استبعادها؛ يبقى سجل الأحداث كاملًا كي يظل التحقق من السلسلة ممكنًا.',
  leaveOut: 'استبعاد',
  report: 'البلاغ',
  media: 'الوسائط',
  download: 'تنزيل الحزمة',
  chainState: 'التحقق من السلسلة',
  backToCase: 'العودة إلى القضية',
  noReports: 'لا توجد بلاغات في هذه القضية.',
};

const TABLES: Readonly<Record<string, ExportsStrings>> = { en: exportsEn, ar: exportsAr };

/** The table for an operator's language, English when there is none. */
export function exportsStrings(language: string | null | undefined): ExportsStrings {
  return (language && TABLES[language]) || exportsEn;
}
