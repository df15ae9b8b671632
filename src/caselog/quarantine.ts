import type { Keyring } from '../crypto/keyring';
import { SEAL_AAD_INTAKE, SEAL_AAD_QUARANTINE } from '../crypto/aad';
import { TiphubError } from '../errors';
import type { Queryable } from './db';

export interface QuarantineEntry {
  readonly channel: string;
  /** Where it came from: `FILE:LINE`, a job id; never the sender. */
  readonly source: string;
  readonly code: string;
  readonly reason: string;
  /** The payload, sealed; null only when there was nothing to keep. */
  readonly payloadSealed: string | null;
}

export async function addQuarantine(q: Queryable, entries: readonly QuarantineEntry[]): Promise<void> {
  if (!entries.length) return;
  await q.query(
    `INSERT INTO quarantine (channel, source, code, reason, payload_sealed)
     SELECT channel, source, code, reason, payload_sealed
       FROM jsonb_to_recordset($1::jsonb) AS x(channel text, source text, code text, reason text, payload_sealed text)`,
    [JSON.stringify(entries.map((e) => ({ channel: e.channel, source: e.source, code: e.code, reason: e.reason, payload_sealed: e.payloadSealed })))],
  );
}

export async function countQuarantine(q: Queryable): Promise<number> {
  const { rows } = await q.query<{ n: number }>('SELECT count(*)::int AS n FROM quarantine');
  return rows[0]!.n;
}

// --- Reading and retention (issue 10, item 16) --------------------------------------------------
// A quarantined payload stays sealed and whole (a retry needs it) for `retention.quarantineDays`.
// What an operator sees of it is its shape only: keys, types, lengths, never a value that could
// be an informant's words, name, number or id. There is deliberately no way to print it raw.

/** A row as `tiphub quarantine list` shows it: no payload. */
export interface QuarantineListing {
  readonly id: number;
  /** When it was quarantined (ISO 8601). */
  readonly at: string;
  readonly channel: string;
  readonly source: string;
  readonly code: string;
  readonly reason: string;
  /** The size of the sealed payload as stored, in bytes; null when nothing was kept. */
  readonly sealedBytes: number | null;
}

/**
 * The shape of a JSON value, with nothing of its content: what a bug needs (a field missing, a
 * number where a string was expected, a string too long) and nothing an informant said or is.
 */
export type PayloadShape =
  | { readonly t: 'null' }
  | { readonly t: 'boolean'; readonly value: boolean }
  | { readonly t: 'integer'; readonly digits: number; readonly negative: boolean }
  | { readonly t: 'number' }
  /** `value` only for the words of a fixed vocabulary (chat types, media kinds, MIME types). */
  | { readonly t: 'string'; readonly length: number; readonly value?: string; readonly json?: PayloadShape | { readonly t: 'invalid-json'; readonly position: number | null } }
  | { readonly t: 'array'; readonly length: number; readonly items: readonly PayloadShape[] }
  /** Keys outside the known field names are shown as `#<n>` with their length only. */
  | { readonly t: 'object'; readonly size: number; readonly fields: readonly (readonly [string, PayloadShape])[] }
  | { readonly t: 'elided'; readonly why: string };

export interface QuarantineDetail extends QuarantineListing {
  /** The field the reason names, when it names one (`message: date out of range` → `message`). */
  readonly field: string | null;
  /** Which sealing context opened the payload; null when none did or nothing was kept. */
  readonly sealedAs: string | null;
  /** Why the payload could not be opened (wrong secret, or altered), if so. */
  readonly unsealError: string | null;
  readonly shape: PayloadShape | null;
}

/**
 * The contexts quarantined payloads are sealed under: SEAL_AAD_QUARANTINE by the adapters' ports
 * and `ingest`; the intake worker keeps a job's own sealed message as it came, sealed for the
 * intake queue (SEAL_AAD_INTAKE).
 */
const QUARANTINE_CONTEXTS = [SEAL_AAD_QUARANTINE, SEAL_AAD_INTAKE] as const;

/**
 * What `quarantine show` may print by name: keys of a schema and values of a fixed list, which no
 * informant chooses. A sender can choose the keys of what it sends (an ingest line, a forged
 * webhook), so any other key is shown by its length only, as `describeIssues` counts unknown
 * fields rather than quoting them. The core knows its own words (the InboundMessage of an intake
 * job); each channel's module adds its platform's (adapters/registry.ts composes them).
 */
