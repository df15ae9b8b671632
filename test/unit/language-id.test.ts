import { identifyLanguage, isReportLanguage, REPORT_LANGUAGES, type ReportLanguage } from '../../src/language/identify';

const cases = (rows: Array<[string, ReportLanguage]>) => rows.map(([text, lang]) => ({ text, lang }));

test('the codes: ISO 639-1 where there is one, ISO 639-3 for the Kurdish languages, und otherwise', () => {
  expect([...REPORT_LANGUAGES]).toEqual(['ar', 'ckb', 'kmr', 'fa', 'en', 'fr', 'und']);
  expect(isReportLanguage('ckb')).toBe(true);
  expect(isReportLanguage('ku')).toBe(false);
  expect(isReportLanguage(undefined)).toBe(false);
});

test('loads as CommonJS and answers synchronously', () => {
  // eslint-disable-next-line @typescript-eslint/no-require-imports -- what this test is about
  const mod = require('../../src/language/identify') as typeof import('../../src/language/identify');
  const answer: unknown = mod.identifyLanguage('شكرا');
  expect(answer).toBe('ar');
  expect(answer).not.toBeInstanceOf(Promise);
});

describe('und: no letter of any script', () => {
  test.each([null, undefined, '', '   ', '\n\t'])('%p', (text) => expect(identifyLanguage(text)).toBe('und'));
  test.each(['?', '!!!', '...', '؟؟', '؟!', '-', ':)', '👍', '🙏🙏🙏', '👍🏻👍🏻', '🔥🔥🔥 !!', '🇮🇶', '❤️'])('%s', (text) =>
    expect(identifyLanguage(text)).toBe('und'),
  );
  test.each(['1', '123', '07701234567', '+964 770 123 4567', '+964-750-000-0000', '٢٠٢٤', '٠٧٧٠١٢٣٤٥٦٧'])('digits %s', (text) =>
    expect(identifyLanguage(text)).toBe('und'),
  );
  test('a script none of the six languages is written in', () => expect(identifyLanguage('Привет, взрыв')).toBe('und'));
  test.each(['https://t.me/c/123/456', 'www.example.com', 't.me/iqnews/884', 'someone@example.org', '@informant_42'])(
    'a bare link or address %s',
    (text) => expect(identifyLanguage(text)).toBe('und'),
  );
});

describe('Arabic: Modern Standard and the Iraqi dialect are both ar', () => {
  test.each(
    cases([
      ['انفجار قوي قرب سوق الشورجة قبل قليل', 'ar'],
      ['سمعنا إطلاق نار كثيف في حي الزهراء منذ نصف ساعة', 'ar'],
      ['أعلنت خلية الإعلام الأمني مقتل عنصرين في هجوم', 'ar'],
      ['هل يمكنكم التحقق من هذا الخبر؟', 'ar'],
      ['شكرا', 'ar'],
      ['نعم', 'ar'],
      ['السلام عليكم', 'ar'],
      ['الموصل', 'ar'],
      ['مفخخة', 'ar'],
    ]),
  )('MSA: $text', ({ text, lang }) => expect(identifyLanguage(text)).toBe(lang));

  test.each(
    cases([
      ['شكو ماكو بالمنطقة؟', 'ar'],
      ['اكو انفجار هسه يم السوق', 'ar'],
      ['هسه ديروح رتل عسكري صوب الجسر', 'ar'],
      ['اكو طيارة مسيرة فوك بيتنا من الصبح', 'ar'],
      ['الكهرباء طافية من البارحة وماكو مولدة', 'ar'],
      // چ and گ are letters Persian and Sorani share, but Iraqis type them too.
      ['چان اكو رمي قوي بالليل يم الشط', 'ar'],
      ['گالولنا لتطلعون من البيوت', 'ar'],
      ['صدك اكو حظر تجوال باچر؟', 'ar'],
      ['اكو حريگ بالسوگ هسه', 'ar'],
      // ه typed for ة, as phones often do.
      ['الطياره دتلف فوك الحي من ساعتين', 'ar'],
      ['هسه', 'ar'],
      ['شكو؟', 'ar'],
    ]),
  )('Iraqi: $text', ({ text, lang }) => expect(identifyLanguage(text)).toBe(lang));

  test('Arabic typed on a Persian keyboard (ی ک) is still Arabic', () => {
    expect(identifyLanguage('انفجار کبیر قرب الجسر هسه')).toBe('ar');
    expect(identifyLanguage('الکهرباء مقطوعة من امس فی الحی')).toBe('ar');
  });

  test('Iraqi Arabic typed in Latin letters (Arabizi) is ar', () => {
    expect(identifyLanguage('shako mako b el mantaqa?')).toBe('ar');
    expect(identifyLanguage('aku infijar hessa yam el souq')).toBe('ar');
    expect(identifyLanguage('7abibi shaku akhbar')).toBe('ar');
  });
});

