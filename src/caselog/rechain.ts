/**
 * Upgrading a case log whose chains were plain SHA-256 (before migration 4): every chain is hashed
 * again with the audit key, report subjects cover the fields they cover now, and texts that events
 * held in clear (replies, sent messages) move into sealed `case_texts` rows the events name.
 * Runs once, inside the migration's transaction, before the history becomes append-only. What the
 * log held before the upgrade is trusted as it stands: run `tiphub verify` before upgrading.
 */
import type { Queryable } from './db';
import { eventHash, informantLogHash, isoMs, reportHash, textHash } from './chain';
import { contentOfRow, reportsOfCases } from './read';
import { sealRow, type Keyring } from '../crypto/keyring';
import { randomBytes } from 'node:crypto';

interface OldEvent {
  id: number;
  seq: number;
  at: Date;
  kind: string;
  actor: string;
  data: Record<string, unknown>;
}

export async function rechainCaseLog(tx: Queryable, keys: Keyring): Promise<void> {
  const { rows: cases } = await tx.query<{ id: number; ref: string }>('SELECT id, ref FROM cases ORDER BY id');
  for (let i = 0; i < cases.length; i += 200) {
    const page = cases.slice(i, i + 200);
    const reports = await reportsOfCases(tx, page.map((c) => c.id));
    const subjects = new Map<string, string>();
    const media = new Map<string, { idx: number; sha256: string | null; state: string }[]>();
    for (const rs of reports.values()) {
      for (const r of rs) {
        subjects.set(r.id, reportHash(keys, contentOfRow(r, keys)));
        if (r.media.length) media.set(r.id, r.media.map((m) => ({ idx: m.idx, sha256: m.sha256, state: m.state })));
      }
    }
    for (const c of page) {
      const { rows: evs } = await tx.query<OldEvent>('SELECT id, seq, at, kind, actor, data FROM events WHERE case_id = $1 ORDER BY seq', [c.id]);
      let prev: string | null = null;
      for (const e of evs) {
        const data: Record<string, unknown> = { ...e.data };
        if ((e.kind === 'report.added' || e.kind === 'report.moved-in') && subjects.has(String(data.report))) data.subject = subjects.get(String(data.report));
        // Media states as they stand now; the media events recorded before keep telling the same.
        if (e.kind === 'report.added' && media.has(String(data.report))) data.media = media.get(String(data.report));
        if (typeof data.text === 'string') {
          const id = 't' + randomBytes(12).toString('hex');
          await tx.query('INSERT INTO case_texts (id, case_id, kind, text_sealed) VALUES ($1, $2, $3, $4)', [id, c.id, e.kind, keys.seal(data.text, sealRow.text(id))]);
          data.textHash = textHash(keys, id, data.text);
          data.text = id;
        }
        const hash = eventHash(keys, prev, { caseRef: c.ref, seq: e.seq, at: isoMs(e.at), kind: e.kind, actor: e.actor, data });
        await tx.query('UPDATE events SET data = $2::jsonb, prev_hash = $3, hash = $4 WHERE id = $1', [e.id, JSON.stringify(data), prev, hash]);
        prev = hash;
      }
      await tx.query('UPDATE cases SET head_hash = $2, event_seq = $3 WHERE id = $1', [c.id, prev, evs.length]);
    }
  }
  // The informant log gets its chain.
  const { rows: log } = await tx.query<{ id: number; pseudonym: string; kind: string; actor: string; data: Record<string, unknown>; message_id: string | null }>(
    'SELECT id, pseudonym, kind, actor, data, message_id FROM informant_log ORDER BY pseudonym, id',
  );
  const heads = new Map<string, { seq: number; head: string | null }>();
  for (const e of log) {
    const h = heads.get(e.pseudonym) ?? { seq: 0, head: null };
    const seq = h.seq + 1;
    const hash = informantLogHash(keys, h.head, { pseudonym: e.pseudonym, seq, kind: e.kind, actor: e.actor, data: e.data, messageId: e.message_id });
    await tx.query('UPDATE informant_log SET seq = $2, prev_hash = $3, hash = $4 WHERE id = $1', [e.id, seq, h.head, hash]);
    heads.set(e.pseudonym, { seq, head: hash });
  }
  for (const [pseudonym, h] of heads) await tx.query('UPDATE informants SET log_seq = $2, log_head = $3 WHERE pseudonym = $1', [pseudonym, h.seq, h.head]);
}
