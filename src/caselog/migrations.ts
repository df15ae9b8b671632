/**
 * One set of migrations for PostgreSQL and PGlite. Append only: a migration that shipped is never
 * edited. Tables are created unqualified, in the connection's schema (tests isolate by schema).
 */
import type { Db, Queryable } from './db';
import { sealRow, type Keyring } from '../crypto/keyring';
import { rechainCaseLog } from './rechain';
import { appendCaseEvent } from './events';
import { TiphubError } from '../errors';

/** What a migration that runs code gets: the case log's keys, resolved in its transaction. */
export interface MigrationContext {
  keyring(tx: Queryable): Promise<Keyring>;
}

export interface Migration {
  readonly id: number;
  readonly name: string;
  readonly sql: string;
  /** Runs after `sql`, in the same transaction. */
  readonly run?: (tx: Queryable, ctx: MigrationContext) => Promise<void>;
}

/** A trigger function that refuses a change to a table that only grows. */
const APPEND_ONLY_FUNCTION = `CREATE FUNCTION tiphub_append_only() RETURNS trigger LANGUAGE plpgsql AS $fn$ BEGIN RAISE EXCEPTION 'tiphub: % is append-only (% refused)', TG_TABLE_NAME, TG_OP USING ERRCODE = '42501'; END $fn$`;

const appendOnly = (table: string) => `
CREATE TRIGGER ${table}_append_only BEFORE UPDATE OR DELETE ON ${table} FOR EACH ROW EXECUTE FUNCTION tiphub_append_only();
CREATE TRIGGER ${table}_no_truncate BEFORE TRUNCATE ON ${table} FOR EACH STATEMENT EXECUTE FUNCTION tiphub_append_only();
`;

/**
 * Migration 8's folding (tiphub_fold): shipped, never changed; a new folding is a new migration
 * that replaces the function and rebuilds the index. Pairs map one character to another; the
 * characters of FOLD_DROP (after the pairs in translate's FROM, with nothing in TO) are removed.
 */
const FOLD_PAIRS: readonly (readonly [string, string])[] = [
  ['àáâãäå', 'a'], ['ç', 'c'], ['èéêë', 'e'], ['ìíîïı', 'i'], ['ñ', 'n'], ['òóôõö', 'o'], ['ùúûü', 'u'], ['ýÿ', 'y'], ['ş', 's'], ['ğ', 'g'],
  ['أإآٱ', 'ا'], ['ىی', 'ي'], ['ةەھ', 'ه'], ['ک', 'ك'], ['٠۰', '0'], ['١۱', '1'], ['٢۲', '2'], ['٣۳', '3'], ['٤۴', '4'], ['٥۵', '5'], ['٦۶', '6'], ['٧۷', '7'], ['٨۸', '8'], ['٩۹', '9'],
];
const range = (from: number, to: number) => Array.from({ length: to - from + 1 }, (_, i) => String.fromCodePoint(from + i)).join('');
/** Tatweel, harakat and Quranic marks, superscript alef, ZWNJ and ZWJ, combining diacritical marks. */
export const FOLD_DROP = `\u0640${range(0x064b, 0x065f)}\u0670\u200c\u200d${range(0x0300, 0x036f)}`;
const FOLD_FROM = FOLD_PAIRS.map(([from]) => from).join('') + FOLD_DROP;
const FOLD_TO = FOLD_PAIRS.map(([from, to]) => to.repeat(Array.from(from).length)).join('');
/** A case's urgency, most urgent highest: the list sorts by it descending (src/dashboard/case-list.ts). */
export const URGENCY_SQL = `CASE priority WHEN 'urgent' THEN 3 WHEN 'high' THEN 2 WHEN 'normal' THEN 1 ELSE 0 END`;

