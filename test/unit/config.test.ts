import * as fs from 'node:fs';
import * as path from 'node:path';
import { describeConfig, loadConfig } from '../../app/config';
import { tmpDir } from '../helpers/env';

test('defaults apply and the result is frozen', () => {
  const cfg = loadConfig({ env: {}, cwd: tmpDir() });
  expect(cfg.queue.prefix).toBe('tiphub');
  expect(cfg.grouping).toEqual({
    followupMinutes: 10, campaignMinInformants: 10, campaignWindowMinutes: 30, nearThreshold: 0.6, imageMaxDistance: 8, minChars: 12, minWords: 3,
  });
  expect(Object.isFrozen(cfg.queue.keepCompleted)).toBe(true);
  expect(() => {
    (cfg.queue as { prefix: string }).prefix = 'x';
  }).toThrow();
});

test('a bad YAML file is refused with the file, line and reason of every problem', () => {
  const dir = tmpDir();
  const file = path.join(dir, 'tiphub.yaml');
  fs.writeFileSync(file, ['queue:', '  prefix: ok', '  attempts: many', 'worker:', '  concurency: 4', 'nonsense: 1', ''].join('\n'));
  let message = '';
  try {
    loadConfig({ env: {}, cwd: dir });
  } catch (e) {
    message = (e as Error).message;
    expect((e as { code: string }).code).toBe('TIPHUB_CONFIG_INVALID');
  }
  expect(message).toContain(`${file}:3: queue.attempts: Invalid input: expected number, received string`);
  expect(message).toMatch(new RegExp(`${file}:[45]: worker: unknown key \\(concurency\\)`));
  expect(message).toContain('unknown key at top level (nonsense)');
});

test('environment: unknown TIPHUB_ variables, a short secret and a bad URL are refused', () => {
  expect(() =>
    loadConfig({ env: { TIPHUB_SECRT: 'x', TIPHUB_SECRET: 'short', DATABASE_URL: 'mysql://x' }, cwd: tmpDir() }),
  ).toThrow(/TIPHUB_SECRT: unknown variable[\s\S]*TIPHUB_SECRET: must be at least 32 characters[\s\S]*DATABASE_URL: must be a postgres:\/\/ URL/);
});

test('an explicit --config that does not exist is an error; invalid YAML says where', () => {
  const dir = tmpDir();
  expect(() => loadConfig({ env: {}, cwd: dir, configPath: 'nope.yaml' })).toThrow(/nope.yaml: configuration file not found/);
  fs.writeFileSync(path.join(dir, 'bad.yaml'), 'queue:\n  prefix: [unclosed\n');
  expect(() => loadConfig({ env: {}, cwd: dir, configPath: 'bad.yaml' })).toThrow(/bad.yaml:\d+: .*not valid YAML/);
});

describe('retention', () => {
  const withFile = (yaml: string) => {
    const dir = tmpDir();
    fs.writeFileSync(path.join(dir, 'tiphub.yaml'), yaml);
    return () => loadConfig({ env: {}, cwd: dir });
  };

  test('defaults: closed cases kept, quarantine kept 90 days', () => {
    expect(loadConfig({ env: {}, cwd: tmpDir() }).retention).toEqual({ closedCaseDays: null, quarantineDays: 90 });
  });

  test('positive whole days or null are taken', () => {
    expect(withFile('retention:\n  closedCaseDays: 365\n  quarantineDays: null\n')().retention).toEqual({ closedCaseDays: 365, quarantineDays: null });
  });

  test('zero, negative, fractional, text and unknown keys are refused with the file line', () => {
    expect(withFile('retention:\n  closedCaseDays: 0\n')).toThrow(/tiphub\.yaml:2: retention\.closedCaseDays: /);
    expect(withFile('retention:\n  quarantineDays: -3\n')).toThrow(/retention\.quarantineDays: /);
    expect(withFile('retention:\n  quarantineDays: 1.5\n')).toThrow(/retention\.quarantineDays: /);
    expect(withFile('retention:\n  quarantineDays: forever\n')).toThrow(/retention\.quarantineDays: /);
    expect(withFile('retention:\n  quarantinDays: 3\n')).toThrow(/retention: unknown key \(quarantinDays\)/);
  });

  test('the shipped example file is valid and documents both keys', () => {
    const example = path.join(__dirname, '../../config/tiphub.example.yaml');
    const cfg = loadConfig({ env: {}, cwd: tmpDir(), configPath: example });
    expect(cfg.retention).toEqual({ closedCaseDays: null, quarantineDays: 90 });
  });
});

describe('TIPHUB_MIGRATE_DATABASE_URL', () => {
  const url = 'postgres://owner:hunter2@db.example:5432/tips';
  test('read, and masked in the description like DATABASE_URL', () => {
    const cfg = loadConfig({ env: { DATABASE_URL: 'postgres://app:pw@db.example/tips', TIPHUB_MIGRATE_DATABASE_URL: url }, cwd: tmpDir() });
    expect(cfg.migrateDatabaseUrl).toBe(url);
    const shown = JSON.stringify(describeConfig(cfg));
    expect(shown).not.toContain('hunter2');
    expect(describeConfig(cfg).migrateDatabaseUrl).toBe('postgres://***@db.example:5432/tips');
  });
  test('unset: null (DATABASE_URL migrates)', () => {
    expect(loadConfig({ env: { DATABASE_URL: 'postgres://app@db/tips' }, cwd: tmpDir() }).migrateDatabaseUrl).toBeNull();
  });
  test('a non-PostgreSQL URL, or one without DATABASE_URL, is refused naming the variable', () => {
    expect(() => loadConfig({ env: { DATABASE_URL: 'postgres://app@db/tips', TIPHUB_MIGRATE_DATABASE_URL: 'mysql://x' }, cwd: tmpDir() })).toThrow(
      /TIPHUB_MIGRATE_DATABASE_URL: must be a postgres:\/\/ URL/,
    );
    expect(() => loadConfig({ env: { TIPHUB_MIGRATE_DATABASE_URL: url }, cwd: tmpDir() })).toThrow(/TIPHUB_MIGRATE_DATABASE_URL is set but DATABASE_URL is not/);
  });
});

