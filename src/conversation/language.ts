/**
 * The informant's language, guessed from their first text: enough to answer in the right one of
 * the four the line speaks. Arabic script is Sorani Kurdish when it has letters Arabic does not
 * use; Latin script is French when it has French function words or accents.
 */
export const LANGUAGES = ['ar', 'ckb', 'en', 'fr'] as const;
export type Language = (typeof LANGUAGES)[number];
export const DEFAULT_LANGUAGE: Language = 'ar';

export function isLanguage(v: unknown): v is Language {
  return typeof v === 'string' && (LANGUAGES as readonly string[]).includes(v);
}

const KURDISH_LETTERS = /[ڕڵێۆەڤگچپژ]/u; // ڕ ڵ ێ ۆ ە are Sorani; گ چ پ ژ ڤ are not Arabic either
const ARABIC_SCRIPT = /[\u0600-\u06FF\u0750-\u077F]/gu;
const LATIN = /[A-Za-zÀ-ÿ]/gu;
const FRENCH = /\b(le|la|les|des|une|est|sont|près|dans|avec|pour|sur|à|au|aux|du|je|nous|vous|il|elle|qui|que|pas)\b|[éèêàçùâîôû]/giu;
const ENGLISH = /\b(the|is|are|near|in|with|for|on|at|of|and|i|we|you|he|she|who|that|not|there)\b/giu;

export function detectLanguage(text: string | null | undefined): Language | null {
  if (!text) return null;
  const arabic = text.match(ARABIC_SCRIPT)?.length ?? 0;
  const latin = text.match(LATIN)?.length ?? 0;
  if (arabic === 0 && latin === 0) return null;
  if (arabic >= latin) {
    const kurdish = [...text].filter((c) => KURDISH_LETTERS.test(c)).length;
    return kurdish >= 2 || (kurdish >= 1 && arabic < 20) ? 'ckb' : 'ar';
  }
  const fr = text.match(FRENCH)?.length ?? 0;
  const en = text.match(ENGLISH)?.length ?? 0;
  if (fr === 0 && en === 0) return null;
  return fr > en ? 'fr' : 'en';
}
