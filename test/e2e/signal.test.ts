/**
 * Issue 13, end to end: the real program (`tiphub start`, PostgreSQL, Redis) against the fake
 * signal-cli-rest-api (test/helpers/signal-fake.ts), which checks every request the hub makes
 * against the server's OpenAPI file, in both of its modes (json-rpc: the receive websocket;
 * normal: polling). An informant writes (three times the same envelope: one report) and sends a
 * photo; the welcome and the acknowledgement reach them; the attachment is stored and then deleted
 * on the server; an operator's reply quotes the report; delivery and read receipts show on the
 * reply; a 429 captcha challenge is surfaced by `tiphub status` and answered by `tiphub signal
 * challenge`, after which the waiting reply goes out. Nothing identifying in Redis or on the hub's
 * output.
 */
import { setup, dumpPrefix, waitFor, capturingLogger, type TestSetup } from '../helpers/env';
import { runCli, startCli, type Background } from '../helpers/cli';
import { SignalFake, type SignalMode } from '../helpers/signal-fake';
import { openCaseLogAccess, type CaseLogAccess } from '../../app/hub/access';
import { loadConfig } from '../../app/config';
import { caseRecord } from '../../src/dashboard/case-history';
import { terminalQr } from '../../app/cli/link';

jest.setTimeout(180_000);

const NUMBER = '+15550009999';
const JPEG = Buffer.concat([Buffer.from([0xff, 0xd8, 0xff, 0xe0]), Buffer.alloc(2000, 7)]);

