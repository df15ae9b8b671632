/**
 * Grouping through the real intake worker, on PostgreSQL and PGlite: near copies, the look-alike
 * veto, translations, short texts, follow-ups and their windows, noise, tags/places/priority of
 * cases, and `verify` afterwards.
 */
import { BACKENDS } from '../helpers/env';
import { exportedCases, harness, type Harness } from '../helpers/harness';
import { verifyCaseLog } from '../../src/caselog/verify';
import type { ExportedCase } from '../../src/caselog/export';

const exported = exportedCases;

async function ingest(h: Harness, lines: Record<string, unknown>[]): Promise<(id: string) => ExportedCase> {
  for (const l of lines) await h.sink(h.message(l), { origin: 'import' });
  h.startWorker();
  await h.drained();
  const cases = await exported(h);
  return (id) => {
    const c = cases.find((x) => x.reports.some((r) => r.nativeId === id));
    if (!c) throw new Error(`no case holds ${id}`);
    return c;
  };
}

const T = (min: number) => new Date(Date.parse('2026-06-10T05:00:00Z') + min * 60_000).toISOString();

describe.each(BACKENDS)('deduplication and grouping on %s', (backend) => {
  let h: Harness;
  beforeEach(async () => {
    h = await harness(backend);
  });
  afterEach(async () => {
    await h.close();
  });

  test('near copies join; look-alikes about another place, number or day, translations and short texts do not', async () => {
    const base = 'Three rockets fell near Baghdad Airport yesterday morning, witnesses say they were launched from the farms';
    const caseOf = await ingest(h, [
      { id: 'orig', from: 'u1', text: base, sentAt: T(0) },
      { id: 'word', from: 'u2', text: base.replace('witnesses say', 'people say'), sentAt: T(60) },
      { id: 'emoji', from: 'u3', text: `🚨🚨 ${base} 🚀`, sentAt: T(120) },
      { id: 'fwd', from: 'u4', text: `Fwd: ${base.replace('morning,', 'morning!!')}`, sentAt: T(180) },
      { id: 'today', from: 'u12', text: `${base} today`, sentAt: T(200) }, // a forward that adds "today" is still a copy
      // Look-alikes: same words, another number, another place, another day.
      { id: 'number', from: 'u5', text: base.replace('Three', 'Five'), sentAt: T(240) },
      { id: 'place', from: 'u6', text: base.replace('Baghdad Airport', 'Kirkuk'), sentAt: T(300) },
      { id: 'day', from: 'u7', text: base.replace('yesterday morning', 'on Friday'), sentAt: T(360) },
      { id: 'day2', from: 'u8', text: base.replace('yesterday morning', 'on Saturday morning'), sentAt: T(361) },
      // The same rumour in French: its own case.
      { id: 'fr', from: 'u9', text: "Trois roquettes sont tombées près de l'aéroport de Bagdad ce matin, des témoins disent qu'elles ont été tirées depuis les fermes", sentAt: T(420) },
      // Short texts never cluster.
      { id: 's1', from: 'u10', text: 'Rockets!', sentAt: T(5) },
      { id: 's2', from: 'u11', text: 'Rockets!', sentAt: T(6) },
    ]);
    const main = caseOf('orig');
    for (const id of ['word', 'emoji', 'fwd', 'today']) expect(caseOf(id).ref).toBe(main.ref);
    expect(main.reports.find((r) => r.nativeId === 'word')!.duplicate!.kind).toBe('near');
    for (const id of ['number', 'place', 'day', 'day2', 'fr', 's1']) expect(caseOf(id).ref).not.toBe(main.ref);
    expect(caseOf('day').ref).not.toBe(caseOf('day2').ref);
    expect(caseOf('s1').ref).not.toBe(caseOf('s2').ref);
    expect(main.reportCount).toBe(5);
    expect(main.informantCount).toBe(5);
    expect(main.tags).toContain('rocket');
    expect(main.places).toContain('Baghdad Airport');
    expect(caseOf('fr').reports[0]!.language).toBe('fr');
    expect(main.reports[0]!.language).toBe('en');
    expect((await verifyCaseLog(h.db)).ok).toBe(true);
  });

  test('follow-ups: within 10 minutes they join, later or about something else they do not; noise stays alone', async () => {
    const caseOf = await ingest(h, [
      { id: 'hello', from: 'inf', text: 'السلام عليكم', sentAt: T(-1) },
      { id: 'tip', from: 'inf', text: 'Armed men stopped cars at the checkpoint near Tikrit and took two drivers', sentAt: T(0) },
      { id: 'loc', from: 'inf', location: { lat: 34.6, lon: 43.68 }, sentAt: T(2) },
      { id: 'more', from: 'inf', text: 'they are still there', sentAt: T(9) },
      { id: 'break', from: 'inf', text: 'Separate thing: a drone flew over the school this evening', sentAt: T(11) },
      { id: 'late', from: 'inf', text: 'The checkpoint is gone now, the road is open again', sentAt: T(40) },
      { id: 'other', from: 'inf2', text: 'Armed men near Kirkuk set up a checkpoint on the highway', sentAt: T(0) },
      { id: 'other2', from: 'inf2', text: 'Also a drone workshop was seen in Baiji', sentAt: T(3) },
      { id: 'thanks', from: 'inf2', text: 'thanks', sentAt: T(4) },
    ]);
    const tip = caseOf('tip');
    expect(caseOf('loc').ref).toBe(tip.ref);
    expect(caseOf('more').ref).toBe(tip.ref);
    expect(tip.reports.find((r) => r.nativeId === 'loc')!.duplicate!.kind).toBe('followup');
    expect(caseOf('hello').ref).not.toBe(tip.ref);
    expect(caseOf('break').ref).not.toBe(tip.ref);
    expect(caseOf('late').ref).not.toBe(tip.ref);
    expect(caseOf('other2').ref).not.toBe(caseOf('other').ref); // another place and another topic
    expect(caseOf('thanks').ref).not.toBe(caseOf('other').ref);
    expect(caseOf('hello').reportCount).toBe(1);
    expect(caseOf('hello').reports[0]!.language).toBe('ar');
    expect(caseOf('loc').reports.find((r) => r.nativeId === 'loc')!.language).toBe('und');
  });

  test('tags, places and priority: reports tagged by their text, the case takes the union, priority is an event', async () => {
    const fresh = new Date(Date.parse('2026-06-10T06:00:00Z') - 5 * 60_000).toISOString(); // harness receives at 06:00
    const caseOf = await ingest(h, [
      { id: 't1', from: 'p1', text: 'They are planning to attack the convoy near Mosul tomorrow with an IED on the road', sentAt: fresh },
      { id: 't2', from: 'p1', text: 'A Katyusha launcher is hidden in the orchard, call 0770 123 4567', sentAt: new Date(Date.parse(fresh) + 60_000).toISOString() },
      { id: 'ad', from: 'p2', text: 'WIN a free iPhone!! click http://promo.example/win now and double your bitcoin', sentAt: fresh },
    ]);
    const c = caseOf('t1');
    expect(caseOf('t2').ref).toBe(c.ref);
    const r1 = c.reports.find((r) => r.nativeId === 't1')!;
    const r2 = c.reports.find((r) => r.nativeId === 't2')!;
    expect(r1.tags).toEqual(expect.arrayContaining(['threat', 'explosive']));
    expect(r1.places).toEqual(['Mosul']);
    expect(r2.tags).toContain('rocket');
    expect(r2.entities?.phones).toEqual(['+9647701234567']);
    expect(c.tags).toEqual([...new Set([...r1.tags, ...r2.tags])].sort());
    expect(c.places).toEqual(['Mosul']);
    expect(c.priority).toBe('high');
    const ad = caseOf('ad');
    expect(ad.tags).toEqual(['spam']);
    expect(ad.priority).toBe('low');
    expect(ad.reports[0]!.entities?.urls.length).toBe(1);
    const { rows } = await h.db.query<{ kind: string; data: { priority: string } }>(
      `SELECT e.kind, e.data FROM events e JOIN cases c ON c.id = e.case_id WHERE c.ref = $1 AND e.kind = 'case.priority'`,
      [c.ref],
    );
    expect(rows.map((r) => r.data.priority)).toEqual(['high']);
    expect((await verifyCaseLog(h.db)).ok).toBe(true);
  });
});
