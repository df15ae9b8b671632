/**
 * Near-duplicate signatures: MinHash over character 4-grams of the normalized text, cut into LSH
 * bands. Two texts whose shingle sets have Jaccard similarity s share at least one band key with
 * probability 1 - (1 - s^ROWS)^BANDS (16 bands of 4 rows: s = 0.5 → 0.64, 0.6 → 0.89,
 * 0.7 → 0.99), so a look-up is an index probe per band whatever the size of the log; a candidate is
 * then confirmed by the fraction of equal signature positions, an unbiased estimate of s.
 *
 * Character shingles, not words: a word typed with another letter form, a clitic or a suffix
 * changes one word but only a few 4-grams.
 */
export const SIGNATURE_SIZE = 64;
export const BANDS = 16;
export const ROWS = SIGNATURE_SIZE / BANDS;
const SHINGLE = 4;

/** murmur3's 32-bit finalizer: a cheap, well-mixed permutation of 32-bit integers. */
function fmix32(h: number): number {
  h ^= h >>> 16;
  h = Math.imul(h, 0x85ebca6b);
  h ^= h >>> 13;
  h = Math.imul(h, 0xc2b2ae35);
  h ^= h >>> 16;
  return h >>> 0;
}

/** Fixed seeds, one per signature position (never change them: stored signatures depend on them). */
const SEEDS = Uint32Array.from({ length: SIGNATURE_SIZE }, (_, i) => fmix32(0x9e3779b9 + Math.imul(i + 1, 0x632be5ab)));

/** 32-bit FNV-1a of the code units of a shingle. */
function hashShingle(s: string, start: number, end: number): number {
  let h = 0x811c9dc5;
  for (let i = start; i < end; i++) {
    h ^= s.charCodeAt(i);
    h = Math.imul(h, 0x01000193);
  }
  return h >>> 0;
}

/** The distinct shingle hashes of a normalized text (words separated by single spaces). */
export function shingles(normalized: string): Uint32Array {
  const s = ` ${normalized} `; // word edges are part of the shingles: "ab" in "x ab y" differs from "xaby"
  const set = new Set<number>();
  for (let i = 0; i + SHINGLE <= s.length; i++) set.add(hashShingle(s, i, i + SHINGLE));
  return Uint32Array.from(set);
}

/** The MinHash signature of a normalized text, or null when it has too little to compare. */
export function minhashSignature(normalized: string): Int32Array | null {
  const sh = shingles(normalized);
  if (sh.length < 4) return null;
  const sig = new Uint32Array(SIGNATURE_SIZE).fill(0xffffffff);
  for (let k = 0; k < sh.length; k++) {
    const x = sh[k]!;
    for (let i = 0; i < SIGNATURE_SIZE; i++) {
      const v = fmix32(x ^ SEEDS[i]!);
      if (v < sig[i]!) sig[i] = v;
    }
  }
  // Stored as PostgreSQL integer[] (signed 32-bit); equality is all that is ever compared.
  return new Int32Array(sig.buffer);
}

/**
 * The LSH band keys of a signature: one per band, mixing the band's index with its rows, as a
 * 53-bit integer (exact in JavaScript and in a PostgreSQL bigint).
 */
export function bandKeys(sig: Int32Array): number[] {
  const keys: number[] = [];
  for (let b = 0; b < BANDS; b++) {
    let h1 = fmix32(0x51ed270b ^ b);
    let h2 = fmix32(0x2545f491 + b);
    for (let r = 0; r < ROWS; r++) {
      const v = sig[b * ROWS + r]! >>> 0;
      h1 = fmix32(h1 ^ v);
      h2 = fmix32(Math.imul(h2, 31) ^ fmix32(v + 0x7f4a7c15));
    }
    keys.push((h1 & 0x1fffff) * 0x100000000 + h2);
  }
  return keys;
}

/** Estimated Jaccard similarity of two signatures: the fraction of equal positions. */
export function estimatedSimilarity(a: ArrayLike<number>, b: ArrayLike<number>): number {
  if (a.length !== b.length || a.length === 0) return 0;
  let same = 0;
  for (let i = 0; i < a.length; i++) if (a[i] === b[i]) same++;
  return same / a.length;
}

/** Exact Jaccard similarity of two texts' shingle sets (tests and the evaluation only). */
export function jaccard(a: string, b: string): number {
  const A = new Set(shingles(a));
  const B = new Set(shingles(b));
  let inter = 0;
  for (const x of A) if (B.has(x)) inter++;
  return inter / (A.size + B.size - inter || 1);
}
