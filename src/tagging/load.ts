/**
 * Reads and validates the tagging rules: config/tags.yaml, places.yaml and priority.yaml. Every
 * problem of all three files is reported at once, each as `file:line:col: reason`, so whoever edits
 * the data fixes it in one round. The result is frozen.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { LineCounter, isMap, isNode, isScalar, parseDocument, type Document } from 'yaml';
import { z } from 'zod';
import { TiphubError } from '../errors';
import { compileRules } from './analyze';
import { parseEntry, shortPrefixStems } from './match';
import {
  LANGUAGES,
  PLACE_KINDS,
  PRIORITIES,
  TAGS,
  isPlaceKind,
  isPriority,
  isTagName,
  type Place,
  type TagName,
  type TagRule,
  type TaggingRules,
} from './vocabulary';

export type { TaggingRules } from './vocabulary';

// ---- schemas --------------------------------------------------------------------------------

const quote = (v: unknown) => JSON.stringify(v);
const VOCABULARY = `the vocabulary is ${TAGS.join(', ')}`;

const Version = z.custom<1>((v) => v === 1, { error: (iss) => `version must be 1 (found ${quote(iss.input)})` });
const Tag = z.custom<TagName>(isTagName, { error: (iss) => `unknown tag ${quote(iss.input)} (${VOCABULARY})` });
const TagList = z.array(Tag);
const PriorityName = z.custom<(typeof PRIORITIES)[number]>(isPriority, {
  error: (iss) => `unknown priority ${quote(iss.input)} (one of ${PRIORITIES.join(', ')})`,
});
const Kind = z.custom<(typeof PLACE_KINDS)[number]>(isPlaceKind, {
  error: (iss) => `unknown kind ${quote(iss.input)} (one of ${PLACE_KINDS.join(', ')})`,
});

function entryString(what: string, refuseShortStems: boolean) {
  return z.string().superRefine((s, ctx) => {
    const p = parseEntry(s);
    if ('error' in p) {
      ctx.addIssue({ code: 'custom', message: `${what} ${quote(s)}: ${p.error}` });
      return;
    }
    const short = refuseShortStems ? shortPrefixStems(p)[0] : undefined;
    if (short !== undefined) {
      ctx.addIssue({
        code: 'custom',
        message: `${what} ${quote(s)}: the Arabic-script stem "${short}" has ${short.length} letters; stems of 2 letters or fewer would match every word they begin (write "=${s.trim()}" to match whole words)`,
      });
    }
  });
}

const Keyword = entryString('keyword', true);
const Name = entryString('name', false);
const Preposition = entryString('preposition', false);

const Pattern = z.string().superRefine((s, ctx) => {
  try {
    new RegExp(s, 'u');
  } catch (e) {
    // V8 says "Invalid regular expression: /(/u: Unterminated group": keep the reason.
    const reason = String((e as Error).message).split(': ').pop();
    ctx.addIssue({ code: 'custom', message: `invalid regular expression ${quote(s)}: ${reason}` });
  }
});

const perLanguage = <T extends z.ZodType>(item: T) => z.partialRecord(z.enum(LANGUAGES), z.array(item));

const TagBody = z.strictObject({
  keywords: perLanguage(Keyword).optional(),
  patterns: z.array(Pattern).optional(),
  weak: z.strictObject({ keywords: perLanguage(Keyword), unlessTags: TagList.optional() }).optional(),
  not: z.strictObject({ keywords: perLanguage(Keyword) }).optional(),
});

const TagsFile = z.strictObject({
  version: Version,
  // An empty entry (`spam:`) is a tag without evidence yet.
  tags: z.partialRecord(z.enum(TAGS), TagBody.nullable()),
});

const Coordinate = (name: string, limit: number) =>
  z.number().refine((v) => v >= -limit && v <= limit, { error: (iss) => `${name} ${quote(iss.input)} is out of range (-${limit} to ${limit})` });

const PlaceEntry = z.strictObject({
  name: z.string().trim().min(1),
  kind: Kind,
  governorate: z.string().trim().min(1).optional(),
  lat: Coordinate('lat', 90),
  lon: Coordinate('lon', 180),
  names: perLanguage(Name),
  contextual: perLanguage(Name).optional(),
});

const PlacesFile = z.strictObject({
  version: Version,
  prepositions: perLanguage(Preposition),
  places: z.array(PlaceEntry),
});

const PriorityFile = z.strictObject({
  version: Version,
  default: PriorityName,
  rules: z
    .array(
      z.strictObject({
        name: z.string().trim().min(1),
        when: z.strictObject({
          anyTags: TagList.min(1).optional(),
          allTags: TagList.min(1).optional(),
          noTags: TagList.min(1).optional(),
          place: z.boolean().optional(),
          maxAgeMinutes: z.number().min(0).optional(),
        }),
        priority: PriorityName,
      }),
    )
    .default([]),
});

// ---- locating problems --------------------------------------------------------------------------

interface Source {
  readonly file: string;
  readonly doc: Document.Parsed;
  readonly lines: LineCounter;
  readonly value: unknown;
}

type Path = readonly PropertyKey[];

function position(src: Source, path: Path, key?: string): { line: number; col: number } | null {
  const at = (node: unknown) => (isNode(node) && node.range ? src.lines.linePos(node.range[0]) : null);
  if (key !== undefined) {
    const map = path.length ? src.doc.getIn(path, true) : src.doc.contents;
    const pair = isMap(map) ? map.items.find((p) => (isScalar(p.key) ? p.key.value : p.key) === key) : undefined;
    const found = pair && at(pair.key);
    if (found) return found;
  }
  for (let n = path.length; n >= 0; n--) {
    const found = at(n === 0 ? src.doc.contents : src.doc.getIn(path.slice(0, n), true));
    if (found) return found;
  }
  return null;
}

function where(src: Source, path: Path, key?: string): string {
  const p = position(src, path, key);
  return p ? `${src.file}:${p.line}:${p.col}` : src.file;
}

const LANGUAGE_MAPS = new Set(['keywords', 'names', 'contextual', 'prepositions']);

function unknownKey(path: Path, key: string): string {
  if (path.length === 1 && path[0] === 'tags') return `unknown tag ${quote(key)} (${VOCABULARY})`;
  if (LANGUAGE_MAPS.has(String(path[path.length - 1]))) return `unknown language ${quote(key)} (the languages are ${LANGUAGES.join(', ')})`;
  return `unknown key ${quote(key)}${path.length ? ` in ${path.join('.')}` : ' at the top level'}`;
}

function schemaProblems(src: Source, issues: readonly z.core.$ZodIssue[]): string[] {
  return issues.flatMap((i) => {
    if (i.code === 'unrecognized_keys') return i.keys.map((k) => `${where(src, i.path, k)}: ${unknownKey(i.path, k)}`);
    // Our own messages say what they are about; zod's generic ones get the path.
    const reason = i.code === 'custom' ? i.message : `${i.path.join('.') || 'file'}: ${i.message}`;
    return [`${where(src, i.path)}: ${reason}`];
  });
}

// ---- checks across entries ------------------------------------------------------------------------

const isRecord = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);

function missingTags(src: Source): string[] {
  const v = src.value;
  if (!isRecord(v) || !isRecord(v.tags)) return [];
  const tags = v.tags;
  return TAGS.filter((t) => !(t in tags)).map(
    (t) => `${where(src, [], 'tags')}: missing tag ${quote(t)} (every tag of the vocabulary needs an entry, \`${t}: {}\` if it has no evidence yet)`,
  );
}

/** Canonical names unique, each spelling to one place only, governorates that exist. */
function placeProblems(src: Source): string[] {
  const v = src.value;
  if (!isRecord(v) || !Array.isArray(v.places)) return [];
  const problems: string[] = [];
  const places = v.places.map((p, i) => ({ i, p: isRecord(p) ? p : {} }));
  const byName = new Map<string, { i: number; kind: unknown }>();
  for (const { i, p } of places) {
    if (typeof p.name !== 'string') continue;
    const first = byName.get(p.name);
    if (first) problems.push(`${where(src, ['places', i, 'name'])}: place ${quote(p.name)} is defined twice (first at line ${position(src, ['places', first.i])?.line})`);
    else byName.set(p.name, { i, kind: p.kind });
  }
  const spellings = new Map<string, { i: number; name: unknown; path: Path }>();
  for (const { i, p } of places) {
    for (const list of ['names', 'contextual'] as const) {
      const lists = p[list];
      if (!isRecord(lists)) continue;
      for (const [lang, words] of Object.entries(lists)) {
        if (!Array.isArray(words)) continue;
        words.forEach((raw, j) => {
          const parsed = typeof raw === 'string' ? parseEntry(raw) : null;
          if (!parsed || 'error' in parsed) return;
          const key = parsed.words.join(' ');
          const here: Path = ['places', i, list, lang, j];
          const first = spellings.get(key);
          if (!first) spellings.set(key, { i, name: p.name, path: here });
          else if (first.i !== i) {
            problems.push(
              `${where(src, here)}: the name ${quote(raw)} is given to two places: ${quote(first.name)} (line ${position(src, first.path)?.line}) and ${quote(p.name)}`,
            );
          }
        });
      }
    }
  }
  for (const { i, p } of places) {
    if (typeof p.governorate !== 'string') continue;
    const target = byName.get(p.governorate);
    const at = where(src, ['places', i, 'governorate']);
    if (!target) problems.push(`${at}: unknown governorate ${quote(p.governorate)} (no place of that name in this file)`);
    else if (target.kind !== 'governorate') problems.push(`${at}: ${quote(p.governorate)} is a ${String(target.kind)}, not a governorate`);
    else if (p.kind === 'governorate' && p.governorate !== p.name) problems.push(`${at}: a governorate cannot lie in another governorate`);
  }
  return problems;
}

