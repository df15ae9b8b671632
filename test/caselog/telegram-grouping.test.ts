/** Telegram messages through the real pipeline: edits link to their original, albums stay together. */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { BACKENDS } from '../helpers/env';
import { harness, type Harness } from '../helpers/harness';
import { normalizeTelegram } from '../../adapters/telegram';
import type { InboundMessage } from '../../src/contracts/inbound-message';
import { exportCaseLog, type ExportedCase } from '../../src/caselog/export';
import { verifyCaseLog } from '../../src/caselog/verify';

const load = (f: string) => JSON.parse(fs.readFileSync(path.join(__dirname, '../fixtures/telegram', `${f}.json`), 'utf8')) as Record<string, Record<string, unknown>>;

describe.each(BACKENDS)('telegram grouping on %s', (backend) => {
  let h: Harness;
  beforeEach(async () => {
    h = await harness(backend, { conversation: { enabled: false } });
  });
  afterEach(async () => {
    await h.close();
  });

  test('an edit is its own report linked to the original, in its case; album parts join one case in any order', async () => {
    const ctx = { account: '7000000001', receivedAt: new Date(), messageId: (p: readonly (string | number)[]) => h.keyring.messageId('telegram', p) };
    const norm = (u: unknown) => normalizeTelegram(u, ctx) as InboundMessage;
    // Another informant's album, parts in reverse order, an hour apart from anything else.
    const album = ['album-2', 'album-1'].map((f) => {
      const u = load(f);
      u.message!.from = { id: 42, is_bot: false, first_name: 'X' };
      u.message!.chat = { id: 42, type: 'private' };
      u.message!.date = 1781075531 + (f === 'album-1' ? 0 : 1);
      return norm(u);
    });
    h.startWorker();
    await h.sink(norm(load('private-text')));
    await h.drained();
    await h.sink(norm(load('edited')));
    for (const m of album) await h.sink(m);
    await h.drained();

    let text = '';
    await exportCaseLog(h.db, 'jsonl', (c) => {
      text += c;
    });
    const cases = text.trim().split('\n').map((l) => JSON.parse(l) as ExportedCase);
    expect(cases).toHaveLength(2);
    const [first, second] = cases;
    expect(first!.reports.map((r) => [r.text, r.duplicate?.kind ?? null])).toEqual([
      ['طائرة مسيرة فوق الجسر الآن', null],
      ['طائرة مسيرة فوق الجسر القديم الآن', 'edit'],
    ]);
    expect(first!.reports[1]!.duplicate!.of).toBe(first!.reports[0]!.id);
    expect(first!.reports.map((r) => r.nativeId)).toEqual(['101', '101']);
    expect(second!.reports).toHaveLength(2);
    expect(second!.reports.every((r) => r.media[0]!.state === 'pending')).toBe(true);
    // No Telegram user id anywhere in the export.
    expect(text).not.toContain('5511223344');
    expect((await verifyCaseLog(h.db)).ok).toBe(true);
  });
});
