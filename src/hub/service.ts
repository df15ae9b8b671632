/**
 * What commands ask of the case log. `LocalCaseLogService` runs the operations on a case log
 * opened in this process; `RemoteCaseLogService` sends the same operations to the running hub
 * over its control socket (the embedded case log is single-process).
 */
import type { Db } from '../caselog/db';
import { exportCaseLog, type ExportFormat, type ExportSummary } from '../caselog/export';
import { addQuarantine, type QuarantineEntry } from '../caselog/quarantine';
import { verifyCaseLog, type VerifyResult } from '../caselog/verify';
import { readKeyCheck } from '../caselog/open';
import { queueReply, setBlocked, type ReplyRequest, type ReplyResult } from '../conversation/operator';
import type { OutboxRelay } from '../queue/outbound-queue';
import { mergeCases, splitReport } from '../caselog/corrections';

export interface CaseLogService {
  readonly via: 'local' | 'hub';
  keyCheck(): Promise<string | null>;
  presentReports(ids: readonly string[]): Promise<string[]>;
  quarantine(entries: readonly QuarantineEntry[]): Promise<void>;
  exportCases(format: ExportFormat, write: (chunk: string) => void | Promise<void>): Promise<ExportSummary>;
  verify(): Promise<VerifyResult>;
  reply(req: ReplyRequest): Promise<ReplyResult>;
  setBlocked(pseudonym: string, blocked: boolean, actor: string): Promise<void>;
  mergeCases(into: string, from: string, actor: string): Promise<{ into: string; from: string; moved: number }>;
  splitReport(ref: string, reportId: string, actor: string): Promise<{ from: string; to: string }>;
}

export class LocalCaseLogService implements CaseLogService {
  readonly via = 'local' as const;
  /** Without a relay, queued messages wait in the outbox for a running hub's sweeper. */
  constructor(
    private readonly db: Db,
    private readonly relay: OutboxRelay | null = null,
  ) {}

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

  verify() {
    return verifyCaseLog(this.db);
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
}
