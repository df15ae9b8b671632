/**
 * The alerts section of the configuration (src/config/index.ts): validated at start (http or
 * https only), TIPHUB_ALERTS_WEBHOOK_URL and TIPHUB_ALERTS_SECRET over the YAML, documented
 * defaults, and the webhook's credentials and tokens masked for `tiphub config check`.
 */
import { describeConfig, loadConfig, maskWebhookUrl } from '../../src/config';
import { isTiphubError } from '../../src/errors';

const load = (env: Record<string, string>, alerts?: Record<string, unknown>) => loadConfig({ env, cwd: '/', overrides: alerts ? { alerts } : undefined });
const problem = (f: () => unknown) => {
  try {
    f();
  } catch (err) {
    if (isTiphubError(err, 'TIPHUB_CONFIG_INVALID')) return err.message;
    throw err;
  }
  return null;
};

test('off by default, with the documented defaults', () => {
  expect(load({}).alerts).toEqual({ webhookUrl: null, secret: null, channelDownAfterSeconds: 30, attempts: 12, backoffMs: 2000, timeoutMs: 10_000 });
});

test('only http and https URLs, named where they are wrong', () => {
  expect(problem(() => load({}, { webhookUrl: 'ftp://example.org/x' }))).toMatch(/alerts\.webhookUrl: must be an http:\/\/ or https:\/\/ URL/);
  expect(problem(() => load({}, { webhookUrl: 'not a url' }))).toMatch(/alerts\.webhookUrl/);
  expect(problem(() => load({ TIPHUB_ALERTS_WEBHOOK_URL: 'javascript:alert(1)' }))).toMatch(/environment: TIPHUB_ALERTS_WEBHOOK_URL: must be an http/);
  expect(problem(() => load({}, { channelDownAfterSeconds: -1 }))).toMatch(/alerts\.channelDownAfterSeconds/);
  expect(problem(() => load({}, { secret: 'short' }))).toMatch(/alerts\.secret: must be at least 16 characters/);
  expect(problem(() => load({}, { webhookUrl: 'https://x.example', extra: 1 }))).toMatch(/unknown key \(extra\)/);
});

test('the environment overrides the file', () => {
  const cfg = load({ TIPHUB_ALERTS_WEBHOOK_URL: 'https://env.example/hook', TIPHUB_ALERTS_SECRET: 'e'.repeat(20) }, { webhookUrl: 'https://file.example/hook', secret: 'f'.repeat(20) });
  expect(cfg.alerts).toMatchObject({ webhookUrl: 'https://env.example/hook', secret: 'e'.repeat(20) });
});

test('config check masks user, password, query values and token-like path segments', () => {
  expect(maskWebhookUrl('https://user:pa55@hooks.example/a/b?token=abc&x=1')).toBe('https://***@hooks.example/a/b?token=***&x=***');
  expect(maskWebhookUrl('https://hooks.slack.com/services/T00000000/B00000000/XXXXXXXXXXXXXXXXXXXXXXXX1')).toBe('https://hooks.slack.com/services/T00000000/B00000000/***');
  expect(maskWebhookUrl('http://127.0.0.1:9000/alerts')).toBe('http://127.0.0.1:9000/alerts');
  const described = describeConfig(load({}, { webhookUrl: 'https://h.example/x?key=s3cr3t', secret: 's'.repeat(20) }));
  const text = JSON.stringify(described);
  expect(text).not.toContain('s3cr3t');
  expect(text).not.toContain('s'.repeat(20));
  expect(described.alerts).toMatchObject({ webhookUrl: 'https://h.example/x?key=***', secret: '(set)' });
});
