import { sealRow } from '../../src/crypto/keyring';
import { BACKENDS, dumpPrefix, waitFor, TEST_REDIS_URL } from '../helpers/env';
import { harness, type Harness } from '../helpers/harness';
import { verifyCaseLog } from '../../src/caselog/verify';
import { queueReply, setBlocked } from '../../src/conversation/operator';
import { OutboxRelay } from '../../src/queue/outbound-queue';
import { TiphubError } from '../../src/errors';

const CONV = {
  conversation: { ackDelayMs: 300, ackQuietMinutes: 10, floodPerMinute: 8, statusPerHour: 3, outboxSweepMs: 500 },
  outbound: { backoffMs: 100 },
};
const settle = (ms = 1200) => new Promise((r) => setTimeout(r, ms));

async function caseRefOf(h: Harness, pseudonym: string): Promise<string> {
  const { rows } = await h.db.query<{ ref: string }>(
    'SELECT c.ref FROM reports r JOIN cases c ON c.id = r.case_id WHERE r.informant = $1 ORDER BY r.sent_at LIMIT 1',
    [pseudonym],
  );
  return rows[0]!.ref;
}

async function events(h: Harness, ref: string): Promise<{ kind: string; data: Record<string, unknown> }[]> {
  const { rows } = await h.db.query<{ kind: string; data: Record<string, unknown> }>(
    'SELECT e.kind, e.data FROM events e JOIN cases c ON c.id = e.case_id WHERE c.ref = $1 ORDER BY e.seq',
    [ref],
  );
  return rows;
}

