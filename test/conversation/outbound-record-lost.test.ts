/**
 * A message sent whose record did not commit (the case log's connection ended between the send and
 * the record, as in a failover): the job's retry writes the record and does not send it again.
 */
import type { Db } from '../../src/caselog/db';
import { TiphubError } from '../../src/errors';
import { loadTexts } from '../../src/conversation/texts';
import { startOutboundWorker } from '../../workers/outbound/worker';
import { TEST_REDIS_URL, waitFor } from '../helpers/env';
import { harness, type Harness } from '../helpers/harness';

const CONV = {
  conversation: { ackDelayMs: 100, ackQuietMinutes: 10, floodPerMinute: 8, statusPerHour: 3, outboxSweepMs: 500 },
  outbound: { backoffMs: 100 },
};

describe('outbound record lost after the send, on postgres', () => {
  let h: Harness;
  let out: { close(): Promise<void> } | null = null;
  afterEach(async () => {
    await out?.close();
    await h?.close();
  });

  test('each message is sent once and recorded once', async () => {
    h = await harness('postgres', CONV);
    h.startWorker();
    // Every record of a sent message fails once, as a transaction whose connection was terminated.
    let failed = 0;
    const db: Db = {
      ...h.db,
      query: (sql, params) => h.db.query(sql, params),
      transaction: (fn) => {
        if (failed < 2) {
          failed++;
          return Promise.reject(new TiphubError('TIPHUB_CASELOG_UNAVAILABLE', 'the connection to PostgreSQL was lost during a transaction (57P01)'));
        }
        return h.db.transaction(fn);
      },
      close: () => h.db.close(),
    };
    out = startOutboundWorker({ cfg: h.cfg, redis: TEST_REDIS_URL, db, keyring: h.keyring, adapter: h.adapter, texts: loadTexts(), log: h.log });
    const ali = h.informant('+9647701000077');
    await ali.say('Convoy of trucks near the river bridge right now');
    await ali.next(2);
    await waitFor(async () => {
      const { rows } = await h.db.query<{ n: number }>(
        `SELECT ((SELECT count(*) FROM events WHERE kind = 'message.sent') + (SELECT count(*) FROM informant_log WHERE kind = 'message.sent'))::int AS n`,
      );
      return rows[0]!.n >= 2;
    }, 15_000, 50);
    await new Promise((r) => setTimeout(r, 1500)); // a second send would show by now
    expect(failed).toBe(2);
    expect(ali.inbox).toHaveLength(2);
    const { rows } = await h.db.query<{ e: number; l: number }>(
      `SELECT (SELECT count(*) FROM events WHERE kind = 'message.sent')::int AS e, (SELECT count(*) FROM informant_log WHERE kind = 'message.sent')::int AS l`,
    );
    expect(rows[0]).toEqual({ e: 1, l: 1 });
  }, 60_000);
});
