/**
 * Issue 12, done when: a new user sets the Cloud API variables, points Meta's webhook at the hub
 * and gets acknowledgements and replies. The real program (`tiphub start`, PostgreSQL, Redis)
 * against the fake Graph API (test/helpers/graph-api-fake.ts): Meta's verification, a signed
 * Arabic tip delivered three times (one report, one welcome, one acknowledgement), an operator's
 * reply from the command line quoting the report, its statuses on the reply (delivered, then the
 * 24-hour window's failure), and nothing identifying in Redis or on the hub's output.
 */
import { capturingLogger, dumpPrefix, freePort, setup, waitFor, type TestSetup } from '../helpers/env';
import { runCli, startCli, type Background } from '../helpers/cli';
import { FAKE_APP_SECRET, FAKE_PHONE_NUMBER_ID, FAKE_VERIFY_TOKEN, GraphApiFake, wamidFor, webhookBody } from '../helpers/graph-api-fake';
import { openCaseLogAccess, type CaseLogAccess } from '../../app/hub/access';
import { loadConfig } from '../../app/config';
import { caseRecord } from '../../src/dashboard/case-history';

jest.setTimeout(120_000);

const NUMBER = '9647701234567';
const NAME = 'Karim Ali';
const TIP = 'رأيت ثلاث سيارات عسكرية قرب الجسر/المدخل الشمالي';

describe('WhatsApp Cloud API, end to end', () => {
  let s: TestSetup;
  let api: GraphApiFake;
  let env: Record<string, string>;
  let hub: Background | null = null;
  let access: CaseLogAccess | null = null;
  let url: string;

  beforeAll(async () => {
    s = await setup('postgres', { conversation: { ackDelayMs: 200, outboxSweepMs: 500 }, outbound: { backoffMs: 100 } });
    api = new GraphApiFake();
    await api.start();
    const port = await freePort();
    url = `http://127.0.0.1:${port}/whatsapp/webhook`;
    env = {
      ...s.env,
      TIPHUB_WHATSAPP_MODE: 'cloud',
      TIPHUB_WHATSAPP_CLOUD_TOKEN: api.token,
      TIPHUB_WHATSAPP_APP_SECRET: FAKE_APP_SECRET,
      TIPHUB_WHATSAPP_VERIFY_TOKEN: FAKE_VERIFY_TOKEN,
      TIPHUB_WHATSAPP_PHONE_NUMBER_ID: FAKE_PHONE_NUMBER_ID,
      TIPHUB_WHATSAPP_API_ROOT: api.apiRoot,
      TIPHUB_WHATSAPP_WEBHOOK_LISTEN: `127.0.0.1:${port}`,
    };
  });
  afterAll(async () => {
    await access?.close();
    await hub?.stop('SIGKILL');
    await api?.stop();
    await s?.cleanup();
  });

  test('verification, a tip, a reply and its statuses', async () => {
    hub = startCli(['start'], env);
    await hub.waitForOutput(/tiphub is running/);
    const status = await waitFor(async () => {
      const r = await runCli(['status', '--json'], env);
      const wa = (JSON.parse(r.stdout) as { channels: { channel: string; state: string | null }[] }).channels.find((c) => c.channel === 'whatsapp');
      return wa?.state === 'connected' ? wa : null;
    }, 30_000, 200);
    expect(status).toMatchObject({ state: 'connected' });

    // Meta's verification of the callback URL.
    const challenge = await fetch(`${url}?hub.mode=subscribe&hub.verify_token=${FAKE_VERIFY_TOKEN}&hub.challenge=1158201444`);
    expect([challenge.status, await challenge.text()]).toEqual([200, '1158201444']);
    expect((await fetch(`${url}?hub.mode=subscribe&hub.verify_token=wrong-token-0123456&hub.challenge=1`)).status).toBe(403);

    // A tip, delivered three times (Meta retries): one report, one welcome, one acknowledgement.
    const wamid = wamidFor(NUMBER);
    const body = webhookBody({
      contacts: [{ profile: { name: NAME }, wa_id: NUMBER }],
      messages: [{ from: NUMBER, id: wamid, timestamp: String(Math.floor(Date.now() / 1000)), type: 'text', text: { body: TIP } }],
    });
    for (let i = 0; i < 3; i++) expect((await api.deliver(url, body)).status).toBe(200);
    expect((await api.deliver(url, body, { signature: 'sha256=' + '0'.repeat(64) })).status).toBe(401);
    await waitFor(async () => api.textsTo(NUMBER).length >= 2, 30_000, 100);
    const [welcome, ack] = api.textsTo(NUMBER);
    expect(welcome).toContain('هذا خط البلاغات');
    const ref = /([0-9A-Z]{3}-[0-9A-Z]{4})/.exec(ack!)![1]!;

    access = await openCaseLogAccess(loadConfig({ env: s.env, cwd: s.dataDir }), capturingLogger('warn').log, { role: 'test' });
    const db = access.local!.db;
    const { rows } = await db.query<{ id: string }>('SELECT id FROM reports');
    expect(rows).toHaveLength(1);

    // The operator answers that report: it reaches the informant on WhatsApp, quoting the tip.
    const reply = await runCli(['reply', ref, 'Which bridge exactly? Are you safe?', '--report', rows[0]!.id], env);
    expect(reply.code).toBe(0);
    const sent = await waitFor(async () => api.sent.find((b) => (b.text as { body: string }).body.startsWith('Which bridge')) ?? null, 30_000, 100);
    expect(sent).toMatchObject({ messaging_product: 'whatsapp', to: NUMBER, type: 'text', context: { message_id: wamid } });
    const replyWamid = api.sentIds[api.sent.indexOf(sent)]!;
    const state = async () => (await caseRecord(db, ref)).replies[0];
    await waitFor(async () => ((await state())?.state === 'sent' ? true : null), 30_000, 100);

    // Meta's statuses of the reply: delivered, then (as a reply outside the 24-hour window does) failed.
    const statusBody = (st: Record<string, unknown>) =>
      webhookBody({ statuses: [{ id: replyWamid, timestamp: String(Math.floor(Date.now() / 1000)), recipient_id: NUMBER, ...st }] });
    expect((await api.deliver(url, statusBody({ status: 'delivered' }))).status).toBe(200);
    expect(await state()).toMatchObject({ state: 'delivered', reason: null });
    expect((await api.deliver(url, statusBody({ status: 'failed', errors: [{ code: 131047, title: 'Re-engagement message' }] }))).status).toBe(200);
    expect(await state()).toMatchObject({ state: 'failed', reason: 'TIPHUB_WINDOW_CLOSED' });

    // Nothing of who wrote, or what, in Redis or on the hub's output.
    const dump = await dumpPrefix(s.prefix);
    for (const secret of [NUMBER, NAME, wamid, replyWamid, TIP]) {
      expect(dump).not.toContain(secret);
      expect(hub.output()).not.toContain(secret);
    }
  });
});
