/** Tagging rules: loading and validation, matching semantics, entities, numbers and days, priority. */
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { isTiphubError } from '../../src/errors';
import { analyzeText, type Analysis } from '../../src/tagging/analyze';
import { extractEntities } from '../../src/tagging/entities';
import { loadTaggingRules } from '../../src/tagging/load';

const FIXTURES = path.relative(process.cwd(), path.join(__dirname, '../fixtures/tagging'));
const rules = loadTaggingRules(path.join(FIXTURES, 'good'));

const SENT = new Date('2026-06-10T10:00:00Z');
function minutesLater(min: number): Date {
  return new Date(SENT.getTime() + min * 60_000);
}

function analyze(text: string | null, ageMinutes = 5): Analysis {
  return analyzeText(rules, text, { sentAt: SENT, receivedAt: minutesLater(ageMinutes) });
}
const tags = (text: string) => analyze(text).tags;
const places = (text: string) => analyze(text).places;

function loadError(dir: string): string {
  try {
    loadTaggingRules(dir);
  } catch (e) {
    expect(isTiphubError(e, 'TIPHUB_CONFIG_INVALID')).toBe(true);
    return (e as Error).message;
  }
  throw new Error(`${dir} loaded without error`);
}

describe('loading', () => {
  test('the rules load and are frozen', () => {
    expect(rules.places.map((p) => p.name)).toContain('Baghdad Airport');
    expect(rules.tags.explosive.weak?.unlessTags).toEqual(['rocket', 'drone']);
    expect(rules.tags.spam.weak).toBeNull();
    expect(Object.isFrozen(rules)).toBe(true);
    expect(Object.isFrozen(rules.places[1]!.names.ar)).toBe(true);
    expect(Object.isFrozen(rules.priority.rules[0]!.when)).toBe(true);
    expect(() => (rules.places as unknown as string[]).push('x')).toThrow();
  });

  test('every problem of every file is reported at once, each with file:line:col and the reason', () => {
    const dir = path.join(FIXTURES, 'bad');
    const tagsFile = path.join(dir, 'tags.yaml');
    const placesFile = path.join(dir, 'places.yaml');
    const priorityFile = path.join(dir, 'priority.yaml');
    const vocabulary = '(the vocabulary is drone, rocket, explosive, firearm, armed-group, financing, kidnapping, threat, spam)';
    expect(loadError(dir).split('\n')).toEqual([
      `${tagsFile}:3:1: missing tag "spam" (every tag of the vocabulary needs an entry, \`spam: {}\` if it has no evidence yet)`,
      `${tagsFile}:7:7: unknown language "de" (the languages are ar, ckb, kmr, fa, en, fr)`,
      `${tagsFile}:8:3: unknown tag "drones" ${vocabulary}`,
      `${tagsFile}:12:19: keyword "صا": the Arabic-script stem "صا" has 2 letters; stems of 2 letters or fewer would match every word they begin (write "=صا" to match whole words)`,
      `${tagsFile}:14:9: invalid regular expression "(unclosed": Unterminated group`,
      `${tagsFile}:18:20: unknown tag "rockets" ${vocabulary}`,
      `${tagsFile}:19:5: unknown key "colour" in tags.explosive`,
      `${tagsFile}:23:22: keyword "=*": nothing left after normalization`,
      `${placesFile}:13:18: unknown governorate "Ninawa" (no place of that name in this file)`,
      `${placesFile}:14:10: lat 136.34 is out of range (-90 to 90)`,
      `${placesFile}:22:36: the name "المَوصل" is given to two places: "Mosul" (line 16) and "Mosul Dam"`,
      `${placesFile}:23:5: unknown key "population" in places.2`,
      `${placesFile}:25:11: unknown kind "village" (one of governorate, city, town, district, neighbourhood, base, airport)`,
      `${placesFile}:26:18: "Mosul" is a city, not a governorate`,
      `${priorityFile}:2:10: version must be 1 (found 2)`,
      `${priorityFile}:3:10: unknown priority "medium" (one of low, normal, high, urgent)`,
      `${priorityFile}:6:23: unknown tag "treat" ${vocabulary}`,
      `${priorityFile}:9:28: rules.1.when.maxAgeMinutes: Too small: expected number to be >=0`,
    ]);
  });

  test('missing files are named; invalid YAML says where; an absolute directory gives absolute paths', () => {
    const incomplete = path.join(FIXTURES, 'incomplete');
    expect(loadError(incomplete).split('\n')).toEqual([
      `${incomplete}/tags.yaml: file not found (the tagging rules need tags.yaml, places.yaml and priority.yaml)`,
      `${incomplete}/priority.yaml: file not found (the tagging rules need tags.yaml, places.yaml and priority.yaml)`,
    ]);
    const broken = path.resolve(FIXTURES, 'broken-yaml');
    expect(loadError(broken)).toMatch(new RegExp(`^${broken}/places\\.yaml:4:1: not valid YAML \\(BAD_INDENT: `));
  });

  test('a file that is not a mapping, and Latin `*` or `=` in the wrong place, are refused', () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'tagging-'));
    for (const f of ['places.yaml', 'priority.yaml']) fs.copyFileSync(path.join(FIXTURES, 'good', f), path.join(dir, f));
    fs.writeFileSync(path.join(dir, 'tags.yaml'), '- just a list\n');
    expect(loadError(dir)).toBe(`${dir}/tags.yaml:1:1: the file must hold a mapping (version: 1, …)`);
    const good = fs.readFileSync(path.join(FIXTURES, 'good', 'tags.yaml'), 'utf8');
    fs.writeFileSync(path.join(dir, 'tags.yaml'), good.replace('[rifle, "gun*"]', '["gu*n", "a=b"]'));
    expect(loadError(dir).split('\n')).toEqual([
      `${dir}/tags.yaml:28:22: keyword "gu*n": \`*\` is allowed only at the end (it makes the last word a prefix)`,
      `${dir}/tags.yaml:28:30: keyword "a=b": \`=\` is allowed only at the start (it makes every word match whole)`,
    ]);
  });
});

