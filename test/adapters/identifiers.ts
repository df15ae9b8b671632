/**
 * The "no identifier here" check of the conformance suite (test/adapters/conformance.test.ts).
 * An identifier can hide in an id without being spelt out: a WhatsApp Cloud API message id
 * (`wamid.HBgL…`) is base64 of a record that holds the sender's phone number, and other
 * platforms' ids and file ids are base64 records too. So besides the plain substring, every run
 * of base64 / base64url characters is decoded and the identifiers looked for in its bytes.
 */

/** Twelve or more characters of either alphabet (`=` padding ends a run: it carries no bits). */
const BASE64_RUN = /[A-Za-z0-9+/_-]{12,}/g;

/**
 * Random bytes (a sealed value's ciphertext, a keyed hash) decode from base64 too and would, now
 * and then, hold an identifier of one or two bytes by chance; from four bytes on that chance is
 * nil. Shorter identifiers are still looked for as plain text.
 */
const MIN_DECODED_BYTES = 4;

/**
 * The forms an identifier may take: as written and, for a number (a phone number, a user or chat
 * id), its digits without sign or `+`, as a platform's id record holds them (`16505076520`).
 */
function formsOf(id: string): string[] {
  const digits = /^[+-]?\d{6,}$/.test(id) ? id.replace(/^[+-]/, '') : id;
  return digits === id ? [id] : [id, digits];
}

/**
 * The bytes of every base64 run in `text`. One decoding covers both alphabets (`+` and `-` are
 * both 62, `/` and `_` both 63) and padded or unpadded encodings (padding carries no bits); as a
 * run may begin inside an encoded value (`wamidHBgL…`, `id:HBgL…` without a separator), it is
 * decoded from each of its first four characters, one of which starts the value's 4-character groups.
 */
export function base64Decodings(text: string): { run: string; bytes: Buffer }[] {
  const out: { run: string; bytes: Buffer }[] = [];
  for (const [run] of text.matchAll(BASE64_RUN)) {
    const standard = run.replace(/-/g, '+').replace(/_/g, '/');
    for (let skip = 0; skip < 4; skip++) out.push({ run, bytes: Buffer.from(standard.slice(skip), 'base64') });
  }
  return out;
}

/** Each identifier found in `text`, plainly or inside a base64 run (which is said), prefixed by `where`. */
export function identifiersIn(where: string, text: string, identifiers: readonly string[]): string[] {
  const found = new Set<string>();
  const decoded = base64Decodings(text).map(({ run, bytes }) => ({ run, texts: [bytes.toString('utf8'), bytes.toString('latin1')] }));
  for (const id of identifiers) {
    const forms = formsOf(id);
    const plain = forms.find((f) => text.includes(f));
    if (plain !== undefined) {
      found.add(plain === id ? `${where}: ${id}` : `${where}: ${id} (as ${plain})`);
      continue;
    }
    const long = forms.filter((f) => Buffer.byteLength(f) >= MIN_DECODED_BYTES);
    const hit = decoded.find(({ texts }) => long.some((f) => texts.some((t) => t.includes(f))));
    if (hit) found.add(`${where}: ${id} (base64 in ${hit.run.length > 24 ? `${hit.run.slice(0, 24)}…` : hit.run})`);
  }
  return [...found];
}

/** Fails naming each identifier found in `text` (and where, and how), not just "expected false". */
export function expectAbsent(where: string, text: string, identifiers: readonly string[]): void {
  expect(identifiersIn(where, text, identifiers)).toEqual([]);
}
