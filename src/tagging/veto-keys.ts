/**
 * Numbers and days written in a tip: the keys the duplicate veto compares ("3 rockets" is not
 * "5 rockets", "yesterday" is not "on Friday", "10/6" is not "11/6"). Fixed word lists, not data:
 * they do not change with the deployment.
 */
import { compileEntry, parseEntry, type Entry, type ParsedEntry } from './match';

export type VetoPayload =
  | { readonly kind: 'day'; readonly key: string }
  | { readonly kind: 'month'; readonly month: number }
  | { readonly kind: 'number'; readonly value: string };

type Words = Partial<Record<'ar' | 'ckb' | 'en' | 'fr' | 'kmr', string[]>>;

/**
 * Weekdays and relative days. Arabic weekdays only with the article (bare "احد" is "someone",
 * "اثنين" is "two"). Longer phrases win over the words inside them ("avant-hier" is not "hier").
 */
const DAYS: Record<string, Words> = {
  mon: { ar: ['الاثنين', 'الإثنين'], ckb: ['دووشەممە', 'دوو شەممە', 'دووشەمە'], en: ['monday'], fr: ['lundi'], kmr: ['duşem', 'duşemb'] },
  tue: { ar: ['الثلاثاء', 'الثلاثا'], ckb: ['سێشەممە', 'سێ شەممە', 'سێشەمە'], en: ['tuesday'], fr: ['mardi'], kmr: ['sêşem', 'sêşemb'] },
  wed: { ar: ['الأربعاء', 'الاربعا'], ckb: ['چوارشەممە', 'چوار شەممە', 'چوارشەمە'], en: ['wednesday'], fr: ['mercredi'], kmr: ['çarşem', 'çarşemb'] },
  thu: { ar: ['الخميس'], ckb: ['پێنجشەممە', 'پێنج شەممە', 'پێنجشەمە'], en: ['thursday'], fr: ['jeudi'], kmr: ['pêncşem', 'pêncşemb'] },
  fri: { ar: ['الجمعة'], ckb: ['هەینی', 'جومعە', 'جمعە'], en: ['friday'], fr: ['vendredi'], kmr: ['înî'] },
  sat: { ar: ['السبت'], ckb: ['شەممە', 'شەمە'], en: ['saturday'], fr: ['samedi'], kmr: ['şemî'] },
  sun: { ar: ['الأحد'], ckb: ['یەکشەممە', 'یەک شەممە', 'یەکشەمە'], en: ['sunday'], fr: ['dimanche'], kmr: ['yekşem', 'yekşemb'] },
  yesterday: {
    ar: ['امس', 'البارحة', 'البارح', 'الليلة الماضية', 'ليلة امس'],
    ckb: ['دوێنێ', 'دوێنی', 'دوینێ', 'دوێنێشەو'],
    en: ['yesterday', 'last night'],
    fr: ['hier'],
    kmr: ['duh', 'doh'],
  },
  today: { ar: ['اليوم', 'صباح اليوم', 'هذا الصباح'], ckb: ['ئەمڕۆ', 'ئەمرۆ'], en: ['today', 'this morning'], fr: ["aujourd'hui", 'ce matin'], kmr: ['îro'] },
  tomorrow: { ar: ['غدا', 'باجر', 'باچر', 'بكرة'], ckb: ['سبەینێ', 'سبەی'], en: ['tomorrow'], fr: ['demain'], kmr: ['sibê'] },
  tonight: { ar: ['الليلة', 'هاي الليلة', 'هذه الليلة'], ckb: ['ئەمشەو'], en: ['tonight', 'this evening'], fr: ['ce soir', 'cette nuit'], kmr: ['îşev'] },
  // Not in the brief's list of keys, but "avant-hier" must not read as "hier".
  beforeyesterday: { ar: ['قبل امس', 'اول امس', 'اول البارحة'], ckb: ['پێرێ'], en: ['the day before yesterday', 'day before yesterday'], fr: ['avant hier'] },
  aftertomorrow: { ar: ['بعد غد', 'بعد باجر'], ckb: ['دووسبەی'], en: ['the day after tomorrow', 'day after tomorrow'], fr: ['apres demain'] },
};

