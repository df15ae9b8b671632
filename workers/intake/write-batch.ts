/**
 * Writes a batch of messages into the case log in one transaction (group commit): informants
 * upserted, reports inserted keyed by message id, cases created or joined, events appended to each
 * case's hash chain, counters updated. A few set-based statements per batch, not per message.
 */
import { keysOf, type Db, type Queryable } from '../../src/caselog/db';
import { eventHash, isoMs, reportHash, sealedDigest, type ReportContent } from '../../src/caselog/chain';
import type { AuditKey } from '../../src/crypto/keyring';
import { newCaseRef } from '../../src/caselog/refs';
import type { InboundMessage, Origin } from '../../src/contracts/inbound-message';
import type { CaseTarget, DuplicateKind, GroupBatch, GroupingRules } from '../../src/grouping/group';
import { TiphubError } from '../../src/errors';
import { appendCaseEvent } from '../../src/caselog/events';
import type { Priority, ReportFeatures } from '../../src/grouping/features';
import { applyPendingRetractions } from '../../src/caselog/channel-events';
import { advisoryKey, lockAdvisory } from '../../src/caselog/advisory';
import { addCaseAlerts } from '../../src/alerts/case-alerts';

export interface IntakeItem {
  readonly message: InboundMessage;
  readonly origin: Origin;
  readonly pseudonym: string;
  readonly addressSealed: string;
  readonly rawSealed: string;
  /** A shared contact card's details, sealed (a third party's); null for none or the sender's own. */
  readonly contactSealed?: string | null;
  /** Each media's platform reference (`media[i].ref`), sealed to its report_media row; none: no reference kept. */
  readonly mediaRefsSealed?: readonly string[];
  /** The platform's full message id (`platformRef`), sealed to the report; none where native_id is the platform's id. */
  readonly nativeSealed?: string | null;
  readonly fingerprint: string | null;
  /** Language, tags, places, entities, priority, signatures: see src/grouping/features.ts. */
  readonly features?: ReportFeatures;
  /** Sent faster than the flood limit: recorded and flagged, never acknowledged. */
  readonly flooded?: boolean;
  /** Guessed from the text, for an informant whose language is not known yet. */
  readonly language?: string | null;
}

export type IntakeResult =
  | {
      readonly id: string;
      readonly status: 'inserted';
      readonly caseRef: string;
      readonly newCase: boolean;
      /** How grouping linked it to an earlier report (src/grouping/group.ts); null: to none. */
      readonly duplicate: DuplicateKind | null;
    }
  | { readonly id: string; readonly status: 'present' };

export interface WriteOptions {
  readonly group: GroupBatch;
  readonly rules: GroupingRules;
  /** Decide welcomes and acknowledgements for live messages (the conversation). */
  readonly converse?: boolean;
  /** Write an alert for each case this batch makes high or urgent for the first time (alerts.webhookUrl is set). */
  readonly alerts?: boolean;
}

export interface BatchWritten {
  readonly results: IntakeResult[];
  /** Outbox rows written with the batch, to relay once it committed. */
  readonly outbox: number[];
  /** Media the platform still holds: for the media step of their channel. */
  readonly pendingMedia: { channel: string; reportId: string; idx: number; ref: string }[];
  /** Images already in the store (brought by the channel itself): for perceptual matching. */
  readonly storedImages: { reportId: string; sha256: string }[];
  /** Alert outbox rows written with the batch (src/alerts/case-alerts.ts), to relay once it committed. */
  readonly alerts?: number[];
}

const lockKey = advisoryKey;

/** What the clear `contact` column says: that a card was shared, and whether it was the sender's own. */
export function contactShared(m: InboundMessage): { shared: 'self' | 'other' } | null {
  return m.contact ? { shared: m.contact.self ? 'self' : 'other' } : null;
}

