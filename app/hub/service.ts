/**
 * What commands ask of the case log. `LocalCaseLogService` runs the operations on a case log
 * opened in this process; `RemoteCaseLogService` sends the same operations to the running hub
 * over its control socket (the embedded case log is single-process).
 */
import type { Db } from '../../src/caselog/db';
import { dropQuarantine } from '../../src/operators/quarantine-drop';
import { exportCaseLog, type ExportFormat, type ExportSummary } from '../../src/caselog/export';
import {
  addQuarantine,
  listQuarantine,
  quarantinedPayloads,
  settleQuarantine,
  purgeQuarantine,
  showQuarantine,
  type QuarantineDetail,
  type QuarantineEntry,
  type QuarantineListing,
  type QuarantineOutcome,
  type QuarantinedPayload,
} from '../../src/caselog/quarantine';
import type { Keyring } from '../../src/crypto/keyring';
import { TiphubError } from '../../src/errors';
import { verifyCaseLog, type VerifyResult } from '../../src/caselog/verify';
import { verifyOperatorAudit } from '../../src/operators/audit';
import { readKeyCheck } from '../../src/caselog/open';
import { queueReply, setBlocked, type ReplyRequest, type ReplyResult } from '../../src/conversation/operator';
import type { OutboxRelay } from '../../src/queue/outbound-queue';
import { mergeCases, splitReport } from '../../src/caselog/corrections';
import { planPurge, purgeCases, type PurgePlan, type PurgeSummary } from '../../src/caselog/purge';
import { MediaStore } from '../../src/media/store';
import { addNote, assign, editTags, resolveActor, setPriority, setStatus, showCase, type CaseView, type StatusChange, type TagChange } from '../../src/caselog/actions';
import { quarantineVocabulary } from '../../adapters/registry';
import { readCaseLogStats, type CaseLogStats } from '../../src/caselog/stats';
import { writeBackupTar, type ArchiveSink, type BackupSummary } from '../../src/backup/write';

/** What the operator actions on a case answer (issue 11, item 1). */
export interface AssignChange {
  readonly ref: string;
  readonly to: string | null;
  readonly from: string | null;
  readonly changed: boolean;
}
export interface PriorityChange {
  readonly ref: string;
  readonly priority: string;
  readonly from: string;
  readonly changed: boolean;
}

export interface CaseLogService {
  readonly via: 'local' | 'hub';
  keyCheck(): Promise<string | null>;
  presentReports(ids: readonly string[]): Promise<string[]>;
  quarantine(entries: readonly QuarantineEntry[]): Promise<void>;
  exportCases(format: ExportFormat, write: (chunk: string) => void | Promise<void>): Promise<ExportSummary>;
  verify(): Promise<VerifyResult>;
  /** Counts and times for `tiphub status` (src/caselog/stats.ts). */
  stats(): Promise<CaseLogStats>;
  reply(req: ReplyRequest): Promise<ReplyResult>;
  setBlocked(pseudonym: string, blocked: boolean, actor: string): Promise<void>;
  mergeCases(into: string, from: string, actor: string): Promise<{ into: string; from: string; moved: number }>;
  splitReport(ref: string, reportId: string, actor: string): Promise<{ from: string; to: string }>;

  // Operator actions on a case (issue 11, item 1): each one event in the case's chain.
  /** The actor to record: `--as NAME` or the OS user, checked against the operators once any exists. */
  resolveActor(as: string | null, osUser: string): Promise<string>;
  showCase(ref: string): Promise<CaseView>;
  setCaseStatus(ref: string, status: string, reason: string | null, actor: string): Promise<StatusChange>;
  assignCase(ref: string, to: string | null, actor: string): Promise<AssignChange>;
  setCasePriority(ref: string, priority: string, actor: string): Promise<PriorityChange>;
  editCaseTags(ref: string, edit: { add: readonly string[]; remove: readonly string[] }, actor: string): Promise<TagChange>;
  addCaseNote(ref: string, text: string, actor: string): Promise<{ ref: string; note: string }>;

  // Quarantine (issue 10, item 16): rows without payloads, one payload's shape, retention.
  listQuarantine(limit: number): Promise<QuarantineListing[]>;
  /** Null when there is no such entry. */
  showQuarantine(id: number): Promise<QuarantineDetail | null>;
  /** Deletes entries older than that many days; returns how many. */
  purgeQuarantine(olderThanDays: number): Promise<number>;
  // Retry and drop (issue 14, item 4): the payloads travel sealed; whoever retries opens them.
  quarantinedPayloads(ids: readonly number[] | 'all'): Promise<QuarantinedPayload[]>;
  /** A retried entry: deleted once queued, else kept with the new reason; false when it is gone. */
  settleQuarantine(id: number, outcome: QuarantineOutcome): Promise<boolean>;
  /** Deletes one entry, recorded in the operators' audit chain; false when there is no such entry. */
  dropQuarantine(id: number, actor: string): Promise<boolean>;

  /**
   * The backup archive's plain tar (src/backup/write.ts), piece by piece into `sink`; whoever
   * asked encrypts it. Through the hub, so a running embedded case log is backed up too.
   */
  backupArchive(sink: ArchiveSink): Promise<BackupSummary>;

