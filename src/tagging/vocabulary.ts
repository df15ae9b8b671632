/**
 * The fixed words of the tagging rules: the tag vocabulary, the languages a keyword list may be
 * written in, place kinds and priorities. The data files under config/ may use only these.
 */
export const TAGS = ['drone', 'rocket', 'explosive', 'firearm', 'armed-group', 'financing', 'kidnapping', 'threat', 'spam'] as const;
export type TagName = (typeof TAGS)[number];

export const LANGUAGES = ['ar', 'ckb', 'kmr', 'fa', 'en', 'fr'] as const;
export type Language = (typeof LANGUAGES)[number];

export const PLACE_KINDS = ['governorate', 'city', 'town', 'district', 'neighbourhood', 'base', 'airport'] as const;
export type PlaceKind = (typeof PLACE_KINDS)[number];

/** Lowest first: the index is the rank. */
export const PRIORITIES = ['low', 'normal', 'high', 'urgent'] as const;
export type Priority = (typeof PRIORITIES)[number];

export function isTagName(v: unknown): v is TagName {
  return typeof v === 'string' && (TAGS as readonly string[]).includes(v);
}

export function isPriority(v: unknown): v is Priority {
  return typeof v === 'string' && (PRIORITIES as readonly string[]).includes(v);
}

export function isPlaceKind(v: unknown): v is PlaceKind {
  return typeof v === 'string' && (PLACE_KINDS as readonly string[]).includes(v);
}

/** Keyword or name lists per language, as written in the data file. */
export type LanguageLists = Readonly<Partial<Record<Language, readonly string[]>>>;

export interface TagRule {
  readonly keywords: LanguageLists;
  readonly patterns: readonly string[];
  /** Keywords that give the tag only when no tag of `unlessTags` has strong evidence. */
  readonly weak: { readonly keywords: LanguageLists; readonly unlessTags: readonly TagName[] } | null;
  /** Keywords that cancel the tag. */
  readonly not: { readonly keywords: LanguageLists } | null;
}

export interface Place {
  /** Canonical English name: what reports and cases export. */
  readonly name: string;
  readonly kind: PlaceKind;
  readonly governorate: string | null;
  readonly lat: number;
  readonly lon: number;
  readonly names: LanguageLists;
  /** Names that are also ordinary words: they count only right after a preposition. */
  readonly contextual: LanguageLists;
}

export interface PriorityCondition {
  readonly anyTags?: readonly TagName[];
  readonly allTags?: readonly TagName[];
  readonly noTags?: readonly TagName[];
  /** true: at least one place found; false: none. */
  readonly place?: boolean;
  /** receivedAt - sentAt at most this many minutes (a fresh message, not an old forward). */
  readonly maxAgeMinutes?: number;
}

export interface PriorityRule {
  readonly name: string;
  readonly when: PriorityCondition;
  readonly priority: Priority;
}

/** The validated content of config/tags.yaml, places.yaml and priority.yaml (frozen). */
export interface TaggingRules {
  readonly tags: Readonly<Record<TagName, TagRule>>;
  readonly prepositions: LanguageLists;
  readonly places: readonly Place[];
  readonly priority: { readonly default: Priority; readonly rules: readonly PriorityRule[] };
}
