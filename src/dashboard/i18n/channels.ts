/** The channels page's strings, English and Arabic. */
export const channelsEn = {
  title: 'Channels',
  intro: 'Each channel as the process running it last said: receiving or not, since when, and the last message. No informant is named here.',
  channel: 'Channel',
  state: 'State',
  since: 'Since',
  mode: 'Mode',
  lastMessage: 'Last message',
  enabled: 'Enabled here',
  yes: 'yes',
  no: 'no',
  never: 'never',
  notRunning: 'not running',
  stale: 'its process stopped answering',
  state_connected: 'connected',
  state_connecting: 'connecting',
  'state_needs-login': 'needs linking',
  'state_needs-captcha': 'needs a captcha',
  state_disconnected: 'disconnected',
  state_stopped: 'stopped',
  scanTitle: 'Link the WhatsApp session',
  scan: "Scan this code with WhatsApp on the tip line's phone: Settings → Linked devices → Link a device. A new code appears every 20 seconds or so; this page reloads by itself.",
  noRedis: 'Channel states are kept in Redis, which this dashboard does not reach.',
};
export type ChannelsStrings = typeof channelsEn;

const channelsAr: ChannelsStrings = {
  title: 'القنوات',
  intro: 'كل قناة كما أفادت العملية التي تشغّلها آخر مرة: هل تستقبل، ومنذ متى، وآخر رسالة. لا يُذكر هنا أي مبلّغ.',
  channel: 'القناة',
  state: 'الحالة',
  since: 'منذ',
  mode: 'الوضع',
  lastMessage: 'آخر رسالة',
  enabled: 'مفعّلة هنا',
  yes: 'نعم',
  no: 'لا',
  never: 'أبدًا',
  notRunning: 'لا تعمل',
  stale: 'توقفت عمليتها عن الاستجابة',
  state_connected: 'متصلة',
  state_connecting: 'جارٍ الاتصال',
  'state_needs-login': 'تحتاج إلى ربط',
  'state_needs-captcha': 'تحتاج إلى اختبار captcha',
  state_disconnected: 'غير متصلة',
  state_stopped: 'متوقفة',
  scanTitle: 'ربط جلسة واتساب',
  scan: 'امسح هذا الرمز بتطبيق واتساب على هاتف خط البلاغات: الإعدادات ← الأجهزة المرتبطة ← ربط جهاز. يظهر رمز جديد كل 20 ثانية تقريبًا، وتُحدَّث هذه الصفحة تلقائيًا.',
  noRedis: 'تُحفظ حالات القنوات في Redis، ولا تصل إليه لوحة التحكم هذه.',
};

const TABLES: Readonly<Record<string, ChannelsStrings>> = { en: channelsEn, ar: channelsAr };

export function channelsStrings(language: string | null | undefined): ChannelsStrings {
  return (language && TABLES[language]) || channelsEn;
}
