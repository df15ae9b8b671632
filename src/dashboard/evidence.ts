/**
 * A case's evidence bundle (issue 11, item 7): one zip with
 *  - case.json      the case as operators see it (status, priority, tags, places, counts);
 *  - reports.json   its reports: text, times, channel, pseudonym, language, tags, places,
 *                   duplicate link and kind, media (never an address, a platform account or id);
 *  - media/<sha256> the stored media files of those reports, from the media store;
 *  - events.json    the case's whole event chain as recorded (seq, time, kind, actor, data,
 *                   previous hash, hash) with a one-line summary of each;
 *  - verify.json    the chain check (as the case page and `tiphub verify` do it), the case's head,
 *                   its anchor and the newest anchor root when there is one, and how each hash is
 *                   made, so whoever holds the case log's audit key can recompute every one;
 *  - manifest.json  the sha256 and size of every other file, and which reports were left out.
 * Reports the operator leaves out lose their entry and their media (unless an included report has
 * the same file); the event chain stays whole, or it could not be checked.
 */
import { createHash } from 'node:crypto';
import * as fs from 'node:fs';
import type { Readable } from 'node:stream';
import { ZipFile } from 'yazl';
import type { Queryable } from '../caselog/db';
import { isoMs } from '../caselog/chain';
import { showCase } from '../caselog/actions';
import { caseRecord, type ChainCheck } from './case-history';
import { DashboardRefusal } from './case-actions';
import type { MediaStore } from '../media/store';

export const BUNDLE_FORMAT = 'tiphub-evidence-bundle/1';

export interface BundleReport {
  readonly id: string;
  readonly sentAt: string;
  readonly receivedAt: string;
  readonly channel: string;
  readonly pseudonym: string;
  readonly language: string | null;
  readonly tags: string[];
  readonly places: string[];
  readonly duplicate: { of: string; kind: string } | null;
  readonly text: string | null;
  readonly media: BundleMedia[];
}

export interface BundleMedia {
  readonly idx: number;
  readonly kind: string;
  readonly sha256: string | null;
  readonly mime: string | null;
  readonly size: number | null;
  /** stored | pending | missing as the case log says. */
  readonly state: string;
  /** Where the file is in the bundle, or null with `why` when it is not in it. */
  readonly file: string | null;
  readonly why: string | null;
}

export interface ManifestFile {
  readonly path: string;
  readonly sha256: string;
  readonly size: number;
}

export interface BundleManifest {
  readonly format: typeof BUNDLE_FORMAT;
  readonly case: string;
  readonly createdAt: string;
  readonly createdBy: string;
  readonly reports: { readonly included: number; readonly omitted: string[] };
  readonly media: { readonly included: number; readonly notIncluded: number };
  readonly events: number;
  readonly chainOk: boolean;
  readonly files: ManifestFile[];
}

export interface EvidenceBundle {
  readonly ref: string;
  readonly manifest: BundleManifest;
  /** The sha256 of manifest.json as written: the audit records it, so a bundle can be matched to its export. */
  readonly manifestSha256: string;
  /** The zip, built as it is read. */
  readonly stream: Readable;
}

interface MediaRow {
  report_id: string;
  idx: number;
  kind: string;
  sha256: string | null;
  state: string;
  mime: string | null;
  size: string | number | null;
  declared_mime: string | null;
}

/** How verify.json says each hash is made (src/caselog/chain.ts). */
const METHOD = {
  key: 'HMAC-SHA256 with the case log’s audit key (kept with its secret; not in this bundle)',
  canonicalJson: 'JSON with object keys sorted and no whitespace; undefined fields left out',
  event: "hash = HMAC(key, 'event\\n' + (prevHash or '') + '\\n' + canonicalJson({case, seq, at, kind, actor, data})), case being the case reference, at as in events.json",
  head: 'the case row records the last event’s seq and hash (head below); a chain that ends earlier was cut',
  anchorTerm: "HMAC(key, 'anchor\\n' + caseId + '\\n' + seq + '\\n' + hash + '\\n' + reportCount); the root is the XOR of every anchored case’s term",
  anchorMac: "HMAC(key, 'anchors\\n' + root + '\\n' + cases + '\\n' + at)",
  reports: 'a report.added (or report.moved-in) event names the report and carries, as subject, a keyed hash of its whole recorded content; reports.json shows a part of that content',
} as const;

