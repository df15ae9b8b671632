/** The quarantine page's strings, English and Arabic. */
export const quarantineEn = {
  title: 'Quarantine',
  intro: 'Messages that could not become reports, kept sealed for a retry. Only their shape is shown, never their text, names, numbers or ids.',
  seeAlso: 'See also',
  channels: 'Channels',
  queues: 'Queues (Bull Board)',
  empty: 'Nothing is in quarantine.',
  id: 'Entry',
  at: 'When',
  channel: 'Channel',
  code: 'Code',
  reason: 'Reason',
  source: 'Source',
  field: 'Field',
  payload: 'Payload',
  noPayload: 'nothing was kept of it',
  sealedBytes: '{n} bytes sealed',
  shape: 'Its shape (keys, types, lengths; no values)',
  unavailable: 'The payload can be described, retried and dropped only where the case log’s keys are (the hub’s dashboard).',
  retry: 'Retry',
  drop: 'Drop',
  dropConfirm: 'Drop this entry for good?',
  retried: 'Queued for the case log: the entry left quarantine.',
  stillRefused: 'Still refused',
  dropped: 'Entry {id} dropped.',
  back: 'Back to the quarantine',
};
export type QuarantineStrings = typeof quarantineEn;

const quarantineAr: QuarantineStrings = {
  title: 'الحجر',
  intro: 'رسائل تعذّر تحويلها إلى بلاغات، محفوظة مختومة لإعادة المحاولة. يُعرض شكلها فقط، لا نصّها ولا الأسماء ولا الأرقام ولا المعرّفات.',
  seeAlso: 'انظر أيضًا',
  channels: 'القنوات',
  queues: 'الطوابير (Bull Board)',
  empty: 'لا شيء في الحجر.',
  id: 'المدخل',
  at: 'الوقت',
  channel: 'القناة',
  code: 'الرمز',
  reason: 'السبب',
  source: 'المصدر',
  field: 'الحقل',
  payload: 'المحتوى',
  noPayload: 'لم يُحفظ منه شيء',
  sealedBytes: '{n} بايت مختومة',
  shape: 'شكله (المفاتيح والأنواع والأطوال؛ بلا قيم)',
  unavailable: 'لا يمكن وصف المحتوى أو إعادة محاولته أو حذفه إلا حيث مفاتيح سجل القضايا (لوحة تحكم المحور).',
  retry: 'إعادة المحاولة',
  drop: 'حذف',
  dropConfirm: 'حذف هذا المدخل نهائيًا؟',
  retried: 'أُدرج في طابور سجل القضايا: خرج المدخل من الحجر.',
  stillRefused: 'ما زال مرفوضًا',
  dropped: 'حُذف المدخل {id}.',
  back: 'العودة إلى الحجر',
};

const TABLES: Readonly<Record<string, QuarantineStrings>> = { en: quarantineEn, ar: quarantineAr };

export function quarantineStrings(language: string | null | undefined): QuarantineStrings {
  return (language && TABLES[language]) || quarantineEn;
}