describe.each<SignalMode>(['json-rpc', 'normal'])('Signal end to end, %s mode', (mode) => {
  let s: TestSetup;
  let fake: SignalFake;
  let env: Record<string, string>;
  let hub: Background | null = null;
  let access: CaseLogAccess | null = null;

  beforeAll(async () => {
    s = await setup('postgres', {
      conversation: { ackDelayMs: 200, outboxSweepMs: 500 },
      outbound: { backoffMs: 200 },
      channels: { signal: { pollIntervalMs: 300, pingIntervalMs: 2000, reconnectBackoffMs: 200 } },
    });
    fake = await new SignalFake().start({ mode, number: NUMBER, authorization: 'Bearer proxy-secret-0123456789' });
    env = { ...s.env, TIPHUB_SIGNAL_URL: fake.url, TIPHUB_SIGNAL_NUMBER: NUMBER, TIPHUB_SIGNAL_AUTH: 'Bearer proxy-secret-0123456789' };
  });
  afterAll(async () => {
    await access?.close();
    await hub?.stop('SIGKILL');
    await fake?.stop();
    await s?.cleanup();
  });

  test('tips in, welcome and acknowledgement out, media fetched and deleted, a quoted reply, receipts, a captcha answered', async () => {
    hub = startCli(['start'], env);
    await hub.waitForOutput(/tiphub is running/);
    await waitFor(async () => {
      const r = await runCli(['status', '--json'], env);
      const st = (JSON.parse(r.stdout) as { channels: { channel: string; state: string | null; mode: string | null }[] }).channels.find((c) => c.channel === 'signal');
      return st?.state === 'connected' ? st : null;
    }, 30_000, 200);
    if (mode === 'json-rpc') await waitFor(async () => fake.connectedClients === 1 || null, 10_000, 50);

    const karim = fake.informant({ number: '+9647701234567', name: 'Karim Ali' });
    const tip = karim.text('رأيت ثلاث سيارات عسكرية قرب الجسر الشمالي');
    fake.push(tip.envelope);
    fake.push(tip.envelope);
    await waitFor(async () => karim.received().length >= 2 || null, 30_000, 100);
    const [welcome, ack] = karim.received();
    expect(welcome).toContain('هذا خط البلاغات');
    const ref = /([0-9A-Z]{3}-[0-9A-Z]{4})/.exec(ack!)![1]!;

    const photo = karim.attachment([{ bytes: JPEG, contentType: 'image/jpeg', filename: null, caption: 'the convoy' }]);
    await waitFor(async () => fake.deletedAttachments.includes(photo.ids[0]!) || null, 30_000, 100);

    access = await openCaseLogAccess(loadConfig({ env: s.env, cwd: s.dataDir }), capturingLogger('warn').log, { role: 'test' });
    const db = access.local!.db;
    await waitFor(async () => (await db.query(`SELECT 1 FROM report_media WHERE state = 'stored'`)).rows.length === 1 || null, 30_000, 100);
    const { rows } = await db.query<{ id: string }>('SELECT r.id FROM reports r JOIN cases c ON c.id = r.case_id WHERE c.ref = $1 ORDER BY r.sent_at', [ref]);
    expect(rows.length).toBeGreaterThanOrEqual(1);
    expect(await db.query('SELECT count(*)::int AS n FROM reports').then((r) => (r.rows[0] as { n: number }).n)).toBe(2);

    // Signal asks for a captcha before the next send: the reply waits, status says so.
    const [token] = fake.requireChallenge(['challenge-token-0123456789']);
    const reply = await runCli(['reply', ref, 'Which bridge exactly? Are you safe?', '--report', rows[0]!.id], env);
    expect(reply.code).toBe(0);
    const needs = await waitFor(async () => {
      const r = await runCli(['status', '--json'], env);
      const st = (JSON.parse(r.stdout) as { channels: { channel: string; state: string | null; detail: string | null; needsPerson: boolean }[] }).channels.find((c) => c.channel === 'signal');
      return st?.state === 'needs-captcha' ? { st, code: r.code } : null;
    }, 30_000, 200);
    expect(needs.code).toBe(1);
    // The operator reads the token off `tiphub status` and answers with the solved captcha.
    expect(needs.st.detail).toContain(`tiphub signal challenge ${token} CAPTCHA`);
    const shown = (await runCli(['status'], env)).stdout;
    expect(shown).toMatch(/^signal\s+yes\s+needs-captcha.*NEEDS A PERSON: Signal asks for a captcha/m);
    const answered = await runCli(['signal', 'challenge', token!, 'signalcaptcha://solved-captcha'], env);
    expect(answered.code).toBe(0);
    const sent = await waitFor(async () => fake.sent.find((m) => m.message.startsWith('Which bridge')) ?? null, 60_000, 200);
    expect(sent).toMatchObject({ number: NUMBER, recipients: [karim.person.uuid], quote_timestamp: tip.timestamp, quote_author: karim.person.uuid });

    // Delivered, then read: shown on the reply.
    const sentAt = fake.sentTimestamps[fake.sent.indexOf(sent)]!;
    const state = async () => (await caseRecord(db, ref)).replies[0];
    karim.receipt('delivery', [sentAt]);
    await waitFor(async () => ((await state())?.state === 'delivered' ? true : null), 30_000, 100);
    karim.receipt('read', [sentAt]);
    await waitFor(async () => ((await state())?.state === 'read' ? true : null), 30_000, 100);

    fake.expectNoViolations();
    const dump = await dumpPrefix(s.prefix);
    for (const secret of [karim.person.uuid, karim.person.number!, 'Karim Ali', 'رأيت ثلاث']) {
      expect(dump).not.toContain(secret);
      expect(hub.output()).not.toContain(secret);
    }
  });
});

test('tiphub signal link prints the device link as a QR code; a wrong variable is named at start', async () => {
  const s = await setup('pglite');
  const fake = await new SignalFake().start({ mode: 'json-rpc', number: NUMBER });
  try {
    const env = { ...s.env, TIPHUB_SIGNAL_URL: fake.url, TIPHUB_SIGNAL_NUMBER: NUMBER };
    const r = await runCli(['signal', 'link', '--device-name', 'tiphub-test'], env);
    expect(r.code).toBe(0);
    expect(r.stdout).toContain(await terminalQr(fake.linkUri!));
    expect(r.stdout).toContain('Linked devices');
    expect(r.stdout).not.toContain(fake.linkUri!);
    fake.expectNoViolations();
    const bad = await runCli(['config', 'check'], { ...s.env, TIPHUB_SIGNAL_URL: fake.url, TIPHUB_SIGNAL_NUMBER: '0777' });
    expect(bad.code).toBe(1);
    expect(bad.stderr).toContain('TIPHUB_SIGNAL_NUMBER');
  } finally {
    await fake.stop();
    await s.cleanup();
  }
});
