/**
 * What a tip's text says, by the rules under config/: tags, places, contact entities, the numbers
 * and days a duplicate veto compares, and a priority. Pure and fast: it runs on the intake
 * worker's hot path.
 */
import { TiphubError } from '../errors';
import { entitiesFrom, findEntitySpansAscii, toAsciiDigits, type Entities, type EntitySpan } from './entities';
import { ARABIC_CLITICS, Matcher, compileEntry, longestMatches, normalizeText, parseEntry, splitWords, type CompileOptions, type Entry, type Match } from './match';
import { dateKey, dayNumber, findDigitDatesAndTimes, leadingNumber, vetoEntries, type VetoPayload } from './veto-keys';
import { PRIORITIES, TAGS, type LanguageLists, type Priority, type PriorityCondition, type TagName, type TaggingRules } from './vocabulary';

export interface Analysis {
  /** Alphabetical. */
  readonly tags: TagName[];
  /** Canonical place names, alphabetical. */
  readonly places: string[];
  readonly entities: Entities;
  readonly priority: Priority;
  /** Numbers written in the text ("3", "15", "10:30"), without those of phones, links and #ids; sorted, unique. */
  readonly numbers: string[];
  /** mon…sun, yesterday, today, tomorrow, tonight, beforeyesterday, aftertomorrow, d:MM-DD; sorted, unique. */
  readonly days: string[];
}

export interface MessageTimes {
  readonly sentAt: Date;
  readonly receivedAt: Date;
}

type TagPayload = { readonly kind: 'tag'; readonly tag: TagName; readonly strength: 'strong' | 'weak' | 'not' };
type PlacePayload = { readonly kind: 'place'; readonly place: string; readonly contextual: boolean };
type Payload = TagPayload | PlacePayload | { readonly kind: 'preposition' } | VetoPayload;

interface CompiledRules {
  /**
   * Keywords of every tag (strong, weak, cancelling), place names, prepositions and the built-in
   * day and number words: the text's words are looked up once for all of them.
   */
  readonly words: Matcher<Payload>;
  readonly patterns: readonly { readonly tag: TagName; readonly re: RegExp }[];
  readonly unlessTags: ReadonlyMap<TagName, readonly TagName[]>;
}

const KEYWORD: CompileOptions = { arabicPrefix: true, clitics: ARABIC_CLITICS, ckbSuffixes: false, laterArticle: true };
const PREPOSITION: CompileOptions = { arabicPrefix: false, clitics: ['و', 'ف'], ckbSuffixes: false, laterArticle: false };

function placeOptions(lang: string, contextual: boolean): CompileOptions {
  // A contextual name takes no glued clitic: "في البلد" is "in the country", not "in Balad".
  return { arabicPrefix: false, clitics: contextual ? null : ARABIC_CLITICS, ckbSuffixes: lang === 'ckb', laterArticle: true };
}

function compileLists<T>(lists: LanguageLists, payload: T, opts: (lang: string) => CompileOptions): Entry<T>[] {
  const out: Entry<T>[] = [];
  for (const [lang, words] of Object.entries(lists)) {
    for (const raw of words ?? []) {
      const p = parseEntry(raw);
      // The loader refuses these; rules built by hand get the same message.
      if ('error' in p) throw new TiphubError('TIPHUB_CONFIG_INVALID', `tagging rules: ${JSON.stringify(raw)}: ${p.error}`);
      out.push(compileEntry(p, payload, opts(lang)));
    }
  }
  return out;
}

function compile(rules: TaggingRules): CompiledRules {
  const entries: Entry<Payload>[] = [...vetoEntries()];
  const patterns: { tag: TagName; re: RegExp }[] = [];
  const unlessTags = new Map<TagName, readonly TagName[]>();
  for (const tag of TAGS) {
    const rule = rules.tags[tag];
    entries.push(...compileLists(rule.keywords, { kind: 'tag', tag, strength: 'strong' } as const, () => KEYWORD));
    if (rule.weak) {
      entries.push(...compileLists(rule.weak.keywords, { kind: 'tag', tag, strength: 'weak' } as const, () => KEYWORD));
      unlessTags.set(tag, rule.weak.unlessTags);
    }
    if (rule.not) entries.push(...compileLists(rule.not.keywords, { kind: 'tag', tag, strength: 'not' } as const, () => KEYWORD));
    for (const p of rule.patterns) patterns.push({ tag, re: new RegExp(p, 'u') });
  }
  entries.push(...compileLists(rules.prepositions, { kind: 'preposition' } as const, () => PREPOSITION));
  for (const place of rules.places) {
    entries.push(...compileLists(place.names, { kind: 'place', place: place.name, contextual: false } as const, (l) => placeOptions(l, false)));
    entries.push(...compileLists(place.contextual, { kind: 'place', place: place.name, contextual: true } as const, (l) => placeOptions(l, true)));
  }
  return { words: new Matcher(entries), patterns, unlessTags };
}