const sha256Of = (b: Buffer) => createHash('sha256').update(b).digest('hex');

/** The sha256 and size of a file in the media store, or null when it is not there. */
async function hashFile(file: string): Promise<{ sha256: string; size: number } | null> {
  const hash = createHash('sha256');
  let size = 0;
  try {
    for await (const chunk of fs.createReadStream(file)) {
      size += (chunk as Buffer).length;
      hash.update(chunk as Buffer);
    }
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return null;
    throw err;
  }
  return { sha256: hash.digest('hex'), size };
}

const json = (v: unknown) => Buffer.from(JSON.stringify(v, null, 2) + '\n', 'utf8');

/**
 * Reads the case and prepares its bundle. `omit`: report ids of the case to leave out (an id not
 * in the case is refused). Without a media store, media are listed but not included.
 */
export async function buildEvidenceBundle(
  q: Queryable,
  refInput: string,
  opts: { readonly omit?: readonly string[]; readonly operator: string; readonly media?: MediaStore | null; readonly now?: Date },
): Promise<EvidenceBundle> {
  const view = await showCase(q, refInput);
  const record = await caseRecord(q, view.ref);
  const { rows: caseRows } = await q.query<{ id: number; event_seq: number; head_hash: string | null }>('SELECT id, event_seq, head_hash FROM cases WHERE ref = $1', [view.ref]);
  const c = caseRows[0]!;
  const [{ rows: reportRows }, { rows: eventRows }, { rows: caseAnchor }, { rows: root }] = await Promise.all([
    q.query<{
      id: string; sent_at: Date; received_at: Date; channel: string; informant: string; language: string | null; tags: string[]; places: string[];
      duplicate_of: string | null; duplicate_kind: string | null; text: string | null;
    }>(
      `SELECT id, sent_at, received_at, channel, informant, language, tags, places, duplicate_of, duplicate_kind, text
         FROM reports WHERE case_id = $1 ORDER BY sent_at, id`,
      [c.id],
    ),
    q.query<{ seq: number; at: Date; kind: string; actor: string; data: Record<string, unknown>; prev_hash: string | null; hash: string }>(
      'SELECT seq, at, kind, actor, data, prev_hash, hash FROM events WHERE case_id = $1 ORDER BY seq',
      [c.id],
    ),
    q.query<{ seq: number; hash: string; report_count: number }>('SELECT seq, hash, report_count FROM case_anchors WHERE case_id = $1', [c.id]),
    q.query<{ at: Date; cases: number; root: string; mac: string }>('SELECT at, cases, root, mac FROM anchors ORDER BY id DESC LIMIT 1'),
  ]);

  const inCase = new Set(reportRows.map((r) => r.id));
  const omit = new Set(opts.omit ?? []);
  for (const id of omit) {
    if (!inCase.has(id)) throw new DashboardRefusal(400, 'TIPHUB_DASHBOARD_INVALID', `report ${id.slice(0, 80)} is not in case ${view.ref}`);
  }
  const included = reportRows.filter((r) => !omit.has(r.id));
  const { rows: mediaRows } = included.length
    ? await q.query<MediaRow>(
      `SELECT rm.report_id, rm.idx, rm.kind, rm.sha256, rm.state, m.mime, m.size, rm.declared_mime
           FROM report_media rm LEFT JOIN media m ON m.sha256 = rm.sha256
          WHERE rm.report_id IN (SELECT jsonb_array_elements_text($1::jsonb)) ORDER BY rm.report_id, rm.idx`,
      [JSON.stringify(included.map((r) => r.id))],
    )
    : { rows: [] as MediaRow[] };

  // Each stored file once, checked against its name: the store is content-addressed, and a file
  // that no longer has the content its name says is not passed off as evidence.
  const files = new Map<string, { path: string; size: number } | { why: string }>();
  for (const m of mediaRows) {
    if (m.state !== 'stored' || !m.sha256 || files.has(m.sha256)) continue;
    if (!/^[0-9a-f]{64}$/.test(m.sha256)) files.set(m.sha256, { why: 'not a sha256' });
    else if (!opts.media) files.set(m.sha256, { why: 'the dashboard has no media store to read from' });
    else {
      const got = await hashFile(opts.media.pathOf(m.sha256));
      if (!got) files.set(m.sha256, { why: 'the file is not in the media store' });
      else if (got.sha256 !== m.sha256) files.set(m.sha256, { why: 'the file in the media store does not match its sha256' });
      else files.set(m.sha256, { path: opts.media.pathOf(m.sha256), size: got.size });
    }
  }
  const mediaOf = new Map<string, BundleMedia[]>();
  for (const m of mediaRows) {
    const f = m.sha256 ? files.get(m.sha256) : undefined;
    const entry: BundleMedia = {
      idx: m.idx,
      kind: m.kind,
      sha256: m.sha256,
      mime: m.mime ?? m.declared_mime,
      size: m.size === null ? null : Number(m.size),
      state: m.state,
      file: f && 'path' in f ? `media/${m.sha256}` : null,
      why: f ? ('why' in f ? f.why : null) : m.state === 'stored' ? 'no file' : `media ${m.state}`,
    };
    (mediaOf.get(m.report_id) ?? mediaOf.set(m.report_id, []).get(m.report_id)!).push(entry);
  }

  const reports: BundleReport[] = included.map((r) => ({
    id: r.id,
    sentAt: isoMs(r.sent_at),
    receivedAt: isoMs(r.received_at),
    channel: r.channel,
    pseudonym: r.informant,
    language: r.language,
    tags: r.tags,
    places: r.places,
    duplicate: r.duplicate_of && r.duplicate_kind ? { of: r.duplicate_of, kind: r.duplicate_kind } : null,
    text: r.text,
    media: mediaOf.get(r.id) ?? [],
  }));
  const summaries = new Map(record.history.map((e) => [e.seq, e.summary]));
  const events = eventRows.map((e) => ({
    seq: e.seq,
    at: isoMs(e.at),
    kind: e.kind,
    actor: e.actor,
    data: e.data,
    prevHash: e.prev_hash,
    hash: e.hash,
    summary: summaries.get(e.seq) ?? '',
  }));
  const chain: ChainCheck = record.chain;
  const a = caseAnchor[0];
  const r0 = root[0];
  const verify = {
    case: view.ref,
    chain,
    head: { seq: c.event_seq, hash: c.head_hash },
    anchor: a ? { case: { seq: a.seq, hash: a.hash, reportCount: a.report_count }, root: r0 ? { at: isoMs(r0.at), cases: r0.cases, root: r0.root, mac: r0.mac } : null } : null,
    method: METHOD,
  };
  const { reports: _r, ...header } = view;

  const parts: { path: string; buffer?: Buffer; file?: string; sha256: string; size: number }[] = [];
  const addJson = (path: string, v: unknown) => {
    const b = json(v);
    parts.push({ path, buffer: b, sha256: sha256Of(b), size: b.length });
  };
  addJson('case.json', header);
  addJson('reports.json', reports);
  addJson('events.json', events);
  addJson('verify.json', verify);
  let mediaIncluded = 0;
  for (const [sha, f] of files) {
    if ('path' in f) {
      parts.push({ path: `media/${sha}`, file: f.path, sha256: sha, size: f.size });
      mediaIncluded++;
    }
  }
  const now = opts.now ?? new Date();
  const manifest: BundleManifest = {
    format: BUNDLE_FORMAT,
    case: view.ref,
    createdAt: isoMs(now),
    createdBy: opts.operator,
    reports: { included: included.length, omitted: reportRows.filter((r) => omit.has(r.id)).map((r) => r.id) },
    media: { included: mediaIncluded, notIncluded: mediaRows.filter((m) => !(m.sha256 && files.get(m.sha256) && 'path' in files.get(m.sha256)!)).length },
    events: events.length,
    chainOk: chain.ok,
    files: parts.map((p) => ({ path: p.path, sha256: p.sha256, size: p.size })),
  };

  const zip = new ZipFile();
  const mtime = now;
  const manifestBytes = json(manifest);
  zip.addBuffer(manifestBytes, 'manifest.json', { mtime });
  for (const p of parts) {
    if (p.buffer) zip.addBuffer(p.buffer, p.path, { mtime });
    else zip.addFile(p.file!, p.path, { mtime, compress: false });
  }
  zip.end();
  return { ref: view.ref, manifest, manifestSha256: sha256Of(manifestBytes), stream: zip.outputStream as Readable };
}