export const migrations: readonly Migration[] = [
  {
    id: 1,
    name: 'case log',
    sql: `
CREATE TABLE meta (
  key text PRIMARY KEY,
  value text NOT NULL
);

-- The only place an informant's address lives, sealed.
CREATE TABLE informants (
  pseudonym text PRIMARY KEY,
  channel text NOT NULL,
  address_sealed text,
  language text,
  first_seen timestamptz NOT NULL,
  last_seen timestamptz NOT NULL,
  blocked boolean NOT NULL DEFAULT false,
  created_at timestamptz NOT NULL DEFAULT now()
);

CREATE TABLE cases (
  id serial PRIMARY KEY,
  ref text NOT NULL UNIQUE,
  status text NOT NULL DEFAULT 'new' CHECK (status IN ('new', 'triage', 'open', 'closed')),
  priority text NOT NULL DEFAULT 'normal' CHECK (priority IN ('low', 'normal', 'high', 'urgent')),
  assignee text,
  flags text[] NOT NULL DEFAULT '{}',
  tags text[] NOT NULL DEFAULT '{}',
  places text[] NOT NULL DEFAULT '{}',
  language text,
  report_count integer NOT NULL DEFAULT 0,
  informant_count integer NOT NULL DEFAULT 0,
  channels text[] NOT NULL DEFAULT '{}',
  first_report_at timestamptz,
  last_report_at timestamptz,
  merged_into integer REFERENCES cases (id),
  event_seq integer NOT NULL DEFAULT 0,
  head_hash text,
  created_at timestamptz NOT NULL DEFAULT now(),
  updated_at timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX cases_by_first_report ON cases (first_report_at, id);

CREATE TABLE case_informants (
  case_id integer NOT NULL REFERENCES cases (id),
  pseudonym text NOT NULL REFERENCES informants (pseudonym),
  channel text NOT NULL,
  PRIMARY KEY (case_id, pseudonym)
);

-- One row per inbound message. The primary key is the lasting exactly-once guard.
CREATE TABLE reports (
  id text PRIMARY KEY,
  case_id integer NOT NULL REFERENCES cases (id),
  informant text NOT NULL REFERENCES informants (pseudonym),
  channel text NOT NULL,
  account text NOT NULL,
  native_id text NOT NULL,
  origin text NOT NULL CHECK (origin IN ('live', 'import')),
  sent_at timestamptz NOT NULL,
  received_at timestamptz NOT NULL,
  text text,
  language text,
  tags text[] NOT NULL DEFAULT '{}',
  places text[] NOT NULL DEFAULT '{}',
  fingerprint text,
  duplicate_of text,
  duplicate_kind text CHECK (duplicate_kind IN ('exact', 'near', 'followup', 'media', 'edit')),
  location jsonb,
  contact jsonb,
  reply_to text,
  forwarded boolean NOT NULL DEFAULT false,
  edited boolean NOT NULL DEFAULT false,
  group_key text,
  raw_sealed text NOT NULL,
  created_at timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX reports_by_case ON reports (case_id, sent_at);
CREATE INDEX reports_by_informant ON reports (informant, sent_at);
CREATE INDEX reports_by_fingerprint ON reports (fingerprint, sent_at) WHERE fingerprint IS NOT NULL;

-- Content-addressed: the bytes live in the media store under their sha256.
CREATE TABLE media (
  sha256 text PRIMARY KEY,
  mime text,
  size bigint NOT NULL,
  created_at timestamptz NOT NULL DEFAULT now()
);

CREATE TABLE report_media (
  report_id text NOT NULL REFERENCES reports (id),
  idx integer NOT NULL,
  kind text NOT NULL,
  declared_mime text,
  declared_size bigint,
  filename text,
  sha256 text REFERENCES media (sha256),
  state text NOT NULL CHECK (state IN ('stored', 'pending', 'missing')),
  reason text,
  PRIMARY KEY (report_id, idx)
);

-- Append-only, hash-chained per case.
CREATE TABLE events (
  id bigserial PRIMARY KEY,
  case_id integer NOT NULL REFERENCES cases (id),
  seq integer NOT NULL,
  at timestamptz NOT NULL,
  kind text NOT NULL,
  actor text NOT NULL,
  data jsonb NOT NULL,
  prev_hash text,
  hash text NOT NULL,
  UNIQUE (case_id, seq)
);

-- Payloads that could not be normalized or validated: kept sealed, with the reason.
CREATE TABLE quarantine (
  id bigserial PRIMARY KEY,
  at timestamptz NOT NULL DEFAULT now(),
  channel text NOT NULL,
  source text NOT NULL,
  code text NOT NULL,
  reason text NOT NULL,
  payload_sealed text
);
`,
  },
  {
    id: 2,
    name: 'conversation',
    sql: `
ALTER TABLE informants ADD COLUMN welcomed_at timestamptz;
ALTER TABLE informants ADD COLUMN stopped_at timestamptz;
ALTER TABLE informants ADD COLUMN unreachable_at timestamptz;
ALTER TABLE informants ADD COLUMN unreachable_reason text;
ALTER TABLE informants ADD COLUMN flags text[] NOT NULL DEFAULT '{}';

ALTER TABLE reports ADD COLUMN blocked boolean NOT NULL DEFAULT false;
ALTER TABLE reports ADD COLUMN flooded boolean NOT NULL DEFAULT false;

-- What happened to an informant outside any case: welcome, help, language, stop, block.
-- message_id makes a command's handling exactly-once.
CREATE TABLE informant_log (
  id bigserial PRIMARY KEY,
  pseudonym text NOT NULL REFERENCES informants (pseudonym),
  at timestamptz NOT NULL DEFAULT now(),
  kind text NOT NULL,
  actor text NOT NULL,
  data jsonb NOT NULL DEFAULT '{}',
  message_id text UNIQUE
);
CREATE INDEX informant_log_by_informant ON informant_log (pseudonym, at);

-- Messages to send, written in the transaction that decided them and relayed to the outbound
-- queues after commit (a sweeper relays what a crash left behind).
CREATE TABLE outbox (
  id bigserial PRIMARY KEY,
  channel text NOT NULL,
  pseudonym text NOT NULL REFERENCES informants (pseudonym),
  case_id integer REFERENCES cases (id),
  kind text NOT NULL,
  data jsonb NOT NULL DEFAULT '{}',
  created_at timestamptz NOT NULL DEFAULT now(),
  enqueued_at timestamptz
);
CREATE INDEX outbox_pending ON outbox (created_at) WHERE enqueued_at IS NULL;
`,
  },
  {
    id: 3,
    name: 'dedupe and tagging',
    sql: `
-- The MinHash signature of a report's normalized text (null when too short to compare), the
-- entity keys a look-alike is told apart by (places, numbers, days), what the tagger found.
ALTER TABLE reports ADD COLUMN minhash integer[];
ALTER TABLE reports ADD COLUMN match_keys text[] NOT NULL DEFAULT '{}';
ALTER TABLE reports ADD COLUMN entities jsonb;
ALTER TABLE reports ADD COLUMN priority text NOT NULL DEFAULT 'normal' CHECK (priority IN ('low', 'normal', 'high', 'urgent'));
-- Greetings, thanks, "?", emoji: never grouped with anything.
ALTER TABLE reports ADD COLUMN noise boolean NOT NULL DEFAULT false;
-- Separate subject in a follow-up ("Separate thing:"), kept for the record.
ALTER TABLE reports ADD COLUMN topic_break boolean NOT NULL DEFAULT false;

-- LSH band keys of the first report of each distinct text: a near-duplicate look-up is one index
-- probe per band, the same cost at a million reports as at a hundred.
-- Derived data (recomputable from reports.minhash), so no foreign key to check on every insert.
CREATE TABLE report_bands (
  band bigint NOT NULL,
  report_id text NOT NULL,
  PRIMARY KEY (band, report_id)
);

-- Perceptual hash of stored images (64-bit dHash, hex) and its four 16-bit bands.
ALTER TABLE media ADD COLUMN phash text;
CREATE TABLE media_bands (
  band integer NOT NULL,
  sha256 text NOT NULL REFERENCES media (sha256),
  PRIMARY KEY (band, sha256)
);

-- "Possibly related" cases (the same rumour in another language): a link, never a merge.
ALTER TABLE cases ADD COLUMN related integer[] NOT NULL DEFAULT '{}';

CREATE INDEX cases_by_tags ON cases USING gin (tags);
CREATE INDEX cases_by_flags ON cases USING gin (flags);
CREATE INDEX cases_by_priority ON cases (priority, last_report_at);
`,
  },
  {
    id: 4,
    name: 'keyed chains, anchors, sealed contacts and texts',
    sql: `
-- A contact card another person's details are on: sealed; the clear contact column says only
-- whether one was shared and whose it was.
ALTER TABLE reports ADD COLUMN contact_sealed text;

-- Texts written or sent on a case (replies, notes), sealed in a row the events name by id and
-- keyed hash: a purge removes the text, a rotation re-seals it, the chain still verifies.
CREATE TABLE case_texts (
  id text PRIMARY KEY,
  case_id integer NOT NULL REFERENCES cases (id),
  kind text NOT NULL,
  text_sealed text,
  created_at timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX case_texts_by_case ON case_texts (case_id);

-- The informant log is chained per informant, as events are per case.
ALTER TABLE informant_log ADD COLUMN seq integer;
ALTER TABLE informant_log ADD COLUMN prev_hash text;
ALTER TABLE informant_log ADD COLUMN hash text;
ALTER TABLE informants ADD COLUMN log_seq integer NOT NULL DEFAULT 0;
ALTER TABLE informants ADD COLUMN log_head text;

-- Anchors: each case's chain head and report count as last anchored, and a keyed root over all
-- of them, written every few seconds by one process. A case deleted with its events, or a chain
-- cut short, no longer matches the root.
CREATE TABLE case_anchors (
  case_id integer PRIMARY KEY,
  seq integer NOT NULL,
  hash text NOT NULL,
  report_count integer NOT NULL
);
CREATE TABLE anchors (
  id bigserial PRIMARY KEY,
  at timestamptz NOT NULL,
  cases integer NOT NULL,
  root text NOT NULL,
  mac text NOT NULL
);
CREATE INDEX cases_by_update ON cases (updated_at);
`,
    // Chains written before were plain SHA-256: hashed again with the audit key, texts moved out of events.
    run: async (tx, ctx) => rechainCaseLog(tx, await ctx.keyring(tx)),
  },
  {
    id: 5,
    name: 'append-only history',
    sql: `
${APPEND_ONLY_FUNCTION};
${appendOnly('events')}
${appendOnly('informant_log')}
${appendOnly('anchors')}
`,
  },
  {
    id: 6,
    name: 'triage statuses',
    sql: `
-- new -> in_review -> escalated -> closed, with a closing reason; reopening is a status change too.
ALTER TABLE cases DROP CONSTRAINT cases_status_check;
ALTER TABLE cases ADD CONSTRAINT cases_status_check CHECK (status IN ('new', 'triage', 'open', 'in_review', 'escalated', 'closed'));
ALTER TABLE cases ADD COLUMN close_reason text CHECK (close_reason IN ('actioned', 'no-information', 'duplicate', 'spam', 'out-of-scope'));
-- Tags an operator adds to or removes from what the reports give (cases.tags stays the reports' union).
ALTER TABLE cases ADD COLUMN tags_added text[] NOT NULL DEFAULT '{}';
ALTER TABLE cases ADD COLUMN tags_removed text[] NOT NULL DEFAULT '{}';
CREATE INDEX cases_by_status ON cases (status, priority, last_report_at);
CREATE INDEX cases_by_assignee ON cases (assignee) WHERE assignee IS NOT NULL;
`,
    // The two old in-between statuses become in_review, each by an event in its case's chain.
    run: async (tx, ctx) => {
      const keyed: Queryable = { query: (sql, params) => tx.query(sql, params), keys: await ctx.keyring(tx) };
      const { rows } = await tx.query<{ id: number; status: string }>(`SELECT id, status FROM cases WHERE status IN ('triage', 'open') ORDER BY id`);
      for (const c of rows) {
        await keyed.query(`UPDATE cases SET status = 'in_review' WHERE id = $1`, [c.id]);
        await appendCaseEvent(keyed, c.id, 'case.status', 'migration', { status: 'in_review', from: c.status });
      }
      await tx.query('ALTER TABLE cases DROP CONSTRAINT cases_status_check');
      await tx.query(`ALTER TABLE cases ADD CONSTRAINT cases_status_check CHECK (status IN ('new', 'in_review', 'escalated', 'closed'))`);
    },
  },
  {
    id: 7,
    name: 'operators',
    sql: `
-- The people who triage. The password is an argon2id hash; the TOTP secret is sealed.
CREATE TABLE operators (
  name text PRIMARY KEY CHECK (name ~ '^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$'),
  role text NOT NULL CHECK (role IN ('admin', 'supervisor', 'analyst')),
  password_hash text,
  must_change_password boolean NOT NULL DEFAULT true,
  totp_sealed text,
  totp_enrolled_at timestamptz,
  language text NOT NULL DEFAULT 'en',
  disabled_at timestamptz,
  failed_logins integer NOT NULL DEFAULT 0,
  locked_until timestamptz,
  created_at timestamptz NOT NULL DEFAULT now(),
  updated_at timestamptz NOT NULL DEFAULT now()
);
-- Server-side sessions: the cookie holds a random token, the table its keyed hash.
CREATE TABLE sessions (
  token_hash text PRIMARY KEY,
  operator text NOT NULL REFERENCES operators (name),
  csrf text NOT NULL,
  created_at timestamptz NOT NULL DEFAULT now(),
  last_seen_at timestamptz NOT NULL DEFAULT now(),
  expires_at timestamptz NOT NULL,
  revoked_at timestamptz,
  client text
);
CREATE INDEX sessions_by_operator ON sessions (operator) WHERE revoked_at IS NULL;
-- What operators looked at and exported, and account changes: chained like a case's events, in a
-- table of its own (a list view must not write a case row).
CREATE TABLE operator_audit (
  id bigserial PRIMARY KEY,
  seq integer NOT NULL UNIQUE,
  at timestamptz NOT NULL DEFAULT now(),
  operator text NOT NULL,
  action text NOT NULL,
  data jsonb NOT NULL DEFAULT '{}',
  prev_hash text,
  hash text NOT NULL
);
CREATE INDEX operator_audit_by_operator ON operator_audit (operator, at);
${appendOnly('operator_audit')}
`,
  },
  {
    id: 8,
    name: 'case list search and order',
    sql: `
-- Search text folded the same way for the index and the query (src/dashboard/case-list.ts):
-- lower case; Latin letters without their accents; the Arabic-script variants an informant's
-- keyboard gives for one letter made one (alef forms, yeh forms, teh marbuta and ae as heh, keheh
-- as kaf, Eastern Arabic digits as 0-9); harakat, tatweel, zero-width joiners and combining marks dropped.
CREATE FUNCTION tiphub_fold(t text) RETURNS text LANGUAGE sql IMMUTABLE STRICT PARALLEL SAFE AS $fn$ SELECT translate(lower(t), '${FOLD_FROM}', '${FOLD_TO}') $fn$;
-- The list's order (urgency desc, last report desc, id desc) as one index scanned backwards; the
-- keyset page is a row comparison on the same three expressions, an index bound.
CREATE INDEX cases_list_order ON cases ((${URGENCY_SQL}), (COALESCE(last_report_at, '-infinity'::timestamptz)), id) WHERE merged_into IS NULL;
-- A list row's first report (ORDER BY sent_at, id LIMIT 1) read off the index alone; it serves
-- everything reports_by_case served.
CREATE INDEX reports_by_case_sent ON reports (case_id, sent_at, id);
DROP INDEX reports_by_case;
-- The overview's reports per hour by channel over the last 48 h, an index-only range scan.
CREATE INDEX reports_by_received ON reports (received_at, channel);
`,
    // The trigram index needs pg_trgm, whose operator class is named with the schema it lives in
    // (public: every connection has it on its path, and a test's schema dropped does not take it).
    run: async (tx) => {
      let schema = await trgmSchema(tx);
      if (!schema) {
        try {
          await tx.query('CREATE EXTENSION IF NOT EXISTS pg_trgm SCHEMA public');
        } catch (err) {
          const code = (err as { code?: string }).code;
          throw new TiphubError(
            'TIPHUB_CONFIG_INVALID',
            `the case log needs PostgreSQL's pg_trgm extension and this role cannot create it${code ? ` (${code})` : ''}: run "CREATE EXTENSION pg_trgm SCHEMA public" as a superuser or the database owner (config/postgres/roles.sql does), then migrate again`,
            { cause: err },
          );
        }
        schema = 'public';
      }
      // Not CONCURRENTLY (a migration is one transaction): writes wait while it builds, about a
      // minute on a million reports; reads go on.
      await tx.query(`CREATE INDEX reports_text_trgm ON reports USING gin (tiphub_fold("text") "${schema.replace(/"/g, '""')}".gin_trgm_ops)`);
    },
  },
  {
    id: 9,
    name: 'case list: folded text stored, filters that match few cases',
    sql: `
-- A report's text folded once, when it is written: tiphub_fold costs ~50 us a report (translate
-- over its long list of letters), which a search paid again for every report it read (a frequent
-- word: seconds). The trigram index moves onto the stored column; the write pays what the index
-- expression cost it before; the column goes with its row when a purge deletes it.
ALTER TABLE reports ADD COLUMN text_folded text GENERATED ALWAYS AS (tiphub_fold("text")) STORED;
DROP INDEX reports_text_trgm;
-- A filter that matches few cases or none is answered from these (src/dashboard/case-list.ts
-- probes them first): without one it walks the whole list order to find nothing. Arrays are
-- matched with @> (the GIN operator, with element statistics), never = ANY.
CREATE INDEX cases_by_channels ON cases USING gin (channels) WHERE merged_into IS NULL;
CREATE INDEX cases_by_places ON cases USING gin (places) WHERE merged_into IS NULL;
CREATE INDEX cases_by_tags_added ON cases USING gin (tags_added) WHERE merged_into IS NULL;
CREATE INDEX cases_by_language ON cases (language) WHERE merged_into IS NULL;
`,
    // pg_trgm is there since migration 8.
    run: async (tx) => {
      const schema = await trgmSchema(tx);
      if (!schema) throw new TiphubError('TIPHUB_CONFIG_INVALID', 'the pg_trgm extension that migration 8 created is gone: run "CREATE EXTENSION pg_trgm SCHEMA public", then migrate again');
      await tx.query(`CREATE INDEX reports_folded_trgm ON reports USING gin (text_folded "${schema.replace(/"/g, '""')}".gin_trgm_ops)`);
    },
  },
  {
    id: 10,
    name: 'media references kept with their media',
    sql: `
-- The platform's reference of each media (what the channel fetches it by), sealed to its row
-- (sealRow.mediaRef): the media step reads it here, so nothing in the core reads a channel's raw payload.
ALTER TABLE report_media ADD COLUMN ref_sealed text;
`,
    run: async (tx, ctx) => sealPendingTelegramRefs(tx, await ctx.keyring(tx)),
  },
  {
    id: 11,
    name: 'platform ids sealed, retractions, delivery statuses, informant aliases',
    sql: `
-- Where a platform's message id names its sender (a WhatsApp wamid), reports.native_id is its keyed
-- hash and the full id is kept here, sealed to the row (sealRow.nativeRef), for quoting the report.
ALTER TABLE reports ADD COLUMN native_sealed text;
-- Set when the sender deleted the message for everyone: the report is kept, marked.
ALTER TABLE reports ADD COLUMN retracted_at timestamptz;
-- Reactions and retractions find a report by its native id; a reply's quote opens the full id
-- of a report that has one (few channels: a partial index).
CREATE INDEX reports_by_native ON reports (channel, native_id);
CREATE INDEX reports_native_sealed ON reports (channel, native_id) WHERE native_sealed IS NOT NULL;

-- Each message we sent, by the id the platform's statuses name it with (a keyed hash where the
-- platform's id names the recipient), and the full id sealed (sealRow.sentRef).
CREATE TABLE sent_messages (
  channel text NOT NULL,
  sent_id text NOT NULL,
  outbound text NOT NULL,
  case_id integer REFERENCES cases (id),
  pseudonym text NOT NULL,
  ref_sealed text,
  at timestamptz NOT NULL DEFAULT now(),
  PRIMARY KEY (channel, sent_id)
);
CREATE INDEX sent_messages_by_case ON sent_messages (case_id) WHERE case_id IS NOT NULL;
CREATE INDEX sent_messages_by_pseudonym ON sent_messages (pseudonym);

-- The platform's delivery statuses of what we sent (sent, delivered, read, played, failed), once
-- each: a status delivered again adds nothing. A status may come before its send is recorded.
CREATE TABLE deliveries (
  channel text NOT NULL,
  sent_id text NOT NULL,
  status text NOT NULL CHECK (status IN ('sent', 'delivered', 'read', 'played', 'failed')),
  at timestamptz NOT NULL,
  error_code text,
  error_reason text,
  recorded_at timestamptz NOT NULL DEFAULT now(),
  PRIMARY KEY (channel, sent_id, status)
);

-- A second address of an informant (a new number, a user id, a WhatsApp LID): its pseudonym maps
-- to the informant first seen. Reports keep the pseudonym they were written with.
CREATE TABLE informant_aliases (
  pseudonym text PRIMARY KEY,
  informant text NOT NULL,
  reason text NOT NULL,
  event_id text NOT NULL UNIQUE,
  at timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX informant_aliases_by_informant ON informant_aliases (informant);

-- Reactions and retractions recorded once per platform event.
-- Each retraction (target, sender): applied to every report of that message, also those written
-- after it (its report still on its way through intake, an edit of it).
CREATE TABLE channel_events (
  id text PRIMARY KEY,
  channel text NOT NULL,
  kind text NOT NULL,
  target text,
  pseudonym text,
  happened_at timestamptz NOT NULL,
  applied_at timestamptz,
  recorded_at timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX channel_events_by_target ON channel_events (channel, target) WHERE kind = 'retraction';
`,
  },
  {
    id: 12,
    name: 'alert outbox',
    sql: `
-- Alerts to post (src/alerts/), written in the transaction that raised a case to high or urgent
-- and relayed to the alerts queue after commit (a sweeper relays what a crash left behind). One
-- per case and kind: a case is alerted the first time the rules make it high or urgent, never again.
-- data holds what the POST says (reference, priority, tags, channels, report count): no content.
CREATE TABLE alert_outbox (
  id bigserial PRIMARY KEY,
  kind text NOT NULL,
  case_id integer NOT NULL REFERENCES cases (id) ON DELETE CASCADE,
  data jsonb NOT NULL,
  created_at timestamptz NOT NULL DEFAULT now(),
  enqueued_at timestamptz,
  UNIQUE (case_id, kind)
);
CREATE INDEX alert_outbox_pending ON alert_outbox (created_at) WHERE enqueued_at IS NULL;
`,
  },
];

