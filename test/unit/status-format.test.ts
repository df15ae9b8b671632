/**
 * How `tiphub status` reads to a person (app/cli/status.ts): colours on a terminal only, the same
 * words either way, a row per channel and queue, and the reasons a person is needed listed last.
 */
import { formatStatus, useColour, type StatusReport } from '../../app/cli/status';

const now = Date.parse('2026-12-01T12:00:00Z');
const ago = (s: number) => new Date(now - s * 1000).toISOString();

const report: StatusReport = {
  at: new Date(now).toISOString(),
  redis: 'answers',
  channels: [
    { channel: 'simulator', enabled: true, needsPerson: false, state: 'connected', detail: null, mode: 'local', since: ago(3600), lastMessageAt: ago(30), updatedAt: ago(5), stale: false, reconnects: 0, disconnectedSeconds: 0 },
    { channel: 'telegram', enabled: true, needsPerson: true, state: 'disconnected', detail: 'network unreachable', mode: 'polling', since: ago(120), lastMessageAt: ago(600), updatedAt: ago(5), stale: false, reconnects: 3, disconnectedSeconds: 400 },
    { channel: 'whatsapp', enabled: false, needsPerson: false, state: null, detail: null, mode: null, since: null, lastMessageAt: null, updatedAt: null, stale: false, reconnects: 0, disconnectedSeconds: 0 },
  ],
  queues: [
    { name: 'intake', waiting: 12, active: 2, delayed: 0, failed: 0, oldestWaitingAt: ago(45) },
    { name: 'outbound-telegram', waiting: 0, active: 0, delayed: 1, failed: 2, oldestWaitingAt: null },
    { name: 'media-whatsapp', waiting: 0, active: 0, delayed: 0, failed: 0, oldestWaitingAt: null },
  ],
  caseLog: { via: 'hub', reports: 1234, cases: 800, openCases: 120, lastCommitAt: ago(60), quarantined: 1 },
  caseLogError: null,
  outbox: { pending: 2, oldestPendingAt: ago(10), failed: 4 },
  media: { pending: 5, missing: 1 },
  disk: { dataDirBytes: 3_400_000, freeBytes: 84_700_000_000, totalBytes: 270_600_000_000 },
  needsPerson: ['channel telegram: disconnected (network unreachable)', 'queue outbound-telegram: 2 failed jobs', 'quarantine: 1 message kept aside'],
};

// eslint-disable-next-line no-control-regex
const strip = (s: string) => s.replace(/\u001b\[[0-9;]*m/g, '');

test('plain without a terminal; on one, the same words coloured, what needs a person in red', () => {
  const plain = formatStatus(report, { now });
  expect(plain).not.toContain('\u001b[');
  const coloured = formatStatus(report, { now, colour: true });
  expect(coloured).toContain('\u001b[');
  expect(strip(coloured)).toBe(plain);
  expect(coloured).toContain('\u001b[31;1mdisconnected\u001b[0m');
  expect(coloured).toContain('\u001b[32mconnected\u001b[0m');
  expect(coloured).toContain('\u001b[31;1mNEEDS A PERSON:\u001b[0m');

  expect(plain).toMatch(/^simulator\s+yes\s+connected\s+60 min ago\s+local\s+30 s ago\s+0\s+0 s$/m);
  expect(plain).toMatch(/^telegram\s+yes\s+disconnected\s+2 min ago\s+polling\s+10 min ago\s+3\s+7 min\s+NEEDS A PERSON: network unreachable$/m);
  expect(plain).toMatch(/^whatsapp\s+no\s+-\s+-\s+-\s+-\s+-\s+-$/m);
  expect(plain).toMatch(/^intake\s+12\s+2\s+0\s+0\s+45 s ago$/m);
  expect(plain).toMatch(/^outbound-telegram\s+0\s+0\s+1\s+2\s+-$/m);
  // A queue of a channel not run here, holding nothing, is left out of the screen (not of --json).
  expect(plain).not.toContain('media-whatsapp');
  expect(plain).toContain('case log (through the running hub): 1234 reports, 800 cases (120 open), last commit 60 s ago');
  expect(plain).toContain('outbox: 2 pending (oldest 10 s ago), 4 refused by the platform');
  expect(plain).toContain('media: 5 to fetch, 1 missing');
  expect(plain).toContain('quarantine: 1 kept aside (tiphub quarantine list)');
  expect(plain).toContain('disk: data directory 3.4 MB, 84.7 GB free of 270.6 GB (31 %)');
  expect(plain.trimEnd().split('\n').slice(-4)).toEqual(['NEEDS A PERSON:', ...report.needsPerson.map((n) => `  - ${n}`)]);
});

test('nothing needs a person; no Redis; a busy case log', () => {
  const calm = formatStatus({ ...report, redis: null, queues: null, caseLog: null, outbox: null, media: null, caseLogError: { code: 'TIPHUB_CASELOG_LOCKED', busy: true }, needsPerson: [] }, { now });
  expect(calm).toMatch(/^no Redis answers/);
  expect(calm).not.toMatch(/^queue/m);
  expect(calm).toContain('case log: busy: another command holds the embedded case log; try again');
  expect(calm.trimEnd().split('\n').at(-1)).toBe('nothing needs a person');
});

test('colour only on a TTY, and never with NO_COLOR', () => {
  expect(useColour({ isTTY: true }, false)).toBe(true);
  expect(useColour({ isTTY: false }, false)).toBe(false);
  expect(useColour({}, false)).toBe(false);
  expect(useColour({ isTTY: true }, true)).toBe(false);
});
