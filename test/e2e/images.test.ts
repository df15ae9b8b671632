/**
 * A photo forwarded through other messengers arrives recompressed, at another size, in another
 * format: `tiphub ingest` stores each file, and the perceptual hash moves the reports that carry
 * the same picture into the case of its first copy (an event in both chains); `verify` holds.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import sharp from 'sharp';
import { BACKENDS, setup, type TestSetup } from '../helpers/env';
import { runCli } from '../helpers/cli';

const svg = (hue: number, shape: string) =>
  Buffer.from(`<svg xmlns="http://www.w3.org/2000/svg" width="800" height="600">
    <defs><linearGradient id="g" x1="0" x2="1" y1="0" y2="1"><stop offset="0" stop-color="hsl(${hue},60%,25%)"/><stop offset="1" stop-color="hsl(${hue + 60},70%,75%)"/></linearGradient></defs>
    <rect width="800" height="600" fill="url(#g)"/>${shape}</svg>`);

describe.each(BACKENDS)('images across messengers on %s', (backend) => {
  let s: TestSetup;
  beforeEach(async () => {
    s = await setup(backend);
  });
  afterEach(async () => {
    await s.cleanup();
  });

  test('re-encoded copies of a photo join its case; another photo does not', async () => {
    const photo = await sharp(svg(30, '<circle cx="260" cy="300" r="150" fill="#f4f4f4"/><rect x="480" y="120" width="200" height="360" fill="#1a1a1a"/>')).jpeg({ quality: 92 }).toBuffer();
    fs.writeFileSync(path.join(s.dataDir, 'original.jpg'), photo);
    fs.writeFileSync(path.join(s.dataDir, 'whatsapp.jpg'), await sharp(photo).resize(400).jpeg({ quality: 55 }).toBuffer());
    fs.writeFileSync(path.join(s.dataDir, 'telegram.webp'), await sharp(photo).resize(1280).webp({ quality: 70 }).toBuffer());
    fs.writeFileSync(path.join(s.dataDir, 'other.jpg'), await sharp(svg(210, '<rect x="90" y="80" width="380" height="150" fill="#ddd"/><circle cx="600" cy="420" r="120" fill="#0d0d0d"/>')).jpeg().toBuffer());
    const lines = [
      { id: 'p1', from: '+9647700000001', text: 'Photo of the truck that carried the launchers this morning', media: [{ file: 'original.jpg' }], sentAt: '2026-06-10T05:00:00Z' },
      { id: 'p2', from: '+9647700000002', text: 'look what my cousin sent me, is it true?', media: [{ file: 'whatsapp.jpg' }], sentAt: '2026-06-10T07:00:00Z' },
      { id: 'p3', from: '+9647700000003', media: [{ file: 'telegram.webp' }], sentAt: '2026-06-10T09:00:00Z' },
      { id: 'p4', from: '+9647700000004', text: 'Another picture from the market fire yesterday evening', media: [{ file: 'other.jpg' }], sentAt: '2026-06-10T09:30:00Z' },
    ];
    const file = path.join(s.dataDir, 'tips.jsonl');
    fs.writeFileSync(file, lines.map((l) => JSON.stringify(l)).join('\n') + '\n');
    const ingest = await runCli(['ingest', file], s.env);
    expect(ingest.code).toBe(0);

    const out = path.join(s.dataDir, 'export.jsonl');
    expect((await runCli(['export', '--format', 'jsonl', '--out', out], s.env)).code).toBe(0);
    const cases = fs.readFileSync(out, 'utf8').trim().split('\n').map((l) => JSON.parse(l) as { ref: string; reportCount: number; reports: { nativeId: string; duplicate: { kind: string } | null }[] });
    const caseOf = (id: string) => cases.find((c) => c.reports.some((r) => r.nativeId === id))!;
    expect(caseOf('p2').ref).toBe(caseOf('p1').ref);
    expect(caseOf('p3').ref).toBe(caseOf('p1').ref);
    expect(caseOf('p4').ref).not.toBe(caseOf('p1').ref);
    expect(caseOf('p1').reportCount).toBe(3);
    // Two of the three are linked by their image to another; which two depends on the order the
    // batches committed in (the first photo moves to join a case its copies formed first).
    expect(caseOf('p1').reports.filter((r) => r.duplicate?.kind === 'media')).toHaveLength(2);
    const verify = await runCli(['verify'], s.env);
    expect(verify.code).toBe(0);
  });

  test('an earlier copy stored after its later copies were gathered joins them', async () => {
    // Two batches committed out of sent order: the two later copies meet first, then the first.
    const photo = await sharp(svg(120, '<circle cx="400" cy="300" r="200" fill="#fafafa"/><rect x="40" y="40" width="160" height="520" fill="#111"/>')).jpeg({ quality: 90 }).toBuffer();
    fs.writeFileSync(path.join(s.dataDir, 'a.jpg'), photo);
    fs.writeFileSync(path.join(s.dataDir, 'b.jpg'), await sharp(photo).resize(500).jpeg({ quality: 60 }).toBuffer());
    fs.writeFileSync(path.join(s.dataDir, 'c.webp'), await sharp(photo).resize(1000).webp({ quality: 70 }).toBuffer());
    const write = (name: string, lines: object[]) => {
      const f = path.join(s.dataDir, name);
      fs.writeFileSync(f, lines.map((l) => JSON.stringify(l)).join('\n') + '\n');
      return f;
    };
    const later = write('later.jsonl', [
      { id: 'q2', from: '+9647700000012', text: 'seen this one on a channel today', media: [{ file: 'b.jpg' }], sentAt: '2026-06-11T08:00:00Z' },
      { id: 'q3', from: '+9647700000013', media: [{ file: 'c.webp' }], sentAt: '2026-06-11T09:00:00Z' },
    ]);
    expect((await runCli(['ingest', later], s.env)).code).toBe(0);
    const first = write('first.jsonl', [{ id: 'q1', from: '+9647700000011', text: 'I took this photo at the checkpoint', media: [{ file: 'a.jpg' }], sentAt: '2026-06-11T06:00:00Z' }]);
    expect((await runCli(['ingest', first], s.env)).code).toBe(0);

    const out = path.join(s.dataDir, 'export.jsonl');
    expect((await runCli(['export', '--format', 'jsonl', '--out', out], s.env)).code).toBe(0);
    const cases = fs.readFileSync(out, 'utf8').trim().split('\n').map((l) => JSON.parse(l) as { ref: string; reportCount: number; reports: { nativeId: string }[] });
    // The cases the copies were first written into are left empty.
    const full = cases.filter((c) => c.reportCount > 0);
    expect(full).toHaveLength(1);
    expect(full[0]!.reportCount).toBe(3);
    expect(full[0]!.reports.map((r) => r.nativeId).sort()).toEqual(['q1', 'q2', 'q3']);
    expect((await runCli(['verify'], s.env)).code).toBe(0);
  });
});