describe.each(BACKENDS)('conversation on %s', (backend) => {
  let h: Harness;
  beforeEach(async () => {
    h = await harness(backend, CONV);
    h.startWorker();
    h.startOutbound();
  });
  afterEach(async () => {
    await h.close();
  });

  test('a new informant gets one welcome and one acknowledgement with the right reference; a burst gets one acknowledgement', async () => {
    const ali = h.informant('+9647701000001');
    await ali.say('طائرة مسيرة فوق جسر الموصل الآن');
    const [welcome, ack] = await ali.next(2);
    expect(welcome!.text).toContain('هذا خط البلاغات');
    const ref = await caseRefOf(h, ali.pseudonym);
    expect(ack!.text).toBe(`تم الاستلام. رقم بلاغك: \u2068${ref}\u2069`);

    // Five quick messages from another informant (follow-ups of one case): one welcome, one ack.
    const sara = h.informant('+9647701000002');
    for (let i = 0; i < 5; i++) await sara.say(`Photo ${i} of the convoy near the airport road`);
    await sara.next(2);
    await settle();
    expect(sara.inbox).toHaveLength(2);
    expect(sara.inbox[0]!.text).toContain('This is the tip line'); // detected English
    expect(sara.inbox[1]!.text).toBe(`Received. Your reference: ${await caseRefOf(h, sara.pseudonym)}`);

    // A later message on the same case within the quiet period: no new welcome, no second ack.
    await ali.say('The drone is still there, circling');
    await settle();
    expect(ali.inbox).toHaveLength(2);
    const ev = await events(h, ref);
    expect(ev.filter((e) => e.kind === 'message.sent').map((e) => e.data.kind)).toEqual(['ack']);
    const { rows } = await h.db.query<{ kind: string }>(
      `SELECT data->>'kind' AS kind FROM informant_log WHERE pseudonym = $1 AND kind = 'message.sent'`,
      [ali.pseudonym],
    );
    expect(rows.map((r) => r.kind)).toEqual(['welcome']);
    expect((await verifyCaseLog(h.db)).ok).toBe(true);
  });

  test('/status with a valid code, a wrong code, too many tries; /lang; commands are not reports', async () => {
    const u = h.informant('+9647701000003');
    await u.say('انفجار قرب قلعة كركوك الليلة');
    await u.next(2);
    const ref = await caseRefOf(h, u.pseudonym);
    await u.say(`/status ${ref.toLowerCase()}`);
    expect((await u.next(3))[2]!.text).toBe(`\u2068${ref}\u2069: تم الاستلام.`);
    await u.say('/lang fr');
    expect((await u.next(4))[3]!.text).toBe('Nous vous répondrons désormais en français.');
    await u.say('/status ZZZ-ZZZZ');
    expect((await u.next(5))[4]!.text).toBe('Aucun dossier ne porte cette référence. Vérifiez-la et réessayez.');
    await u.say(`status ${ref}`); // a channel without slash commands: the same words
    expect((await u.next(6))[5]!.text).toBe(`${ref} : reçu.`);
    await u.say(`/status ${ref}`); // fourth query this hour, over the limit of 3
    expect((await u.next(7))[6]!.text).toBe('Trop de demandes. Réessayez plus tard.');
    await u.say('/help');
    expect((await u.next(8))[7]!.text).toContain('/status CODE');

    expect(await h.count('SELECT count(*) AS n FROM reports WHERE informant = $1', [u.pseudonym])).toBe(1);
    expect(await h.count(`SELECT count(*) AS n FROM informant_log WHERE pseudonym = $1 AND kind = 'command'`, [u.pseudonym])).toBe(6);
    // The answers about a case are in its chain; the others on the informant.
    const sent = (await events(h, ref)).filter((e) => e.kind === 'message.sent').map((e) => e.data.kind);
    expect(sent).toEqual(['ack', 'status', 'status']);
    expect((await verifyCaseLog(h.db)).ok).toBe(true);
  });

  test('/stop erases the sealed address; a later reply is refused with a clear error; /start brings them back', async () => {
    const u = h.informant('+9647701000004');
    await u.say('مسلحون ملثمون عند سيطرة تكريت');
    await u.next(2);
    const ref = await caseRefOf(h, u.pseudonym);
    await u.say('/stop');
    expect((await u.next(3))[2]!.text).toContain('لن تصلك رسائل منا');
    const { rows } = await h.db.query<{ address_sealed: string | null; stopped_at: Date | null }>(
      'SELECT address_sealed, stopped_at FROM informants WHERE pseudonym = $1',
      [u.pseudonym],
    );
    expect(rows[0]).toEqual({ address_sealed: null, stopped_at: expect.any(Date) });
    // The goodbye carried the address to its job; once queued, the outbox keeps no copy.
    expect(await h.count(`SELECT count(*) AS n FROM outbox WHERE pseudonym = $1 AND kind = 'stopped'`, [u.pseudonym])).toBe(1);
    expect(await h.count(`SELECT count(*) AS n FROM outbox WHERE pseudonym = $1 AND data ? 'addressSealed'`, [u.pseudonym])).toBe(0);

    let err: unknown;
    try {
      await queueReply(h.db, { ref, text: 'Can you tell us more?', actor: 'op' });
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(TiphubError);
    expect(err).toMatchObject({ code: 'TIPHUB_INFORMANT_UNREACHABLE', message: expect.stringContaining('asked not to be contacted (/stop)') });

    // Still recorded, still silent, address still erased.
    await u.say('One more thing about the checkpoint');
    await settle();
    expect(u.inbox).toHaveLength(3);
    expect(await h.count('SELECT count(*) AS n FROM informants WHERE pseudonym = $1 AND address_sealed IS NULL', [u.pseudonym])).toBe(1);
    expect(await h.count('SELECT count(*) AS n FROM reports WHERE informant = $1', [u.pseudonym])).toBe(2);

    await u.say('/start');
    expect((await u.next(4))[3]!.text).toContain('هذا خط البلاغات');
  });

  test('a reply reaches the informant through the outbound queue; a retryable failure is retried; a permanent one marks the informant unreachable', async () => {
    let failNext = 1;
    const u = h.informant('+9647701000005', (m) => {
      if (m.text.startsWith('Question') && failNext-- > 0) throw new TiphubError('TIPHUB_SEND_FAILED', 'network down');
    });
    await u.say('Rockets launched from the farms east of Baghdad');
    await u.next(2);
    const ref = await caseRefOf(h, u.pseudonym);
    const relay = new OutboxRelay(TEST_REDIS_URL, h.cfg, h.keyring, h.caselog.instance);
    try {
      const r = await queueReply(h.db, { ref, text: 'Question: how many rockets did you see?', actor: 'op-amina' });
      // The outbox names the sealed text; the words are nowhere in clear in the case log.
      expect(await h.count(`SELECT count(*) AS n FROM outbox WHERE data::text LIKE '%rockets did you see%'`)).toBe(0);
      expect(await h.count(`SELECT count(*) AS n FROM events WHERE data::text LIKE '%rockets did you see%'`)).toBe(0);
      await relay.relay(h.db, r.outbox);
      expect((await u.next(3))[2]!.text).toBe('Question: how many rockets did you see?');
      const job = await waitFor(async () => (await h.outboundQueue.getJobs(['completed'])).find((j) => j.name === 'reply'));
      expect(job.attemptsMade).toBe(2); // failed once, then sent

      // Another informant blocks the bot: the platform refuses for good.
      const v = h.informant('+9647701000006', (m) => {
        if (m.text.startsWith('Second')) throw new TiphubError('TIPHUB_RECIPIENT_UNREACHABLE', 'bot blocked by user');
      });
      await v.say('Gunfire near the market in Mosul');
      await v.next(2);
      const ref2 = await caseRefOf(h, v.pseudonym);
      await relay.relay(h.db, (await queueReply(h.db, { ref: ref2, text: 'Second question', actor: 'op' })).outbox);
      await waitFor(async () => (await h.count('SELECT count(*) AS n FROM informants WHERE pseudonym = $1 AND unreachable_at IS NOT NULL', [v.pseudonym])) === 1);
      await waitFor(async () => (await events(h, ref2)).some((e) => e.kind === 'message.failed'));
      const failed = (await h.outboundQueue.getJobs(['failed']))[0]!;
      expect(failed.attemptsMade).toBe(1);
      expect(failed.failedReason).toMatch(/^TIPHUB_RECIPIENT_UNREACHABLE/);
      await expect(queueReply(h.db, { ref: ref2, text: 'Third', actor: 'op' })).rejects.toMatchObject({ code: 'TIPHUB_INFORMANT_UNREACHABLE' });

      // A message the platform refuses for itself (too long, say) fails alone: the informant stays reachable.
      const w = h.informant('+9647701000013', (m) => {
        if (m.text.startsWith('Too long')) throw new TiphubError('TIPHUB_SEND_FAILED', 'message is too long', { retryable: false });
      });
      await w.say('Shots near the station in Samarra');
      await w.next(2);
      const ref3 = await caseRefOf(h, w.pseudonym);
      await relay.relay(h.db, (await queueReply(h.db, { ref: ref3, text: 'Too long question', actor: 'op' })).outbox);
      await waitFor(async () => (await events(h, ref3)).some((e) => e.kind === 'message.failed'));
      expect(await h.count('SELECT count(*) AS n FROM informants WHERE pseudonym = $1 AND unreachable_at IS NULL', [w.pseudonym])).toBe(1);
    } finally {
      await relay.close();
    }
    const ev = await events(h, ref);
    // A fresh rocket report at a named place: the rules raise the case's priority, an event too.
    expect(ev.map((e) => e.kind)).toEqual(['case.opened', 'report.added', 'case.priority', 'message.sent', 'reply.queued', 'message.sent']);
    // The event names the text it sent by id and keyed hash; the text itself is sealed in its row.
    const sent = ev.at(-1)!.data as { kind: string; to: string; text: string; textHash: string };
    expect(sent).toMatchObject({ kind: 'reply', to: u.pseudonym, text: expect.stringMatching(/^t[0-9a-f]{24}$/), textHash: expect.stringMatching(/^[0-9a-f]{64}$/) });
    expect(JSON.stringify(ev)).not.toContain('how many rockets');
    const { rows: texts } = await h.db.query<{ text_sealed: string }>('SELECT text_sealed FROM case_texts WHERE id = $1', [sent.text]);
    expect(h.keyring.unseal(texts[0]!.text_sealed, sealRow.text(sent.text))).toBe('Question: how many rockets did you see?');
    expect((await verifyCaseLog(h.db)).ok).toBe(true);
  });

  test('a reply to a case with several informants needs a choice; --report answers that report', async () => {
    const a = h.informant('+9647701000007');
    const b = h.informant('+9647701000008');
    const text = 'Car bomb found near the north gate of the university';
    await a.say(text);
    await b.say(text);
    await a.next(2);
    await b.next(2);
    const ref = await caseRefOf(h, a.pseudonym);
    expect(await caseRefOf(h, b.pseudonym)).toBe(ref);
    await expect(queueReply(h.db, { ref, text: 'Thank you', actor: 'op' })).rejects.toMatchObject({
      code: 'TIPHUB_REPLY_AMBIGUOUS',
      message: expect.stringContaining(b.pseudonym),
    });
    expect(await h.count(`SELECT count(*) AS n FROM outbox WHERE kind = 'reply'`)).toBe(0);
    const { rows } = await h.db.query<{ id: string; native_id: string }>('SELECT id, native_id FROM reports WHERE informant = $1', [b.pseudonym]);
    const r = await queueReply(h.db, { ref, text: 'Where exactly?', report: rows[0]!.id, actor: 'op' });
    expect(r.queued).toEqual([{ pseudonym: b.pseudonym, channel: 'simulator' }]);
    const all = await queueReply(h.db, { ref, text: 'Stay safe', all: true, actor: 'op' });
    expect(all.queued.map((q) => q.pseudonym).sort()).toEqual([a.pseudonym, b.pseudonym].sort());
    // Nobody relayed these: the worker's outbox sweeper does.
    await b.next(4, 20_000);
    expect(b.inbox.find((m) => m.text === 'Where exactly?')).toMatchObject({ replyTo: rows[0]!.native_id });
    await a.next(3, 20_000);
    expect(a.inbox.map((m) => m.text)).toContain('Stay safe');
  });

  test('blocked informants are recorded as blocked and get no answer; imports stay silent', async () => {
    const u = h.informant('+9647701000009');
    await u.say('Suspicious truck parked near the school in Basra');
    await u.next(2);
    await setBlocked(h.db, u.pseudonym, true, 'op');
    await u.say('Another truck arrived');
    await u.say('/status AAA-AAAA');
    await settle();
    expect(u.inbox).toHaveLength(2);
    expect(await h.count('SELECT count(*) AS n FROM reports WHERE informant = $1 AND blocked', [u.pseudonym])).toBe(1);

    const imp = h.informant('+9647701000010');
    for (let i = 0; i < 12; i++) await imp.say(`Imported tip number ${i} about the dam`, 'import');
    await h.drained();
    await settle();
    expect(imp.inbox).toHaveLength(0);
    expect(await h.count('SELECT count(*) AS n FROM reports WHERE informant = $1', [imp.pseudonym])).toBe(12);
    expect(
      await h.count(`SELECT count(*) AS n FROM informants WHERE pseudonym = $1 AND welcomed_at IS NULL AND NOT ('flood' = ANY (flags))`, [imp.pseudonym]),
    ).toBe(1);
  });

  test('a flooding informant: everything recorded, flagged, no more acknowledgements; others are not slowed', async () => {
    const flooder = h.informant('+9647701000011');
    const other = h.informant('+9647701000012');
    const N = 40;
    const started = Date.now();
    await Promise.all(Array.from({ length: N }, (_, i) => flooder.say(`Flood message ${i} about the same thing again and again`)));
    const t0 = Date.now();
    await other.say('Fire at the fuel depot near Baiji');
    await waitFor(async () => (await h.count('SELECT count(*) AS n FROM reports WHERE informant = $1', [other.pseudonym])) === 1, 30_000, 5);
    const otherLatency = Date.now() - t0;
    await h.drained();
    console.log(
      `flood test (${backend}): ${N} messages from one sender enqueued in ${t0 - started} ms; another informant's report committed ${otherLatency} ms after it was sent`,
    );
    expect(await h.count('SELECT count(*) AS n FROM reports WHERE informant = $1', [flooder.pseudonym])).toBe(N);
    expect(await h.count('SELECT count(*) AS n FROM reports WHERE informant = $1 AND flooded', [flooder.pseudonym])).toBe(N - 8);
    expect(await h.count(`SELECT count(*) AS n FROM informants WHERE pseudonym = $1 AND 'flood' = ANY (flags)`, [flooder.pseudonym])).toBe(1);
    await other.next(2);
    await settle();
    expect(flooder.inbox).toHaveLength(2); // welcome and one acknowledgement, nothing more

    // No address, name or tip text in Redis or in the logs during all this.
    const dump = await dumpPrefix(h.prefix);
    for (const marker of ['+96477010000', 'Flood message', 'fuel depot', 'Baiji']) expect(dump).not.toContain(marker);
    expect(h.lines.join('')).not.toMatch(/\+96477010000|Flood message|fuel depot/);
  });
});

test('two case logs on one Redis prefix do not swallow each other’s messages (outbox ids restart per case log)', async () => {
  const first = await harness('pglite', CONV);
  const second = await harness('postgres', { ...CONV, queue: { prefix: first.prefix } });
  try {
    for (const h of [first, second]) {
      h.startWorker();
      h.startOutbound();
      const u = h.informant('+9647701000099');
      await u.say('Convoy of white pickups heading to the dam');
      const [welcome] = await u.next(2);
      expect(welcome!.text).toContain('This is the tip line');
      // The first installation is gone; what it left in Redis stays.
      await h.stopWorker();
      await h.stopOutbound();
    }
    expect(first.caselog.instance).not.toBe(second.caselog.instance);
  } finally {
    await second.close();
    await first.close();
  }
});