export interface ShapeVocabulary {
  readonly fieldNames: ReadonlySet<string>;
  readonly values: ReadonlySet<string>;
}

const CORE_FIELDS = [
  // the intake job's InboundMessage
  'v id channel account nativeId sender address name sentAt receivedAt text media kind ref mime size filename sha256 sniffedMime storedSize',
  'location lat lon label contact phone self replyTo forwarded edited editOf languageHint groupKey raw origin',
];
const CORE_VALUES = [
  // origins and media kinds
  'live', 'import', 'photo', 'video', 'voice', 'audio', 'document', 'animation', 'sticker', 'video_note', 'location', 'contact', 'other',
  // MIME types
  'image/jpeg', 'image/png', 'image/webp', 'image/gif', 'image/heic', 'video/mp4', 'video/quicktime', 'video/webm', 'video/3gpp',
  'audio/ogg', 'audio/mpeg', 'audio/mp4', 'audio/wav', 'audio/amr', 'application/pdf', 'text/plain', 'application/octet-stream',
];

/** The core's words with the given channels' (field names as space-separated runs, values one each). */
export function shapeVocabulary(parts: readonly { readonly fieldNames?: readonly string[]; readonly values?: readonly string[] }[]): ShapeVocabulary {
  const words = (runs: readonly string[]) => runs.join(' ').split(/\s+/).filter(Boolean);
  return {
    fieldNames: new Set([...words(CORE_FIELDS), ...parts.flatMap((p) => words(p.fieldNames ?? []))]),
    values: new Set([...CORE_VALUES, ...parts.flatMap((p) => p.values ?? [])]),
  };
}

/** The core's words alone: a channel's payload then shows by shape and lengths only. */
export const CORE_VOCABULARY = shapeVocabulary([]);

const MAX_DEPTH = 8;
const MAX_NODES = 400;
const MAX_ITEMS = 5;

export function payloadShape(value: unknown, vocabulary: ShapeVocabulary = CORE_VOCABULARY): PayloadShape {
  let nodes = 0;
  const walk = (v: unknown, depth: number): PayloadShape => {
    if (++nodes > MAX_NODES) return { t: 'elided', why: 'too many fields' };
    if (v === null || v === undefined) return { t: 'null' };
    if (typeof v === 'boolean') return { t: 'boolean', value: v };
    if (typeof v === 'number') {
      return Number.isInteger(v) ? { t: 'integer', digits: v === 0 ? 1 : Math.floor(Math.log10(Math.abs(v))) + 1, negative: v < 0 } : { t: 'number' };
    }
    if (typeof v === 'string') {
      const length = [...v].length;
      if (vocabulary.values.has(v)) return { t: 'string', length, value: v };
      const s = v.trimStart();
      if ((s.startsWith('{') || s.startsWith('[')) && depth < MAX_DEPTH) {
        // An ingest line is kept as the text it was: its shape is what tells why it was refused.
        try {
          return { t: 'string', length, json: walk(JSON.parse(v) as unknown, depth + 1) };
        } catch (err) {
          // Only the position: the parser's message quotes the text.
          const m = /position (\d+)/.exec(err instanceof Error ? err.message : '');
          return { t: 'string', length, json: { t: 'invalid-json', position: m ? Number(m[1]) : null } };
        }
      }
      return { t: 'string', length };
    }
    if (depth >= MAX_DEPTH) return { t: 'elided', why: 'nested too deep' };
    if (Array.isArray(v)) return { t: 'array', length: v.length, items: v.slice(0, MAX_ITEMS).map((x) => walk(x, depth + 1)) };
    if (typeof v === 'object') {
      const entries = Object.entries(v as Record<string, unknown>);
      return {
        t: 'object',
        size: entries.length,
        fields: entries.map(([k, x], i) => [vocabulary.fieldNames.has(k) ? k : `#${i + 1} (unknown key of ${[...k].length} chars)`, walk(x, depth + 1)] as const),
      };
    }
    return { t: 'elided', why: typeof v };
  };
  return walk(value, 0);
}

