/**
 * Contact points and payment addresses written in a tip: phone numbers, links, e-mail addresses and
 * crypto wallets. Works on the raw text (normalization would break URLs and case-sensitive
 * addresses); Arabic-Indic and Persian digits are read as ASCII first, one character for one so
 * positions do not move.
 */
import { createHash } from 'node:crypto';

export interface Entities {
  /** E.164-style: "+" and digits; Iraqi local numbers get +964. */
  readonly phones: string[];
  readonly urls: string[];
  /** Lower case. */
  readonly emails: string[];
  /** Bitcoin (legacy, bech32), Ethereum (lower case) and TRON (also USDT-TRC20) addresses. */
  readonly wallets: string[];
}

export type EntityKind = keyof Entities;

export interface EntitySpan {
  readonly kind: EntityKind;
  readonly value: string;
  /** UTF-16 offsets in the text, end exclusive. */
  readonly start: number;
  readonly end: number;
}

export function toAsciiDigits(text: string): string {
  return text.replace(/[\u0660-\u0669\u06F0-\u06F9]/gu, (d) => String((d.codePointAt(0)! - (d >= '\u06F0' ? 0x06f0 : 0x0660)) % 10));
}

// ---- phones -------------------------------------------------------------------------------

/** Between digits: up to three spaces, dots, dashes or parentheses ("0770 - 123 45 67", "+964 (0) 770"). */
const S = '[ \\t\\u00A0.\\-\\u2010-\\u2013()]{0,3}';
/** +964 / 00964 / 964, an optional trunk 0, then a mobile number 7xx xxx xxxx. */
const IRAQ_INTL = new RegExp(`(?<![\\d+])(?:\\+|00)?${S}964${S}(?:0${S})?7(?:${S}\\d){9}(?!\\d)`, 'gu');
/** Any other international number: + or 00, then 8 to 15 digits (E.164). */
const INTL = new RegExp(`(?<![\\d+])(?:\\+|00)${S}[1-9](?:${S}\\d){7,14}(?!\\d)`, 'gu');
/** Iraqi mobile written locally: 07xx xxx xxxx. Years and short numbers never start with 07 + 9 digits. */
const IRAQ_LOCAL = new RegExp(`(?<![\\d+])0${S}7(?:${S}\\d){9}(?!\\d)`, 'gu');

function phoneValue(written: string, local: boolean): string {
  let digits = written.replace(/\D/gu, '');
  if (local) return '+964' + digits.slice(1);
  if (!written.trimStart().startsWith('+') && digits.startsWith('00')) digits = digits.slice(2);
  if (digits.startsWith('9640')) digits = '964' + digits.slice(4); // "+964 0770…": the trunk 0 is not dialled
  return '+' + digits;
}

/** wa.me/9647701234567 and api.whatsapp.com/send?phone=… name a phone number. */
const WHATSAPP_LINK = /^(?:https?:\/\/)?(?:www\.)?(?:wa\.me\/|api\.whatsapp\.com\/send\/?\?phone=)\+?(\d{8,15})(?!\d)/iu;

// ---- links and e-mail -----------------------------------------------------------------------