const compiledRules = new WeakMap<TaggingRules, CompiledRules>();

/** The matchers for a rules object, built on first use (the loader builds them at load). */
export function compileRules(rules: TaggingRules): void {
  if (!compiledRules.has(rules)) compiledRules.set(rules, compile(rules));
}

function compiled(rules: TaggingRules): CompiledRules {
  compileRules(rules);
  return compiledRules.get(rules)!;
}

// ---- tags -----------------------------------------------------------------------------------

/** `matches`: of the whole text's words; `normalized`: the whole text, for the patterns. */
function findTags(c: CompiledRules, normalized: string, matches: readonly Match<Payload>[]): TagName[] {
  const strong = new Set<TagName>();
  const weak = new Set<TagName>();
  const cancelled = new Set<TagName>();
  for (const { payload: p } of matches) {
    if (p.kind === 'tag') (p.strength === 'strong' ? strong : p.strength === 'weak' ? weak : cancelled).add(p.tag);
  }
  for (const { tag, re } of c.patterns) if (!strong.has(tag) && re.test(normalized)) strong.add(tag);
  for (const t of cancelled) strong.delete(t);
  // Weak evidence yields to the strong evidence of another tag ("explosion" is not `explosive` when rockets are named).
  for (const t of weak) if (!(c.unlessTags.get(t) ?? []).some((u) => strong.has(u)) && !cancelled.has(t)) strong.add(t);
  return [...strong].sort();
}

// ---- places, numbers, days --------------------------------------------------------------------

/**
 * A word that survives normalization (a private-use character: not a letter, punctuation or symbol)
 * and that no cut-out piece can contain (links, addresses and numbers are ASCII, #ids letters and digits).
 */
const CUT_MARK = '\uE000';