  // Retention (issue 10, item 17): closed cases unchanged for that many days.
  planPurge(olderThanDays: number): Promise<PurgePlan>;
  purgeCases(olderThanDays: number, actor: string): Promise<Omit<PurgeSummary, 'reportIds'>>;
}

/** Where a purge removes media files, and what else it tidies (the hub's Redis job records). */
export interface RetentionPorts {
  readonly mediaRoot: string;
  readonly onPurged?: (reportIds: readonly string[]) => Promise<void>;
}

export class LocalCaseLogService implements CaseLogService {
  readonly via = 'local' as const;
  /**
   * Without a relay, queued messages wait in the outbox for a running hub's sweeper. Without the
   * keyring, what must open a sealed value (a quarantined payload's shape) is refused.
   */
  constructor(
    private readonly db: Db,
    private readonly relay: OutboxRelay | null = null,
    private readonly keyring: Keyring | null = null,
    private readonly retention: RetentionPorts | null = null,
  ) {}

  planPurge(olderThanDays: number) {
    return planPurge(this.db, { olderThanDays });
  }

  backupArchive(sink: ArchiveSink) {
    if (!this.retention) throw new TiphubError('TIPHUB_CONFIG_INVALID', 'this case log was opened without its media store: it cannot be backed up from here');
    return writeBackupTar(this.db, this.retention.mediaRoot, sink);
  }

  async purgeCases(olderThanDays: number, actor: string) {
    const store = this.retention ? new MediaStore(this.retention.mediaRoot) : null;
    const { reportIds, ...summary } = await purgeCases(this.db, { olderThanDays, actor }, store ? (sha) => store.remove(sha) : null);
    if (reportIds.length) await this.retention?.onPurged?.(reportIds);
    return summary;
  }

  keyCheck() {
    return readKeyCheck(this.db);
  }

  async presentReports(ids: readonly string[]) {
    if (!ids.length) return [];
    const { rows } = await this.db.query<{ id: string }>(`SELECT id FROM reports WHERE id IN (SELECT jsonb_array_elements_text($1::jsonb))`, [
      JSON.stringify(ids),
    ]);
    return rows.map((r) => r.id);
  }

  quarantine(entries: readonly QuarantineEntry[]) {
    return addQuarantine(this.db, entries);
  }

  exportCases(format: ExportFormat, write: (chunk: string) => void | Promise<void>) {
    return exportCaseLog(this.db, format, write);
  }

  /** The case log's chains and anchors, then the operators' own chain (views, exports, account changes). */
  async verify() {
    const r = await verifyCaseLog(this.db);
    const audit = await verifyOperatorAudit(this.db);
    const problems = [...r.problems, ...audit.problems.map((p) => ({ kind: p.kind, caseRef: 'operator audit', event: p.seq, what: p.what }))];
    return { ...r, ok: problems.length === 0, problems };
  }

  stats() {
    return readCaseLogStats(this.db);
  }

  async reply(req: ReplyRequest) {
    const r = await queueReply(this.db, req);
    if (this.relay) await this.relay.relay(this.db, r.outbox);
    return r;
  }

  setBlocked(pseudonym: string, blocked: boolean, actor: string) {
    return setBlocked(this.db, pseudonym, blocked, actor);
  }

  mergeCases(into: string, from: string, actor: string) {
    return mergeCases(this.db, into, from, actor);
  }

  splitReport(ref: string, reportId: string, actor: string) {
    return splitReport(this.db, ref, reportId, actor);
  }

  // --- Operator actions on a case (issue 11, item 1) ---
  resolveActor(as: string | null, osUser: string) {
    return resolveActor(this.db, as, osUser);
  }

  showCase(ref: string) {
    return showCase(this.db, ref);
  }

  setCaseStatus(ref: string, status: string, reason: string | null, actor: string) {
    return setStatus(this.db, ref, status, { reason, actor });
  }

  assignCase(ref: string, to: string | null, actor: string) {
    return assign(this.db, ref, to, actor);
  }

  setCasePriority(ref: string, priority: string, actor: string) {
    return setPriority(this.db, ref, priority, actor);
  }

  editCaseTags(ref: string, edit: { add: readonly string[]; remove: readonly string[] }, actor: string) {
    return editTags(this.db, ref, edit, actor);
  }

  addCaseNote(ref: string, text: string, actor: string) {
    return addNote(this.db, ref, text, actor);
  }

  // --- Quarantine (issue 10, item 16) ---
  listQuarantine(limit: number) {
    return listQuarantine(this.db, { limit });
  }

  showQuarantine(id: number) {
    if (!this.keyring) throw new TiphubError('TIPHUB_CASELOG_UNAVAILABLE', 'this case log was opened without its keys: a quarantined payload cannot be described');
    return showQuarantine(this.db, this.keyring, id, quarantineVocabulary);
  }

  purgeQuarantine(olderThanDays: number) {
    return purgeQuarantine(this.db, olderThanDays);
  }

  quarantinedPayloads(ids: readonly number[] | 'all') {
    return quarantinedPayloads(this.db, ids);
  }

  settleQuarantine(id: number, outcome: QuarantineOutcome) {
    return settleQuarantine(this.db, id, outcome);
  }

  dropQuarantine(id: number, actor: string) {
    return dropQuarantine(this.db, id, actor);
  }
}