/**
 * What migration 10 found in the logs written before it (data-shape knowledge, frozen with the
 * migration, not an import of the adapter): the only channel with a media step was Telegram, and
 * the reference of its media (`file_id`) was in the report's sealed raw payload, one per media in
 * this order (adapters/telegram/normalize.ts, `media` and `mediaOfRaw`, as they were then).
 */
function telegramFileIdsOfRaw(raw: unknown): string[] {
  const isObj = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);
  const m = isObj(raw) ? (raw.message ?? raw.edited_message) : null;
  if (!isObj(m)) return [];
  const ids: string[] = [];
  const add = (f: unknown) => {
    if (isObj(f) && typeof f.file_id === 'string' && f.file_id) ids.push(f.file_id);
  };
  // Photo sizes come smallest first: the largest was the one fetched.
  if (Array.isArray(m.photo) && m.photo.length) add(m.photo[m.photo.length - 1]);
  for (const k of ['video', 'video_note', 'animation', 'voice', 'audio'] as const) add(m[k]);
  if (!m.animation) add(m.document); // an animation also carries a document
  add(m.sticker);
  return ids;
}

/**
 * Migration 10: the reference of each media still `pending` (the only ones the media step will
 * fetch again; stored and missing media never need it), sealed from the raw payload, a page at a
 * time. A row whose raw payload does not open or names no file at its index keeps none, and stays
 * pending as before (the sweeper could not re-read it either).
 */
