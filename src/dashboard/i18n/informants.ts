/**
 * The informant page's strings (one informant by pseudonym: channel, language, cases, reports,
 * flood flag, block and unblock), English and Arabic, beside the core tables of
 * src/dashboard/i18n.ts.
 */
export const informantsEn = {
  informantTitle: 'Informant',
  pseudonym: 'Pseudonym',
  channel: 'Channel',
  language: 'Language',
  firstSeen: 'First seen',
  lastSeen: 'Last seen',
  blocked: 'Blocked',
  notBlocked: 'not blocked',
  isBlocked: 'blocked: later messages are recorded as blocked and never answered',
  flood: 'Flood flag',
  flooded: 'flooded: sent more than the flood limit',
  floodedReports: 'reports recorded while flooding',
  notFlooded: 'no',
  stopped: 'asked not to be contacted',
  unreachable: 'unreachable on the platform',
  contact: 'Contact',
  reachable: 'reachable',
  cases: 'Cases',
  case: 'Case',
  status: 'Status',
  reports: 'Reports',
  lastReport: 'Last report',
  sent: 'Sent',
  text: 'Text',
  noText: '(no text)',
  showingLatest: 'The latest reports are shown',
  of: 'of',
  log: 'Log',
  kind: 'What',
  actor: 'By',
  time: 'Time',
  block: 'Block this informant',
  unblock: 'Lift the block',
  confirmBlock: 'Block this informant? Their later messages will be recorded as blocked and never answered.',
  confirmUnblock: 'Lift the block on this informant?',
  notFound: 'No informant has this pseudonym.',
} as const;

export type InformantsStrings = { readonly [K in keyof typeof informantsEn]: string };

export const informantsAr: InformantsStrings = {
  informantTitle: 'المُبلِّغ',
  pseudonym: 'الاسم المستعار',
  channel: 'القناة',
  language: 'اللغة',
  firstSeen: 'أول ظهور',
  lastSeen: 'آخر ظهور',
  blocked: 'الحظر',
  notBlocked: 'غير محظور',
  isBlocked: 'محظور: تُسجَّل رسائله اللاحقة على أنها محظورة ولا يُردّ عليها أبدًا',
  flood: 'علامة الإغراق',
  flooded: 'مُغرِق: أرسل أكثر من حد الإغراق',
  floodedReports: 'بلاغات سُجِّلت أثناء الإغراق',
  notFlooded: 'لا',
  stopped: 'طلب عدم التواصل معه',
  unreachable: 'يتعذّر الوصول إليه على المنصة',
  contact: 'التواصل',
  reachable: 'يمكن الوصول إليه',
  cases: 'القضايا',
  case: 'القضية',
  status: 'الحالة',
  reports: 'البلاغات',
  lastReport: 'آخر بلاغ',
  sent: 'أُرسل',
  text: 'النص',
  noText: '(بلا نص)',
  showingLatest: 'تُعرض أحدث البلاغات',
  of: 'من',
  log: 'السجل',
  kind: 'ماذا',
  actor: 'بواسطة',
  time: 'الوقت',
  block: 'حظر هذا المُبلِّغ',
  unblock: 'رفع الحظر',
  confirmBlock: 'هل تريد حظر هذا المُبلِّغ؟ ستُسجَّل رسائله اللاحقة على أنها محظورة ولن يُردّ عليها أبدًا.',
  confirmUnblock: 'هل تريد رفع الحظر عن هذا المُبلِّغ؟',
  notFound: 'لا يوجد مُبلِّغ بهذا الاسم المستعار.',
};

const TABLES: Readonly<Record<string, InformantsStrings>> = { en: informantsEn, ar: informantsAr };

/** The table for an operator's language, English when there is none. */
export function informantsStrings(language: string | null | undefined): InformantsStrings {
  return (language && TABLES[language]) || informantsEn;
}
