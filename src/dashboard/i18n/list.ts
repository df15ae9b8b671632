/**
 * The case list's own strings (search, dates, campaign flag, bulk actions, keys), beside the core
 * table of src/dashboard/i18n.ts: English and Arabic of one shape, English for any other language.
 */
export const listEn = {
  search: 'Search',
  searchHint: 'words in any report',
  searchTooShort: 'A search needs a word of at least 3 letters.',
  dateInvalid: 'A date is a day written YYYY-MM-DD.',
  from: 'Last report from',
  to: 'to',
  campaignOnly: 'Flagged as campaign only',
  campaign: 'campaign',
  selectRow: 'Select',
  selectedCases: 'With the selected cases:',
  closeReason: 'Closing reason',
  setStatus: 'Set status',
  tagToAdd: 'Tag',
  addTag: 'Add tag',
  assignTo: 'Assign to',
  assign: 'Assign',
  assignToMe: 'Assign to me',
  bulkTitle: 'Selected cases',
  changed: 'Changed',
  unchanged: 'Already so',
  refused: 'Refused',
  noneSelected: 'No case was selected.',
  backToList: 'Back to the list',
  keysTitle: 'Keys',
  keysHint: 'Press ? for the keys.',
  keys: {
    next: 'next row',
    previous: 'previous row',
    open: 'open the case',
    toggle: 'select the row, or not',
    status: 'on a case: the status',
    assignMe: 'on a case: assign it to me',
    note: 'on a case: write a note',
    help: 'show or hide these keys',
  },
};

export type ListStrings = typeof listEn;

export const listAr: ListStrings = {
  search: 'بحث',
  searchHint: 'كلمات في أي بلاغ',
  searchTooShort: 'يحتاج البحث إلى كلمة من ثلاثة أحرف على الأقل.',
  dateInvalid: 'يُكتب التاريخ يومًا بصيغة YYYY-MM-DD.',
  from: 'آخر بلاغ من',
  to: 'إلى',
  campaignOnly: 'المعلَّمة بعلامة «حملة» فقط',
  campaign: 'حملة',
  selectRow: 'تحديد',
  selectedCases: 'على القضايا المحددة:',
  closeReason: 'سبب الإغلاق',
  setStatus: 'تعيين الحالة',
  tagToAdd: 'وسم',
  addTag: 'إضافة الوسم',
  assignTo: 'إسناد إلى',
  assign: 'إسناد',
  assignToMe: 'إسنادها إليّ',
  bulkTitle: 'القضايا المحددة',
  changed: 'تغيّرت',
  unchanged: 'كانت كذلك من قبل',
  refused: 'رُفضت',
  noneSelected: 'لم تُحدَّد أي قضية.',
  backToList: 'العودة إلى القائمة',
  keysTitle: 'المفاتيح',
  keysHint: 'اضغط ? لعرض المفاتيح.',
  keys: {
    next: 'الصف التالي',
    previous: 'الصف السابق',
    open: 'فتح القضية',
    toggle: 'تحديد الصف أو إلغاء تحديده',
    status: 'في صفحة القضية: الحالة',
    assignMe: 'في صفحة القضية: إسنادها إليّ',
    note: 'في صفحة القضية: كتابة ملاحظة',
    help: 'إظهار هذه المفاتيح أو إخفاؤها',
  },
};

const TABLES: Readonly<Record<string, ListStrings>> = { en: listEn, ar: listAr };

export function listStrings(language: string | null | undefined): ListStrings {
  return (language && TABLES[language]) || listEn;
}