describe('keyword matching', () => {
  test('Arabic script: clitic prefixes on the first word, suffixes after every word', () => {
    expect(tags('سقط صاروخ')).toEqual(['rocket']);
    expect(tags('والصاروخ سقط')).toEqual(['rocket']);
    expect(tags('ضربوا بصاروخ')).toEqual(['rocket']);
    expect(tags('ضربوا بالصاروخ')).toEqual(['rocket']);
    expect(tags('اطلقوا صاروخين')).toEqual(['rocket']);
    expect(tags('كاتيوشا')).toEqual(['rocket']);
    expect(tags('ڕۆکێتەکان')).toEqual(['rocket']); // Sorani plural suffix
    // A clitic that is not in the list does not open the word: "سصاروخ" is nothing.
    expect(tags('سصاروخ')).toEqual([]);
  });

  test('Arabic script: a taa-marbuta stem also matches its plural, later words may take the article', () => {
    expect(tags('مسيرة فوق المدينة')).toEqual(['drone']);
    expect(tags('شوهدت مسيرات')).toEqual(['drone']);
    expect(tags('طائرة مسيرة')).toEqual(['drone']);
    expect(tags('الطائرة المسيرة')).toEqual(['drone']);
    expect(tags('عبوة ناسفة')).toEqual(['explosive']);
    expect(tags('العبوة الناسفة')).toEqual(['explosive']);
  });

  test('`=`: Arabic-script words match whole (clitics still allowed)', () => {
    expect(tags('قاذفة')).toEqual(['rocket']);
    expect(tags('القاذفة')).toEqual(['rocket']);
    expect(tags('قاذفات')).toEqual([]);
    expect(tags('قاذفتين')).toEqual([]);
  });

  test('Latin script: whole words, `*` makes the last word a prefix, accents and case folded', () => {
    expect(tags('A ROCKET was fired')).toEqual(['rocket']);
    expect(tags('rockets were fired')).toEqual([]);
    expect(tags('rocketry club')).toEqual([]);
    expect(tags('a gunman')).toEqual(['firearm']);
    expect(tags('they kidnapped him')).toEqual(['kidnapping']);
    expect(tags('kidnapping')).toEqual(['kidnapping']);
    expect(tags('Une roquette tirée')).toEqual(['rocket']);
    expect(tags('Transféré 5000 dollars')).toEqual(['financing']); // a leading "Transféré" is not a forward prefix here
  });

  test('multi-word entries and `~` (up to two words in between)', () => {
    expect(tags('an unmanned aerial vehicle')).toEqual(['drone']);
    expect(tags('an unmanned vehicle')).toEqual([]);
    expect(tags('armed men at the gate')).toEqual(['armed-group']);
    expect(tags('armed masked men at the gate')).toEqual(['armed-group']);
    expect(tags('armed young masked men at the gate')).toEqual(['armed-group']);
    expect(tags('armed and very dangerous men')).toEqual([]);
    expect(tags('a launch rails found')).toEqual(['rocket']);
    expect(tags('they are planning an attack')).toEqual(['threat']);
  });

  test('patterns run on the normalized text', () => {
    expect(tags('a Shahed-136 over the city')).toEqual(['drone']);
    expect(tags('shahed 238')).toEqual(['drone']);
    expect(tags('shahed')).toEqual([]);
  });

  test('weak keywords give their tag only without strong evidence of unlessTags', () => {
    expect(tags('explosion near the market')).toEqual(['explosive']);
    expect(tags('انفجار قرب السوق')).toEqual(['explosive']);
    expect(tags('explosion after a rocket hit the market')).toEqual(['rocket']);
    expect(tags('انفجار صاروخ')).toEqual(['rocket']);
    expect(tags('blast from a drone')).toEqual(['drone']);
    // A rocket cancelled by nothing, a drone cancelled by `not`: the explosion is explosive again.
    expect(tags('explosion during the drone show')).toEqual(['explosive']);
    // Strong evidence for explosive is not weak: it stays beside rocket.
    expect(tags('an IED and a rocket')).toEqual(['explosive', 'rocket']);
  });

  test('`not` cancels a tag', () => {
    expect(tags('drone show tonight')).toEqual([]);
    expect(tags('a drone over the base')).toEqual(['drone']);
    expect(tags('drone show and a rocket')).toEqual(['rocket']);
  });

  test('tags are sorted and every language applies to every text', () => {
    expect(tags('militia kidnapped a man, صاروخ and a drone')).toEqual(['armed-group', 'drone', 'kidnapping', 'rocket']);
    expect(analyze(null)).toEqual({
      tags: [],
      places: [],
      entities: { phones: [], urls: [], emails: [], wallets: [] },
      priority: 'normal',
      numbers: [],
      days: [],
    });
  });
});

