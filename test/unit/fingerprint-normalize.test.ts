/** Each normalization rule for fingerprints (never for display). */
import { normalizeForMatch as n, textFingerprint } from '../../src/grouping/fingerprint';

const rule = { minChars: 12, minWords: 3 };

test('Unicode NFKC, case fold, whitespace', () => {
  expect(n('Ｆｕｌｌ  width\tＡＢＣ１２３')).toBe('full width abc123');
});

test('Arabic diacritics and tatweel removed; letter variants unified', () => {
  expect(n('طَائِرَةٌ مُسَيَّرَةٌ')).toBe(n('طائره مسيره'));
  expect(n('المـــــوصل')).toBe('الموصل');
  expect(n('أحمد إلى آخر ٱلبيت')).toBe('احمد الي اخر البيت');
  expect(n('مدرسة')).toBe(n('مدرسه'));
  expect(n('على')).toBe(n('علي'));
  expect(n('کەرکووک')).toBe(n('كەركووك')); // Persian/Kurdish keheh
  expect(n('یەک')).toBe(n('يەك')); // Persian/Kurdish yeh
  expect(n('هەولێر')).toBe('ههولێر'); // ە is typed ه on an Arabic keyboard; ێ is a letter of its own and stays
  expect(n('دوو ڕۆكێت له نزيك بنكهي حهرير')).toBe(n('دوو ڕۆکێت لە نزیک بنکەی حەریر')); // Sorani retyped with Arabic letters
});

test('Arabic-Indic and Persian digits become ASCII', () => {
  expect(n('٢٠٢٦ و ۱۲')).toBe('2026 و 12');
});

test('Latin accents folded; punctuation and emoji collapse', () => {
  expect(n('Transféré : Des tirs près de l’aéroport — 3 blessés!!! 🚨🚨')).toBe('des tirs pres de l aeroport 3 blesses');
  expect(n('Drone 👍🏽 over…the bridge?!')).toBe('drone over the bridge');
});

test('forward prefixes stripped, repeated or not; words that only look like them stay', () => {
  expect(n('Fwd: FW: Drone over Mosul')).toBe('drone over mosul');
  expect(n('TR: Un drone au-dessus du pont')).toBe('un drone au dessus du pont');
  expect(n('منقول: طائرة فوق الجسر')).toBe(n('طائرة فوق الجسر'));
  expect(n('منقووووول للامانة طائرة فوق الجسر')).toBe(n('طائرة فوق الجسر'));
  expect(n('Forwarded message: the dam')).toBe('the dam');
  expect(n('Tree fell near the road')).toBe('tree fell near the road');
  expect(n('Re-opened checkpoint at the gate')).toBe('re opened checkpoint at the gate');
});

test('URLs reduced to host and path: trackers, scheme and www do not matter', () => {
  expect(n('see https://www.Example.com/news/123/?utm_source=wa#top now')).toBe(n('see http://example.com/news/123 now'));
  expect(n('see https://example.com/news/123')).not.toBe(n('see https://example.com/news/124'));
});

test('copies that differ only by these rules share a fingerprint; short texts still never match', () => {
  const a = textFingerprint('منقول: طائرةٌ مُسيّرة فوق المـــوصل الآن 🚨', rule);
  const b = textFingerprint('طائره مسيره فوق الموصل الان', rule);
  expect(a).not.toBeNull();
  expect(a).toBe(b);
  expect(textFingerprint('Fwd: hello', rule)).toBeNull();
  expect(textFingerprint('👍👍👍 !!!', rule)).toBeNull();
});
