/**
 * What channels say about reports and replies (ports.events.record → src/caselog/channel-events.ts),
 * on both back ends: a reaction on its report's case, once; a retraction by the report's own
 * sender, applied even when it comes before its report; a delivery status once per status; a
 * second address of an informant; and a report whose platform id names its sender quoted in
 * the acknowledgement by its full id (opened from reports.native_sealed), never stored in clear.
 */
import { BACKENDS, dumpPrefix, TEST_REDIS_URL } from '../helpers/env';
import { OutboxRelay } from '../../src/queue/outbound-queue';
import { queueReply, setBlocked } from '../../src/conversation/operator';
import { loadTexts, render } from '../../src/conversation/texts';
import { DEFAULT_LANGUAGE } from '../../src/conversation/language';
import { harness, type Harness } from '../helpers/harness';
import { recordChannelEvent } from '../../src/caselog/channel-events';
import { sealRow } from '../../src/crypto/keyring';
import type { InboundMessage } from '../../src/contracts/inbound-message';

const CONV = { conversation: { ackDelayMs: 100, ackQuietMinutes: 10, outboxSweepMs: 500 }, outbound: { backoffMs: 100 } };
const WAMID = 'wamid.HBgMOTY0NzcwMTIzNDU2FQIAEhggQTVCM0Y3RkE5QjlCMjc0QjE1RTJBQjY4NkI2MEQzNzUA';
const ADDRESS = '9647701234567';

