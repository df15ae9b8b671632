/**
 * Issue 10, item 16: quarantined payloads stay sealed and whole, for a limited time; `show`
 * describes a payload's shape (keys, types, lengths) and never prints what an informant said, their
 * name, number or ids.
 */
import { BACKENDS } from '../helpers/env';
import { harness, type Harness } from '../helpers/harness';
import { quarantineVocabulary } from '../../adapters/registry';
import {
  addQuarantine,
  CORE_VOCABULARY,
  countQuarantine,
  formatQuarantineDetail,
  formatQuarantineList,
  listQuarantine,
  payloadShape,
  purgeQuarantine,
  showQuarantine,
  type QuarantineDetail,
} from '../../src/caselog/quarantine';

// Markers in every field that identifies an informant or carries their words.
const TEXT = 'MARKERTEXTqv7 the checkpoint moved';
const NAME = 'MARKERNAMEqv7';
const LAST = 'MARKERLASTqv7';
const USER = 'markeruserqv7';
const PHONE = '+9647700MARK07';
const FROM_ID = 6655443322;
const CHAT_ID = 6655443321;
const CONTACT_ID = 7788990055;
const MARKERS = [TEXT, 'MARKERTEXTqv7', NAME, LAST, USER, PHONE, '9647700', String(FROM_ID), String(CHAT_ID), String(CONTACT_ID), 'Abu', 'Ahmed'];

/** A Telegram update the normalizer refuses: its date does not fit a Date. */
const badUpdate = {
  update_id: 900777,
  message: {
    message_id: 4242,
    from: { id: FROM_ID, is_bot: false, first_name: NAME, last_name: LAST, username: USER, language_code: 'ar' },
    chat: { id: CHAT_ID, first_name: NAME, username: USER, type: 'private' },
    date: 9e15,
    text: TEXT,
    contact: { phone_number: PHONE, first_name: 'Abu', last_name: 'Ahmed', user_id: CONTACT_ID },
  },
};

/** An ingest line as `tiphub ingest` keeps it: the line's own text. */
const ingestLine = JSON.stringify({ id: 'l5', from: PHONE, name: NAME, text: 42, note: TEXT });

const noMarkers = (text: string) => {
  for (const m of MARKERS) expect(text).not.toContain(m);
};