describe('TIPHUB_TELEGRAM_WEBHOOK_SECRET', () => {
  const token = '123456789:AAHabcdefghijklmnopqrstuvwxyz0123456';
  const env = (secret: string) => ({ TIPHUB_TELEGRAM_TOKEN: token, TIPHUB_TELEGRAM_WEBHOOK_URL: 'https://tips.example.org/tg', TIPHUB_TELEGRAM_WEBHOOK_SECRET: secret });
  test('shorter than 32 characters is refused, naming the variable', () => {
    expect(() => loadConfig({ env: env('a'.repeat(31)), cwd: tmpDir() })).toThrow(/TIPHUB_TELEGRAM_WEBHOOK_SECRET: must be at least 32 characters/);
  });
  test('32 characters of the allowed alphabet are taken; other characters are not', () => {
    expect((loadConfig({ env: env('A1_-'.repeat(8)), cwd: tmpDir() }).channels.telegram?.credentials as { webhookSecret: string } | null)?.webhookSecret).toBe('A1_-'.repeat(8));
    expect(() => loadConfig({ env: env('a'.repeat(31) + '!'), cwd: tmpDir() })).toThrow(/TIPHUB_TELEGRAM_WEBHOOK_SECRET: 32 to 256 characters/);
  });
});

describe('listeners: a YAML {host, port}, and TIPHUB_<NAME>_LISTEN=host:port over it', () => {
  test('the dashboard listens on 127.0.0.1:8080 by default; the file and then the environment change it', () => {
    expect(loadConfig({ env: {}, cwd: tmpDir() }).dashboard.listen).toEqual({ host: '127.0.0.1', port: 8080 });
    const dir = tmpDir();
    fs.writeFileSync(path.join(dir, 'tiphub.yaml'), 'dashboard:\n  listen:\n    host: 0.0.0.0\n    port: 9090\n');
    expect(loadConfig({ env: {}, cwd: dir }).dashboard.listen).toEqual({ host: '0.0.0.0', port: 9090 });
    expect(loadConfig({ env: { TIPHUB_DASHBOARD_LISTEN: '[::1]:8181' }, cwd: dir }).dashboard.listen).toEqual({ host: '::1', port: 8181 });
  });

  test('two listeners on one address are refused at start, naming both; port 0 and other ports are fine', () => {
    const webhook = { TIPHUB_TELEGRAM_TOKEN: '123456789:AAHabcdefghijklmnopqrstuvwxyz0123456', TIPHUB_TELEGRAM_WEBHOOK_URL: 'https://tips.example.org/tg', TIPHUB_TELEGRAM_WEBHOOK_SECRET: 'A1_-'.repeat(8) };
    expect(() => loadConfig({ env: { ...webhook, TIPHUB_DASHBOARD_LISTEN: '127.0.0.1:8443' }, cwd: tmpDir() })).toThrow(
      /listeners: dashboard and telegram webhook both listen on port 8443 \(127\.0\.0\.1:8443\)/,
    );
    expect(() => loadConfig({ env: { ...webhook, TIPHUB_DASHBOARD_LISTEN: '0.0.0.0:8443', TIPHUB_TELEGRAM_WEBHOOK_LISTEN: '10.0.0.5:8443' }, cwd: tmpDir() })).toThrow(/both listen on port 8443/);
    expect(loadConfig({ env: { ...webhook, TIPHUB_DASHBOARD_LISTEN: '127.0.0.1:8080' }, cwd: tmpDir() }).dashboard.listen.port).toBe(8080);
    const any = tmpDir();
    fs.writeFileSync(path.join(any, 'tiphub.yaml'), 'dashboard:\n  listen:\n    port: 0\n');
    expect(loadConfig({ env: webhook, cwd: any }).dashboard.listen.port).toBe(0);
    // Polling (no webhook URL): Telegram listens on nothing.
    expect(loadConfig({ env: { TIPHUB_TELEGRAM_TOKEN: webhook.TIPHUB_TELEGRAM_TOKEN, TIPHUB_DASHBOARD_LISTEN: '127.0.0.1:8443' }, cwd: tmpDir() }).dashboard.listen.port).toBe(8443);
  });

  test("Telegram's webhook takes the same shape and keeps its path", () => {
    const cfg = loadConfig({ env: { TIPHUB_TELEGRAM_WEBHOOK_LISTEN: '10.0.0.5:8443' }, cwd: tmpDir() });
    expect((cfg.channels.telegram!.settings as { webhookListen: unknown }).webhookListen).toEqual({ host: '10.0.0.5', port: 8443, path: '/telegram/webhook' });
  });

  test('a malformed value names the variable', () => {
    for (const bad of ['8080', 'localhost:', 'localhost:99999', 'a b:80']) {
      expect(() => loadConfig({ env: { TIPHUB_DASHBOARD_LISTEN: bad }, cwd: tmpDir() })).toThrow(/environment: TIPHUB_DASHBOARD_LISTEN: (must be host:port|the port must be 1 to 65535)/);
    }
  });
});
