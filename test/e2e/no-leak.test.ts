/**
 * Nothing identifying in clear outside the case log's sealed columns: a marker address and a
 * marker text go through every path (live sink, import, bad lines, quarantine, worker logs) and
 * must not show in Redis, in any log line or command output, nor the address in an export.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { BACKENDS, dumpPrefix } from '../helpers/env';
import { harness, type Harness } from '../helpers/harness';
import { runCli } from '../helpers/cli';
import { SEAL_AAD_INTAKE } from '../../src/queue/intake-queue';

const ADDRESS = '+9647700MARKERADDR';
const NAME = 'MarkerName Qasim';
const TEXT = 'MARKERTEXT-7a9 convoy leaving the base at dawn';

describe.each(BACKENDS)('no address or tip text outside the sealed columns, on %s', (backend) => {
  let h: Harness;
  beforeEach(async () => {
    h = await harness(backend, { queue: { keepCompleted: { ageSeconds: 3600, count: 1000 } } });
  });
  afterEach(async () => {
    await h.close();
  });

  test('Redis, logs and command output hold no marker', async () => {
    // Live path, in process, with debug logging captured.
    h.startWorker();
    await h.sink(h.message({ id: 'live-1', from: ADDRESS, name: NAME, text: TEXT }));
    await h.sink(h.message({ id: 'live-2', from: ADDRESS, name: NAME, text: TEXT, location: { lat: 33.3, lon: 44.4, label: 'MARKERTEXT-place' } }));
    // A payload that fails validation after unsealing: its content must not reach failedReason.
    await h.queue.add('message', { v: 1, sealed: h.keyring.seal({ v: 1, id: 'bad', text: TEXT, sender: { address: ADDRESS } }, SEAL_AAD_INTAKE), origin: 'live' }, { jobId: 'in-bad' });
    await h.drained();
    await h.stopWorker();

    // Import path, through the real program, with bad lines that quote the markers.
    const file = path.join(h.dataDir, 'm.jsonl');
    fs.writeFileSync(
      file,
      [
        JSON.stringify({ id: 'imp-1', from: ADDRESS, name: NAME, text: TEXT }),
        `{"id":"imp-2","from":"${ADDRESS}","text":"${TEXT}"`, // not JSON
        JSON.stringify({ id: 'imp-3', from: ADDRESS, text: TEXT, sentAt: `${TEXT}` }), // bad date
        JSON.stringify({ id: 'imp-4', from: ADDRESS, text: TEXT, [TEXT]: 1 }), // unknown field named like the marker
        JSON.stringify({ id: 'imp-5', from: ADDRESS, media: [{ file: `${ADDRESS}.jpg` }] }), // missing file
      ].join('\n'),
    );
    const env = { ...h.env, TIPHUB_LOG_LEVEL: 'debug' };
    // The test process holds the case log; the command must wait for it, so release it first.
    await h.caselog.close();
    const ingest = await runCli(['ingest', file], env);
    const exp = await runCli(['export'], env);
    const csv = await runCli(['export', '--format', 'csv'], env);
    const verify = await runCli(['verify'], env);
    expect(ingest.stdout).toContain('1 accepted');
    expect(ingest.stdout).toContain('4 rejected');
    expect(exp.stdout).toContain(TEXT); // the export is where operators read tips
    expect(verify.code).toBe(0);

    const redis = await dumpPrefix(h.prefix);
    expect(redis.length).toBeGreaterThan(1000); // there is something to look at
    const logs = [h.lines.join(''), ingest.stdout, ingest.stderr, exp.stderr, csv.stderr, verify.stdout, verify.stderr].join('\n');
    for (const marker of [ADDRESS, NAME, 'MARKERTEXT', 'Qasim', '9647700']) {
      expect(redis).not.toContain(marker);
      expect(logs).not.toContain(marker);
    }
    for (const marker of [ADDRESS, NAME, '9647700']) {
      expect(exp.stdout).not.toContain(marker);
      expect(csv.stdout).not.toContain(marker);
    }
  });
});