// ---- reading ----------------------------------------------------------------------------------------

function readSource(file: string, problems: string[]): Source | null {
  let text: string;
  try {
    text = fs.readFileSync(file, 'utf8');
  } catch (e) {
    const missing = (e as NodeJS.ErrnoException).code === 'ENOENT';
    problems.push(`${file}: ${missing ? 'file not found (the tagging rules need tags.yaml, places.yaml and priority.yaml)' : 'cannot be read'}`);
    return null;
  }
  const lines = new LineCounter();
  const doc = parseDocument(text, { lineCounter: lines, prettyErrors: false });
  if (doc.errors.length) {
    for (const e of doc.errors) {
      const p = lines.linePos(e.pos[0]);
      problems.push(`${file}:${p.line}:${p.col}: not valid YAML (${e.code}: ${e.message.split('\n')[0]})`);
    }
    return null;
  }
  const value = doc.toJS() as unknown;
  if (!isRecord(value)) {
    problems.push(`${file}:1:1: the file must hold a mapping (version: 1, …)`);
    return null;
  }
  return { file, doc, lines, value };
}

/** "file:12:5: …" lines in the order of the file. */
function byPosition(lines: string[]): string[] {
  const at = (l: string) => /:(\d+):(\d+): /u.exec(l)?.slice(1).map(Number) ?? [0, 0];
  return lines.sort((a, b) => at(a)[0]! - at(b)[0]! || at(a)[1]! - at(b)[1]!);
}

