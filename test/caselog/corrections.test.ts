import { BACKENDS } from '../helpers/env';
import { harness, type Harness } from '../helpers/harness';
import { mergeCases, splitReport } from '../../src/caselog/corrections';
import { resolveCase } from '../../src/caselog/events';
import { verifyCaseLog } from '../../src/caselog/verify';
import { exportCaseLog, type ExportedCase } from '../../src/caselog/export';

async function cases(h: Harness): Promise<ExportedCase[]> {
  let text = '';
  await exportCaseLog(h.db, 'jsonl', (c) => {
    text += c;
  });
  return text.trim().split('\n').map((l) => JSON.parse(l) as ExportedCase);
}

describe.each(BACKENDS)('case merge and split on %s', (backend) => {
  let h: Harness;
  beforeEach(async () => {
    h = await harness(backend, { conversation: { enabled: false } });
    h.startWorker();
  });
  afterEach(async () => {
    await h.close();
  });

  test('merge moves every report, closes the merged case, keeps its reference answering; split makes a new case; verify passes after each', async () => {
    await h.sink(h.message({ id: 'a1', from: 'u1', text: 'Rockets fired from the farms east of the city', sentAt: '2026-06-10T05:00:00Z' }));
    await h.sink(h.message({ id: 'b1', from: 'u2', text: 'Launch rails seen in the orchards to the east', sentAt: '2026-06-10T07:00:00Z' }));
    await h.sink(h.message({ id: 'b2', from: 'u3', text: 'Launch rails seen in the orchards to the east', sentAt: '2026-06-10T07:30:00Z' }));
    await h.drained();
    let all = await cases(h);
    expect(all.map((c) => c.reportCount)).toEqual([1, 2]);
    const [a, b] = all as [ExportedCase, ExportedCase];

    const merged = await mergeCases(h.db, a.ref, b.ref, 'op-amina');
    expect(merged).toEqual({ into: a.ref, from: b.ref, moved: 2 });
    all = await cases(h);
    const survivor = all.find((c) => c.ref === a.ref)!;
    expect(survivor.reportCount).toBe(3);
    expect(survivor.informantCount).toBe(3);
    expect(survivor.createdAt).toBe('2026-06-10T05:00:00Z');
    expect(survivor.updatedAt).toBe('2026-06-10T07:30:00Z');
    expect(all.find((c) => c.ref === b.ref)).toMatchObject({ status: 'closed', reportCount: 0, informantCount: 0 });
    expect((await resolveCase(h.db, b.ref))!.ref).toBe(a.ref); // /status on the old reference answers for the survivor
    expect((await verifyCaseLog(h.db)).problems).toEqual([]);

    const b1 = survivor.reports.find((r) => r.nativeId === 'b1')!;
    const split = await splitReport(h.db, b.ref, b1.id, 'op-amina'); // the old reference works here too
    expect(split.from).toBe(a.ref);
    all = await cases(h);
    expect(all.find((c) => c.ref === split.to)!.reports.map((r) => r.nativeId)).toEqual(['b1']);
    expect(all.find((c) => c.ref === a.ref)!.reportCount).toBe(2);
    expect((await verifyCaseLog(h.db)).problems).toEqual([]);

    await expect(splitReport(h.db, split.to, b1.id, 'op')).rejects.toMatchObject({ message: expect.stringContaining('nothing to split') });
    await expect(mergeCases(h.db, a.ref, a.ref, 'op')).rejects.toMatchObject({ code: 'TIPHUB_CASE_NOT_FOUND' });

    // Tampering with a moved report is still caught.
    await h.db.query(`UPDATE reports SET text = 'altered' WHERE id = $1`, [b1.id]);
    expect((await verifyCaseLog(h.db)).problems.map((p) => p.what)).toEqual([`report ${b1.id} was altered since it was recorded`]);
  });
});
