import * as fs from 'node:fs';
import * as path from 'node:path';
import { errorCodes } from '../../src/errors';
import { newCaseRef, parseCaseRef, REF_ALPHABET } from '../../src/caselog/refs';
import { csvCell } from '../../src/caselog/export';
import { isTooShortToMatch, normalizeForMatch, textFingerprint } from '../../src/grouping/fingerprint';
import { canonicalJson, eventHash, sha256Hex } from '../../src/caselog/chain';
import { Keyring } from '../../src/crypto/keyring';
import { Batcher } from '../../workers/intake/batcher';

test('every error code is documented in docs/errors.md', () => {
  const doc = fs.readFileSync(path.join(__dirname, '../../docs/errors.md'), 'utf8');
  for (const code of Object.keys(errorCodes)) expect(doc).toContain(`\`${code}\``);
});

test('case references are short and unambiguous, and read back forgivingly', () => {
  expect(REF_ALPHABET).not.toMatch(/[01OIL]/);
  for (let i = 0; i < 200; i++) {
    const ref = newCaseRef();
    expect(ref).toMatch(/^[2-9A-Z]{3}-[2-9A-Z]{4}$/);
    expect(ref).not.toMatch(/[01OIL]/);
    expect(parseCaseRef(ref.toLowerCase().replace('-', ' '))).toBe(ref);
  }
  expect(parseCaseRef('K7Q4M2P')).toBe('K7Q-4M2P');
  expect(parseCaseRef('K7Q-4M2')).toBeNull();
  expect(parseCaseRef('K0Q-4M2P')).toBeNull();
});

test('CSV cells are quoted per RFC 4180 and never run as formulas', () => {
  expect(csvCell('plain')).toBe('plain');
  expect(csvCell('a,b')).toBe('"a,b"');
  expect(csvCell('say "hi"\nbye')).toBe('"say ""hi""\nbye"');
  expect(csvCell('=HYPERLINK("x")')).toBe(`"'=HYPERLINK(""x"")"`);
  expect(csvCell('+9647701')).toBe("'+9647701");
  expect(csvCell(null)).toBe('');
});

test('matching normalization: NFKC, case fold, whitespace; short texts never get a fingerprint', () => {
  expect(normalizeForMatch('  Drone\tOVER  ﬁeld ')).toBe('drone over field');
  const rule = { minChars: 12, minWords: 3 };
  for (const short of ['hello', '?', 'test test', '👍👍👍', '', 'مرحبا']) expect(textFingerprint(short, rule)).toBeNull();
  expect(isTooShortToMatch('drone over the bridge', rule)).toBe(false);
  expect(textFingerprint('Drone over the bridge', rule)).toBe(textFingerprint('drone  over the BRIDGE', rule));
  expect(textFingerprint('Drone over the bridge', rule)).not.toBe(textFingerprint('Drone over the river', rule));
});

test('the event hash covers every field and the previous hash, under the audit key; canonical JSON ignores key order', () => {
  expect(canonicalJson({ b: 1, a: [1, { d: 2, c: 3 }] })).toBe('{"a":[1,{"c":3,"d":2}],"b":1}');
  const k = new Keyring('k'.repeat(32));
  const e = { caseRef: 'K7Q-4M2P', seq: 1, at: '2026-06-10T05:00:00.000Z', kind: 'case.opened', actor: 'intake', data: { ref: 'K7Q-4M2P' } };
  const h = eventHash(k, null, e);
  expect(eventHash(k, 'x', e)).not.toBe(h);
  for (const change of [{ seq: 2 }, { kind: 'x' }, { actor: 'y' }, { at: '2026-06-10T05:00:01.000Z' }, { data: { ref: 'K7Q-4M2Q' } }, { caseRef: 'AAA-AAAA' }]) {
    expect(eventHash(k, null, { ...e, ...change })).not.toBe(h);
  }
  // Keyed: the same event under another case log's key, or as a plain SHA-256, is another hash.
  expect(eventHash(new Keyring('l'.repeat(32)), null, e)).not.toBe(h);
  expect(h).not.toBe(sha256Hex(`\n${canonicalJson({ case: e.caseRef, seq: 1, at: e.at, kind: e.kind, actor: e.actor, data: e.data })}`));
});

test('with keys, two batches written at once never share a key, and items of one key are written in the order they came', async () => {
  // Items: [key, n]; 40 informants, 400 items, two writers, each write takes a while.
  const items = Array.from({ length: 400 }, (_, n) => ({ key: `p${(n * 7) % 40}`, n }));
  const running: Set<string>[] = [];
  let peak = 0;
  const clashes: string[] = [];
  const written: { key: string; n: number }[] = [];
  const b = new Batcher<{ key: string; n: number }, number>({
    maxSize: 32,
    maxWaitMs: 1,
    writers: 2,
    keys: (it) => [it.key],
    write: async (batch) => {
      const mine = new Set(batch.map((it) => it.key));
      for (const other of running) for (const k of mine) if (other.has(k)) clashes.push(k);
      running.push(mine);
      peak = Math.max(peak, running.length);
      await new Promise((r) => setTimeout(r, 3));
      running.splice(running.indexOf(mine), 1);
      written.push(...batch);
      return batch.map((it) => it.n);
    },
  });
  const results = await Promise.all(items.map((it) => b.submit(it)));
  expect(results).toEqual(items.map((it) => it.n));
  expect(clashes).toEqual([]);
  expect(written).toHaveLength(400);
  for (let k = 0; k < 40; k++) {
    const order = written.filter((w) => w.key === `p${k}`).map((w) => w.n);
    expect(order).toEqual([...order].sort((x, y) => x - y));
  }
  // Two writers did run at once (with one, nothing could clash).
  expect(peak).toBe(2);
});

test('the batcher writes in batches and, when a batch fails, retries item by item so only the bad one fails', async () => {
  const writes: number[][] = [];
  const b = new Batcher<number, string>({
    maxSize: 10,
    maxWaitMs: 5,
    write: async (items) => {
      writes.push(items);
      if (items.includes(13)) throw new Error('bad item');
      return items.map((i) => `ok${i}`);
    },
  });
  const results = await Promise.allSettled(Array.from({ length: 25 }, (_, i) => b.submit(i)));
  expect(results.filter((r) => r.status === 'rejected')).toHaveLength(1);
  expect((results[13] as PromiseRejectedResult).reason.message).toBe('bad item');
  expect((results[24] as PromiseFulfilledResult<string>).value).toBe('ok24');
  expect(writes[0]).toHaveLength(10); // a full batch, not one write per item
  expect(writes.filter((w) => w.length === 1).length).toBe(10); // the failed batch, item by item
});