/** The shape as indented lines, for the terminal. */
export function formatShape(shape: PayloadShape, indent = ''): string[] {
  const one = (s: PayloadShape): string => {
    switch (s.t) {
      case 'null':
        return 'null';
      case 'boolean':
        return `boolean ${s.value}`;
      case 'integer':
        return `integer, ${s.negative ? 'negative, ' : ''}${s.digits} digit${s.digits === 1 ? '' : 's'}`;
      case 'number':
        return 'number (not an integer)';
      case 'string':
        return `string of ${s.length} chars${s.value !== undefined ? ` = ${JSON.stringify(s.value)}` : ''}${s.json ? (s.json.t === 'invalid-json' ? `, not valid JSON${s.json.position === null ? '' : ` (at position ${s.json.position})`}` : ', JSON:') : ''}`;
      case 'array':
        return `array of ${s.length}${s.length > s.items.length ? ` (first ${s.items.length} shown)` : ''}`;
      case 'object':
        return `object with ${s.size} key${s.size === 1 ? '' : 's'}`;
      case 'elided':
        return `… (${s.why})`;
    }
  };
  const children = (s: PayloadShape, ind: string): string[] => {
    if (s.t === 'object') return s.fields.flatMap(([k, x]) => [`${ind}${k}: ${one(x)}`, ...children(x, ind + '  ')]);
    if (s.t === 'array') return s.items.flatMap((x, i) => [`${ind}[${i}]: ${one(x)}`, ...children(x, ind + '  ')]);
    if (s.t === 'string' && s.json && s.json.t !== 'invalid-json') return [`${ind}${one(s.json)}`, ...children(s.json, ind + '  ')];
    return [];
  };
  return [`${indent}${one(shape)}`, ...children(shape, indent + '  ')];
}

interface QuarantineRow {
  id: number;
  at: Date | string;
  channel: string;
  source: string;
  code: string;
  reason: string;
  sealed_bytes: number | null;
}

const LISTING_COLUMNS = 'id, at, channel, source, code, reason, octet_length(payload_sealed) AS sealed_bytes';

function listingOf(r: QuarantineRow): QuarantineListing {
  return {
    id: Number(r.id),
    at: new Date(r.at).toISOString(),
    channel: r.channel,
    source: r.source,
    code: r.code,
    reason: r.reason,
    sealedBytes: r.sealed_bytes === null ? null : Number(r.sealed_bytes),
  };
}

/** The newest entries first, without their payloads. */
export async function listQuarantine(q: Queryable, opts: { limit?: number } = {}): Promise<QuarantineListing[]> {
  const asked = Number.isFinite(opts.limit) ? Math.floor(opts.limit!) : 50;
  const limit = Math.max(1, Math.min(10_000, asked));
  const { rows } = await q.query<QuarantineRow>(`SELECT ${LISTING_COLUMNS} FROM quarantine ORDER BY id DESC LIMIT $1`, [limit]);
  return rows.map(listingOf);
}

/** One entry, its payload unsealed only to describe its shape; null when there is no such entry. */
export async function showQuarantine(q: Queryable, keyring: Keyring, id: number, vocabulary: ShapeVocabulary = CORE_VOCABULARY): Promise<QuarantineDetail | null> {
  if (!Number.isSafeInteger(id) || id < 1) return null;
  const { rows } = await q.query<QuarantineRow & { payload_sealed: string | null }>(`SELECT ${LISTING_COLUMNS}, payload_sealed FROM quarantine WHERE id = $1`, [id]);
  const r = rows[0];
  if (!r) return null;
  const listing = listingOf(r);
  const field = /^([A-Za-z_][A-Za-z0-9_.[\]]{0,80}): /.exec(r.reason)?.[1] ?? null;
  if (r.payload_sealed === null) return { ...listing, field, sealedAs: null, unsealError: null, shape: null };
  const opened = unsealQuarantined(keyring, r.payload_sealed);
  if (opened) return { ...listing, field, sealedAs: opened.sealedAs, unsealError: null, shape: payloadShape(opened.payload, vocabulary) };
  return { ...listing, field, sealedAs: null, unsealError: 'the payload could not be opened (another secret, or altered)', shape: null };
}

/** Deletes the entries quarantined more than `olderThanDays` days ago; returns how many. */
export async function purgeQuarantine(q: Queryable, olderThanDays: number): Promise<number> {
  if (!Number.isFinite(olderThanDays) || olderThanDays < 0) throw new TiphubError('TIPHUB_CONFIG_INVALID', 'the quarantine retention must be a number of days, 0 or more');
  const { rows } = await q.query<{ n: number }>(
    `WITH gone AS (DELETE FROM quarantine WHERE at < now() - make_interval(secs => $1::double precision) RETURNING 1) SELECT count(*)::int AS n FROM gone`,
    [olderThanDays * 86_400],
  );
  return Number(rows[0]!.n);
}

