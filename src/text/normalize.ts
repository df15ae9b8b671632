/**
 * Text normalization for matching (never for display): the same rumour typed, forwarded and
 * re-forwarded through different phones must give the same text. Grouping (fingerprints, MinHash,
 * noise) and tagging (keywords, places) both match on it, so it sits below both.
 */
const ARABIC_MARKS = /[\u0610-\u061A\u064B-\u065F\u0670\u06D6-\u06DC\u06DF-\u06E8\u06EA-\u06ED]/gu; // harakat, Quranic marks
const TATWEEL = /\u0640/gu;
const INVISIBLE = /[\u00AD\u200B-\u200F\u202A-\u202E\u2060-\u2069\uFEFF]/gu; // soft hyphen, zero-width, bidi controls
// Variation selectors and the keycap mark are meant to match alone, as characters to drop.
// eslint-disable-next-line no-misleading-character-class
const EMOJI = /[\p{Extended_Pictographic}\u{1F3FB}-\u{1F3FF}\u{1F1E6}-\u{1F1FF}\uFE0E\uFE0F\u20E3]/gu;
const LATIN_MARKS = /[\u0300-\u036F]/gu;
const LETTERS: [RegExp, string][] = [
  [/[\u0623\u0625\u0622\u0671]/gu, '\u0627'], // أ إ آ ٱ → ا
  [/\u0629/gu, '\u0647'], // ة → ه
  [/\u0649/gu, '\u064A'], // ى → ي
  [/\u06CC/gu, '\u064A'], // Persian/Kurdish ی → ي
  [/\u06A9/gu, '\u0643'], // Persian/Kurdish ک → ك
  [/[\u06D5\u06BE]/gu, '\u0647'], // Sorani ە and ھ → ه (Sorani typed on an Arabic keyboard)
  [/\u0624/gu, '\u0648'], // ؤ → و
  [/\u0626/gu, '\u064A'], // ئ → ي
];
const DIGITS = /[\u0660-\u0669\u06F0-\u06F9]/gu;
const URL = /\bhttps?:\/\/([^\s/?#]+)([^\s?#]*)[^\s]*/giu;
/** "منقول", "Fwd:", "TR:", "Transféré :"… at the start, possibly several times. */
const FORWARD_PREFIX =
  /^\s*(?:(?:fwd?|fw|tr|re|wg)\s*[:：]|(?:forwarded(?: message)?|transfere|message transfere|منقو+ل(?: للامانه)?|محول|رساله محوله|نقلا عن)\s*[:：\-–—]*)\s*/u;

export function normalizeForMatch(text: string): string {
  let t = text.normalize('NFKC').replace(INVISIBLE, '');
  // URLs: host and path only (trackers and query strings differ between copies).
  t = t.replace(URL, (_, host: string, p: string) => ` ${host.toLowerCase().replace(/^www\./, '')}${p.replace(/\/+$/, '')} `);
  t = t.toLowerCase();
  t = t.normalize('NFD').replace(LATIN_MARKS, '').replace(ARABIC_MARKS, '').normalize('NFC');
  t = t.replace(TATWEEL, '');
  for (const [re, to] of LETTERS) t = t.replace(re, to);
  t = t.replace(DIGITS, (d) => String((d.codePointAt(0)! - (d >= '\u06F0' ? 0x06f0 : 0x0660)) % 10));
  t = t.replace(EMOJI, ' ');
  t = t.replace(/\s+/gu, ' ').trim();
  for (let prev = ''; prev !== t; ) {
    prev = t;
    t = t.replace(FORWARD_PREFIX, '');
  }
  // Punctuation and symbols collapse into spaces (the path separators of URLs too).
  return t.replace(/[\p{P}\p{S}]+/gu, ' ').replace(/\s+/gu, ' ').trim();
}