async function sealPendingTelegramRefs(tx: Queryable, keys: Keyring): Promise<void> {
  let after: { report: string; idx: number } | null = null;
  for (;;) {
    const { rows } = await tx.query<{ report_id: string; idx: number; raw: string }>(
      `SELECT rm.report_id, rm.idx, r.raw_sealed AS raw FROM report_media rm JOIN reports r ON r.id = rm.report_id
        WHERE rm.state = 'pending' AND rm.ref_sealed IS NULL AND r.channel = 'telegram' ${after ? 'AND (rm.report_id, rm.idx) > ($1, $2)' : ''}
        ORDER BY rm.report_id, rm.idx LIMIT 500`,
      after ? [after.report, after.idx] : [],
    );
    if (!rows.length) return;
    const sealed = rows.flatMap((r) => {
      let ref: string | undefined;
      try {
        ref = telegramFileIdsOfRaw(keys.unseal(r.raw, sealRow.raw(r.report_id)))[r.idx];
      } catch {
        return []; // altered, or not ours: left as it was
      }
      return ref ? [{ report_id: r.report_id, idx: r.idx, ref_sealed: keys.seal(ref, sealRow.mediaRef(r.report_id, r.idx)) }] : [];
    });
    if (sealed.length) {
      await tx.query(
        `UPDATE report_media rm SET ref_sealed = x.ref_sealed FROM jsonb_to_recordset($1::jsonb) AS x(report_id text, idx int, ref_sealed text)
          WHERE rm.report_id = x.report_id AND rm.idx = x.idx`,
        [JSON.stringify(sealed)],
      );
    }
    const last: { report_id: string; idx: number } = rows[rows.length - 1]!;
    after = { report: last.report_id, idx: last.idx };
  }
}