/** The entry as `tiphub quarantine show` prints it. */
export function formatQuarantineDetail(d: QuarantineDetail): string {
  const lines = [
    `quarantine ${d.id}`,
    `  at:      ${d.at}`,
    `  channel: ${d.channel}`,
    `  source:  ${d.source}`,
    `  code:    ${d.code}`,
    `  reason:  ${d.reason}`,
    ...(d.field ? [`  field:   ${d.field}`] : []),
  ];
  if (d.sealedBytes === null) lines.push('  payload: none was kept');
  else if (d.unsealError) lines.push(`  payload: ${d.sealedBytes} bytes sealed; ${d.unsealError}`);
  else if (d.shape) lines.push(`  payload (${d.sealedBytes} bytes sealed, as ${d.sealedAs}); its shape, no values:`, ...formatShape(d.shape, '    '));
  return lines.join('\n');
}

export function formatQuarantineList(rows: readonly QuarantineListing[]): string {
  if (!rows.length) return 'quarantine: empty';
  return rows
    .map((r) => `${String(r.id).padStart(6)}  ${r.at}  ${r.channel.padEnd(9)}  ${r.code}  ${r.source}  ${r.sealedBytes === null ? 'no payload' : `${r.sealedBytes} B sealed`}  ${r.reason}`)
    .join('\n');
}

// --- Retry and drop (issue 14, item 4) ----------------------------------------------------------
// A retry opens an entry's payload where the keys are (the command, or the hub's dashboard), feeds
// it through its channel's normalize again and, when it becomes a message, queues it and deletes
// the entry; when it still fails the entry stays with the new reason. A drop deletes it, with an
// entry in the operators' audit chain (who dropped which entry, its channel and code, never its
// payload).

/** An entry with its payload still sealed, for a retry. */
export interface QuarantinedPayload {
  readonly id: number;
  readonly channel: string;
  readonly source: string;
  readonly code: string;
  readonly payloadSealed: string | null;
}

/** The entries asked for (all of them: `'all'`), oldest first, payloads sealed. */
export async function quarantinedPayloads(q: Queryable, ids: readonly number[] | 'all'): Promise<QuarantinedPayload[]> {
  const { rows } = await q.query<{ id: number; channel: string; source: string; code: string; payload_sealed: string | null }>(
    ids === 'all'
      ? 'SELECT id, channel, source, code, payload_sealed FROM quarantine ORDER BY id'
      : 'SELECT id, channel, source, code, payload_sealed FROM quarantine WHERE id IN (SELECT jsonb_array_elements_text($1::jsonb)::bigint) ORDER BY id',
    ids === 'all' ? [] : [JSON.stringify(ids.filter((id) => Number.isSafeInteger(id) && id > 0))],
  );
  return rows.map((r) => ({ id: Number(r.id), channel: r.channel, source: r.source, code: r.code, payloadSealed: r.payload_sealed }));
}

/** The contexts an entry's payload may be sealed under, tried in turn: what opened it, or null. */
export function unsealQuarantined(keyring: Keyring, sealed: string): { readonly sealedAs: (typeof QUARANTINE_CONTEXTS)[number]; readonly payload: unknown } | null {
  for (const ctx of QUARANTINE_CONTEXTS) {
    try {
      return { sealedAs: ctx, payload: keyring.unseal(sealed, ctx) };
    } catch {
      /* the next context */
    }
  }
  return null;
}

/** What a retry came to: queued (the entry is deleted) or refused again (the entry keeps the new reason). */
export type QuarantineOutcome = { readonly ok: true } | { readonly ok: false; readonly code: string; readonly reason: string };

/** Settles one retried entry; false when it was no longer there (dropped meanwhile). */
export async function settleQuarantine(q: Queryable, id: number, outcome: QuarantineOutcome): Promise<boolean> {
  const { rows } = outcome.ok
    ? await q.query<{ id: number }>('DELETE FROM quarantine WHERE id = $1 RETURNING id', [id])
    : await q.query<{ id: number }>('UPDATE quarantine SET code = $2, reason = $3 WHERE id = $1 RETURNING id', [id, outcome.code, outcome.reason]);
  return rows.length > 0;
}