describe('places', () => {
  test('a name in each language, Arabic clitics and Latin accents', () => {
    expect(places('shooting in Mosul')).toEqual(['Mosul']);
    expect(places('tirs à Mossoul')).toEqual(['Mosul']);
    expect(places('اطلاق نار في الموصل')).toEqual(['Mosul']);
    expect(places('اطلاق نار بالموصل')).toEqual(['Mosul']);
    expect(places('وموصل')).toEqual(['Mosul']);
    expect(places('تەقە لە مووسڵ')).toEqual(['Mosul']);
    expect(places('li Mûsil')).toEqual(['Mosul']);
    expect(places('اربيل')).toEqual(['Erbil']); // أ folded
    // Place names match whole words, not as prefixes.
    expect(places('موصلات')).toEqual([]);
  });

  test('Sorani endings on place names', () => {
    expect(places('لە هەولێرەوە هات')).toEqual(['Erbil']);
    expect(places('هەولێری')).toEqual(['Erbil']);
    expect(places('لە هەولێردا')).toEqual(['Erbil']);
    expect(places('لە سلێمانییەوە')).toEqual(['Sulaymaniyah']);
    expect(places('هەولێرستان')).toEqual([]);
    // Arabic names take no Sorani ending.
    expect(places('الموصلەوە')).toEqual([]);
  });

  test('contextual names only right after a preposition', () => {
    expect(places('a rocket hit the base')).toEqual([]);
    expect(places('a rocket hit the base in Hit')).toEqual(['Hit']);
    expect(places('shooting close to Hit')).toEqual(['Hit']);
    expect(places('Hit was quiet')).toEqual([]);
    expect(places('قصف في هيت')).toEqual(['Hit']); // the Arabic name is not contextual
  });

  test('the longest name wins: an airport is not also its city', () => {
    expect(places('صواريخ على مطار بغداد')).toEqual(['Baghdad Airport']);
    expect(places('rockets at BIAP')).toEqual(['Baghdad Airport']);
    expect(places('rockets at the Baghdad airport and in Baghdad')).toEqual(['Baghdad', 'Baghdad Airport']);
    expect(places('Erbil, Mosul and Bagdad')).toEqual(['Baghdad', 'Erbil', 'Mosul']);
  });

  test('a town named in a link or an address is not a place of the tip; keywords still see links', () => {
    expect(places('see https://t.me/mosul_news now')).toEqual([]);
    expect(places('write to mosul@example.com')).toEqual([]);
    expect(analyze('3 UAV, see https://promo.example.com/mosul in Erbil')).toMatchObject({ tags: ['drone', 'spam'], places: ['Erbil'], numbers: ['3'] });
  });
});

