/**
 * Bot texts are data: config/texts/<language>.yaml, one file per language with the same keys
 * (`TEXT_KEYS`, kept with the outbox that names them) and placeholders (checked at load). Values
 * put into right-to-left texts are wrapped in Unicode isolates so a reference such as K7Q-4M2P
 * keeps its order inside Arabic or Kurdish.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { parse } from 'yaml';
import { TiphubError } from '../errors';
import { packageRoot } from '../package-root';
import { TEXT_KEYS, type TextKey } from '../caselog/outbox';
import { LANGUAGES, type Language } from './language';

/** Named here too, for whoever loads or renders the texts. */
export { TEXT_KEYS, type TextKey };

export type Texts = Readonly<Record<Language, Readonly<Record<TextKey, string>>>>;

const RTL: readonly Language[] = ['ar', 'ckb'];

export function placeholders(s: string): string[] {
  return [...new Set([...s.matchAll(/\{(\w+)\}/g)].map((m) => m[1]!))].sort();
}

export function loadTexts(dir = path.join(packageRoot(), 'config', 'texts')): Texts {
  const problems: string[] = [];
  const out = {} as Record<Language, Record<TextKey, string>>;
  for (const lang of LANGUAGES) {
    const file = path.join(dir, `${lang}.yaml`);
    let data: Record<string, unknown>;
    try {
      data = (parse(fs.readFileSync(file, 'utf8')) ?? {}) as Record<string, unknown>;
    } catch (err) {
      problems.push(`${file}: ${(err as { code?: string }).code ?? 'unreadable'}`);
      continue;
    }
    for (const k of Object.keys(data)) if (!(TEXT_KEYS as readonly string[]).includes(k)) problems.push(`${file}: ${k}: unknown key`);
    for (const k of TEXT_KEYS) if (typeof data[k] !== 'string' || !(data[k] as string).trim()) problems.push(`${file}: ${k}: missing`);
    out[lang] = data as Record<TextKey, string>;
  }
  if (!problems.length) {
    for (const k of TEXT_KEYS) {
      const want = placeholders(out.en[k]).join(',');
      for (const lang of LANGUAGES) {
        const got = placeholders(out[lang][k]).join(',');
        if (got !== want) problems.push(`${lang}.yaml: ${k}: placeholders {${got}} differ from en.yaml's {${want}}`);
      }
    }
  }
  if (problems.length) throw new TiphubError('TIPHUB_CONFIG_INVALID', `bot texts:\n  ${problems.join('\n  ')}`);
  return Object.freeze(out);
}

/** Fills a text's placeholders. In right-to-left languages each value sits in an isolate. */
export function render(texts: Texts, lang: Language, key: TextKey, params: Record<string, string> = {}): string {
  const rtl = RTL.includes(lang);
  return texts[lang][key].replace(/\{(\w+)\}/g, (_, name: string) => {
    const v = params[name] ?? (name === 'example' ? 'K7Q-4M2P' : '');
    // The reply text is the operator's own: passed as written, and never isolated.
    return rtl && key !== 'reply' ? `\u2068${v}\u2069` : v;
  });
}
