/**
 * Issue 10, item 18: key rotation re-seals every sealed value of the case log under a new key and
 * the key set under a new secret, keeps pseudonyms and chains as they were, and can stop anywhere
 * and be resumed.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { BACKENDS, capturingLogger, newSecret } from '../helpers/env';
import { harness, type Harness } from '../helpers/harness';
import { rotateKeys, rotationInProgress } from '../../src/caselog/rotate';
import { openCaseLogHere, resolveKeyring } from '../../src/caselog/open';
import { withKeys } from '../../src/caselog/db';
import { verifyCaseLog } from '../../src/caselog/verify';
import { addQuarantine } from '../../src/caselog/quarantine';
import { queueReply } from '../../src/conversation/operator';
import { Keyring, sealRow } from '../../src/crypto/keyring';
import { SEAL_AAD_INTAKE } from '../../src/queue/intake-queue';
import { addOperator, startTotpEnrolment, totpRow } from '../../src/operators/accounts';
import { appendCaseEvent } from '../../src/caselog/events';
import { legacyReportHash } from '../../src/caselog/chain';
import { legacyContentOfRow, reportsOfCases } from '../../src/caselog/read';

const SEALED = [
  ['operators', 'totp_sealed'],
  ['informants', 'address_sealed'],
  ['reports', 'raw_sealed'],
  ['case_texts', 'text_sealed'],
  ['quarantine', 'payload_sealed'],
  ['report_media', 'ref_sealed'],
] as const;

describe.each(BACKENDS)('key rotation on %s', (backend) => {
  let h: Harness;
  let oldKeys: Keyring;
  beforeEach(async () => {
    h = await harness(backend);
    for (const [i, text] of ['Armed men at the checkpoint near the old bridge tonight', 'The water station in the east district is closed', 'Flour prices doubled at the stadium market'].entries()) {
      await h.sink(h.message({ id: `r${i}`, from: `+96477010000${i}`, text }));
    }
    // A photo: its media row keeps the reference sealed (report_media.ref_sealed).
    fs.writeFileSync(path.join(h.dataDir, 'photo.png'), Buffer.from('89504e470d0a1a0a0000000d49484452000000010000000108060000001f15c4890000000d4944415478da63f8ffff3f0005fe02fea7d6a4f50000000049454e44ae426082', 'hex'));
    await h.sink(h.message({ id: 'r-photo', from: '+964770100000', text: 'Photo of the checkpoint', media: [{ file: 'photo.png' }] }));
    h.startWorker();
    await h.drained();
    await h.stopWorker();
    expect(await h.count('SELECT count(*)::int AS n FROM report_media WHERE ref_sealed IS NOT NULL')).toBe(1);
    const { rows } = await h.db.query<{ ref: string }>('SELECT ref FROM cases ORDER BY id LIMIT 1');
    await queueReply(h.db, { ref: rows[0]!.ref, text: 'Which bridge, the old or the new one?', actor: 'op-amina' });
    await addQuarantine(h.db, [
      { channel: 'simulator', source: 'test:1', code: 'TIPHUB_PAYLOAD_INVALID', reason: 'a test entry', payloadSealed: h.keyring.seal({ line: 'broken' }, 'quarantine') },
      { channel: 'unknown', source: 'intake job x', code: 'TIPHUB_PAYLOAD_INVALID', reason: 'a quarantined job', payloadSealed: h.keyring.seal({ id: 'job' }, SEAL_AAD_INTAKE) },
    ]);
    await addOperator(h.db, 'amina', 'supervisor');
    await startTotpEnrolment(h.db, 'amina');
    oldKeys = await resolveKeyring(h.db, h.cfg);
    // One report recorded as a log written before sealed digests did it: its subject over the
    // ciphertexts (verify still accepts that form; a rotation must record it anew before re-sealing).
    const [r] = [...(await reportsOfCases(h.db, (await h.db.query<{ id: number }>('SELECT id FROM cases')).rows.map((c) => c.id))).values()].flat();
    await h.db.transaction((tx) => appendCaseEvent(tx, r!.case_id, 'report.resealed', 'test', { report: r!.id, subject: legacyReportHash(oldKeys, legacyContentOfRow(r!)) }));
    expect(await verifyCaseLog(h.db)).toMatchObject({ ok: true });
  });
  afterEach(async () => {
    await h.close();
  });

  async function sealedValues(): Promise<string[]> {
    const out: string[] = [];
    for (const [t, c] of SEALED) out.push(...(await h.db.query<{ v: string }>(`SELECT ${c} AS v FROM ${t} WHERE ${c} IS NOT NULL`)).rows.map((r) => r.v));
    return out;
  }

  test('interrupted half-way, the log still opens with the old secret; resumed, everything is under the new key and the new secret alone', async () => {
    const before = await sealedValues();
    expect(before.length).toBeGreaterThanOrEqual(3 + 3 + 1 + 2);
    const pseudonyms = (await h.db.query<{ pseudonym: string }>('SELECT pseudonym FROM informants ORDER BY 1')).rows.map((r) => r.pseudonym);
    const secret2 = newSecret();

    // Stops after the first page of re-sealing (as a crash would).
    let pages = 0;
    await expect(
      rotateKeys(h.db, oldKeys, secret2, {
        pageSize: 1,
        onProgress: (p) => {
          if (p.done > 0 && ++pages === 2) throw new Error('power cut');
        },
      }),
    ).rejects.toThrow('power cut');
    const rotation = await rotationInProgress(h.db);
    expect(rotation).toMatchObject({ keyId: expect.stringMatching(/^k[0-9a-f]{8}$/) });
    const moved = (await sealedValues()).filter((v) => v.startsWith(`v2.${rotation!.keyId}.`));
    expect(moved.length).toBeGreaterThan(0);
    expect(moved.length).toBeLessThan(before.length);
    // Meanwhile the old secret opens everything, old and new key alike (a hub could run).
    const midway = await resolveKeyring(h.db, h.cfg);
    for (const r of (await h.db.query<{ id: string; raw_sealed: string }>('SELECT id, raw_sealed FROM reports')).rows) expect(() => midway.unseal(r.raw_sealed, sealRow.raw(r.id))).not.toThrow();
    expect(await h.count(`SELECT count(*) AS n FROM events WHERE kind = 'report.resealed' AND actor = 'keys rotate'`)).toBe(1);
    expect((await verifyCaseLog(withKeys(h.db, midway))).problems).toEqual([]);
    // Another new secret cannot take over a rotation in progress.
    await expect(rotateKeys(h.db, midway, newSecret())).rejects.toMatchObject({ code: 'TIPHUB_SECRET_MISMATCH' });

    const s = await rotateKeys(h.db, midway, secret2, { pageSize: 2 });
    expect(s).toMatchObject({ started: false, keyId: rotation!.keyId, subjects: 0 }); // recorded before the power cut
    expect(Object.values(s.unreadable).every((n) => n === 0)).toBe(true);
    expect(await rotationInProgress(h.db)).toBeNull();
    const after = await sealedValues();
    expect(after).toHaveLength(before.length);
    expect(after.every((v) => v.startsWith(`v2.${s.keyId}.`))).toBe(true);

    // The old secret no longer opens the log; the new one does, with the same pseudonyms and chains.
    await expect(resolveKeyring(h.db, h.cfg)).rejects.toMatchObject({ code: 'TIPHUB_SECRET_MISMATCH' });
    const fresh = await resolveKeyring(h.db, { ...h.cfg, secret: secret2 });
    expect(fresh.pseudonym('simulator', '+964770100000')).toBe(oldKeys.pseudonym('simulator', '+964770100000'));
    expect((await h.db.query<{ pseudonym: string }>('SELECT pseudonym FROM informants ORDER BY 1')).rows.map((r) => r.pseudonym)).toEqual(pseudonyms);
    const { rows: inf } = await h.db.query<{ pseudonym: string; address_sealed: string }>('SELECT pseudonym, address_sealed FROM informants');
    expect(inf.map((i) => fresh.unseal<{ address: string }>(i.address_sealed, sealRow.address(i.pseudonym)))).toHaveLength(3);
    const { rows: t } = await h.db.query<{ id: string; text_sealed: string }>('SELECT id, text_sealed FROM case_texts');
    expect(fresh.unseal(t[0]!.text_sealed, sealRow.text(t[0]!.id))).toBe('Which bridge, the old or the new one?');
    const { rows: q } = await h.db.query<{ payload_sealed: string }>('SELECT payload_sealed FROM quarantine ORDER BY id');
    expect(fresh.unseal(q[0]!.payload_sealed, 'quarantine')).toEqual({ line: 'broken' });
    expect(fresh.unseal(q[1]!.payload_sealed, SEAL_AAD_INTAKE)).toEqual({ id: 'job' });
    const { rows: op } = await h.db.query<{ totp_sealed: string }>(`SELECT totp_sealed FROM operators WHERE name = 'amina'`);
    expect(fresh.unseal<{ secret: string }>(op[0]!.totp_sealed, totpRow('amina'))).toMatchObject({ secret: expect.any(String) });
    const v = await verifyCaseLog(withKeys(h.db, fresh));
    expect(v.problems).toEqual([]);
    expect(v).toMatchObject({ ok: true, reports: 4 });

    // A job sealed before the rotation and still queued opens; a row sealed with the old key does not.
    const job = oldKeys.seal({ queued: true }, SEAL_AAD_INTAKE);
    expect(fresh.unseal(job, SEAL_AAD_INTAKE)).toEqual({ queued: true });
    expect(() => fresh.unseal(before[0]!, sealRow.address(pseudonyms[0]!))).toThrow(/no longer holds|could not be opened/);
  });

  if (backend === 'postgres') {
    test('a rotation cannot open the log while another process has it open, nor a process start during one', async () => {
      const { log } = capturingLogger();
      await expect(openCaseLogHere(h.cfg, { log, schema: h.schema!, exclusive: true })).rejects.toMatchObject({ code: 'TIPHUB_CASELOG_LOCKED', message: expect.stringMatching(/stop the hub/) });
      await h.caselog.close();
      const rotating = await openCaseLogHere(h.cfg, { log, schema: h.schema!, exclusive: true });
      try {
        await expect(openCaseLogHere(h.cfg, { log, schema: h.schema! })).rejects.toMatchObject({ code: 'TIPHUB_CASELOG_LOCKED', retryable: true });
      } finally {
        await rotating.close();
      }
      const after = await openCaseLogHere(h.cfg, { log, schema: h.schema! });
      await after.close();
    });
  }
});
