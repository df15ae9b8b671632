/**
 * Issue 10, item 1, in the case log: a contact card is report content only when it names someone
 * else, and then it is sealed; the informant's own card is only the fact that they shared it.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { BACKENDS } from '../helpers/env';
import { harness, type Harness } from '../helpers/harness';
import { normalizeTelegram } from '../../adapters/telegram';
import type { InboundMessage } from '../../src/contracts/inbound-message';
import { sealRow } from '../../src/crypto/keyring';
import { verifyCaseLog } from '../../src/caselog/verify';

const load = (f: string) => JSON.parse(fs.readFileSync(path.join(__dirname, '../fixtures/telegram', `${f}.json`), 'utf8')) as unknown;

/** Every value of every row of every table the case log has, as text: what a dump would show. */
async function dumpCaseLog(h: Harness): Promise<string> {
  const { rows: tables } = await h.db.query<{ t: string }>(`SELECT table_name AS t FROM information_schema.tables WHERE table_schema = current_schema()`);
  let out = '';
  for (const { t } of tables) out += JSON.stringify((await h.db.query(`SELECT * FROM ${t}`)).rows);
  return out;
}

describe.each(BACKENDS)('shared contacts on %s', (backend) => {
  let h: Harness;
  beforeEach(async () => {
    h = await harness(backend, { conversation: { enabled: false } });
  });
  afterEach(async () => {
    await h.close();
  });

  test('a third party’s card is sealed beside the report; the sender’s own card leaves no number or name', async () => {
    const ctx = { account: '7000000001', receivedAt: new Date(), messageId: (p: readonly (string | number)[]) => h.keyring.messageId('telegram', p) };
    const other = normalizeTelegram(load('contact'), ctx) as InboundMessage;
    const self = normalizeTelegram(load('contact-self'), ctx) as InboundMessage;
    h.startWorker();
    await h.sink(other);
    await h.sink(self);
    await h.drained();

    const { rows } = await h.db.query<{ id: string; contact: unknown; contact_sealed: string | null }>('SELECT id, contact, contact_sealed FROM reports');
    const byId = new Map(rows.map((r) => [r.id, r]));
    expect(byId.get(other.id)!.contact).toEqual({ shared: 'other' });
    expect(h.keyring.unseal(byId.get(other.id)!.contact_sealed!, sealRow.contact(other.id))).toEqual({ name: 'Abu Ahmed', phone: '+9647712345678' });
    expect(byId.get(self.id)!.contact).toEqual({ shared: 'self' });
    expect(byId.get(self.id)!.contact_sealed).toBeNull();

    const dump = await dumpCaseLog(h);
    for (const clear of ['+9647700000001', '9647700000001', '+9647712345678', 'Abu Ahmed', 'Karim', '5511223344', '7788990011']) expect(dump).not.toContain(clear);
    expect((await verifyCaseLog(h.db)).ok).toBe(true);
  });
});
