/**
 * The simulator's kit: the recorded lines of test/fixtures/simulator with their golden file, who
 * each names, and no remote platform (its "platform" is the chat sessions connected to it; its
 * media are files already on this machine).
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import type { SimulatorAdapter } from '../../../adapters/registry';
import type { ChannelAdapter } from '../../../src/contracts/channel-adapter';
import type { ChannelKit, Fixture, KeptPayload, Recorded } from './kit';

const FIXTURES = path.join(__dirname, '../../fixtures/simulator');
/** What the golden outputs were recorded with (test/unit/simulator-normalize.test.ts). */
const BASE_DIR = '/ingest';

/**
 * Every line's identifying strings (its sender's address and name), by line id; a line added
 * without its entry fails the suite. The one-letter sender `x` of the invalid lines is left out:
 * it would be found in any text.
 */
const IDENTIFIERS: Readonly<Record<string, readonly string[]>> = {
  's-ar-1': ['+9647701234567', 'أبو علي'],
  's-ckb-1': ['+9647501112233'],
  's-en-1': ['@handle_77', 'J.'],
  's-fr-1': ['+33612345678'],
  's-loc-1': ['+9647701234567'],
  's-media-1': ['+9647701234567'],
  's-bad-1': ['+9647701234567'],
  '': [],
  's-bad-3': [],
  's-bad-4': ['+964770'],
  's-bad-5': [],
};

function lines(): Fixture[] {
  const text = fs.readFileSync(path.join(FIXTURES, 'lines.jsonl'), 'utf8').trim();
  return text.split('\n').map((l, i) => {
    const line = JSON.parse(l) as { id?: unknown };
    const identifiers = typeof line.id === 'string' ? IDENTIFIERS[line.id] : undefined;
    if (!identifiers) throw new Error(`test/fixtures/simulator/lines.jsonl line ${i + 1}: declare the identifiers it holds in test/adapters/kits/simulator.ts`);
    return { name: `line ${i + 1}`, payload: { line, baseDir: BASE_DIR }, identifiers };
  });
}

function recorded(): Recorded {
  const golden = JSON.parse(fs.readFileSync(path.join(FIXTURES, 'lines.golden.json'), 'utf8')) as unknown[];
  return { fixtures: lines(), golden: Object.fromEntries(golden.map((g, i) => [`line ${i + 1}`, g])) };
}

const lineWithId = (id: string): Fixture => {
  const found = lines().find((f) => (f.payload as { line: { id: string } }).line.id === id);
  if (!found) throw new Error(`no line ${id} in test/fixtures/simulator/lines.jsonl`);
  return found;
};
/** The simulator quarantines the line, not the wrapper with the ingest folder. */
const kept = (id: string): KeptPayload => {
  const f = lineWithId(id);
  return { ...f, kept: (f.payload as { line: unknown }).line };
};

const asSimulator = (adapter: ChannelAdapter) => adapter as unknown as SimulatorAdapter;

export const simulatorKit: ChannelKit = {
  channel: 'simulator',
  account: 'simulator',
  recorded,
  // No content at all; an unknown field (a phone number).
  bad: [kept('s-bad-1'), kept('s-bad-4')],
  good: kept('s-ar-1'),
  remoteMedia: false,
  noRemoteMediaBecause: 'its media arrive stored: an ingest file names files on this machine',
  async platform() {
    return {
      configure: (base) => base, // always on, nothing to enable
      reachable(adapter) {
        const delivered: string[] = [];
        const address = '+9647701234567';
        asSimulator(adapter).connect(address, (m) => void delivered.push(m.text));
        return { address, delivered: () => delivered };
      },
      refusals: [
        {
          what: 'no chat session is connected for the address',
          arrange: () => '+9647501112233',
          // errors.ts: a send that failed this time may pass later (the informant connects again).
          expected: { code: 'TIPHUB_SEND_FAILED', retryable: true, retryAfterMs: null },
        },
      ],
      stop: async () => undefined,
    };
  },
};
