/**
 * Perceptual hash of an image: a photo forwarded through WhatsApp and Telegram is resized and
 * recompressed, so its bytes (and sha256) differ while the picture is the same. pHash: the image
 * in grey, shrunk to 32×32, its 2-D DCT, and one bit per low-frequency coefficient (the 8×8 block
 * without the DC term, plus the DC row's/column's neighbours) above their median. Recompression and
 * resizing move few bits; another picture differs in about half of the 64 — including pictures
 * that share a dominant gradient, which a difference hash confuses.
 * Candidates are found through four 16-bit bands (two hashes within 3 bits share one for sure,
 * within 8 bits usually) and confirmed by the Hamming distance.
 */
import sharp from 'sharp';

export const PHASH_BANDS = 4;
const N = 32;

/**
 * Decoding limits: an informant's file is untrusted, and a small PNG or WebP can claim billions of
 * pixels (sharp's default allows 268 MP, about 1 GB decoded). 64 MP still takes a 48 MP phone
 * photo (8000×6000); beyond it, or past the time limit, the picture gets no perceptual hash (exact
 * copies still match by sha256) and the worker goes on.
 */
export const IMAGE_MAX_PIXELS = 64_000_000;
export const IMAGE_DECODE_TIMEOUT_SECONDS = 10;

/** cos((2x+1)uπ / 2N) for the first 9 frequencies. */
const COS = Array.from({ length: 9 }, (_, u) => Float64Array.from({ length: N }, (_, x) => Math.cos(((2 * x + 1) * u * Math.PI) / (2 * N))));

/** The 64-bit pHash as 16 hex digits, or null when the bytes are not an image sharp can read. */
export async function perceptualHash(bytes: Buffer | string): Promise<string | null> {
  let px: Buffer;
  try {
    px = await sharp(bytes, { failOn: 'none', pages: 1, limitInputPixels: IMAGE_MAX_PIXELS, sequentialRead: true })
      .timeout({ seconds: IMAGE_DECODE_TIMEOUT_SECONDS })
      .rotate() // EXIF orientation: a phone's sideways photo is the same picture
      .grayscale()
      .resize(N, N, { fit: 'fill', kernel: 'cubic' })
      .raw()
      .toBuffer();
  } catch {
    return null;
  }
  if (px.length < N * N) return null;
  // Separable DCT, only the 9×9 lowest frequencies are needed.
  const rows = new Float64Array(N * 9); // rows[y][u]
  for (let y = 0; y < N; y++) {
    for (let u = 0; u < 9; u++) {
      let acc = 0;
      for (let x = 0; x < N; x++) acc += px[y * N + x]! * COS[u]![x]!;
      rows[y * 9 + u] = acc;
    }
  }
  const coef: number[] = [];
  for (let v = 0; v < 9; v++) {
    for (let u = 0; u < 9; u++) {
      if (u === 0 && v === 0) continue; // the mean brightness says nothing about the picture
      if (coef.length === 64) break;
      let acc = 0;
      for (let y = 0; y < N; y++) acc += rows[y * 9 + u]! * COS[v]![y]!;
      coef.push(acc);
    }
  }
  const median = [...coef].sort((a, b) => a - b)[32]!;
  let hex = '';
  for (let i = 0; i < 64; i += 4) {
    let nibble = 0;
    for (let j = 0; j < 4; j++) nibble = (nibble << 1) | (coef[i + j]! > median ? 1 : 0);
    hex += nibble.toString(16);
  }
  return hex;
}

/** Number of differing bits of two 16-hex-digit hashes. */
export function hammingDistance(a: string, b: string): number {
  let d = 0;
  for (let i = 0; i < 16; i += 8) {
    let x = (parseInt(a.slice(i, i + 8), 16) ^ parseInt(b.slice(i, i + 8), 16)) >>> 0;
    while (x) {
      x &= x - 1;
      d++;
    }
  }
  return d;
}

/** The band keys of a hash: band index in the high bits, its 16 bits below. */
export function phashBands(hash: string): number[] {
  return Array.from({ length: PHASH_BANDS }, (_, i) => (i << 16) | parseInt(hash.slice(i * 4, i * 4 + 4), 16));
}