export function reportContentOf(item: IntakeItem, audit: AuditKey): ReportContent {
  const m = item.message;
  const f = item.features;
  return {
    id: m.id,
    informant: item.pseudonym,
    channel: m.channel,
    account: m.account,
    nativeId: m.nativeId,
    origin: item.origin,
    sentAt: isoMs(m.sentAt),
    receivedAt: isoMs(m.receivedAt),
    text: m.text,
    location: m.location,
    contact: contactShared(m),
    replyTo: m.replyTo,
    forwarded: m.forwarded,
    edited: m.edited,
    groupKey: m.groupKey,
    // The content of the sealed values, not their ciphertexts: a key rotation re-seals them.
    raw: sealedDigest(audit, 'raw', m.id, m.raw ?? null),
    contactDetails: item.contactSealed && m.contact ? sealedDigest(audit, 'contact', m.id, { name: m.contact.name, phone: m.contact.phone }) : null,
    language: f?.language ?? null,
    tags: [...(f?.tags ?? [])].sort(),
    places: [...(f?.places ?? [])].sort(),
    entities: f?.entities ?? null,
    priority: f?.priority ?? 'normal',
    noise: f?.noise ?? false,
    topicBreak: f?.topicBreak ?? false,
    blocked: false,
    flooded: item.flooded === true,
    fingerprint: item.fingerprint,
    media: m.media.map((md, idx) => ({ idx, kind: md.kind, declaredMime: md.mime, declaredSize: md.size, filename: md.filename })),
  };
}

const json = (v: unknown) => JSON.stringify(v);

async function flagCampaigns(tx: Queryable, caseIds: number[], rules: GroupingRules): Promise<void> {
  const min = rules.campaignMinInformants;
  const windowMin = rules.campaignWindowMinutes;
  if (!min || !windowMin || !caseIds.length) return;
  // Cheap first: only cases with enough reports and no flag yet are counted.
  const { rows } = await tx.query<{ case_id: number }>(
    `WITH cand AS MATERIALIZED (
       SELECT id, last_report_at FROM cases
        WHERE id IN (SELECT (jsonb_array_elements_text($1::jsonb))::int) AND report_count >= $2 AND NOT ('campaign' = ANY (flags)))
     SELECT cand.id AS case_id FROM cand
      WHERE (SELECT count(DISTINCT r.informant) FROM reports r JOIN informants i ON i.pseudonym = r.informant
              WHERE r.case_id = cand.id AND r.sent_at > cand.last_report_at - make_interval(mins => $3)
                AND i.first_seen > r.sent_at - make_interval(mins => $3)) >= $2`,
    [JSON.stringify(caseIds), min, windowMin],
  );
  for (const r of rows) {
    await tx.query(`UPDATE cases SET flags = array_append(flags, 'campaign') WHERE id = $1`, [r.case_id]);
    await appendCaseEvent(tx, r.case_id, 'case.flagged', 'intake', { flag: 'campaign', informants: min, windowMinutes: windowMin });
  }
}

interface InformantState {
  pseudonym: string;
  language: string | null;
  welcomed_at: Date | null;
  blocked: boolean;
  stopped_at: Date | null;
}

interface CaseHead {
  id: number;
  ref: string;
  event_seq: number;
  head_hash: string | null;
  priority: Priority;
}

const PRIORITY_RANK: Record<Priority, number> = { low: 0, normal: 1, high: 2, urgent: 3 };

/**
 * Locks the existing cases this batch joins (their chains grow) and creates the new ones, in one
 * statement. A new ref already taken (about one in 17 billion) is drawn again.
 */