describe.each(BACKENDS)('quarantine list, show and purge on %s', (backend) => {
  let h: Harness;
  beforeEach(async () => {
    h = await harness(backend);
    await addQuarantine(h.db, [
      { channel: 'telegram', source: 'update 900777', code: 'TIPHUB_MESSAGE_INVALID', reason: 'message: date out of range', payloadSealed: h.keyring.seal(badUpdate, 'quarantine') },
      {
        channel: 'simulator',
        source: 'tips.jsonl:5',
        code: 'TIPHUB_INGEST_LINE_INVALID',
        reason: 'text: expected string',
        payloadSealed: h.keyring.seal({ file: 'tips.jsonl', line: 5, text: ingestLine }, 'quarantine'),
      },
      {
        channel: 'simulator',
        source: 'tips.jsonl:2',
        code: 'TIPHUB_INGEST_LINE_INVALID',
        reason: 'not valid JSON',
        payloadSealed: h.keyring.seal({ file: 'tips.jsonl', line: 2, text: `{"id": "l2", "from": "${PHONE}", "text": "${TEXT}` }, 'quarantine'),
      },
      // What the intake worker keeps: the job's own sealed message, sealed for the intake queue.
      { channel: 'unknown', source: 'intake job 17', code: 'TIPHUB_MESSAGE_INVALID', reason: 'job data is not valid', payloadSealed: h.keyring.seal({ sender: PHONE, text: TEXT }, 'intake-job') },
      { channel: 'unknown', source: 'intake job 18', code: 'TIPHUB_MESSAGE_INVALID', reason: 'nothing kept', payloadSealed: null },
    ]);
  });
  afterEach(async () => {
    await h.close();
  });

  const ids = async () => (await listQuarantine(h.db)).map((r) => r.id).sort((a, b) => a - b);
  const show = async (i: number): Promise<QuarantineDetail> => (await showQuarantine(h.db, h.keyring, (await ids())[i]!, quarantineVocabulary))!;

  test('list: newest first, no payload, the sealed size only', async () => {
    const rows = await listQuarantine(h.db);
    expect(rows.map((r) => r.source)).toEqual(['intake job 18', 'intake job 17', 'tips.jsonl:2', 'tips.jsonl:5', 'update 900777']);
    expect(rows[4]).toEqual({
      id: expect.any(Number),
      at: expect.stringMatching(/^\d{4}-\d\d-\d\dT/),
      channel: 'telegram',
      source: 'update 900777',
      code: 'TIPHUB_MESSAGE_INVALID',
      reason: 'message: date out of range',
      sealedBytes: expect.any(Number),
    });
    expect(rows[0]!.sealedBytes).toBeNull();
    expect(await listQuarantine(h.db, { limit: 2 })).toHaveLength(2);
    const printed = JSON.stringify(rows) + formatQuarantineList(rows);
    noMarkers(printed);
    expect(printed).not.toMatch(/v2\.[^.]+\./); // no sealed value either
  });

  test('show: a Telegram update as keys, types and lengths, and the field the reason names; no value of the informant', async () => {
    const d = await show(0);
    expect(d).toMatchObject({ channel: 'telegram', field: 'message', sealedAs: 'quarantine', unsealError: null });
    const text = formatQuarantineDetail(d);
    noMarkers(text);
    noMarkers(JSON.stringify(d));
    // What a bug needs: which keys, which types, how long; the platform's own words (chat type).
    expect(text).toContain('update_id: integer, 6 digits');
    expect(text).toContain('date: integer, 16 digits');
    expect(text).toContain(`text: string of ${TEXT.length} chars`);
    expect(text).toContain(`phone_number: string of ${PHONE.length} chars`);
    expect(text).toContain(`first_name: string of ${NAME.length} chars`);
    expect(text).toContain('type: string of 7 chars = "private"');
    expect(text).toContain('is_bot: boolean false');
    expect(text).toMatch(/reason: +message: date out of range/);
  });

  test('show: an ingest line is described through its JSON, a broken one by where it breaks', async () => {
    const parsed = formatQuarantineDetail(await show(1));
    noMarkers(parsed);
    expect(parsed).toContain('field:   text');
    expect(parsed).toMatch(/text: string of \d+ chars, JSON:\n\s+object with 5 keys/);
    expect(parsed).toContain('text: integer, 2 digits');
    // A key no schema knows is not quoted (the sender chose it).
    expect(parsed).toContain(`#5 (unknown key of 4 chars): string of ${TEXT.length} chars`);
    expect(parsed).not.toContain('note');

    const broken = formatQuarantineDetail(await show(2));
    noMarkers(broken);
    expect(broken).toMatch(/text: string of \d+ chars, not valid JSON/);
  });

  test('show: the intake worker’s payload opens too; a missing payload, a wrong key and an unknown id are said plainly', async () => {
    const intake = await show(3);
    expect(intake.sealedAs).toBe('intake-job');
    noMarkers(formatQuarantineDetail(intake));
    expect(formatQuarantineDetail(await show(4))).toContain('payload: none was kept');

    // A payload altered in the database (or sealed under another secret) is not opened.
    const id = (await ids())[0]!;
    await h.db.query(`UPDATE quarantine SET payload_sealed = $2 WHERE id = $1`, [id, h.keyring.seal(badUpdate, 'elsewhere')]);
    const altered = (await showQuarantine(h.db, h.keyring, id, quarantineVocabulary))!;
    expect(altered).toMatchObject({ shape: null, sealedAs: null, unsealError: expect.stringContaining('could not be opened') });

    expect(await showQuarantine(h.db, h.keyring, 999_999, quarantineVocabulary)).toBeNull();
    expect(await showQuarantine(h.db, h.keyring, Number.NaN, quarantineVocabulary)).toBeNull();
  });

  test('purge: only entries older than the retention go; the others stay whole and sealed', async () => {
    const [a, b] = await ids();
    await h.db.query(`UPDATE quarantine SET at = now() - interval '91 days' WHERE id = $1`, [a]);
    await h.db.query(`UPDATE quarantine SET at = now() - interval '89 days' WHERE id = $1`, [b]);
    expect(await purgeQuarantine(h.db, 90)).toBe(1);
    expect(await countQuarantine(h.db)).toBe(4);
    expect((await ids())[0]).toBe(b);
    expect(await purgeQuarantine(h.db, 90)).toBe(0);
    // Still whole: the sealed payload opens to what was kept, for a retry.
    const { rows } = await h.db.query<{ payload_sealed: string }>('SELECT payload_sealed FROM quarantine WHERE id = $1', [b]);
    expect(h.keyring.unseal(rows[0]!.payload_sealed, 'quarantine')).toMatchObject({ line: 5, text: ingestLine });
    expect(await purgeQuarantine(h.db, 0)).toBe(4);
    await expect(purgeQuarantine(h.db, -1)).rejects.toMatchObject({ code: 'TIPHUB_CONFIG_INVALID' });
  });
});

describe('the shape of a payload', () => {
  test('only known field names are shown; other keys, which a sender may choose, by their length', () => {
    const s = JSON.stringify(payloadShape({ [`${NAME} ${LAST}`]: 1, [USER]: 2, message_id: 'x', many: Object.fromEntries(Array.from({ length: 80 }, (_, i) => [`user${i}${USER}`, i])) }, quarantineVocabulary));
    noMarkers(s);
    expect(s).toContain('message_id');
    expect(s).toContain('unknown key of 27 chars');
    expect(s).toContain('unknown key of 13 chars');
  });

  test("the core alone knows no platform's words: a channel's come from its module, through the registry", () => {
    const update = { update_id: 7, message: { chat: { type: 'private' } } };
    const bare = JSON.stringify(payloadShape(update, CORE_VOCABULARY));
    expect(bare).not.toContain('update_id');
    expect(bare).not.toContain('"private"');
    const composed = JSON.stringify(payloadShape(update, quarantineVocabulary));
    expect(composed).toContain('update_id');
    expect(composed).toContain('"value":"private"');
    // The core's own contract (an intake job's InboundMessage) is known without any channel.
    expect(JSON.stringify(payloadShape({ nativeId: 'x', origin: 'live' }, CORE_VOCABULARY))).toContain('"value":"live"');
  });

  test('deep or huge payloads are cut, not walked', () => {
    let deep: unknown = TEXT;
    for (let i = 0; i < 50; i++) deep = { a: deep };
    expect(JSON.stringify(payloadShape(deep, quarantineVocabulary))).toContain('nested too deep');
    const wide = payloadShape(Array.from({ length: 10_000 }, () => ({ text: TEXT })), quarantineVocabulary);
    expect(wide).toMatchObject({ t: 'array', length: 10_000 });
    expect(JSON.stringify(wide).length).toBeLessThan(2000);
  });
});
