/**
 * Key rotation: every sealed value of the case log moves to a new sealing key, and the key set is
 * sealed under a new secret. The pseudonym, message-id and audit keys are carried over, never
 * changed: pseudonyms, message ids and every chain hash stay what they were.
 *
 * Three steps, each safe to interrupt:
 * 1. one transaction adds a new sealing key (current from now on) to the key set, stores it under
 *    the old secret (`keys`) and under the new one (`keys_next`, `key_check_next`), and records
 *    the rotation (`rotation`);
 * 2. pages of rows whose sealed value is not under the new key are opened and sealed again, each
 *    page in its own transaction: a resumed run picks up what is left;
 * 3. one transaction makes the new secret the case log's (`key_check`, `keys` under it) and keeps
 *    the replaced keys only as retired (they open jobs still queued in Redis, never a row).
 * It runs while no other process has the case log open (the caller holds the PGlite lock, or the
 * PostgreSQL rotation lock of `open.ts`).
 */
import { SEAL_AAD_INTAKE, SEAL_AAD_QUARANTINE } from '../crypto/aad';
import { Keyring, sealRow, type SealContext } from '../crypto/keyring';
import { TiphubError } from '../errors';
import type { Db, Queryable } from './db';
import { appendCaseEvent } from './events';
import { legacyReportHash, reportHash } from './chain';
import { casePages, contentOfRow, legacyContentOfRow, reportsOfCases } from './read';

interface Target {
  readonly table: string;
  readonly column: string;
  /** The row's key: one column, or two (report_media), in the order of its primary key. */
  readonly key: string | readonly [string, string];
  /** The contexts a value of this column may be sealed with, tried in order (a two-column key's values joined by ':'). */
  readonly contexts: (id: string) => readonly SealContext[];
  /** The key's columns that hold numbers (bigserial, integer), not text. */
  readonly numeric?: readonly string[];
}

/** Every sealed column of the case log. */
const TARGETS: readonly Target[] = [
  { table: 'informants', column: 'address_sealed', key: 'pseudonym', contexts: (id) => [sealRow.address(id)] },
  { table: 'reports', column: 'raw_sealed', key: 'id', contexts: (id) => [sealRow.raw(id)] },
  { table: 'reports', column: 'contact_sealed', key: 'id', contexts: (id) => [sealRow.contact(id)] },
  { table: 'case_texts', column: 'text_sealed', key: 'id', contexts: (id) => [sealRow.text(id)] },
  // A platform's full message id where native_id is its hash (migration 11), and of what we sent.
  { table: 'reports', column: 'native_sealed', key: 'id', contexts: (id) => [sealRow.nativeRef(id)] },
  {
    table: 'sent_messages',
    column: 'ref_sealed',
    key: ['channel', 'sent_id'],
    contexts: (id) => [sealRow.sentRef(id.slice(0, id.indexOf(':')), id.slice(id.indexOf(':') + 1))],
  },
  // The media step's reference (migration 10), keyed by report and position (a report id has no colon).
  {
    table: 'report_media',
    column: 'ref_sealed',
    key: ['report_id', 'idx'],
    numeric: ['idx'],
    contexts: (id) => [sealRow.mediaRef(id.slice(0, id.lastIndexOf(':')), Number(id.slice(id.lastIndexOf(':') + 1)))],
  },
  // An operator's second factor (src/operators/totp.ts seals it to its row).
  { table: 'operators', column: 'totp_sealed', key: 'name', contexts: (id) => [sealRow.totp(id)] },
  // A quarantined intake job keeps the job's own sealed payload (see workers/intake/worker.ts).
  { table: 'quarantine', column: 'payload_sealed', key: 'id', numeric: ['id'], contexts: () => [SEAL_AAD_QUARANTINE, SEAL_AAD_INTAKE] },
];

export interface RotationProgress {
  readonly column: string;
  readonly done: number;
  readonly total: number;
}

export interface RotationSummary {
  /** True when this run started the rotation; false when it resumed one. */
  readonly started: boolean;
  readonly keyId: string;
  /** Reports whose subject was recorded again in today's form (`report.resealed`). */
  readonly subjects: number;
  /** Values sealed again, per `table.column`. */
  readonly resealed: Readonly<Record<string, number>>;
  /** Values no key of the case log opens (altered, or never valid): left as they were. */
  readonly unreadable: Readonly<Record<string, number>>;
}