describe('entities', () => {
  test('phone numbers in Iraqi and international formats, Arabic-Indic digits, normalized and deduplicated', () => {
    const e = extractEntities(
      'اتصل ٠٧٧٠ ١٢٣ ٤٥٦٧ أو 07701234567 or +964 750 123 4567, 00964-781-234-5678, +964 (0) 770 111 2222, ' +
        '0771-234-56-78 and +44 20 7946 0958; wa.me/9647709998888',
    );
    expect(e.phones).toEqual([
      '+9647701234567',
      '+9647501234567',
      '+9647812345678',
      '+9647701112222',
      '+9647712345678',
      '+442079460958',
      '+9647709998888',
    ]);
  });

  test('no phone from years, counts, dates or other numbers', () => {
    expect(extractEntities('In 2024 and 2025, 15 rockets, 3 drones on 10/6/2026 at 10:30, ID 12345678, 7701234567').phones).toEqual([]);
    expect(extractEntities('١٢ صاروخ عام ٢٠٢٤').phones).toEqual([]);
  });

  test('links, with and without a scheme; trailing punctuation is not part of them', () => {
    const e = extractEntities('Join https://t.me/joinchat/AbC123?x=1. or t.me/mosul_news, wa.me/9647701234567 and bit.ly/3xYz!');
    expect(e.urls).toEqual(['https://t.me/joinchat/AbC123?x=1', 't.me/mosul_news', 'wa.me/9647701234567', 'bit.ly/3xYz']);
    expect(e.phones).toEqual(['+9647701234567']);
    expect(extractEntities('قناةhttps://example.com/pathمتصل').urls).toEqual(['https://example.com/path']);
    expect(extractEntities('They left Mosul.It was late, e.g. at 3 p.m. Bit.ly/Ab works').urls).toEqual(['Bit.ly/Ab']);
  });

  test('e-mail addresses, lower-cased, not taken for links', () => {
    const e = extractEntities('Write Info.Desk@Example.COM or info.desk@example.com');
    expect(e.emails).toEqual(['info.desk@example.com']);
    expect(e.urls).toEqual([]);
  });

  test('wallets: Bitcoin legacy, P2SH and bech32, Ethereum, TRON; a broken checksum is no wallet', () => {
    const e = extractEntities(
      'BTC 1A1zP1eP5QGefi2DMPTfTL5SLmv7DivfNa or 3J98t1WpEZ73CNmQviecrnyiWrnqRhWNLy or bc1qar0srrr7xfkvy5l643lydnw9re59gtzzwf5mdq, ' +
        'USDT (TRC20) TR7NHqjeKQxGTCi8q8ZY4pL8otSzgjLj6t, ETH 0xdAC17F958D2ee523a2206206994597C13D831ec7. ' +
        'Not: 1A1zP1eP5QGefi2DMPTfTL5SLmv7DivfNb TR7NHqjeKQxGTCi8q8ZY4pL8otSzgjLj6u bc1qar0srrr7xfkvy5l643lydnw9re59gtzzwf5mdr',
    );
    expect(e.wallets).toEqual([
      '1A1zP1eP5QGefi2DMPTfTL5SLmv7DivfNa',
      '3J98t1WpEZ73CNmQviecrnyiWrnqRhWNLy',
      'bc1qar0srrr7xfkvy5l643lydnw9re59gtzzwf5mdq',
      'TR7NHqjeKQxGTCi8q8ZY4pL8otSzgjLj6t',
      '0xdac17f958d2ee523a2206206994597c13d831ec7',
    ]);
  });

  test('analyzeText returns the same entities', () => {
    expect(analyze('call 0770 123 4567 or see t.me/x').entities).toEqual({ phones: ['+9647701234567'], urls: ['t.me/x'], emails: [], wallets: [] });
  });
});

