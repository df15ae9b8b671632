/**
 * The exact-content fingerprint: a hash of the text as normalized for matching (src/text/normalize.ts).
 */
import { createHash } from 'node:crypto';
import { normalizeForMatch } from '../text/normalize';

/** Still named here, where the normalization tests have always imported it from. */
export { normalizeForMatch };

export interface ShortTextRule {
  readonly minChars: number;
  readonly minWords: number;
}

/** Empty or very short texts ("hello", "?", a bare photo) never match other messages. */
export function isTooShortToMatch(normalized: string, rule: ShortTextRule): boolean {
  const letters = normalized.match(/[\p{L}\p{N}]/gu)?.length ?? 0;
  const words = normalized.split(' ').filter((w) => /[\p{L}\p{N}]/u.test(w)).length;
  return letters < rule.minChars || words < rule.minWords;
}

/** The exact-content fingerprint of a text, or null when the text must never match. */
export function textFingerprint(text: string | null, rule: ShortTextRule): string | null {
  if (!text) return null;
  const n = normalizeForMatch(text);
  if (isTooShortToMatch(n, rule)) return null;
  return 't' + createHash('sha256').update(n).digest('hex').slice(0, 40);
}
