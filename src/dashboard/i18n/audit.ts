/**
 * The audit page's strings (the operators' audit log and its chain check), English and Arabic,
 * beside the core tables of src/dashboard/i18n.ts.
 */
export const auditEn = {
  auditTitle: 'Operators’ audit log',
  operator: 'Operator',
  action: 'Action',
  time: 'Time',
  details: 'Details',
  filter: 'Filter',
  all: 'all',
  olderEntries: 'Older entries',
  newestEntries: 'Newest entries',
  noEntries: 'No entry matches.',
  chainOk: 'The audit chain verifies',
  chainBroken: 'The audit chain does not verify',
  entries: 'entries',
  problem: 'Problem',
  entry: 'entry',
  viewRecorded: 'Looking at this page is recorded here too.',
} as const;

export type AuditStrings = { readonly [K in keyof typeof auditEn]: string };

export const auditAr: AuditStrings = {
  auditTitle: 'سجل تدقيق المشغّلين',
  operator: 'المشغّل',
  action: 'الإجراء',
  time: 'الوقت',
  details: 'التفاصيل',
  filter: 'تصفية',
  all: 'الكل',
  olderEntries: 'إدخالات أقدم',
  newestEntries: 'أحدث الإدخالات',
  noEntries: 'لا يوجد إدخال مطابق.',
  chainOk: 'سلسلة التدقيق سليمة',
  chainBroken: 'سلسلة التدقيق غير سليمة',
  entries: 'إدخالات',
  problem: 'المشكلة',
  entry: 'الإدخال',
  viewRecorded: 'يُسجَّل الاطلاع على هذه الصفحة هنا أيضًا.',
};

const TABLES: Readonly<Record<string, AuditStrings>> = { en: auditEn, ar: auditAr };

/** The table for an operator's language, English when there is none. */
export function auditStrings(language: string | null | undefined): AuditStrings {
  return (language && TABLES[language]) || auditEn;
}
