/** The Telegram adapter against the local Bot API stand-in: sending, error mapping, commands, a rejected token. */
import { createChannel } from '../../adapters/registry';
import { BotApiStandin } from '../helpers/bot-api-standin';
import { capturingLogger, setup, TEST_REDIS_URL, type TestSetup } from '../helpers/env';
import { COMMAND_MENUS, TELEGRAM_TEXT_LIMIT } from '../../adapters/telegram';
import { loadConfig } from '../../app/config';
import { Keyring } from '../../src/crypto/keyring';

describe('telegram send', () => {
  let s: TestSetup;
  let api: BotApiStandin;
  beforeEach(async () => {
    s = await setup('pglite');
    api = new BotApiStandin();
    await api.start();
  });
  afterEach(async () => {
    await api.stop();
    await s.cleanup();
  });

  const adapter = (token = api.token) => {
    const cfg = loadConfig({ env: { ...s.env, TIPHUB_TELEGRAM_TOKEN: token, TIPHUB_TELEGRAM_API_ROOT: api.apiRoot }, cwd: s.dataDir });
    const { log, lines } = capturingLogger();
    return { a: createChannel('telegram', { keyring: new Keyring(s.env.TIPHUB_SECRET!), log, cfg, redis: TEST_REDIS_URL, quarantine: async () => undefined /* sends only: nothing is received */ }), lines };
  };

  test('text with reply_parameters; long texts split at 4096; 429 gives retry-after; 403 and unknown chats are permanent', async () => {
    const { a } = adapter();
    const r = await a.send('5511223344', { text: 'How many cars?', replyTo: '118' });
    expect(r.nativeId).toMatch(/^\d+$/);
    expect(api.sent[0]).toMatchObject({ chat_id: 5511223344, text: 'How many cars?', reply_parameters: { message_id: 118 } });
    await a.send('5511223344', { text: 'x'.repeat(TELEGRAM_TEXT_LIMIT + 10) });
    expect(api.sent.slice(1).map((m) => m.text.length)).toEqual([TELEGRAM_TEXT_LIMIT, 10]);

    api.sendFailures.push({ error_code: 429, description: 'Too Many Requests: retry after 7', parameters: { retry_after: 7 } });
    await expect(a.send('1', { text: 'a' })).rejects.toMatchObject({ code: 'TIPHUB_SEND_RATE_LIMITED', retryable: true, retryAfterMs: 7000 });
    api.sendFailures.push({ error_code: 403, description: 'Forbidden: bot was blocked by the user' });
    await expect(a.send('1', { text: 'a' })).rejects.toMatchObject({ code: 'TIPHUB_RECIPIENT_UNREACHABLE', retryable: false });
    api.sendFailures.push({ error_code: 400, description: 'Bad Request: chat not found' });
    await expect(a.send('1', { text: 'a' })).rejects.toMatchObject({ code: 'TIPHUB_RECIPIENT_UNREACHABLE', retryable: false });
    api.sendFailures.push({ error_code: 400, description: 'Bad Request: message is too long' });
    await expect(a.send('1', { text: 'a' })).rejects.toMatchObject({ code: 'TIPHUB_SEND_FAILED', retryable: false });
    api.sendFailures.push({ error_code: 502, description: 'Bad Gateway' });
    await expect(a.send('1', { text: 'a' })).rejects.toMatchObject({ code: 'TIPHUB_SEND_FAILED', retryable: true });
  });

  test('commands are registered for the default set, ar, en and fr; a token Telegram rejects is a clear start error', async () => {
    const { a } = adapter();
    await a.start(async () => ({ status: 'enqueued' }));
    await a.stop();
    expect(api.commands.map((c) => c.language_code ?? 'default').sort()).toEqual(['ar', 'default', 'en', 'fr']);
    expect(api.commands.find((c) => c.language_code === 'ar')!.commands).toEqual(COMMAND_MENUS.ar);

    const bad = adapter('7000000001:AAwrongwrongwrongwrongwrongwrongwrong0');
    await expect(bad.a.start(async () => ({ status: 'enqueued' }))).rejects.toMatchObject({
      code: 'TIPHUB_CONFIG_INVALID',
      message: expect.stringContaining('Telegram rejected TIPHUB_TELEGRAM_TOKEN (getMe answered 401)'),
    });
    await bad.a.stop();
  });

  test('config check explains a wrong token format and an incomplete webhook setup', () => {
    expect(() => loadConfig({ env: { TIPHUB_TELEGRAM_TOKEN: 'hello' }, cwd: s.dataDir })).toThrow(/TIPHUB_TELEGRAM_TOKEN: not a bot token: BotFather gives one like 123456789:AAH/);
    expect(() => loadConfig({ env: { TIPHUB_TELEGRAM_TOKEN: api.token, TIPHUB_TELEGRAM_WEBHOOK_URL: 'https://tips.example.org/tg' }, cwd: s.dataDir })).toThrow(
      /TIPHUB_TELEGRAM_WEBHOOK_URL and TIPHUB_TELEGRAM_WEBHOOK_SECRET go together/,
    );
    expect(() => loadConfig({ env: { TIPHUB_TELEGRAM_TOKEN: api.token, TIPHUB_TELEGRAM_WEBHOOK_URL: 'http://x', TIPHUB_TELEGRAM_WEBHOOK_SECRET: 's' }, cwd: s.dataDir })).toThrow(
      /Telegram only calls https:\/\/ webhooks/,
    );
  });
});