describe('numbers and days (the look-alike veto keys)', () => {
  const numbers = (text: string) => analyze(text).numbers;
  const days = (text: string) => analyze(text).days;

  test('digits and number words one to ten in en, fr, ar, ckb', () => {
    expect(numbers('3 rockets')).toEqual(['3']);
    expect(numbers('5 rockets')).toEqual(['5']);
    expect(numbers('three rockets')).toEqual(['3']);
    expect(numbers('trois roquettes')).toEqual(['3']);
    expect(numbers('ثلاث صواريخ')).toEqual(['3']);
    expect(numbers('ثلاثة صواريخ')).toEqual(['3']);
    expect(numbers('٣ صواريخ')).toEqual(['3']);
    expect(numbers('سێ ڕۆکێت')).toEqual(['3']);
    expect(numbers('15 km from 2 villages, ten men')).toEqual(['2', '10', '15']);
    expect(numbers('un drone')).toEqual([]); // French article, not a count
    expect(numbers('لست متأكدا')).toEqual([]); // "I am not sure", not ل + ست
  });

  test('not the digits of phones, links, #ids or dates; times as h:mm', () => {
    expect(numbers('3 rockets, call 0770 123 4567 or +44 20 7946 0958')).toEqual(['3']);
    expect(numbers('5 drones t.me/news123 https://x.com/a/777')).toEqual(['5']);
    expect(numbers('report #A123 by @user77: 4 cars')).toEqual(['4']);
    expect(numbers('on 10/6 at 09:30')).toEqual(['9:30']);
    expect(numbers('10 June 2026, 2 rockets')).toEqual(['2']);
    expect(numbers('3-4 rockets')).toEqual(['3', '4']);
  });

  test('weekdays and relative days in ar, ckb, en, fr, kmr', () => {
    for (const t of ['يوم الجمعة', 'والجمعة', 'ڕۆژی هەینی', 'on Friday', 'vendredi', 'roja înî']) expect(days(t)).toEqual(['fri']);
    for (const t of ['امس', 'بالامس', 'البارحة', 'دوێنێ', 'yesterday', 'hier soir', 'last night', 'duh']) expect(days(t)).toEqual(['yesterday']);
    expect(days('today')).toEqual(['today']);
    expect(days('اليوم')).toEqual(['today']);
    expect(days('ئەمڕۆ')).toEqual(['today']);
    expect(days('tonight')).toEqual(['tonight']);
    expect(days('الليلة')).toEqual(['tonight']);
    expect(days('tomorrow')).toEqual(['tomorrow']);
    expect(days('باجر')).toEqual(['tomorrow']);
    expect(days('الاثنين')).toEqual(['mon']);
    expect(numbers('الاثنين')).toEqual([]);
    expect(days('دووشەممە')).toEqual(['mon']);
    expect(days('دوو شەممە')).toEqual(['mon']);
    expect(numbers('دوو شەممە')).toEqual([]);
    expect(days('avant-hier')).toEqual(['beforeyesterday']);
    expect(days('yesterday and on Friday')).toEqual(['fri', 'yesterday']);
  });

  test('explicit dates: 10/6, 10 June, 10 juin, ١٠ حزيران, June 10th, 2026-06-10', () => {
    for (const t of ['10/6', 'on 10/6/2026', '10-06-2026', '2026-06-10', '10 June', 'June 10th', '10th of June', '10 juin', 'le 10 juin 2026', '١٠ حزيران', '١٠/٦', '10 حوزەیران']) {
      expect([t, days(t)]).toEqual([t, ['d:06-10']]);
    }
    expect(days('11/6')).toEqual(['d:06-11']);
    expect(days('32/6 and 10/13')).toEqual([]);
    expect(days('10 sept')).toEqual(['d:09-10']);
    expect(numbers('10 sept')).toEqual([]);
    expect(numbers('sept roquettes')).toEqual(['7']);
    expect(days('may')).toEqual([]);
  });
});

