/**
 * Keyword and place-name matching on normalized text (see the tagging format spec).
 *
 * Entries are indexed by the first three letters of their first word, so that a text is scanned
 * once, word by word (and each clitic split of an Arabic-script word), and each is checked only
 * against the few entries that could start there. With ~2,000 entries a 30-word text costs about a
 * hundred map lookups, whatever the number of keywords.
 */
import { normalizeForMatch } from '../text/normalize';

/** May be glued to the first word of an Arabic-script entry ("بالموصل", "والصاروخ"). */
export const ARABIC_CLITICS: readonly string[] = ['وال', 'بال', 'فال', 'كال', 'ولل', 'ال', 'لل', 'وب', 'ول', 'و', 'ف', 'ب', 'ل', 'ك'];

/** A clitic as one bit, so that checking whether an entry allows it is a mask test. */
const CLITIC_BIT = new Map(ARABIC_CLITICS.map((c, i) => [c, 1 << i]));
/** The clitics by their first letter's offset in the Arabic block: a word's first letter picks the few to try. */
const CLITICS_BY_LETTER: ({ clitic: string; bit: number }[] | undefined)[] = [];
for (const c of ARABIC_CLITICS) (CLITICS_BY_LETTER[c.charCodeAt(0) - 0x0600] ??= []).push({ clitic: c, bit: CLITIC_BIT.get(c)! });

/** Sorani case endings attached to a place name, normalized like the text (ی → ي, ە → ه). */
const CKB_SUFFIXES = ['ی', 'دا', 'ەوە', 'ە', 'وە', 'یش'].map((s) => normalizeForMatch(s));
/** Up to two endings in a row ("هەولێریشەوە", "سلێمانییەوە"); nonsense combinations never occur in text. */
const CKB_SUFFIX_FORMS: ReadonlySet<string> = new Set([...CKB_SUFFIXES, ...CKB_SUFFIXES.flatMap((a) => CKB_SUFFIXES.map((b) => a + b))]);

const TAA_MARBUTA = 'ه'; // ة after normalization
const ARTICLE = 'ال';
/** Entries are indexed by this many leading letters of their first word. */
const KEY_LEN = 3;

export function isArabicScript(word: string): boolean {
  const c = word.charCodeAt(0);
  return (c >= 0x0600 && c <= 0x06ff) || (c >= 0x0750 && c <= 0x077f) || (c >= 0x08a0 && c <= 0x08ff);
}

/**
 * normalizeForMatch, without its removal of forward prefixes at the start: a keyword such as
 * "Transféré" or a text that begins with one must keep that word.
 */
export function normalizeText(text: string): string {
  return normalizeForMatch('x ' + text).slice(2);
}

export function splitWords(normalized: string): string[] {
  return normalized === '' ? [] : normalized.split(' ');
}

/** A keyword or name as written in a data file, markers separated from words. */
export interface ParsedEntry {
  readonly words: readonly string[];
  /** gapBefore[k]: up to two other words may come before words[k] (`~`). */
  readonly gapBefore: readonly boolean[];
  /** `=`: Arabic-script words match whole, not as prefixes. */
  readonly exact: boolean;
  /** Trailing `*`: the last Latin word matches as a prefix. */
  readonly star: boolean;
}

export function parseEntry(raw: string): ParsedEntry | { error: string } {
  let s = raw.trim();
  const exact = s.startsWith('=');
  if (exact) s = s.slice(1);
  const star = s.endsWith('*');
  if (star) s = s.slice(0, -1);
  if (s.includes('*')) return { error: '`*` is allowed only at the end (it makes the last word a prefix)' };
  if (s.includes('=')) return { error: '`=` is allowed only at the start (it makes every word match whole)' };
  const words: string[] = [];
  const gapBefore: boolean[] = [];
  const segments = s.split('~');
  for (const [i, segment] of segments.entries()) {
    const ws = splitWords(normalizeText(segment));
    if (ws.length === 0) {
      return { error: segments.length > 1 ? '`~` needs words on both sides' : 'nothing left after normalization' };
    }
    ws.forEach((w, k) => {
      words.push(w);
      gapBefore.push(i > 0 && k === 0);
    });
  }
  return { words, gapBefore, exact, star };
}