/** Month names: counted only next to a day number ("10 June", "١٠ حزيران"), "may" and "اب" being ordinary words too. */
const MONTHS: Words[] = [
  { ar: ['كانون الثاني', 'يناير'], ckb: ['کانوونی دووەم'], en: ['january', 'jan'], fr: ['janvier'] },
  { ar: ['شباط', 'فبراير'], ckb: ['شوبات'], en: ['february', 'feb'], fr: ['fevrier'] },
  { ar: ['آذار', 'مارس'], ckb: ['ئازار'], en: ['march', 'mar'], fr: ['mars'] },
  { ar: ['نيسان', 'أبريل', 'ابريل'], ckb: ['نیسان'], en: ['april', 'apr'], fr: ['avril'] },
  { ar: ['أيار', 'مايو'], ckb: ['ئایار'], en: ['may'], fr: ['mai'] },
  { ar: ['حزيران', 'يونيو'], ckb: ['حوزەیران'], en: ['june', 'jun'], fr: ['juin'] },
  { ar: ['تموز', 'يوليو'], ckb: ['تەمموز'], en: ['july', 'jul'], fr: ['juillet'] },
  { ar: ['آب', 'أغسطس'], ckb: ['ئاب'], en: ['august', 'aug'], fr: ['aout'] },
  { ar: ['أيلول', 'سبتمبر'], ckb: ['ئەیلوول'], en: ['september', 'sep', 'sept'], fr: ['septembre'] },
  { ar: ['تشرين الأول', 'اكتوبر'], ckb: ['تشرینی یەکەم'], en: ['october', 'oct'], fr: ['octobre'] },
  { ar: ['تشرين الثاني', 'نوفمبر'], ckb: ['تشرینی دووەم'], en: ['november', 'nov'], fr: ['novembre'] },
  { ar: ['كانون الأول', 'ديسمبر'], ckb: ['کانوونی یەکەم'], en: ['december', 'dec'], fr: ['decembre'] },
];

/**
 * One to ten. French "un/une" are left out: as articles they are in nearly every sentence, and a
 * copy with one word added would then differ in its numbers. Kurmanji is left out: its words
 * collide with other languages' ("du", "car", "se").
 */
const NUMBERS: Words[] = [
  { ar: ['واحد', 'واحدة'], ckb: ['یەک'], en: ['one'] },
  { ar: ['اثنان', 'اثنين', 'اثنتان', 'اثنتين', 'ثنين'], ckb: ['دوو'], en: ['two'], fr: ['deux'] },
  { ar: ['ثلاث', 'ثلاثة'], ckb: ['سێ'], en: ['three'], fr: ['trois'] },
  { ar: ['أربع', 'أربعة'], ckb: ['چوار'], en: ['four'], fr: ['quatre'] },
  { ar: ['خمس', 'خمسة'], ckb: ['پێنج'], en: ['five'], fr: ['cinq'] },
  { ar: ['ست', 'ستة'], ckb: ['شەش'], en: ['six'], fr: ['six'] },
  { ar: ['سبع', 'سبعة'], ckb: ['حەوت'], en: ['seven'], fr: ['sept'] },
  { ar: ['ثمان', 'ثماني', 'ثمانية'], ckb: ['هەشت'], en: ['eight'], fr: ['huit'] },
  { ar: ['تسع', 'تسعة'], ckb: ['نۆ'], en: ['nine'], fr: ['neuf'] },
  { ar: ['عشر', 'عشرة'], ckb: ['دە'], en: ['ten'], fr: ['dix'] },
];

/** "لست" is "I am not", not ل + "ست": number words take only "and" and "with". */
const NUMBER_CLITICS = ['و', 'ب'];
/** "لامس" is "touched", not ل + "امس". */
const DAY_CLITICS = ['و', 'ف', 'ب', 'ال', 'وال', 'بال', 'فال'];
const MONTH_CLITICS = ['و', 'ب', 'ف'];

function parsed(raw: string): ParsedEntry {
  const p = parseEntry('=' + raw);
  if ('error' in p) throw new Error(`veto-keys: bad built-in word ${JSON.stringify(raw)}: ${p.error}`);
  return p;
}

function entriesOf(words: Words, payload: VetoPayload, clitics: string[]): Entry<VetoPayload>[] {
  // Sorani endings on day and month names ("هەینیدا"), not on numbers: "دە" + "دا" is a verb.
  const suffixes = (lang: string) => lang === 'ckb' && payload.kind !== 'number';
  return Object.entries(words).flatMap(([lang, list]) =>
    list.map((raw) => compileEntry(parsed(raw), payload, { arabicPrefix: false, clitics, ckbSuffixes: suffixes(lang), laterArticle: false })),
  );
}