describe('priority', () => {
  const priority = (text: string | null, age = 5) => analyze(text, age).priority;

  test('a fresh threat at a named place is high; old, or without a place, it is the default', () => {
    expect(priority('تهديد بهجوم على الموصل')).toBe('high');
    expect(priority('تهديد بهجوم على الموصل', 180)).toBe('high');
    expect(priority('تهديد بهجوم على الموصل', 181)).toBe('normal');
    expect(priority('تهديد بهجوم')).toBe('normal');
  });

  test('the highest matching rule wins; noTags and allTags', () => {
    expect(priority('they kidnapped a man in Mosul and are planning an attack')).toBe('urgent');
    expect(priority('promo, click here')).toBe('low');
    expect(priority('promo: a bomb')).toBe('normal');
    expect(priority('a drone and a rocket')).toBe('high');
    expect(priority('a drone')).toBe('normal');
    expect(priority(null)).toBe('normal');
  });
});

const REAL = path.join(__dirname, '../../config');
const haveRealRules = ['tags.yaml', 'places.yaml', 'priority.yaml'].every((f) => fs.existsSync(path.join(REAL, f)));

(haveRealRules ? test : test.skip)('the real rules under config/ load and get the obvious cases right', () => {
  const real = loadTaggingRules(REAL);
  const a = (text: string) => analyzeText(real, text, { sentAt: SENT, receivedAt: minutesLater(1) });
  expect(a('Tirs de roquettes sur Mossoul').places).toContain('Mosul');
  expect(a('Rockets landed at BIAP').places).toContain('Baghdad Airport');
  expect(a('Rockets landed at BIAP').places).not.toContain('Baghdad');
  expect(a('كاتيوشا').tags).toContain('rocket');
  expect(a('طائرة مسيرة فوق اربيل').tags).toContain('drone');
  expect(a('طائرة مسيرة فوق اربيل').places).toEqual(['Erbil']);
  expect(a('لە هەولێرەوە').places).toEqual(['Erbil']);
});