/** Arabic-script words that an entry would match as prefixes and that are too short for it. */
export function shortPrefixStems(entry: ParsedEntry): string[] {
  if (entry.exact) return [];
  return entry.words.filter((w) => isArabicScript(w) && w.length <= 2);
}

interface WordRule {
  /** Alternative spellings of the word (a taa-marbuta stem also as its plural and construct forms). */
  readonly forms: readonly string[];
  readonly prefix: boolean;
  /** Sorani endings allowed after the whole word. */
  readonly suffixes: ReadonlySet<string> | null;
  readonly gapBefore: boolean;
  /** Arabic noun-adjective agreement: "الطائرة المسيرة" for "طائرة مسيرة". */
  readonly article: boolean;
}

export interface Entry<T> {
  readonly payload: T;
  readonly words: readonly WordRule[];
  /** The clitics the first word may carry, as CLITIC_BIT bits. */
  readonly clitics: number;
}

export interface CompileOptions {
  /** Arabic-script words match as prefixes (keywords) or whole (names, `=`). */
  readonly arabicPrefix: boolean;
  readonly clitics: readonly string[] | null;
  /** Sorani place-name endings on the last word. */
  readonly ckbSuffixes: boolean;
  /** Later Arabic-script words may carry the article. */
  readonly laterArticle: boolean;
}

export function compileEntry<T>(entry: ParsedEntry, payload: T, opts: CompileOptions): Entry<T> {
  const last = entry.words.length - 1;
  const words = entry.words.map((w, k): WordRule => {
    const arabic = isArabicScript(w);
    const prefix = arabic ? opts.arabicPrefix && !entry.exact : entry.star && k === last;
    const forms = [w];
    // With ة folded to ه, "مسيرة" would never prefix its plural "مسيرات" or "مسيرتين".
    if (arabic && prefix && w.length >= 3 && w.endsWith(TAA_MARBUTA)) forms.push(w.slice(0, -1) + 'ات', w.slice(0, -1) + 'ت');
    return {
      forms,
      prefix,
      suffixes: arabic && !prefix && opts.ckbSuffixes && k === last ? CKB_SUFFIX_FORMS : null,
      gapBefore: entry.gapBefore[k] ?? false,
      article: arabic && opts.laterArticle && k > 0,
    };
  });
  let clitics = 0;
  if (opts.clitics && isArabicScript(entry.words[0] ?? '')) for (const c of opts.clitics) clitics |= CLITIC_BIT.get(c) ?? 0;
  return { payload, words, clitics };
}

export interface Match<T> {
  readonly payload: T;
  /** Word indexes, inclusive. */
  readonly start: number;
  readonly end: number;
}

function push<K, V>(map: Map<K, V[]>, key: K, value: V): void {
  const list = map.get(key);
  if (!list) map.set(key, [value]);
  else if (!list.includes(value)) list.push(value); // two spellings of one word share a key
}

function wordMatches(rule: WordRule, word: string): boolean {
  for (const f of rule.forms) {
    if (rule.prefix ? word.startsWith(f) : word === f) return true;
    if (rule.suffixes && word.length > f.length && word.startsWith(f) && rule.suffixes.has(word.slice(f.length))) return true;
  }
  return false;
}

function laterWordMatches(rule: WordRule, word: string): boolean {
  return wordMatches(rule, word) || (rule.article && word.startsWith(ARTICLE) && wordMatches(rule, word.slice(ARTICLE.length)));
}

/** One character in 9 bits: ASCII and the Arabic block exactly, the rest folded (candidates are checked anyway). */
function code9(c: number): number {
  return c < 0x80 ? c : c >= 0x0600 && c < 0x0700 ? 0x80 + (c - 0x0600) : 0x180 + (c & 0x7f);
}

/**
 * The first `len` (≤ 3) characters of `s` from `offset` as a small integer: a Map key that needs
 * no substring, so trying every clitic split of a word allocates nothing.
 */