async function lockAndCreateCases(tx: Queryable, existingIds: number[], count: number): Promise<{ locked: CaseHead[]; created: { id: number; ref: string }[] }> {
  const refs = Array.from({ length: count }, newCaseRef);
  const { rows } = await tx.query<CaseHead & { created: boolean }>(
    `WITH locked AS (
       SELECT id, ref, event_seq, head_hash, priority FROM cases
        WHERE id IN (SELECT (jsonb_array_elements_text($1::jsonb))::int) ORDER BY id FOR UPDATE),
     made AS (
       INSERT INTO cases (ref) SELECT jsonb_array_elements_text($2::jsonb) ON CONFLICT (ref) DO NOTHING RETURNING id, ref)
     SELECT id, ref, event_seq, head_hash, priority, false AS created FROM locked
     UNION ALL SELECT id, ref, 0, NULL, 'normal', true FROM made`,
    [json(existingIds), json(refs)],
  );
  const order = new Map(refs.map((r, i) => [r, i]));
  const created = rows
    .filter((r) => r.created)
    .sort((a, b) => order.get(a.ref)! - order.get(b.ref)!)
    .map((c) => ({ id: c.id, ref: c.ref }));
  const locked = rows.filter((r) => !r.created);
  if (created.length < count) created.push(...(await lockAndCreateCases(tx, [], count - created.length)).created);
  return { locked, created };
}

export async function writeBatch(db: Db, batch: readonly IntakeItem[], opts: WriteOptions): Promise<BatchWritten> {
  return db.transaction((tx) => writeBatchIn(tx, batch, opts));
}