let builtIn: readonly Entry<VetoPayload>[] | null = null;

/** The built-in day, month and number words, compiled once. */
export function vetoEntries(): readonly Entry<VetoPayload>[] {
  builtIn ??= [
    ...Object.entries(DAYS).flatMap(([key, words]) => entriesOf(words, { kind: 'day', key }, DAY_CLITICS)),
    ...MONTHS.flatMap((words, i) => entriesOf(words, { kind: 'month', month: i + 1 }, MONTH_CLITICS)),
    ...NUMBERS.flatMap((words, i) => entriesOf(words, { kind: 'number', value: String(i + 1) }, NUMBER_CLITICS)),
  ];
  return builtIn;
}

export function dateKey(month: number, day: number): string {
  return `d:${String(month).padStart(2, '0')}-${String(day).padStart(2, '0')}`;
}

function isDate(day: number, month: number): boolean {
  return day >= 1 && day <= 31 && month >= 1 && month <= 12;
}

const NOT_BEFORE = '(?<!\\d|\\d[/.\\-])';
const NOT_AFTER = '(?!\\d|[/.\\-]\\d)';
/** 2026/6/10, 10/6/2026, 10-6-2026, 10.6.2026, 10/6 (day first, as written in Iraq and France). */
const DATE_YMD = new RegExp(`${NOT_BEFORE}(\\d{4})([/.\\-])(\\d{1,2})\\2(\\d{1,2})${NOT_AFTER}`, 'gu');
const DATE_DMY = new RegExp(`${NOT_BEFORE}(\\d{1,2})([/.\\-])(\\d{1,2})\\2(\\d{4}|\\d{2})${NOT_AFTER}`, 'gu');
/** Without a year only the slash: "3-4" and "3.5" are ranges and decimals. */
const DATE_DM = new RegExp(`${NOT_BEFORE}(\\d{1,2})/(\\d{1,2})${NOT_AFTER}`, 'gu');
const TIME = /(?<![\d:])([01]?\d|2[0-3])[:：]([0-5]\d)(?![\d:])/gu;

const DIGIT_SEPARATOR_DIGIT = /\d[/.\-:：]\d/u;

export interface DigitGroups {
  /** The text with dates and times blanked out, so their digits are not counted again. */
  readonly rest: string;
  readonly days: string[];
  /** Times as "h:mm": a copy keeps the time, another incident rarely has the same one. */
  readonly times: string[];
}

/** Dates and times written with digits, found before normalization turns "10/6" into "10 6". */
export function findDigitDatesAndTimes(asciiDigitText: string): DigitGroups {
  const days: string[] = [];
  const times: string[] = [];
  let rest = asciiDigitText;
  if (!DIGIT_SEPARATOR_DIGIT.test(rest)) return { rest, days, times }; // most tips

  /** Blanks the matches that `take` accepts. */
  const blank = (re: RegExp, take: (m: string[]) => boolean) => {
    rest = rest.replace(re, (...m: string[]) => (take(m) ? ' ' : m[0]!));
  };
  const date = (day: string, month: string) => {
    const d = Number(day);
    const m = Number(month);
    if (!isDate(d, m)) return false;
    days.push(dateKey(m, d));
    return true;
  };
  blank(DATE_YMD, (m) => date(m[4]!, m[3]!));
  blank(DATE_DMY, (m) => date(m[1]!, m[3]!));
  blank(DATE_DM, (m) => date(m[1]!, m[2]!));
  blank(TIME, (m) => {
    times.push(`${Number(m[1])}:${m[2]}`);
    return true;
  });
  return { rest, days, times };
}

/** "10", "10th", "1er", "10ی" → 10 (a day of the month next to a month name), else null. */
export function dayNumber(word: string | undefined): number | null {
  const m = word === undefined ? null : /^(\d{1,2})(?:st|nd|rd|th|er|e|eme|ي)?$/u.exec(word);
  if (!m) return null;
  const d = Number(m[1]);
  return d >= 1 && d <= 31 ? d : null;
}

/** The leading digits of a word ("15km" → "15"), without leading zeros; null if it does not start with one. */
export function leadingNumber(word: string): string | null {
  const c = word.charCodeAt(0);
  if (!(c >= 48 && c <= 57)) return null; // most words; spares a regex per word
  const m = /^\d+/u.exec(word);
  return m ? m[0].replace(/^0+(?=\d)/u, '') : null;
}
