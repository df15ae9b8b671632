import { randomInt } from 'node:crypto';

/** No 0/O, 1/I/L, U: nothing to misread on a phone screen or over a bad line. */
export const REF_ALPHABET = '23456789ABCDEFGHJKMNPQRSTVWXYZ';

/** A case reference such as `K7Q-4M2P`: 7 symbols, about 34 bits. */
export function newCaseRef(): string {
  let s = '';
  for (let i = 0; i < 7; i++) s += REF_ALPHABET[randomInt(REF_ALPHABET.length)];
  return `${s.slice(0, 3)}-${s.slice(3)}`;
}

/** Reads what an informant or operator typed: case, spaces and dashes forgiven. Null when not a reference. */
export function parseCaseRef(input: string): string | null {
  const s = input.toUpperCase().replace(/[\s\-\u2010-\u2015]/g, '');
  if (s.length !== 7 || [...s].some((c) => !REF_ALPHABET.includes(c))) return null;
  return `${s.slice(0, 3)}-${s.slice(3)}`;
}