async function meta(q: Queryable, key: string): Promise<string | null> {
  const { rows } = await q.query<{ value: string }>('SELECT value FROM meta WHERE key = $1', [key]);
  return rows[0]?.value ?? null;
}

async function setMeta(q: Queryable, key: string, value: string): Promise<void> {
  await q.query('INSERT INTO meta (key, value) VALUES ($1, $2) ON CONFLICT (key) DO UPDATE SET value = EXCLUDED.value', [key, value]);
}

/** The rotation in progress, if any: the key id it moves to. */
export async function rotationInProgress(q: Queryable): Promise<{ keyId: string; started: string; subjects?: boolean } | null> {
  const r = await meta(q, 'rotation');
  return r ? (JSON.parse(r) as { keyId: string; started: string; subjects?: boolean }) : null;
}

/**
 * Rotates (or finishes rotating) the case log `db` from the secret of `current` (the keyring
 * it was opened with) to `newSecret`.
 */
export async function rotateKeys(
  db: Db,
  current: Keyring,
  newSecret: string,
  opts: { pageSize?: number; onProgress?: (p: RotationProgress) => void } = {},
): Promise<RotationSummary> {
  const next = new Keyring(newSecret);
  if (next.checkValue === current.checkValue) throw new TiphubError('TIPHUB_CONFIG_INVALID', 'the new secret is the secret the case log already has');
  const pageSize = opts.pageSize ?? 500;

  // Step 1, or the state a step 1 left.
  let started = false;
  const keySet = await db.transaction(async (tx) => {
    const inProgress = await rotationInProgress(tx);
    if (inProgress) {
      const check = await meta(tx, 'key_check_next');
      if (!check || !next.matchesCheckValue(check)) {
        throw new TiphubError('TIPHUB_SECRET_MISMATCH', 'a rotation to another new secret is in progress: finish it with the new secret it started with');
      }
      return next.openKeySet((await meta(tx, 'keys_next'))!);
    }
    started = true;
    const rotated = Keyring.withNewSealKey(current.keySet);
    await setMeta(tx, 'keys', current.sealKeySet(rotated));
    await setMeta(tx, 'keys_next', next.sealKeySet(rotated));
    await setMeta(tx, 'key_check_next', next.checkValue);
    await setMeta(tx, 'rotation', JSON.stringify({ keyId: rotated.seal.current, started: new Date().toISOString() }));
    return rotated;
  });
  const working = current.withKeySet(keySet);
  const kid = keySet.seal.current;
  const resealed: Record<string, number> = {};
  const unreadable: Record<string, number> = {};

  // Step 1b, before any value moves: a report whose subject was made over its ciphertexts (logs
  // written before `sealedDigest`) gets its subject recorded again in today's form, by an event.
  const state = (await rotationInProgress(db))!;
  let subjects = 0;
  if (!state.subjects) {
    for await (const page of casePages(db, 200, 'id')) {
      const ids = page.map((c) => c.id);
      const byCase = await reportsOfCases(db, ids);
      const { rows } = await db.query<{ report: string; subject: string }>(
        `SELECT DISTINCT ON (case_id, data->>'report') data->>'report' AS report, data->>'subject' AS subject FROM events
          WHERE case_id IN (SELECT (jsonb_array_elements_text($1::jsonb))::int) AND kind IN ('report.added', 'report.moved-in', 'report.resealed')
          ORDER BY case_id, data->>'report', seq DESC`,
        [JSON.stringify(ids)],
      );
      const recorded = new Map(rows.map((r) => [r.report, r.subject]));
      for (const [caseId, reports] of byCase) {
        const legacy = reports.filter((r) => recorded.get(r.id) === legacyReportHash(working, legacyContentOfRow(r)));
        if (!legacy.length) continue;
        await db.transaction(async (tx) => {
          for (const r of legacy) {
            await appendCaseEvent(tx, caseId, 'report.resealed', 'keys rotate', { report: r.id, subject: reportHash(working, contentOfRow(r, working)) });
          }
        });
        subjects += legacy.length;
      }
    }
    await setMeta(db, 'rotation', JSON.stringify({ ...state, subjects: true }));
  }

  // Step 2: re-seal, page by page, whatever is not under the new key yet.
  const underNewKey = `v2.${kid}.%`;
  for (const t of TARGETS) {
    const name = `${t.table}.${t.column}`;
    resealed[name] = 0;
    unreadable[name] = 0;
    const pending = `${t.column} IS NOT NULL AND ${t.column} NOT LIKE $1`;
    // Paged by the primary key, so each page and each update is an index look-up.
    const keys = typeof t.key === 'string' ? [t.key] : [...t.key];
    const param = (k: string, v: string) => (t.numeric?.includes(k) ? Number(v) : v);
    const { rows: cnt } = await db.query<{ n: number }>(`SELECT count(*)::int AS n FROM ${t.table} WHERE ${pending}`, [underNewKey]);
    const total = cnt[0]!.n;
    let done = 0;
    let after: string[] | null = null;
    opts.onProgress?.({ column: name, done, total });
    for (;;) {
      const last: string[] | null = after;
      const page: { key: string[]; n: number; bad: number } = await db.transaction(async (tx) => {
        const { rows } = await tx.query<{ k: string[]; v: string }>(
          `SELECT ARRAY[${keys.map((k) => `${k}::text`).join(', ')}] AS k, ${t.column} AS v FROM ${t.table}
            WHERE ${pending} ${last === null ? '' : `AND (${keys.join(', ')}) > (${keys.map((_, i) => `$${3 + i}`).join(', ')})`}
            ORDER BY ${keys.join(', ')} LIMIT $2 FOR UPDATE`,
          last === null ? [underNewKey, pageSize] : [underNewKey, pageSize, ...last.map((v, i) => param(keys[i]!, v))],
        );
        let n = 0;
        let bad = 0;
        for (const r of rows) {
          let value: string | null = null;
          for (const ctx of t.contexts(r.k.join(':'))) {
            try {
              value = working.seal(working.unseal(r.v, ctx), ctx);
              break;
            } catch {
              // another context, or not ours
            }
          }
          if (value === null) {
            bad++;
            continue;
          }
          await tx.query(`UPDATE ${t.table} SET ${t.column} = $1 WHERE ${keys.map((k, i) => `${k} = $${2 + i}`).join(' AND ')}`, [value, ...r.k.map((v, i) => param(keys[i]!, v))]);
          n++;
        }
        return { key: rows.length ? rows[rows.length - 1]!.k : [], n, bad: rows.length ? bad : -1 };
      });
      if (page.bad === -1) break;
      resealed[name] += page.n;
      unreadable[name] += page.bad;
      done += page.n + page.bad;
      after = page.key;
      opts.onProgress?.({ column: name, done, total });
    }
  }

  // A goodbye after /stop not yet queued carries its own copy of the address (outbox.data).
  resealed['outbox.data.addressSealed'] = 0;
  unreadable['outbox.data.addressSealed'] = 0;
  await db.transaction(async (tx) => {
    const { rows } = await tx.query<{ id: number; pseudonym: string; v: string }>(
      `SELECT id::int AS id, pseudonym, data->>'addressSealed' AS v FROM outbox
        WHERE data ? 'addressSealed' AND data->>'addressSealed' NOT LIKE $1 FOR UPDATE`,
      [underNewKey],
    );
    for (const r of rows) {
      const ctx = sealRow.address(r.pseudonym);
      let v: string;
      try {
        v = working.seal(working.unseal(r.v, ctx), ctx);
      } catch {
        unreadable['outbox.data.addressSealed']!++;
        continue;
      }
      await tx.query(`UPDATE outbox SET data = jsonb_set(data, '{addressSealed}', to_jsonb($2::text)) WHERE id = $1`, [r.id, v]);
      resealed['outbox.data.addressSealed']!++;
    }
  });

  // Step 3: the new secret takes over; the old keys open only what is still queued.
  await db.transaction(async (tx) => {
    const final = Keyring.retireOldSealKeys(keySet);
    await setMeta(tx, 'keys', next.sealKeySet(final));
    await setMeta(tx, 'key_check', next.checkValue);
    await tx.query(`DELETE FROM meta WHERE key IN ('keys_next', 'key_check_next', 'rotation')`);
  });
  return { started, keyId: kid, subjects, resealed, unreadable };
}