export async function writeBatchIn(tx: Queryable, batch: readonly IntakeItem[], opts: WriteOptions): Promise<BatchWritten> {
  // 1. Serialise with any other writer touching the same message, text or informant.
  const keys = new Set<string>();
  for (const it of batch) {
    keys.add(lockKey('m', it.message.id));
    keys.add(lockKey('p', it.pseudonym));
    if (it.fingerprint) keys.add(lockKey('f', it.fingerprint));
  }
  await lockAdvisory(tx, keys);

  // 2. Already in the log (a redelivery, a replay, a second import): nothing to write.
  const ids = [...new Set(batch.map((it) => it.message.id))];
  const present = new Set(
    (await tx.query<{ id: string }>(`SELECT id FROM reports WHERE id = ANY($1::text[])`, [ids])).rows.map(
      (r) => r.id,
    ),
  );
  const taken = new Set<string>();
  const fresh = batch
    .filter((it) => !present.has(it.message.id) && !taken.has(it.message.id) && taken.add(it.message.id))
    .sort((a, b) => Date.parse(a.message.sentAt) - Date.parse(b.message.sentAt) || (a.message.id < b.message.id ? -1 : 1));
  const results = new Map<string, IntakeResult>();
  for (const id of present) results.set(id, { id, status: 'present' });
  if (fresh.length === 0) return { results: batch.map((it) => results.get(it.message.id)!), outbox: [], pendingMedia: [], storedImages: [] };

  // 3. Informants: one row per pseudonym; the sealed address is kept from the first message.
  const informants = new Map<string, { pseudonym: string; channel: string; address_sealed: string; first_seen: string; last_seen: string; language: string | null }>();
  for (const it of fresh) {
    const t = isoMs(it.message.sentAt);
    const cur = informants.get(it.pseudonym);
    if (!cur) {
      informants.set(it.pseudonym, { pseudonym: it.pseudonym, channel: it.message.channel, address_sealed: it.addressSealed, first_seen: t, last_seen: t, language: it.language ?? null });
    } else {
      cur.last_seen = t > cur.last_seen ? t : cur.last_seen;
      cur.language ??= it.language ?? null;
    }
  }
  // Statements that do not depend on each other are issued together: the connection runs them in
  // order without waiting for this process between them.
  // An informant who asked to stop keeps no address (only /start brings it back).
  const informantsUpserted = tx.query<InformantState>(
    `INSERT INTO informants (pseudonym, channel, address_sealed, first_seen, last_seen, language)
     SELECT pseudonym, channel, address_sealed, first_seen, last_seen, language
       FROM jsonb_to_recordset($1::jsonb) AS x(pseudonym text, channel text, address_sealed text, first_seen timestamptz, last_seen timestamptz, language text)
     ON CONFLICT (pseudonym) DO UPDATE SET
       first_seen = LEAST(informants.first_seen, EXCLUDED.first_seen),
       last_seen = GREATEST(informants.last_seen, EXCLUDED.last_seen),
       language = COALESCE(informants.language, EXCLUDED.language),
       address_sealed = CASE WHEN informants.stopped_at IS NOT NULL THEN NULL ELSE COALESCE(informants.address_sealed, EXCLUDED.address_sealed) END
     RETURNING pseudonym, welcomed_at, blocked, stopped_at, language`,
    [json([...informants.values()])],
  );

  // 4. Grouping, then the cases involved: existing ones locked (their chains grow), new ones made.
  const decisions = await opts.group(
    tx,
    fresh.map((it) => ({
      id: it.message.id,
      pseudonym: it.pseudonym,
      sentAt: new Date(it.message.sentAt),
      fingerprint: it.fingerprint,
      groupKey: it.message.groupKey,
      editOf: it.message.editOf,
      minhash: it.features?.minhash ?? null,
      bands: it.features?.bands ?? [],
      matchKeys: it.features?.matchKeys ?? [],
      language: it.features?.language ?? null,
      tags: it.features?.tags ?? [],
      places: it.features?.places ?? [],
      noise: it.features?.noise ?? false,
      topicBreak: it.features?.topicBreak ?? false,
    })),
    opts.rules,
  );
  const state = new Map((await informantsUpserted).rows.map((r) => [r.pseudonym, r]));
  // A second address of an informant (a new number, a LID: informant_aliases) is the same person:
  // blocked, stopped, welcomed and their language as the informant first seen.
  const { rows: roots } = await tx.query<InformantState & { alias: string }>(
    `SELECT a.pseudonym AS alias, i.pseudonym, i.language, i.welcomed_at, i.blocked, i.stopped_at
       FROM informant_aliases a JOIN informants i ON i.pseudonym = a.informant WHERE a.pseudonym = ANY($1::text[])`,
    [[...state.keys()]],
  );
  for (const root of roots) {
    const st = state.get(root.alias);
    if (!st) continue;
    state.set(root.alias, {
      ...st,
      blocked: st.blocked || root.blocked,
      stopped_at: st.stopped_at ?? root.stopped_at,
      welcomed_at: st.welcomed_at ?? root.welcomed_at,
      language: st.language ?? root.language,
    });
  }
  const existingIds = [...new Set(decisions.flatMap((d) => ('caseId' in d.target ? [d.target.caseId] : [])))];
  const heads = new Map<number, { ref: string; seq: number; head: string | null; priority: Priority | null }>();
  const newCount = decisions.reduce((n, d) => ('newCase' in d.target ? Math.max(n, d.target.newCase + 1) : n), 0);
  const { locked, created } = await lockAndCreateCases(tx, existingIds, newCount);
  for (const r of locked) heads.set(r.id, { ref: r.ref, seq: r.event_seq, head: r.head_hash, priority: r.priority });
  const now = isoMs(new Date());
  const events: { case_id: number; seq: number; at: string; kind: string; actor: string; data: unknown; prev_hash: string | null; hash: string }[] = [];
  const audit = keysOf(tx);
  const append = (caseId: number, kind: string, data: unknown) => {
    const h = heads.get(caseId)!;
    const seq = h.seq + 1;
    const hash = eventHash(audit, h.head, { caseRef: h.ref, seq, at: now, kind, actor: 'intake', data });
    events.push({ case_id: caseId, seq, at: now, kind, actor: 'intake', data, prev_hash: h.head, hash });
    h.seq = seq;
    h.head = hash;
  };
  for (const c of created) {
    heads.set(c.id, { ref: c.ref, seq: 0, head: null, priority: null });
    append(c.id, 'case.opened', { ref: c.ref, status: 'new', priority: 'normal' });
  }
  const caseOf = (t: CaseTarget) => ('caseId' in t ? t.caseId : created[t.newCase]!.id);

  // 5. Reports, their media, the case's informants, its events.
  const reportRows = fresh.map((it, i) => {
    const m = it.message;
    return {
      id: m.id,
      case_id: caseOf(decisions[i]!.target),
      informant: it.pseudonym,
      channel: m.channel,
      account: m.account,
      native_id: m.nativeId,
      origin: it.origin,
      sent_at: isoMs(m.sentAt),
      received_at: isoMs(m.receivedAt),
      text: m.text,
      fingerprint: it.fingerprint,
      duplicate_of: decisions[i]!.duplicate?.of ?? null,
      duplicate_kind: decisions[i]!.duplicate?.kind ?? null,
      location: m.location,
      contact: contactShared(m),
      contact_sealed: it.contactSealed ?? null,
      reply_to: m.replyTo,
      forwarded: m.forwarded,
      edited: m.edited,
      group_key: m.groupKey,
      raw_sealed: it.rawSealed,
      native_sealed: it.nativeSealed ?? null,
      blocked: state.get(it.pseudonym)!.blocked,
      flooded: it.flooded === true,
      language: it.features?.language ?? null,
      tags: it.features?.tags ?? [],
      places: it.features?.places ?? [],
      minhash: it.features?.minhash ? Array.from(it.features.minhash) : null,
      match_keys: it.features?.matchKeys ?? [],
      entities: it.features?.entities ?? null,
      priority: it.features?.priority ?? 'normal',
      noise: it.features?.noise ?? false,
      topic_break: it.features?.topicBreak ?? false,
    };
  });
  // Band keys of each distinct text's first report: a report joining its exact or near copy adds
  // little the index does not already find (and a viral text's variants would crowd its buckets);
  // one opening a new case after a closed copy does.
  const bands = fresh.flatMap((it, i) => {
    const d = decisions[i]!;
    const copy = d.duplicate?.kind === 'exact' || d.duplicate?.kind === 'near';
    const keep = (it.features?.bands.length ?? 0) > 0 && (!copy || 'newCase' in d.target);
    return keep ? it.features!.bands.map((band) => ({ band, report_id: it.message.id })) : [];
  });
  const media = fresh.flatMap((it) =>
    it.message.media.map((md, idx) => ({
      report_id: it.message.id,
      idx,
      kind: md.kind,
      declared_mime: md.mime,
      declared_size: md.size,
      filename: md.filename,
      ref_sealed: it.mediaRefsSealed?.[idx] ?? null,
      sha256: md.sha256,
      mime: md.sniffedMime ?? md.mime,
      size: md.storedSize,
      state: md.sha256 ? 'stored' : 'pending',
    })),
  );
  const stored = media.filter((m) => m.sha256);
  const pairs = [...new Map(reportRows.map((r) => [`${r.case_id}\u0000${r.informant}`, { case_id: r.case_id, pseudonym: r.informant, channel: r.channel }])).values()];

  // 6. Events, in sentAt order within each case.
  // The media's first state rides along: the media step's events take it from there.
  fresh.forEach((it, i) => {
    const content = reportContentOf(it, audit);
    append(reportRows[i]!.case_id, 'report.added', {
      report: it.message.id,
      subject: reportHash(audit, { ...content, blocked: reportRows[i]!.blocked }),
      duplicate: decisions[i]!.duplicate,
      media: it.message.media.length ? it.message.media.map((md, idx) => ({ idx, sha256: md.sha256, state: md.sha256 ? 'stored' : 'pending' })) : undefined,
    });
  });

  // 7. Counters, tags, places and chain heads, in the same statement as the rows they count.
  // Priority from the rules: a new case takes its reports' highest; an existing one is only raised
  // (an operator's choice is never lowered by intake). Each change is an event of the chain.
  const topPriority = new Map<number, Priority>();
  const raisedHigh: number[] = [];
  for (const r of reportRows) {
    const cur = topPriority.get(r.case_id);
    if (!cur || PRIORITY_RANK[r.priority] > PRIORITY_RANK[cur]) topPriority.set(r.case_id, r.priority);
  }
  for (const [caseId, p] of topPriority) {
    const h = heads.get(caseId)!;
    const from = h.priority ?? 'normal';
    if (h.priority === null ? p !== 'normal' : PRIORITY_RANK[p] > PRIORITY_RANK[from]) {
      append(caseId, 'case.priority', { priority: p, from, by: 'rules' });
      if (PRIORITY_RANK[p] >= PRIORITY_RANK.high && PRIORITY_RANK[from] < PRIORITY_RANK.high) raisedHigh.push(caseId);
      h.priority = p;
    }
  }

  const perCase = new Map<
    number,
    { id: number; n: number; channels: string[]; tags: string[]; places: string[]; language: string | null; priority: Priority | null; first_at: string; last_at: string; seq: number; head: string }
  >();
  for (const r of reportRows) {
    const h = heads.get(r.case_id)!;
    const c = perCase.get(r.case_id) ?? {
      id: r.case_id, n: 0, channels: [], tags: [], places: [], language: null, priority: h.priority, first_at: r.sent_at, last_at: r.sent_at, seq: h.seq, head: h.head!,
    };
    c.n++;
    if (!c.channels.includes(r.channel)) c.channels.push(r.channel);
    for (const t of r.tags) if (!c.tags.includes(t)) c.tags.push(t);
    for (const p of r.places) if (!c.places.includes(p)) c.places.push(p);
    if (!c.language && r.language && r.language !== 'und') c.language = r.language;
    if (r.sent_at < c.first_at) c.first_at = r.sent_at;
    if (r.sent_at > c.last_at) c.last_at = r.sent_at;
    perCase.set(r.case_id, c);
  }
  // 8. The conversation: a welcome for a new informant, one acknowledgement per case and informant
  // (the outbound side debounces bursts). Never for imports, blocked, stopped or flooding senders.
  const outbox: { channel: string; pseudonym: string; case_id: number | null; kind: string; data: unknown }[] = [];
  const informantUpdates = new Map<string, { pseudonym: string; welcome: boolean; flood: boolean }>();
  const acked = new Set<string>();
  fresh.forEach((it, i) => {
    const st = state.get(it.pseudonym)!;
    const upd = informantUpdates.get(it.pseudonym) ?? { pseudonym: it.pseudonym, welcome: false, flood: false };
    if (it.flooded) upd.flood = true;
    const answer = opts.converse && it.origin === 'live' && !st.blocked && !st.stopped_at;
    if (answer && !st.welcomed_at && !upd.welcome) {
      upd.welcome = true;
      outbox.push({ channel: it.message.channel, pseudonym: it.pseudonym, case_id: null, kind: 'welcome', data: { key: 'welcome', lang: st.language } });
    }
    const caseId = reportRows[i]!.case_id;
    if (answer && !it.flooded && !acked.has(`${caseId}\u0000${it.pseudonym}`)) {
      acked.add(`${caseId}\u0000${it.pseudonym}`);
      outbox.push({ channel: it.message.channel, pseudonym: it.pseudonym, case_id: caseId, kind: 'ack', data: { key: 'ack', params: { ref: heads.get(caseId)!.ref }, lang: st.language } });
    }
    if (upd.welcome || upd.flood) informantUpdates.set(it.pseudonym, upd);
  });

  // Sibling statements of one WITH see the same snapshot, and foreign keys are checked at the end
  // of the statement, so reports and the rows that refer to them go in together.
  const written = await tx.query<{ reports: number; cases: number; outbox: number[] | string }>(
    `WITH
     rep AS (
       INSERT INTO reports (id, case_id, informant, channel, account, native_id, origin, sent_at, received_at, text, fingerprint,
                            duplicate_of, duplicate_kind, location, contact, contact_sealed, reply_to, forwarded, edited, group_key, raw_sealed, native_sealed,
                            blocked, flooded, language, tags, places, minhash, match_keys, entities, priority, noise, topic_break)
       SELECT id, case_id, informant, channel, account, native_id, origin, sent_at, received_at, text, fingerprint,
              duplicate_of, duplicate_kind, location, contact, contact_sealed, reply_to, forwarded, edited, group_key, raw_sealed, native_sealed, blocked, flooded,
              language, tags, places, minhash, match_keys, entities, priority, noise, topic_break
         FROM jsonb_to_recordset($1::jsonb) AS x(id text, case_id int, informant text, channel text, account text, native_id text,
              origin text, sent_at timestamptz, received_at timestamptz, text text, fingerprint text, duplicate_of text,
              duplicate_kind text, location jsonb, contact jsonb, contact_sealed text, reply_to text, forwarded boolean, edited boolean,
              group_key text, raw_sealed text, native_sealed text, blocked boolean, flooded boolean, language text, tags text[], places text[],
              minhash int[], match_keys text[], entities jsonb, priority text, noise boolean, topic_break boolean)
       ON CONFLICT (id) DO NOTHING RETURNING id),
     rb AS (
       INSERT INTO report_bands (band, report_id)
       SELECT band, report_id FROM jsonb_to_recordset($9::jsonb) AS x(band bigint, report_id text)
       ON CONFLICT DO NOTHING RETURNING 1),
     med AS (
       INSERT INTO media (sha256, mime, size)
       SELECT DISTINCT ON (sha256) sha256, mime, size FROM jsonb_to_recordset($2::jsonb) AS x(sha256 text, mime text, size bigint)
       ON CONFLICT (sha256) DO NOTHING RETURNING 1),
     rm AS (
       INSERT INTO report_media (report_id, idx, kind, declared_mime, declared_size, filename, ref_sealed, sha256, state)
       SELECT report_id, idx, kind, declared_mime, declared_size, filename, ref_sealed, sha256, state
         FROM jsonb_to_recordset($3::jsonb) AS x(report_id text, idx int, kind text, declared_mime text, declared_size bigint,
              filename text, ref_sealed text, sha256 text, state text)
       RETURNING 1),
     ci AS (
       INSERT INTO case_informants (case_id, pseudonym, channel)
       SELECT case_id, pseudonym, channel FROM jsonb_to_recordset($4::jsonb) AS x(case_id int, pseudonym text, channel text)
       ON CONFLICT DO NOTHING RETURNING case_id),
     ev AS (
       INSERT INTO events (case_id, seq, at, kind, actor, data, prev_hash, hash)
       SELECT case_id, seq, at, kind, actor, data, prev_hash, hash
         FROM jsonb_to_recordset($5::jsonb) AS x(case_id int, seq int, at timestamptz, kind text, actor text, data jsonb, prev_hash text, hash text)
       RETURNING 1),
     upd AS (
       UPDATE cases c SET
          report_count = c.report_count + x.n,
          informant_count = c.informant_count + (SELECT count(*) FROM ci WHERE ci.case_id = c.id),
          channels = ARRAY(SELECT DISTINCT ch FROM unnest(c.channels || x.channels) AS ch ORDER BY ch),
          tags = ARRAY(SELECT DISTINCT t FROM unnest(c.tags || x.tags) AS t ORDER BY t),
          places = ARRAY(SELECT DISTINCT p FROM unnest(c.places || x.places) AS p ORDER BY p),
          language = COALESCE(c.language, x.language),
          priority = COALESCE(x.priority, c.priority),
          first_report_at = LEAST(c.first_report_at, x.first_at),
          last_report_at = GREATEST(c.last_report_at, x.last_at),
          event_seq = x.seq,
          head_hash = x.head,
          updated_at = now()
         FROM jsonb_to_recordset($6::jsonb) AS x(id int, n int, channels text[], tags text[], places text[], language text, priority text,
                                                 first_at timestamptz, last_at timestamptz, seq int, head text)
        WHERE c.id = x.id
       RETURNING 1),
     ob AS (
       INSERT INTO outbox (channel, pseudonym, case_id, kind, data)
       SELECT channel, pseudonym, case_id, kind, data FROM jsonb_to_recordset($7::jsonb) AS x(channel text, pseudonym text, case_id int, kind text, data jsonb)
       RETURNING id),
     inf AS (
       UPDATE informants i SET
          welcomed_at = CASE WHEN x.welcome THEN now() ELSE i.welcomed_at END,
          flags = CASE WHEN x.flood AND NOT ('flood' = ANY (i.flags)) THEN array_append(i.flags, 'flood') ELSE i.flags END
         FROM jsonb_to_recordset($8::jsonb) AS x(pseudonym text, welcome boolean, flood boolean)
        WHERE i.pseudonym = x.pseudonym
       RETURNING 1)
     SELECT (SELECT count(*) FROM rep)::int AS reports, (SELECT count(*) FROM upd)::int AS cases,
            (SELECT count(*) FROM med) + (SELECT count(*) FROM rm) + (SELECT count(*) FROM ev) + (SELECT count(*) FROM inf)
              + (SELECT count(*) FROM rb) AS others,
            COALESCE((SELECT json_agg(id ORDER BY id) FROM ob), '[]') AS outbox`,
    [json(reportRows), json(stored), json(media), json(pairs), json(events), json([...perCase.values()]), json(outbox), json([...informantUpdates.values()]), json(bands)],
  );
  if (written.rows[0]!.reports !== reportRows.length || written.rows[0]!.cases !== perCase.size) {
    // Cannot happen under the advisory locks; if it does, write nothing rather than miscount.
    throw new TiphubError('TIPHUB_CASELOG_WRITE_FAILED', 'a report appeared during its own insert; batch rolled back');
  }

  // 9. A burst of the same report from many informants first seen in that burst: flag, never trust.
  await flagCampaigns(tx, [...perCase.keys()], opts.rules);

  // 10. A retraction that came before its report (src/caselog/channel-events.ts).
  await applyPendingRetractions(tx, fresh.map((it) => ({ channel: it.message.channel, nativeId: it.message.nativeId })));

  // 11. Alerts for the cases made high or urgent, with the counts just written (src/alerts/case-alerts.ts).
  const alerts = opts.alerts && raisedHigh.length ? await addCaseAlerts(tx, raisedHigh) : [];

  const refOf = new Map<number, string>([...heads].map(([id, h]) => [id, h.ref]));
  const createdIds = new Set(created.map((c) => c.id));
  reportRows.forEach((r) => {
    results.set(r.id, { id: r.id, status: 'inserted', caseRef: refOf.get(r.case_id)!, newCase: createdIds.has(r.case_id), duplicate: r.duplicate_kind });
  });
  const ob = written.rows[0]!.outbox;
  const pendingMedia = fresh.flatMap((it) =>
    it.message.media.flatMap((md, idx) => (md.sha256 ? [] : [{ channel: it.message.channel, reportId: it.message.id, idx, ref: md.ref }])),
  );
  const storedImages = stored.filter((m) => m.mime?.startsWith('image/')).map((m) => ({ reportId: m.report_id, sha256: m.sha256! }));
  return {
    results: batch.map((it) => results.get(it.message.id)!),
    outbox: (typeof ob === 'string' ? (JSON.parse(ob) as number[]) : ob).map(Number),
    pendingMedia,
    storedImages,
    alerts,
  };
}