/** `#1234`, `@user77`: ids whose digits are not counts. */
const TAGGED_ID = /[#@][\p{L}\p{N}_]*\p{N}[\p{L}\p{N}_]*/gu;

/**
 * The text with its entities and #ids cut out (a town named in a channel link is not where
 * anything happened, a phone's digits are not a count), and the pieces cut out, for the tags.
 */
function cutEntities(asciiText: string, spans: readonly EntitySpan[]): { kept: string; cut: string } {
  const cuts = spans.filter((s) => s.end > s.start).map((s) => [s.start, s.end] as const);
  if (asciiText.includes('#') || asciiText.includes('@')) {
    for (const m of asciiText.matchAll(TAGGED_ID)) cuts.push([m.index, m.index + m[0].length]);
  }
  if (cuts.length === 0) return { kept: asciiText, cut: '' };
  cuts.sort((a, b) => a[0] - b[0]);
  let kept = '';
  let cut = '';
  let at = 0;
  for (const [s, e] of cuts) {
    if (e <= at) continue;
    kept += asciiText.slice(at, Math.max(at, s)) + ' ';
    cut += asciiText.slice(Math.max(at, s), e) + '\n';
    at = e;
  }
  return { kept: kept + asciiText.slice(at), cut };
}

interface WhereAndWhen {
  readonly places: string[];
  readonly numbers: string[];
  readonly days: string[];
}

function isTemporal(p: Payload): p is VetoPayload {
  return p.kind === 'day' || p.kind === 'month' || p.kind === 'number';
}

/**
 * `words`, `matches`: the text without its cut-out pieces; `digitDays`, `times`: what
 * findDigitDatesAndTimes found before normalization.
 */
function findWhereAndWhen(words: readonly string[], matches: readonly Match<Payload>[], digitDays: readonly string[], times: readonly string[]): WhereAndWhen {
  const days = [...digitDays];
  const afterPreposition = new Set(matches.filter((m) => m.payload.kind === 'preposition').map((m) => m.end + 1));
  const placeMatches = matches.filter(
    (m): m is Match<PlacePayload> => m.payload.kind === 'place' && (!m.payload.contextual || afterPreposition.has(m.start)),
  );
  const places = new Set(longestMatches(placeMatches).map((m) => m.payload.place));

  const temporal = longestMatches(matches.filter((m) => isTemporal(m.payload))) as Match<VetoPayload>[];
  const dayDigits = new Set<number>(); // word indexes of "10" in "10 June"
  const dateMonths = new Set<Match<VetoPayload>>();
  for (const m of temporal) {
    if (m.payload.kind !== 'month') continue;
    const month = m.payload.month;
    const before = words[m.start - 1] === 'of' ? m.start - 2 : m.start - 1; // "10th of June"
    for (const at of [before, m.end + 1]) {
      const day = dayNumber(words[at]);
      if (day === null) continue;
      days.push(dateKey(month, day));
      dayDigits.add(at);
      dateMonths.add(m);
      // "10 June 2026": the year belongs to the date, not to the counts.
      const year = at === before ? m.end + 1 : at + 1;
      if (/^(?:19|20)\d\d$/u.test(words[year] ?? '')) dayDigits.add(year);
      break;
    }
  }
  const numbers = [...times];
  for (const m of temporal) {
    if (m.payload.kind === 'day') days.push(m.payload.key);
    // "sept" is September in "10 sept", seven in "sept roquettes".
    if (m.payload.kind === 'number' && ![...dateMonths].some((d) => d.start === m.start)) numbers.push(m.payload.value);
  }
  words.forEach((w, i) => {
    const n = dayDigits.has(i) ? null : leadingNumber(w);
    if (n !== null) numbers.push(n);
  });
  return { places: [...places].sort(), numbers: sortedUnique(numbers, numericOrder), days: sortedUnique(days) };
}

function numericOrder(a: string, b: string): number {
  return parseFloat(a) - parseFloat(b) || (a < b ? -1 : a > b ? 1 : 0);
}

function sortedUnique(values: readonly string[], order?: (a: string, b: string) => number): string[] {
  return [...new Set(values)].sort(order);
}

// ---- priority -------------------------------------------------------------------------------

function holds(when: PriorityCondition, tags: ReadonlySet<TagName>, placeCount: number, ageMinutes: number): boolean {
  if (when.anyTags && !when.anyTags.some((t) => tags.has(t))) return false;
  if (when.allTags && !when.allTags.every((t) => tags.has(t))) return false;
  if (when.noTags && when.noTags.some((t) => tags.has(t))) return false;
  if (when.place !== undefined && when.place !== placeCount > 0) return false;
  if (when.maxAgeMinutes !== undefined && !(ageMinutes <= when.maxAgeMinutes)) return false;
  return true;
}

/** The highest priority among the rules that hold, else the default. */
export function priorityOf(rules: TaggingRules, tags: readonly TagName[], places: readonly string[], times: MessageTimes): Priority {
  const tagSet = new Set(tags);
  const ageMinutes = (times.receivedAt.getTime() - times.sentAt.getTime()) / 60_000;
  let best = -1;
  for (const r of rules.priority.rules) {
    if (holds(r.when, tagSet, places.length, ageMinutes)) best = Math.max(best, PRIORITIES.indexOf(r.priority));
  }
  return best < 0 ? rules.priority.default : PRIORITIES[best]!;
}

// ---- entry point ----------------------------------------------------------------------------

export function analyzeText(rules: TaggingRules, text: string | null, times: MessageTimes): Analysis {
  const c = compiled(rules);
  if (!text) {
    const entities: Entities = { phones: [], urls: [], emails: [], wallets: [] };
    return { tags: [], places: [], entities, priority: priorityOf(rules, [], [], times), numbers: [], days: [] };
  }
  const ascii = toAsciiDigits(text);
  const spans = findEntitySpansAscii(ascii);
  const { kept, cut } = cutEntities(ascii, spans);
  const dated = findDigitDatesAndTimes(kept);
  // normalizeForMatch is the costly step: one call for the text and the pieces cut out of it, which
  // keywords see (spam is often recognised by its links) but places, numbers and days do not.
  const normalized = normalizeText(cut ? `${dated.rest} ${CUT_MARK} ${cut}` : dated.rest);
  const all = splitWords(normalized);
  const matches: Match<Payload>[] = [];
  c.words.scan(all, matches);
  const tags = findTags(c, normalized, matches);
  const mark = cut ? all.lastIndexOf(CUT_MARK) : -1;
  const { places, numbers, days } =
    mark < 0
      ? findWhereAndWhen(all, matches, dated.days, dated.times)
      : findWhereAndWhen(all.slice(0, mark), matches.filter((m) => m.end < mark), dated.days, dated.times);
  return { tags, places, entities: entitiesFrom(spans), priority: priorityOf(rules, tags, places, times), numbers, days };
}
