import * as fs from 'node:fs';
import * as path from 'node:path';
import { loadConfig } from '../../src/config';
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