function keyOf(s: string, offset: number, len: number): number {
  let k = len;
  for (let i = 0; i < KEY_LEN; i++) k = k * 512 + (i < len ? code9(s.charCodeAt(offset + i)) : 0);
  return k;
}

function firstWordMatches(rule: WordRule, text: string, offset: number): boolean {
  const rest = text.length - offset;
  for (const f of rule.forms) {
    if (!text.startsWith(f, offset)) continue;
    if (rule.prefix || rest === f.length) return true;
    if (rule.suffixes && rule.suffixes.has(text.slice(offset + f.length))) return true;
  }
  return false;
}

/** A compiled set of entries; `scan` reports every entry found in a list of normalized words. */
export class Matcher<T> {
  /** Entries by the key of their first word's first three letters (fewer for shorter words). */
  private readonly index = new Map<number, Entry<T>[]>();
  /**
   * Lengths (< 3) of first words that match longer text words (prefixes, Sorani endings): those
   * keys are looked up for every word. A short whole word ("في") is found by the word's own key.
   */
  private readonly shortLoose: number[];

  constructor(entries: Iterable<Entry<T>>) {
    const loose = new Set<number>();
    for (const e of entries) {
      const first = e.words[0];
      if (!first) continue;
      for (const f of first.forms) {
        const len = Math.min(KEY_LEN, f.length);
        if (len < KEY_LEN && (first.prefix || first.suffixes)) loose.add(len);
        push(this.index, keyOf(f, 0, len), e);
      }
    }
    this.shortLoose = [...loose].sort((a, b) => b - a);
  }

  scan(words: readonly string[], out: Match<T>[]): void {
    for (let i = 0; i < words.length; i++) {
      const w = words[i]!;
      this.startAt(words, i, w, 0, 0, out);
      const letter = w.charCodeAt(0) - 0x0600;
      const clitics = letter >= 0 && letter < 0x100 ? CLITICS_BY_LETTER[letter] : undefined;
      if (!clitics) continue;
      for (const { clitic, bit } of clitics) {
        if (w.length - clitic.length >= 2 && w.startsWith(clitic)) this.startAt(words, i, w, clitic.length, bit, out);
      }
    }
  }

  /** Entries whose first word is word i of the text from `offset` on, after the clitic `cliticBit` (0: none). */
  private startAt(words: readonly string[], i: number, w: string, offset: number, cliticBit: number, out: Match<T>[]): void {
    const own = Math.min(KEY_LEN, w.length - offset);
    this.tryKey(words, i, w, offset, own, cliticBit, out);
    for (const len of this.shortLoose) if (len < own) this.tryKey(words, i, w, offset, len, cliticBit, out);
  }

  private tryKey(words: readonly string[], i: number, w: string, offset: number, len: number, cliticBit: number, out: Match<T>[]): void {
    const candidates = this.index.get(keyOf(w, offset, len));
    if (!candidates) return;
    for (const e of candidates) {
      if (cliticBit !== 0 && (e.clitics & cliticBit) === 0) continue;
      if (!firstWordMatches(e.words[0]!, w, offset)) continue;
      const end = matchRest(words, e, 1, i + 1);
      if (end >= 0) out.push({ payload: e.payload, start: i, end });
    }
  }
}

/** The index of the last text word of the entry matched from word k on, or -1. */
function matchRest<T>(words: readonly string[], e: Entry<T>, k: number, pos: number): number {
  if (k === e.words.length) return pos - 1;
  const rule = e.words[k]!;
  const maxSkip = rule.gapBefore ? 2 : 0;
  for (let skip = 0; skip <= maxSkip; skip++) {
    const j = pos + skip;
    if (j >= words.length) return -1;
    if (laterWordMatches(rule, words[j]!)) {
      const end = matchRest(words, e, k + 1, j + 1);
      if (end >= 0) return end;
    }
  }
  return -1;
}

/** Drops matches lying inside a longer match ("مطار بغداد" is Baghdad Airport, not also Baghdad). */
export function longestMatches<T>(matches: readonly Match<T>[]): Match<T>[] {
  return matches.filter(
    (m) => !matches.some((o) => o !== m && o.start <= m.start && o.end >= m.end && o.end - o.start > m.end - m.start),
  );
}
