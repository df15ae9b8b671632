/**
 * Issue 14, item 1: the pretty log lines keep what the JSON lines keep out (redacted fields, a
 * foreign error's message), and which level and format a command gets.
 */
import { Writable } from 'node:stream';
import { createLogger, prettyLine } from '../../src/log';
import { TiphubError } from '../../src/errors';
import { logChoice } from '../../app/cli/output';

function capture(format: 'json' | 'pretty', level = 'debug') {
  const lines: string[] = [];
  const stream = new Writable({
    write(chunk: Buffer, _enc, cb) {
      lines.push(chunk.toString('utf8'));
      cb();
    },
  });
  return { log: createLogger(level, stream, { format, colour: false }), lines };
}

describe('pretty log lines', () => {
  test('level, local time, message and the scalar fields; no JSON', () => {
    const { log, lines } = capture('pretty');
    log.warn({ channel: 'telegram', attempts: 3, cause: { kind: 'timeout' } }, 'receiver restarted');
    expect(lines).toHaveLength(1);
    const d = new Date();
    expect(lines[0]).toMatch(/^\d\d:\d\d:\d\d WARN {2}receiver restarted {2}channel=telegram attempts=3 cause\.kind=timeout\n$/);
    // Local time, as the terminal's clock shows it (within a second or so of now).
    const [h, m] = lines[0]!.slice(0, 5).split(':').map(Number);
    expect(Math.abs(h! * 60 + m! - (d.getHours() * 60 + d.getMinutes())) % 1439).toBeLessThanOrEqual(1);
    expect(() => JSON.parse(lines[0]!)).toThrow();
  });

  test('a redacted field is left out, not printed; deeper objects are not printed at all', () => {
    const { log, lines } = capture('pretty');
    log.info({ sender: '+9647700123456', text: 'TIPTEXT', msg2: { name: 'NAMEMARK', deep: { phone: '+9647700999' } }, jobId: 'j-1' }, 'got one');
    const line = lines[0]!;
    expect(line).toContain('got one');
    expect(line).toContain('jobId=j-1');
    for (const hidden of ['9647700', 'TIPTEXT', 'NAMEMARK', 'redacted', 'sender', 'deep']) expect(line).not.toContain(hidden);
  });

  test("a foreign error shows its kind and code, never its message; ours shows its message", () => {
    const { log, lines } = capture('pretty');
    const foreign = Object.assign(new Error('duplicate key value (phone)=(+9647700123)'), { code: '23505' });
    log.error({ err: foreign }, 'insert failed');
    log.warn({ err: new TiphubError('TIPHUB_HUB_UNAVAILABLE', 'no hub answers on its control socket', { retryable: true }) }, 'hub call failed');
    expect(lines[0]).toContain('err=23505/Error');
    expect(lines[0]).not.toContain('9647700');
    expect(lines[0]).not.toContain('duplicate key');
    expect(lines[1]).toContain('err=TIPHUB_HUB_UNAVAILABLE/TiphubError ("no hub answers on its control socket") retryable');
  });

  test('the same record as JSON carries the same (redacted) content', () => {
    const json = capture('json');
    json.log.warn({ sender: '+9647700123456', channel: 'signal' }, 'x');
    const o = JSON.parse(json.lines[0]!) as Record<string, unknown>;
    expect(o).toMatchObject({ level: 40, msg: 'x', channel: 'signal', sender: '[redacted]' });
    expect(prettyLine(json.lines[0]!)).toMatch(/ WARN {2}x {2}channel=signal\n$/);
  });

  test('a long value is cut and many fields are counted, so a line stays a line', () => {
    const { log, lines } = capture('pretty');
    const many = Object.fromEntries(Array.from({ length: 12 }, (_, i) => [`f${i}`, i]));
    log.info({ ...many, detailText: 'y'.repeat(500) }, 'wide');
    expect(lines[0]!.length).toBeLessThan(200);
    expect(lines[0]).toContain('(+5)');
    expect(lines[0]!.trim().split('\n')).toHaveLength(1);
  });

  test('colour only when asked', () => {
    const { lines: plain } = (() => {
      const c = capture('pretty');
      c.log.error('boom');
      return c;
    })();
    expect(plain[0]).not.toContain('\u001b[');
    expect(prettyLine(JSON.stringify({ level: 50, time: Date.now(), msg: 'boom' }), { colour: true })).toContain('\u001b[31mERROR\u001b[0m boom');
  });
});

describe('which level and format a command logs with', () => {
  const cfg = (level: string, format: 'auto' | 'json' | 'pretty' = 'auto') => ({ log: { level, format } }) as Parameters<typeof logChoice>[0];
  test('the services keep the configured level; every other command shows warnings and errors only', () => {
    for (const c of ['start', 'worker', 'adapter', 'dashboard']) expect(logChoice(cfg('info'), c, {}, false).level).toBe('info');
    for (const c of ['export', 'ingest', 'status', 'quarantine', 'keys']) expect(logChoice(cfg('info'), c, {}, false).level).toBe('warn');
    expect(logChoice(cfg('debug'), 'export', {}, false).level).toBe('warn');
    // A quieter configured level stays quieter.
    expect(logChoice(cfg('error'), 'export', {}, false).level).toBe('error');
    expect(logChoice(cfg('info'), 'export', { logLevel: 'debug' }, false).level).toBe('debug');
  });
  test('auto: pretty on a terminal, JSON elsewhere; the setting and the flag override it', () => {
    expect(logChoice(cfg('info'), 'start', {}, true).format).toBe('pretty');
    expect(logChoice(cfg('info'), 'start', {}, false).format).toBe('json');
    expect(logChoice(cfg('info', 'json'), 'start', {}, true).format).toBe('json');
    expect(logChoice(cfg('info', 'pretty'), 'start', {}, false).format).toBe('pretty');
    expect(logChoice(cfg('info', 'pretty'), 'start', { logFormat: 'json' }, true).format).toBe('json');
  });
});
