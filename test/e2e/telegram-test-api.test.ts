/**
 * End to end with telegram-test-api as the Bot API server: the hub polls it like Telegram; a user
 * sends a text, a location and a forwarded text; each lands once; the acknowledgement with the
 * reference comes back; /status answers; an operator reply arrives in the user's chat.
 */
import TelegramServer from 'telegram-test-api';
import { freePort, setup, waitFor, type TestSetup } from '../helpers/env';
import { runCli, startCli, type Background } from '../helpers/cli';

const TOKEN = '7000000002:AAtesttesttesttesttesttesttesttest00';

describe('telegram end to end (telegram-test-api)', () => {
  let s: TestSetup;
  let server: TelegramServer;
  let hub: Background | null = null;
  beforeEach(async () => {
    s = await setup('pglite', { conversation: { ackDelayMs: 200 }, channels: { telegram: { pollTimeoutSeconds: 1 } } });
    server = new TelegramServer({ port: await freePort(), host: '127.0.0.1' });
    await server.start();
  });
  afterEach(async () => {
    await hub?.stop('SIGKILL');
    await server.stop();
    await s.cleanup();
  });

  test('text, location and forward land once; ack, /status and an operator reply reach the chat', async () => {
    const apiRoot = (server as unknown as { config: { apiURL: string } }).config.apiURL;
    hub = startCli(['start'], { ...s.env, TIPHUB_LOG_LEVEL: 'info', TIPHUB_TELEGRAM_TOKEN: TOKEN, TIPHUB_TELEGRAM_API_ROOT: apiRoot });
    await hub.waitForOutput(/"channels":\["simulator","telegram"\],"msg":"hub ready"/);
    const client = server.getClient(TOKEN, { userId: 5511223344, chatId: 5511223344, firstName: 'Karim', userName: 'karim_iq' } as never);
    const bot = async () => ((await client.getUpdatesHistory()) as unknown as { message?: { text?: string }; text?: string }[]).map((u) => u.message?.text ?? u.text ?? '');
    const botSaid = async (re: RegExp) => waitFor(async () => (await bot()).find((t) => re.test(t)), 30_000, 100);

    await client.sendMessage(client.makeMessage('Armed men at the checkpoint near the old bridge in Mosul'));
    const ack = await botSaid(/^Received\. Your reference: [2-9A-Z]{3}-[2-9A-Z]{4}$/);
    const ref = ack.slice(-8);
    await client.sendMessage(client.makeMessage('', { location: { latitude: 36.3456, longitude: 43.1234 } } as never));
    await client.sendMessage(
      client.makeMessage('Forwarded: the dam will be attacked tonight', { forward_origin: { type: 'hidden_user', date: 1781060000, sender_user_name: 'X' } } as never),
    );
    await client.sendMessage(client.makeMessage(`/status ${ref}`));
    await botSaid(new RegExp(`^${ref}: received\\.$`));

    const reply = await runCli(['reply', ref, 'Thank you. How many were they?'], s.env);
    expect(reply.stdout).toContain(`(case ${ref})`);
    await botSaid(/^Thank you\. How many were they\?$/);

    const exp = await runCli(['export'], s.env);
    const reports = exp.stdout.trim().split('\n').flatMap((l) => (JSON.parse(l) as { reports: { channel: string; text: string | null }[] }).reports);
    expect(reports.filter((r) => r.channel === 'telegram').map((r) => r.text).sort()).toEqual(
      ['Armed men at the checkpoint near the old bridge in Mosul', 'Forwarded: the dam will be attacked tonight', null].sort(),
    );
    expect(exp.stdout).not.toContain('5511223344');
    expect(exp.stdout).not.toContain('karim');
    expect((await runCli(['verify'], s.env)).code).toBe(0);
  });
});