/** The schema pg_trgm is installed in (its operator class is named with it), if it is. */
async function trgmSchema(tx: Queryable): Promise<string | undefined> {
  const found = await tx.query<{ schema: string }>(`SELECT n.nspname AS schema FROM pg_extension e JOIN pg_namespace n ON n.oid = e.extnamespace WHERE e.extname = 'pg_trgm'`);
  return found.rows[0]?.schema;
}

const MIGRATION_LOCK = 'SELECT pg_advisory_xact_lock(7202611240)';

/** True when every migration is recorded: a runtime role (no CREATE) then has nothing to do. */
async function upToDate(db: Db): Promise<boolean> {
  const { rows: t } = await db.query<{ t: string | null }>(`SELECT to_regclass('schema_migrations')::text AS t`);
  if (!t[0]?.t) return false;
  const { rows } = await db.query<{ id: number }>('SELECT id FROM schema_migrations');
  const have = new Set(rows.map((r) => Number(r.id)));
  return migrations.every((m) => have.has(m.id));
}

export async function migrate(db: Db, ctx?: MigrationContext, opts: { upTo?: number } = {}): Promise<number[]> {
  // Without taking the lock or creating anything: the common start, and the only one a runtime
  // role without CREATE on the schema can make.
  if (opts.upTo === undefined && (await upToDate(db))) return [];
  // Under the lock too: two processes starting on a new database would both try to create it.
  await db.transaction(async (tx) => {
    await tx.query(MIGRATION_LOCK);
    await tx.query(`CREATE TABLE IF NOT EXISTS schema_migrations (
      id integer PRIMARY KEY, name text NOT NULL, applied_at timestamptz NOT NULL DEFAULT now())`);
  });
  const applied: number[] = [];
  for (const m of migrations) {
    if (opts.upTo !== undefined && m.id > opts.upTo) break; // tests: a case log as an older version left it
    const done = await db.transaction(async (tx) => {
      // Serialises concurrent starters (several workers against one PostgreSQL).
      await tx.query(MIGRATION_LOCK);
      const { rows } = await tx.query('SELECT 1 FROM schema_migrations WHERE id = $1', [m.id]);
      if (rows.length) return false;
      for (const stmt of m.sql.split(/;\s*\n/).map((s) => s.trim()).filter(Boolean)) await tx.query(stmt);
      if (m.run) {
        if (!ctx) throw new Error(`migration ${m.id} needs the case log's keys`);
        await m.run(tx, ctx);
      }
      await tx.query('INSERT INTO schema_migrations (id, name) VALUES ($1, $2)', [m.id, m.name]);
      return true;
    });
    if (done) applied.push(m.id);
  }
  return applied;
}
