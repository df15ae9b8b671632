/**
 * Canned replies for the reply composer (issue 11, item 6): config/replies.yaml, or the file
 * dashboard.cannedReplies names. Read and validated once when the dashboard starts; every problem
 * is reported at once, naming the file and the entry (its position and id), then the result is frozen.
 */
import * as fs from 'node:fs';
import { parseDocument } from 'yaml';
import { z } from 'zod';
import { TiphubError } from '../errors';
import { LANGUAGES, type Language } from '../tagging/vocabulary';

/** What a reply may hold: the reply composer's own limit (replyBody.text). */
export const CANNED_TEXT_MAX = 4000;

export interface CannedReply {
  readonly id: string;
  /** For the operator, per interface language; `en` always there. */
  readonly label: Readonly<Partial<Record<Language, string>>> & { readonly en: string };
  /** For the informant, per language the tagger names; `en` always there. */
  readonly texts: Readonly<Partial<Record<Language, string>>> & { readonly en: string };
}

export type CannedReplies = readonly CannedReply[];

const quote = (v: unknown) => JSON.stringify(v);
const isLanguage = (v: string): v is Language => (LANGUAGES as readonly string[]).includes(v);

const Text = (max: number) =>
  z
    .string({ error: (iss) => `must be text (found ${quote(iss.input)})` })
    .refine((s) => s.trim().length > 0, 'is empty')
    .refine((s) => s.length <= max, `is longer than ${max} characters`);

const PerLanguage = (max: number) =>
  z
    .record(z.string(), Text(max), { error: 'must map languages to texts' })
    .superRefine((m, ctx) => {
      for (const k of Object.keys(m)) if (!isLanguage(k)) ctx.addIssue({ code: 'custom', path: [k], message: `unknown language ${quote(k)} (one of ${LANGUAGES.join(', ')})` });
      if (!('en' in m)) ctx.addIssue({ code: 'custom', message: 'needs an en text (the fallback for every other language)' });
    });

const Entry = z
  .object({
    id: z.string({ error: 'needs an id' }).regex(/^[a-z0-9][a-z0-9-]{0,39}$/, 'lower-case letters, digits and dashes, at most 40'),
    label: PerLanguage(80),
    texts: PerLanguage(CANNED_TEXT_MAX),
  })
  .strict();

const RepliesFile = z
  .object({
    version: z.custom<1>((v) => v === 1, { error: (iss) => `version must be 1 (found ${quote(iss.input)})` }),
    replies: z.array(z.unknown(), { error: 'replies must be a list' }).min(1, 'replies must hold at least one reply'),
  })
  .strict();

function entryName(i: number, raw: unknown): string {
  const id = raw && typeof raw === 'object' && typeof (raw as { id?: unknown }).id === 'string' ? ` (${quote((raw as { id: string }).id)})` : '';
  return `reply ${i + 1}${id}`;
}

/** Validates the parsed content of a replies file; `file` only names it in the problems. */
export function parseCannedReplies(value: unknown, file: string): CannedReplies {
  const problems: string[] = [];
  const top = RepliesFile.safeParse(value);
  if (!top.success) {
    for (const i of top.error.issues) problems.push(`${file}: ${i.path.length ? `${i.path.map(String).join('.')}: ` : ''}${i.code === 'unrecognized_keys' ? `unknown key ${i.keys.map(quote).join(', ')}` : i.message}`);
    throw new TiphubError('TIPHUB_CONFIG_INVALID', `invalid canned replies:\n  ${problems.join('\n  ')}`);
  }
  const out: CannedReply[] = [];
  const seen = new Map<string, number>();
  top.data.replies.forEach((raw, i) => {
    const at = `${file}: ${entryName(i, raw)}`;
    const e = Entry.safeParse(raw);
    if (!e.success) {
      for (const x of e.error.issues) {
        const where = x.path.length ? `${x.path.map(String).join('.')}: ` : '';
        problems.push(`${at}: ${where}${x.code === 'unrecognized_keys' ? `unknown key ${x.keys.map(quote).join(', ')} (allowed: id, label, texts)` : x.message}`);
      }
      return;
    }
    const before = seen.get(e.data.id);
    if (before !== undefined) problems.push(`${at}: the id is already used by reply ${before + 1}`);
    seen.set(e.data.id, i);
    out.push(e.data as CannedReply);
  });
  if (problems.length) throw new TiphubError('TIPHUB_CONFIG_INVALID', `invalid canned replies:\n  ${problems.join('\n  ')}`);
  return deepFreeze(out);
}

/** Reads and validates a replies file (TIPHUB_CONFIG_INVALID naming the file and the entry). */
export function loadCannedReplies(file: string): CannedReplies {
  let text: string;
  try {
    text = fs.readFileSync(file, 'utf8');
  } catch (err) {
    const missing = (err as NodeJS.ErrnoException).code === 'ENOENT';
    throw new TiphubError('TIPHUB_CONFIG_INVALID', `invalid canned replies:\n  ${file}: ${missing ? 'file not found (set dashboard.cannedReplies)' : 'cannot be read'}`);
  }
  const doc = parseDocument(text, { prettyErrors: true });
  if (doc.errors.length) {
    throw new TiphubError('TIPHUB_CONFIG_INVALID', `invalid canned replies:\n  ${doc.errors.map((e) => `${file}:${e.linePos?.[0].line ?? 0}: not valid YAML (${e.code})`).join('\n  ')}`);
  }
  return parseCannedReplies(doc.toJS(), file);
}

/** A reply's text in `language`, else in English. */
export function cannedText(reply: CannedReply, language: string | null | undefined): { text: string; language: Language } {
  if (language && isLanguage(language) && reply.texts[language]) return { text: reply.texts[language], language };
  return { text: reply.texts.en, language: 'en' };
}

export function cannedLabel(reply: CannedReply, uiLanguage: string | null | undefined): string {
  return (uiLanguage && isLanguage(uiLanguage) && reply.label[uiLanguage]) || reply.label.en;
}

/** The languages any reply is written in, in the tagger's order. */
export function cannedLanguages(replies: CannedReplies): Language[] {
  return LANGUAGES.filter((l) => replies.some((r) => r.texts[l]));
}

/**
 * The language to suggest for a case: the one most of its reports are written in (latest wins a
 * tie) when some reply has it, else English.
 */
export function suggestedLanguage(replies: CannedReplies, reportLanguages: readonly (string | null)[]): Language {
  const have = new Set(cannedLanguages(replies));
  const count = new Map<Language, { n: number; last: number }>();
  reportLanguages.forEach((l, i) => {
    if (!l || !isLanguage(l) || !have.has(l)) return;
    const c = count.get(l) ?? { n: 0, last: 0 };
    count.set(l, { n: c.n + 1, last: i });
  });
  const best = [...count.entries()].sort((a, b) => b[1].n - a[1].n || b[1].last - a[1].last)[0];
  return best ? best[0] : 'en';
}

function deepFreeze<T>(value: T): T {
  if (value && typeof value === 'object' && !Object.isFrozen(value)) {
    Object.freeze(value);
    for (const v of Object.values(value as object)) deepFreeze(v);
  }
  return value;
}