const EMAIL = /(?<![\w.+-])[a-z0-9][a-z0-9._%+-]*@[a-z0-9](?:[a-z0-9-]*[a-z0-9])?(?:\.[a-z0-9](?:[a-z0-9-]*[a-z0-9])?)*\.[a-z]{2,24}(?![a-z0-9-])/giu;
/** ASCII only after the scheme: Arabic text is often glued to a link without a space. */
const HTTP_URL = /\bhttps?:\/\/[!#-;=?-~]+/giu;
/**
 * Bare domains only under these endings: a missing space after a full stop ("Mosul.It was") must
 * not make a link, so short endings that are also words (it, is, so, in, at, us…) are left out.
 */
const BARE_TLDS =
  'com|net|org|info|io|me|ly|gl|be|co|iq|ir|tr|uk|ru|fr|app|xyz|top|site|online|shop|link|live|tv|gg|cc|biz|news|store|club|pro|eu|ae|sa|sy|jo|lb|kw|qa|ua|cn|tk|ml|ga|cf|gq|ws|fm|gov|edu';
const BARE_URL = new RegExp(
  `(?<![\\w@.\\-/:])(?:www\\.)?(?:[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?\\.)+(${BARE_TLDS})(?![a-z0-9-])(?:[/?#][!#-;=?-~]*)?`,
  'giu',
);
const URL_TRAILING = /[.,;:!?'"*]+$/u;

function trimUrl(written: string): string {
  let u = written.replace(URL_TRAILING, '');
  // A closing parenthesis belongs to the link only when the link opened one (Wikipedia titles).
  while (u.endsWith(')') && (u.match(/\(/gu)?.length ?? 0) < (u.match(/\)/gu)?.length ?? 0)) u = u.slice(0, -1).replace(URL_TRAILING, '');
  return u;
}

// ---- wallets --------------------------------------------------------------------------------

const BASE58 = '123456789ABCDEFGHJKLMNPQRSTUVWXYZabcdefghijkmnopqrstuvwxyz';
const BTC_LEGACY = /(?<![0-9A-Za-z])[13][1-9A-HJ-NP-Za-km-z]{25,34}(?![0-9A-Za-z])/gu;
const TRON = /(?<![0-9A-Za-z])T[1-9A-HJ-NP-Za-km-z]{33}(?![0-9A-Za-z])/gu;
const BTC_BECH32 = /(?<![0-9A-Za-z])(?:bc1|BC1)[02-9ac-hj-np-zAC-HJ-NP-Z]{11,71}(?![0-9A-Za-z])/gu;
const ETHEREUM = /(?<![0-9A-Za-z])0x[0-9a-fA-F]{40}(?![0-9A-Za-z])/gu;

function base58Decode(s: string): Uint8Array | null {
  const bytes: number[] = [];
  for (const ch of s) {
    let carry = BASE58.indexOf(ch);
    if (carry < 0) return null;
    for (let i = 0; i < bytes.length; i++) {
      carry += bytes[i]! * 58;
      bytes[i] = carry & 0xff;
      carry >>= 8;
    }
    for (; carry > 0; carry >>= 8) bytes.push(carry & 0xff);
  }
  for (let i = 0; i < s.length && s[i] === '1'; i++) bytes.push(0);
  return Uint8Array.from(bytes.reverse());
}

/** Base58Check with a 25-byte payload and one of the version bytes: the checksum rules out look-alikes. */
function isBase58Check(s: string, versions: readonly number[]): boolean {
  const b = base58Decode(s);
  if (!b || b.length !== 25 || !versions.includes(b[0]!)) return false;
  const sha = (d: Uint8Array) => createHash('sha256').update(d).digest();
  const check = sha(sha(b.subarray(0, 21)));
  return check.subarray(0, 4).equals(Buffer.from(b.subarray(21)));
}

const BECH32_CHARSET = 'qpzry9x8gf2tvdw0s3jn54khce6mua7l';

/** BIP 173 / BIP 350 checksum (bech32 for segwit v0, bech32m for v1+). */
function isBech32Address(addr: string): boolean {
  if (addr !== addr.toLowerCase() && addr !== addr.toUpperCase()) return false;
  const s = addr.toLowerCase();
  const sep = s.lastIndexOf('1');
  const hrp = s.slice(0, sep);
  const data = [...s.slice(sep + 1)].map((c) => BECH32_CHARSET.indexOf(c));
  if (hrp !== 'bc' || data.length < 7 || data.some((d) => d < 0)) return false;
  const GEN = [0x3b6a57b2, 0x26508e6d, 0x1ea119fa, 0x3d4233dd, 0x2a1462b3];
  let chk = 1;
  const values = [...[...hrp].map((c) => c.charCodeAt(0) >> 5), 0, ...[...hrp].map((c) => c.charCodeAt(0) & 31), ...data];
  for (const v of values) {
    const top = chk >>> 25;
    chk = ((chk & 0x1ffffff) << 5) ^ v;
    for (let i = 0; i < 5; i++) if ((top >>> i) & 1) chk ^= GEN[i]!;
  }
  return chk === 1 || chk === 0x2bc830a3;
}

// ---- assembly -------------------------------------------------------------------------------

function overlaps(spans: readonly EntitySpan[], start: number, end: number): boolean {
  return spans.some((s) => s.start < end && start < s.end);
}

function collect(text: string, re: RegExp, kind: EntityKind, value: (m: string) => string | null, taken: EntitySpan[], out: EntitySpan[]): void {
  for (const m of text.matchAll(re)) {
    const start = m.index;
    const v = value(m[0]);
    if (v === null || overlaps(taken, start, start + m[0].length)) continue;
    out.push({ kind, value: v, start, end: start + m[0].length });
  }
}

/**
 * One pass over the text that lets most tips skip most of the expressions below (this runs for
 * every message): how many digits (a phone has 8 or more) and the longest run of ASCII letters and
 * digits (a wallet has 26 or more).
 */
function survey(text: string): { digits: number; longestAlnum: number } {
  let digits = 0;
  let run = 0;
  let longestAlnum = 0;
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    const digit = c >= 48 && c <= 57;
    if (digit) digits++;
    if (digit || (c >= 65 && c <= 90) || (c >= 97 && c <= 122)) {
      if (++run > longestAlnum) longestAlnum = run;
    } else run = 0;
  }
  return { digits, longestAlnum };
}

const MAY_HOLD_DOMAIN = /[a-z0-9]\.[a-z]/iu;

/** Every entity with its place in the text; `text` may hold Arabic-Indic digits. */
export function findEntitySpans(rawText: string): EntitySpan[] {
  return findEntitySpansAscii(toAsciiDigits(rawText));
}

/** findEntitySpans for a text whose digits are already ASCII (toAsciiDigits keeps offsets). */
export function findEntitySpansAscii(text: string): EntitySpan[] {
  const spans: EntitySpan[] = [];
  const { digits, longestAlnum } = survey(text);
  if (longestAlnum >= 26) {
    // Wallets first: long, checksummed, and allowed inside a link (a block explorer's address page).
    const wallets: EntitySpan[] = [];
    collect(text, ETHEREUM, 'wallets', (m) => m.toLowerCase(), [], wallets);
    collect(text, BTC_BECH32, 'wallets', (m) => (isBech32Address(m) ? m.toLowerCase() : null), [], wallets);
    collect(text, BTC_LEGACY, 'wallets', (m) => (isBase58Check(m, [0x00, 0x05]) ? m : null), [], wallets);
    collect(text, TRON, 'wallets', (m) => (isBase58Check(m, [0x41]) ? m : null), [], wallets);
    spans.push(...wallets);
  }
  if (text.includes('@')) collect(text, EMAIL, 'emails', (m) => m.toLowerCase(), spans, spans);
  if (MAY_HOLD_DOMAIN.test(text)) findLinks(text, spans);
  if (digits >= 8) findPhones(text, spans);
  return spans.sort((a, b) => a.start - b.start || a.end - b.end);
}

function findLinks(text: string, spans: EntitySpan[]): void {
  const links: EntitySpan[] = [];
  collect(text, HTTP_URL, 'urls', trimUrl, spans, links);
  collect(
    text,
    BARE_URL,
    'urls',
    (m) => {
      const host = m.split(/[/?#]/u)[0]!;
      const ending = host.slice(host.lastIndexOf('.') + 1);
      // "Bit.ly" is a link; "Mosul.Co…" after a missing space is not.
      return ending === ending.toLowerCase() || host === host.toUpperCase() ? trimUrl(m) : null;
    },
    [...spans, ...links],
    links,
  );
  // A trimmed link gives back what it does not cover.
  const trimmed = links.map((l) => ({ ...l, end: l.start + l.value.length }));
  spans.push(...trimmed);
  for (const l of trimmed) {
    const phone = WHATSAPP_LINK.exec(l.value);
    if (phone) spans.push({ kind: 'phones', value: phoneValue('+' + phone[1]!, false), start: l.start, end: l.start });
  }

}

function findPhones(text: string, spans: EntitySpan[]): void {
  const taken = spans.filter((s) => s.end > s.start);
  const phones: EntitySpan[] = [];
  collect(text, IRAQ_INTL, 'phones', (m) => phoneValue(m, false), taken, phones);
  collect(text, INTL, 'phones', (m) => phoneValue(m, false), [...taken, ...phones], phones);
  collect(text, IRAQ_LOCAL, 'phones', (m) => phoneValue(m, true), [...taken, ...phones], phones);
  spans.push(...phones);
}

/** Entities by kind, each list deduplicated in order of appearance. */
export function entitiesFrom(spans: readonly EntitySpan[]): Entities {
  const out: Entities = { phones: [], urls: [], emails: [], wallets: [] };
  for (const s of spans) if (!out[s.kind].includes(s.value)) out[s.kind].push(s.value);
  return out;
}

export function extractEntities(rawText: string): Entities {
  return entitiesFrom(findEntitySpans(rawText));
}