describe('Sorani Kurdish (ckb)', () => {
  test.each(
    cases([
      ['ئێستا تەقینەوەیەک لە نزیک بازاڕی شار ڕوویدا', 'ckb'],
      ['کارەبا سێ ڕۆژە نییە لە گەڕەکەکەمان', 'ckb'],
      ['هێزێکی چەکدار ڕێگاکەیان داخستووە', 'ckb'],
      ['کوڕەکەم دوو ڕۆژە ون بووە، یارمەتیمان بدەن', 'ckb'],
      ['باشە', 'ckb'],
      ['سوپاس', 'ckb'],
      ['ھێزەکانی پێشمەرگە گەیشتن', 'ckb'],
    ]),
  )('with its own letters: $text', ({ text, lang }) => expect(identifyLanguage(text)).toBe(lang));

  test.each(
    cases([
      ['ئيستا تهقينهوهيهك له نزيك بازاري شار روويدا', 'ckb'],
      ['كارهبا سي روژه نيه له گهرهكهكهمان', 'ckb'],
      ['زور سوپاس بو يارمهتيهكهتان', 'ckb'],
      ['تهقه له نزيك پردهكه دهكريت', 'ckb'],
      ['چي روويدا له سليماني؟', 'ckb'],
      ['ئيستا ئارامه', 'ckb'],
      ['نازانين چي بكهين', 'ckb'],
      ['دوكانهكان داخراون', 'ckb'],
    ]),
  )('typed without them (ي ك ه for ی ک ە): $text', ({ text, lang }) => expect(identifyLanguage(text)).toBe(lang));

  test('the older spelling of ە as ه and a zero-width non-joiner is Sorani, not Persian', () => {
    expect(identifyLanguage('ئه\u200cو ئۆتۆمبێله\u200c له\u200c به\u200cرده\u200cم مزگه\u200cوته\u200cكه\u200c وه\u200cستاوه\u200c')).toBe('ckb');
    expect(identifyLanguage('له\u200c نزیك شار ته\u200cقه\u200c ده\u200cكرێت')).toBe('ckb');
  });
});

describe('Persian (fa) against Arabic and Sorani', () => {
  test.each(
    cases([
      ['یک پهپاد بالای شهر دیده شد', 'fa'],
      ['می\u200cخواهند جاده را ببندند', 'fa'],
      ['این خبر درست است؟', 'fa'],
      ['نیروهای امنیتی خانه\u200cها را می\u200cگردند', 'fa'],
      ['میخوان پل رو ببندن', 'fa'],
      ['دو نفر کشته و چند نفر زخمی شدند', 'fa'],
      ['سپاس', 'fa'],
      ['مرسی', 'fa'],
      ['هشدار', 'fa'],
    ]),
  )('$text', ({ text, lang }) => expect(identifyLanguage(text)).toBe(lang));

  test('the same words, Persian or Arabic by the letters the keyboard typed', () => {
    expect(identifyLanguage('این چیه؟')).toBe('fa'); // Persian "this" (ی)
    expect(identifyLanguage('اين الجسر؟')).toBe('ar'); // Arabic "where" (ي)
  });
});

describe('English, French, Kurmanji (Latin script)', () => {
  test.each(
    cases([
      ['Explosion near the market about ten minutes ago', 'en'],
      ['Checkpoint on the airport road, they are checking IDs', 'en'],
      ['I can\u2019t leave the house, shooting is very close', 'en'],
      ['ok', 'en'],
      ['thanks', 'en'],
      ['Airport closed', 'en'],
    ]),
  )('en: $text', ({ text, lang }) => expect(identifyLanguage(text)).toBe(lang));

  test.each(
    cases([
      ['Explosion près du marché il y a dix minutes', 'fr'],
      ["Barrage sur la route de l'aéroport, ils contrôlent les papiers", 'fr'],
      ['pres du pont il y a des soldats', 'fr'],
      ['Merci', 'fr'],
      ['Bonjour', 'fr'],
      ["D'accord", 'fr'],
      ['Situation normale', 'fr'],
    ]),
  )('fr: $text', ({ text, lang }) => expect(identifyLanguage(text)).toBe(lang));

  test.each(
    cases([
      ['Niha li nêzî bazarê teqînek çêbû', 'kmr'],
      ['Dronek li ser gund difire ji sibê ve', 'kmr'],
      ['Rê di navbera Duhok û Zaxo de girtî ye', 'kmr'],
      ['li nezi pire teqe heye', 'kmr'],
      ['Spas', 'kmr'],
      ['Em baş in, spas', 'kmr'],
    ]),
  )('kmr: $text', ({ text, lang }) => expect(identifyLanguage(text)).toBe(lang));
});

describe('mixed texts, links and numbers: the language of the words around them', () => {
  test.each(
    cases([
      ['Explosion near الموصل now', 'en'],
      ['Explosion à الموصل ce matin', 'fr'],
      ['انفجار قرب Mosul bridge الان', 'ar'],
      ['يوجد إطلاق نار في Zayouna الآن', 'ar'],
      ['Drone لەسەر گوندەکە دەسوڕێتەوە', 'ckb'],
      ['drone over هەولێر citadel right now', 'en'],
      ['ok شكرا', 'ar'],
      ['Update: situation stable 👍', 'en'],
      ['شاهدوا هذا الفيديو https://t.me/news_iq/4512', 'ar'],
      ['Video here https://t.me/iraqnow/991 from today', 'en'],
      ['Vidéo ici https://t.me/info_irak/55 prise aujourd\u2019hui', 'fr'],
      ['ئەم ڤیدیۆیە ئەمڕۆ لە هەولێر گیراوە https://t.me/krd_news/77', 'ckb'],
      ['این ویدیو مال امروز است https://t.me/fa_news/12', 'fa'],
      ['للتواصل معي على الرقم 07701234567', 'ar'],
      ['Call me 0770 123 4567 urgent', 'en'],
      ['Appelez le +964 750 111 2233 svp', 'fr'],
      ['ژمارەی تەلەفۆنم 07501234567', 'ckb'],
    ]),
  )('$text', ({ text, lang }) => expect(identifyLanguage(text)).toBe(lang));
});

test('presentation forms and diacritics do not change the answer', () => {
  expect(identifyLanguage('\uFEB7\uFEDC\uFEAE\uFE8D')).toBe('ar'); // شكرا in presentation forms
  expect(identifyLanguage('شُكْراً جَزِيلاً')).toBe('ar');
  expect(identifyLanguage('هــــســـه')).toBe('ar');
});