function validate<T>(src: Source | null, schema: z.ZodType<T>, extra: (src: Source) => string[], problems: string[]): T | null {
  if (!src) return null;
  const parsed = schema.safeParse(src.value);
  // Checks across entries run even when an entry is malformed, so that every problem shows at once.
  problems.push(...byPosition([...(parsed.success ? [] : schemaProblems(src, parsed.error.issues)), ...extra(src)]));
  return parsed.success ? parsed.data : null;
}

function deepFreeze<T>(value: T): T {
  if (value && typeof value === 'object' && !Object.isFrozen(value)) {
    Object.freeze(value);
    for (const v of Object.values(value as object)) deepFreeze(v);
  }
  return value;
}

function tagRules(tags: z.infer<typeof TagsFile>['tags']): Record<TagName, TagRule> {
  const out = {} as Record<TagName, TagRule>;
  for (const t of TAGS) {
    const body = tags[t] ?? {};
    out[t] = {
      keywords: body.keywords ?? {},
      patterns: body.patterns ?? [],
      weak: body.weak ? { keywords: body.weak.keywords, unlessTags: body.weak.unlessTags ?? [] } : null,
      not: body.not ? { keywords: body.not.keywords } : null,
    };
  }
  return out;
}

/**
 * Reads tags.yaml, places.yaml and priority.yaml from `configDir` (relative to the working
 * directory or absolute; messages name the files the same way). Throws TIPHUB_CONFIG_INVALID with
 * one line per problem.
 */
export function loadTaggingRules(configDir: string): TaggingRules {
  const problems: string[] = [];
  const file = (name: string) => path.join(configDir, name);
  const tags = validate(readSource(file('tags.yaml'), problems), TagsFile, missingTags, problems);
  const places = validate(readSource(file('places.yaml'), problems), PlacesFile, placeProblems, problems);
  const priority = validate(readSource(file('priority.yaml'), problems), PriorityFile, () => [], problems);
  if (problems.length || !tags || !places || !priority) throw new TiphubError('TIPHUB_CONFIG_INVALID', problems.join('\n'));

  const rules: TaggingRules = deepFreeze({
    tags: tagRules(tags.tags),
    prepositions: places.prepositions,
    places: places.places.map(
      (p): Place => ({ name: p.name, kind: p.kind, governorate: p.governorate ?? null, lat: p.lat, lon: p.lon, names: p.names, contextual: p.contextual ?? {} }),
    ),
    priority: { default: priority.default, rules: priority.rules },
  });
  compileRules(rules);
  return rules;
}
