import * as fs from 'node:fs';
import * as path from 'node:path';
import { loadConfig } from '../../app/config';
import { startProcessStats } from '../../app/hub/process-stats';
import { capturingLogger, tmpDir, waitFor } from '../helpers/env';

describe('the hub\'s opt-in stats line (npm run soak)', () => {
  test('is off by default; a setting below 0.1 s is refused at start', () => {
    expect(loadConfig({ env: {}, cwd: tmpDir() }).hub.statsLogSeconds).toBeNull();
    const dir = tmpDir();
    const file = path.join(dir, 'tiphub.yaml');
    fs.writeFileSync(file, 'hub:\n  statsLogSeconds: 0\n');
    expect(() => loadConfig({ env: {}, cwd: dir, configPath: file })).toThrow(/tiphub\.yaml:2: hub\.statsLogSeconds/);
  });

  test('logs this process\'s memory and event-loop delay once per interval, figures only, and stops', async () => {
    const { log, lines } = capturingLogger('info');
    const stop = startProcessStats(log, 0.1);
    // Block the loop for a while: the next line's p99 must show it.
    await new Promise((r) => setTimeout(r, 20));
    const until = Date.now() + 150;
    while (Date.now() < until) {
      /* busy */
    }
    await waitFor(async () => lines.length >= 2, 5000);
    await stop();
    const n = lines.length;
    const recs = lines.map((l) => JSON.parse(l) as Record<string, unknown> & { eventLoopDelayMs: Record<string, number> });
    for (const r of recs) {
      expect(r.msg).toBe('process stats');
      expect(Object.keys(r).sort()).toEqual(['arrayBuffers', 'eventLoopDelayMs', 'external', 'heapTotal', 'heapUsed', 'level', 'msg', 'pid', 'rss', 'time'].sort());
      expect(r.rss).toBeGreaterThan(r.heapUsed as number);
    }
    expect(Math.max(...recs.map((r) => r.eventLoopDelayMs.max))).toBeGreaterThanOrEqual(100);
    await new Promise((r) => setTimeout(r, 300));
    expect(lines.length).toBe(n);
  });
});
