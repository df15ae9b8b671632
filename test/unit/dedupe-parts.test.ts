import sharp from 'sharp';
import { normalizeForMatch as n } from '../../src/grouping/fingerprint';
import { bandKeys, BANDS, estimatedSimilarity, jaccard, minhashSignature } from '../../src/grouping/minhash';
import { isNoise, isTopicBreak } from '../../src/grouping/noise';
import { lookAlikeVeto } from '../../src/grouping/group';
import { hammingDistance, perceptualHash, phashBands } from '../../src/media/phash';

const sig = (t: string) => minhashSignature(n(t))!;
const sharedBands = (a: string, b: string) => {
  const B = new Set(bandKeys(sig(b)));
  return bandKeys(sig(a)).filter((k) => B.has(k)).length;
};

describe('MinHash signatures and LSH bands', () => {
  const original = 'Three rockets fell near the airport road this morning, people say the launch was from the farms';

  test('a copy with one word changed, an emoji or a forward prefix stays similar and shares bands', () => {
    for (const copy of [
      'Three rockets fell near the airport road this morning, people say the launch came from the farms',
      'Fwd: Three rockets fell near the airport road this morning 🚀🚀 people say the launch was from the farms',
      'three ROCKETS fell near the airport road this morning... people say the launch was from the farms!!',
    ]) {
      const est = estimatedSimilarity(sig(original), sig(copy));
      expect(est).toBeGreaterThanOrEqual(0.6);
      expect(Math.abs(est - jaccard(n(original), n(copy)))).toBeLessThan(0.2); // an estimate of the real similarity
      expect(sharedBands(original, copy)).toBeGreaterThan(0);
    }
  });

  test('another text on the same topic is far below the threshold and usually shares no band', () => {
    const other = 'Heavy gunfire heard in the old market tonight, the police closed the main road to the bridge';
    expect(estimatedSimilarity(sig(original), sig(other))).toBeLessThan(0.3);
    expect(sharedBands(original, other)).toBe(0);
  });

  test('signatures and keys are deterministic (they are stored) and too-short texts have none', () => {
    expect(Array.from(sig(original))).toEqual(Array.from(sig(original)));
    expect(bandKeys(sig(original))).toHaveLength(BANDS);
    for (const k of bandKeys(sig(original))) expect(Number.isSafeInteger(k)).toBe(true);
    expect(minhashSignature('ok')).toBeNull();
  });

  test('Arabic copies with letter variants, diacritics and tatweel are the same shingles', () => {
    const a = 'سقوط صاروخين قرب مطار بغداد الدولي صباح اليوم حسب شهود عيان';
    const b = 'منقول: سقوطُ صاروخين قُرب مـطـار بغداد الدولى صباح اليوم حسب شهود عيان 🔴';
    expect(estimatedSimilarity(sig(a), sig(b))).toBe(1);
  });
});

describe('the look-alike veto', () => {
  test('different places, numbers or days keep otherwise similar texts apart', () => {
    expect(lookAlikeVeto(['p:Mosul'], ['p:Kirkuk'])).toBe(true);
    expect(lookAlikeVeto(['n:3', 'p:Baghdad Airport'], ['n:5', 'p:Baghdad Airport'])).toBe(true);
    expect(lookAlikeVeto(['d:yesterday'], ['d:fri'])).toBe(true);
    expect(lookAlikeVeto(['d:today'], [])).toBe(false); // "today" is what a forward adds
  });
  test('the same entities, one side naming none, or a copy adding one are not vetoed', () => {
    expect(lookAlikeVeto(['p:Mosul', 'n:3'], ['n:3', 'p:Mosul'])).toBe(false);
    expect(lookAlikeVeto(['p:Mosul'], [])).toBe(false);
    expect(lookAlikeVeto(['n:3'], ['n:3', 'n:10'])).toBe(false);
    expect(lookAlikeVeto(['p:Mosul'], ['p:Mosul', 'p:Tal Afar'])).toBe(false);
  });
});

describe('noise and topic breaks', () => {
  test.each(['hello', 'Salam', 'السلام عليكم', 'شكرا جزيلا', 'سڵاو', 'merci beaucoup', '?', '👍👍', 'test', 'تجربة', 'is this the tip line?', 'Bonjour'])(
    '%s is noise',
    (t) => expect(isNoise(n(t))).toBe(true),
  );
  test.each(['they are still there', 'hello, armed men at the checkpoint', 'الرقم 3', 'ok they left towards the river', 'بعدهم هناك'])(
    '%s is not noise',
    (t) => expect(isNoise(n(t))).toBe(false),
  );
  test.each(['Separate thing: a white car parked at the school', 'موضوع آخر: سيارة بيضاء', 'Autre chose : des hommes armés', 'بابەتێکی تر: ئۆتۆمبێلێک'])(
    '%s opens another subject',
    (t) => expect(isTopicBreak(n(t))).toBe(true),
  );
  test('an ordinary follow-up does not', () => {
    expect(isTopicBreak(n('They are still at the same place, two cars'))).toBe(false);
  });
});

describe('perceptual hash across re-encodes', () => {
  // A picture with structure (gradients and shapes), as sharp renders it from SVG.
  const svg = (hue: number, shape: string) =>
    Buffer.from(`<svg xmlns="http://www.w3.org/2000/svg" width="640" height="480">
      <defs><linearGradient id="g" x1="0" x2="1"><stop offset="0" stop-color="hsl(${hue},70%,20%)"/><stop offset="1" stop-color="hsl(${hue + 40},80%,80%)"/></linearGradient></defs>
      <rect width="640" height="480" fill="url(#g)"/>${shape}</svg>`);
  const photo = svg(20, '<circle cx="200" cy="240" r="120" fill="#fff"/><rect x="380" y="80" width="180" height="300" fill="#222"/>');
  const other = svg(200, '<rect x="60" y="60" width="300" height="120" fill="#eee"/><circle cx="480" cy="330" r="90" fill="#111"/>');

  test('JPEG at other sizes and qualities, PNG and WebP stay within the threshold; another picture does not', async () => {
    const base = await sharp(photo).jpeg({ quality: 92 }).toBuffer();
    const h0 = (await perceptualHash(base))!;
    expect(h0).toMatch(/^[0-9a-f]{16}$/);
    const variants = [
      await sharp(base).resize(320).jpeg({ quality: 60 }).toBuffer(), // WhatsApp-like
      await sharp(base).resize(1280).jpeg({ quality: 85 }).toBuffer(), // Telegram-like
      await sharp(base).resize(160).jpeg({ quality: 30 }).toBuffer(),
      await sharp(base).png().toBuffer(),
      await sharp(base).webp({ quality: 50 }).toBuffer(),
    ];
    for (const v of variants) {
      const h = (await perceptualHash(v))!;
      expect(hammingDistance(h0, h)).toBeLessThanOrEqual(8);
    }
    const ho = (await perceptualHash(await sharp(other).jpeg().toBuffer()))!;
    expect(hammingDistance(h0, ho)).toBeGreaterThan(16);
  });

  test('not an image: no hash; bands carry their index', async () => {
    expect(await perceptualHash(Buffer.from('not a picture at all'))).toBeNull();
    const bands = phashBands('0123456789abcdef');
    expect(bands).toEqual([0x0123, (1 << 16) | 0x4567, (2 << 16) | 0x89ab, (3 << 16) | 0xcdef]);
  });
});