describe.each(BACKENDS)('channel events on %s', (backend) => {
  let h: Harness;
  beforeEach(async () => {
    h = await harness(backend, CONV);
    h.startWorker();
  });
  afterEach(async () => {
    await h.close();
  });

  /** A simulator message standing in for a channel whose ids name the sender: nativeId hashed, the full id in platformRef. */
  const hashedMessage = (text: string, platformId: string, from = ADDRESS): InboundMessage => ({
    ...h.message({ id: platformId, from, text }),
    nativeId: h.keyring.messageId('simulator', ['wa', platformId]),
    platformRef: platformId,
  });
  const native = (platformId: string) => h.keyring.messageId('simulator', ['wa', platformId]);
  const record = (e: Parameters<typeof recordChannelEvent>[3]) => recordChannelEvent(h.db, h.keyring, 'simulator', e);
  const caseEvents = async (kind: string) =>
    (await h.db.query<{ data: Record<string, unknown> }>('SELECT data FROM events WHERE kind = $1 ORDER BY case_id, seq', [kind])).rows.map((r) => r.data);

  test('the platform id is sealed with its report, quoted in an operator reply to it, and nowhere in clear', async () => {
    h.startOutbound();
    const informant = h.informant(ADDRESS);
    await h.sink(hashedMessage('Armed men at the checkpoint on the old bridge', WAMID));
    await informant.next(2); // welcome, acknowledgement
    const { rows } = await h.db.query<{ id: string; native_id: string; native_sealed: string; ref: string }>(
      'SELECT r.id, r.native_id, r.native_sealed, c.ref FROM reports r JOIN cases c ON c.id = r.case_id',
    );
    // An operator answers that report: the reply quotes it by the platform's own id.
    const relay = new OutboxRelay(TEST_REDIS_URL, h.cfg, h.keyring, h.caselog.instance);
    try {
      await relay.relay(h.db, (await queueReply(h.db, { ref: rows[0]!.ref, text: 'Which bridge?', actor: 'op', report: rows[0]!.id })).outbox);
      const [, , reply] = await informant.next(3);
      expect(reply).toMatchObject({ text: 'Which bridge?', replyTo: WAMID });
    } finally {
      await relay.close();
    }
    expect(rows).toHaveLength(1);
    expect(rows[0]!.native_id).toBe(native(WAMID));
    expect(h.keyring.unseal(rows[0]!.native_sealed, sealRow.nativeRef(rows[0]!.id))).toBe(WAMID);
    // Not in a clear column, not in Redis, not in a log line.
    const clear = await h.db.query<{ t: string }>(`SELECT concat_ws(' ', id, native_id, reply_to, text, raw_sealed IS NULL) AS t FROM reports`);
    expect(clear.rows[0]!.t).not.toContain(WAMID);
    const dump = await dumpPrefix(h.cfg.queue.prefix);
    expect(dump).not.toContain(WAMID);
    expect(dump).not.toContain(ADDRESS);
    expect(h.lines.join('\n')).not.toContain(WAMID);
  });

  test('a reaction lands on its case once, the emoji sealed; a reaction to nothing of ours is unmatched', async () => {
    await h.sink(hashedMessage('Convoy of trucks heading north on the highway', 'wamid.A1'));
    await h.drained();
    const reaction = { kind: 'reaction' as const, id: 'r1', sender: ADDRESS, target: native('wamid.A1'), emoji: '👍', at: '2026-06-10T06:01:00Z' };
    await expect(record(reaction)).resolves.toBe('recorded');
    await expect(record(reaction)).resolves.toBe('again');
    await expect(record({ ...reaction, id: 'r2', target: native('wamid.unknown') })).resolves.toBe('unmatched');
    const evs = await caseEvents('report.reaction');
    expect(evs).toHaveLength(1);
    expect(evs[0]).toMatchObject({ by: h.keyring.pseudonym('simulator', ADDRESS), removed: false });
    expect(JSON.stringify(evs)).not.toContain('👍');
    const { rows } = await h.db.query<{ id: string; text_sealed: string }>(`SELECT id, text_sealed FROM case_texts WHERE kind = 'reaction'`);
    expect(h.keyring.unseal(rows[0]!.text_sealed, sealRow.text(rows[0]!.id))).toBe('👍');
  });

  test('a retraction by the sender marks the report, even one that comes before it; another sender cannot retract it', async () => {
    await h.sink(hashedMessage('Shots fired near the market', 'wamid.B1'));
    await h.drained();
    const retraction = { kind: 'retraction' as const, id: 'x1', sender: '9647700000009', target: native('wamid.B1'), at: '2026-06-10T06:02:00Z' };
    // Someone else: kept pending (it is no one's report of theirs), the report untouched.
    await expect(record(retraction)).resolves.toBe('pending');
    await expect(record({ ...retraction, id: 'x2', sender: ADDRESS })).resolves.toBe('recorded');
    await expect(record({ ...retraction, id: 'x2', sender: ADDRESS })).resolves.toBe('again');
    expect(await h.count(`SELECT count(*) AS n FROM reports WHERE retracted_at IS NOT NULL`)).toBe(1);
    expect(await caseEvents('report.retracted')).toHaveLength(1);

    // Before its report: pending, then applied when the report is written.
    await expect(record({ ...retraction, id: 'x3', sender: ADDRESS, target: native('wamid.B2') })).resolves.toBe('pending');
    await h.sink(hashedMessage('Second report, deleted at once', 'wamid.B2'));
    await h.drained();
    const { rows } = await h.db.query<{ native_id: string; retracted: boolean }>('SELECT native_id, retracted_at IS NOT NULL AS retracted FROM reports ORDER BY sent_at');
    expect(rows.map((r) => r.retracted)).toEqual([true, true]);
    expect(await caseEvents('report.retracted')).toHaveLength(2);
    // The stranger's retraction never applies.
    expect(await h.count(`SELECT count(*) AS n FROM channel_events WHERE id = 'x1' AND applied_at IS NULL`)).toBe(1);

    // An edit of a deleted message, written later (the same native id, its own report): marked too.
    await h.sink({ ...hashedMessage('Edited text of the deleted report', 'wamid.B1'), id: h.keyring.messageId('simulator', ['edit', 'wamid.B1']), edited: true });
    await h.drained();
    expect(await h.count(`SELECT count(*) AS n FROM reports WHERE native_id = $1 AND retracted_at IS NULL`, [native('wamid.B1')])).toBe(0);
    expect(await h.count(`SELECT count(*) AS n FROM reports WHERE native_id = $1`, [native('wamid.B1')])).toBe(2);
  });

  test('delivery statuses once each; a second address maps to the informant first seen, with an entry in its log', async () => {
    const status = { kind: 'delivery' as const, sentId: 'mabc', status: 'delivered' as const, at: '2026-06-10T06:03:00Z' };
    await expect(record(status)).resolves.toBe('recorded');
    await expect(record(status)).resolves.toBe('again');
    await expect(record({ ...status, status: 'failed', error: { code: 'TIPHUB_WINDOW_CLOSED', reason: 'the informant must write first' } })).resolves.toBe('recorded');
    expect(await h.count('SELECT count(*) AS n FROM deliveries')).toBe(2);

    await h.sink(hashedMessage('First message from the old number', 'wamid.C1'));
    await h.drained();
    const alias = { kind: 'alias' as const, id: 'a1', from: ADDRESS, to: '9647709999999', reason: 'changed-number' as const, at: '2026-06-10T06:04:00Z' };
    await expect(record(alias)).resolves.toBe('recorded');
    await expect(record(alias)).resolves.toBe('again');
    // The reverse is the same informant already.
    await expect(record({ ...alias, id: 'a2', from: '9647709999999', to: ADDRESS })).resolves.toBe('again');
    const root = h.keyring.pseudonym('simulator', ADDRESS);
    const { rows } = await h.db.query<{ pseudonym: string; informant: string }>('SELECT pseudonym, informant FROM informant_aliases');
    expect(rows).toEqual([{ pseudonym: h.keyring.pseudonym('simulator', '9647709999999'), informant: root }]);
    expect(await h.count(`SELECT count(*) AS n FROM informant_log WHERE pseudonym = $1 AND kind = 'informant.alias'`, [root])).toBe(1);

    // A retraction from the new address of a report written under the old one applies.
    await expect(record({ kind: 'retraction', id: 'x9', sender: '9647709999999', target: native('wamid.C1'), at: '2026-06-10T06:05:00Z' })).resolves.toBe('recorded');
  });

  test('opening the chat greets a new informant once; a message the platform could not pass on is answered, not kept', async () => {
    h.startOutbound();
    const informant = h.informant(ADDRESS);
    const opts = { conversation: true };
    const first = { kind: 'first-contact' as const, id: 'w1', sender: ADDRESS, name: 'Karim', at: '2026-06-10T06:00:00Z' };
    await expect(recordChannelEvent(h.db, h.keyring, 'simulator', first, opts)).resolves.toBe('recorded');
    await expect(recordChannelEvent(h.db, h.keyring, 'simulator', first, opts)).resolves.toBe('again');
    const [welcome] = await informant.next(1);
    expect(welcome!.text).toBe(render(loadTexts(), DEFAULT_LANGUAGE, 'welcome', {}));
    await expect(
      recordChannelEvent(h.db, h.keyring, 'simulator', { kind: 'unreadable', id: 'u1', sender: ADDRESS, at: '2026-06-10T06:00:05Z' }, opts),
    ).resolves.toBe('recorded');
    const [, unreadable] = await informant.next(2);
    expect(unreadable!.text).toBe(render(loadTexts(), DEFAULT_LANGUAGE, 'unreadable', {}));
    await new Promise((r) => setTimeout(r, 800));
    expect(informant.inbox).toHaveLength(2); // one welcome only
    expect(await h.count('SELECT count(*) AS n FROM reports')).toBe(0);
    // Known from now on, with the address sealed as intake keeps it.
    const { rows } = await h.db.query<{ address_sealed: string; welcomed: boolean }>('SELECT address_sealed, welcomed_at IS NOT NULL AS welcomed FROM informants WHERE pseudonym = $1', [informant.pseudonym]);
    expect(rows[0]!.welcomed).toBe(true);
    expect(h.keyring.unseal(rows[0]!.address_sealed, sealRow.address(informant.pseudonym))).toEqual({ address: ADDRESS, name: 'Karim' });
  });

  test("/stop takes the full ids of what we sent them with the address", async () => {
    const informant = h.informant(ADDRESS);
    await informant.say('Tanks on the ring road near the university');
    await h.drained();
    await h.db.query(`INSERT INTO sent_messages (channel, sent_id, outbound, pseudonym, ref_sealed) VALUES ('simulator', 'mfeed', 'ob-x-1', $1, 'sealed')`, [informant.pseudonym]);
    await informant.say('/stop');
    await h.drained();
    const { rows } = await h.db.query<{ ref_sealed: string | null }>('SELECT ref_sealed FROM sent_messages WHERE pseudonym = $1', [informant.pseudonym]);
    expect(rows).toEqual([{ ref_sealed: null }]);
  });

  test('a second address is the same person: no second welcome, a block on the first applies, a reply on an old case goes to the new address', async () => {
    h.startOutbound();
    const before = h.informant(ADDRESS);
    const after = h.informant('9647709999999');
    await before.say('Explosion heard near the old market, smoke rising');
    await before.next(2); // welcome, acknowledgement
    await expect(record({ kind: 'alias', id: 'a7', from: ADDRESS, to: '9647709999999', reason: 'changed-number', at: new Date().toISOString() })).resolves.toBe('recorded');
    await after.say('Second explosion, same place, ten minutes later');
    const [ack] = await after.next(1);
    expect(ack!.text).toMatch(/^(Received|تم الاستلام)/);
    await new Promise((r) => setTimeout(r, 800));
    expect(after.inbox).toHaveLength(1); // no second welcome

    // An operator answers the first case, written under the old number: it reaches the new one.
    const { rows } = await h.db.query<{ ref: string }>('SELECT c.ref FROM reports r JOIN cases c ON c.id = r.case_id WHERE r.informant = $1', [before.pseudonym]);
    const relay = new OutboxRelay(TEST_REDIS_URL, h.cfg, h.keyring, h.caselog.instance);
    try {
      await relay.relay(h.db, (await queueReply(h.db, { ref: rows[0]!.ref, text: 'Are you safe?', actor: 'op' })).outbox);
      const [, reply] = await after.next(2);
      expect(reply!.text).toBe('Are you safe?');
      expect(before.inbox).toHaveLength(2);
    } finally {
      await relay.close();
    }

    // Blocked under the first address: the second gets nothing more.
    await setBlocked(h.db, before.pseudonym, true, 'op');
    await after.say('A third message, on another subject entirely: the bakery is open');
    await h.drained();
    await new Promise((r) => setTimeout(r, 800));
    expect(after.inbox).toHaveLength(2);
    const { rows: flagged } = await h.db.query<{ blocked: boolean }>('SELECT blocked FROM reports WHERE informant = $1 ORDER BY sent_at DESC LIMIT 1', [after.pseudonym]);
    expect(flagged[0]!.blocked).toBe(true);
  });
});
