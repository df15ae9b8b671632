/**
 * Message generators of the benchmark: the throughput workload (thousands of distinct senders,
 * mostly distinct texts in Arabic, Kurdish, English and French, a few percent exact copies), the
 * viral workload (a third of the messages are copies of one text from distinct senders), and the
 * template texts of the bulk-generated million-report case log.
 */

export const SENDERS = 5_000;
export const DUP_RATE = 0.03;

export const WORDS = {
  ar: ['طائرة', 'مسيرة', 'فوق', 'الموصل', 'قرب', 'الجسر', 'سيارة', 'مفخخة', 'انفجار', 'في', 'السوق', 'مسلحين', 'عند', 'السيطرة', 'صواريخ', 'كاتيوشا', 'باتجاه', 'القاعدة', 'الليلة', 'شاحنة', 'بيضاء', 'رجال', 'ملثمين', 'حي', 'الشرقي'],
  ckb: ['فڕۆکەی', 'بێفڕۆکەوان', 'لە', 'سەر', 'هەولێر', 'تەقینەوەیەک', 'نزیک', 'بازاڕ', 'چەکدار', 'ئۆتۆمبێل', 'سپی', 'شەو', 'کەرکووک', 'ڕێگای', 'بنکە'],
  en: ['drone', 'over', 'the', 'bridge', 'near', 'Mosul', 'explosion', 'market', 'armed', 'men', 'checkpoint', 'rockets', 'fired', 'towards', 'base', 'tonight', 'white', 'truck', 'masked', 'convoy', 'heading', 'north', 'Kirkuk', 'airport'],
  fr: ['drone', 'au-dessus', 'du', 'pont', 'près', 'de', 'Mossoul', 'explosion', 'marché', 'hommes', 'armés', 'barrage', 'roquettes', 'tirées', 'vers', 'la', 'base', 'ce', 'soir', 'camion', 'blanc', 'convoi', 'Kirkouk'],
};
export type Lang = keyof typeof WORDS;
export const LANGS = Object.keys(WORDS) as Lang[];

export type Rng = () => number;

export function pick<T>(a: readonly T[], rng: Rng = Math.random): T {
  return a[Math.floor(rng() * a.length)]!;
}

/** A small seeded generator (mulberry32): the bulk log is the same from run to run. */
export function seeded(seed: number): Rng {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

export interface Line {
  id: string;
  from: string;
  text: string;
  sentAt: string;
}

export const senderAddress = (k: number) => `+9647${String(k).padStart(9, '0')}`;

/** The throughput workload (unchanged from the first benchmark). */
export function workload(n: number, startMs: number): Line[] {
  const out: Line[] = [];
  for (let i = 0; i < n; i++) {
    const sentAt = new Date(startMs + i * 50).toISOString();
    const from = senderAddress(Math.floor(Math.random() * SENDERS));
    if (i > 100 && Math.random() < DUP_RATE) {
      out.push({ id: `b${i}`, from, text: out[Math.floor(Math.random() * i)]!.text, sentAt });
      continue;
    }
    const lang = pick(LANGS);
    const words = Array.from({ length: 8 + Math.floor(Math.random() * 16) }, () => pick(WORDS[lang]));
    out.push({ id: `b${i}`, from, text: `${words.join(' ')} ${Math.floor(Math.random() * 1e6)}`, sentAt });
  }
  return out;
}

// --- viral -----------------------------------------------------------------------------------

export const VIRAL_TEXT =
  'عاجل: انفجار سيارة مفخخة قرب الجسر العتيق في الموصل قبل قليل وسقوط 12 جريحا، الطريق مغلق والقوات الأمنية تطوق المنطقة، تجنبوا المرور من هناك';

export type ViralKind = 'original' | 'verbatim' | 'forward' | 'emoji' | 'near';

const FORWARDS = ['منقول: ', 'Fwd: ', 'منقول للامانه ', 'محول: ', 'Fwd: Fwd: '];
const EMOJI_BEFORE = ['🔴 ', '⚠️⚠️ ', '‼️ '];
const EMOJI_AFTER = [' 🙏', ' 😢😢', ' ⚠️'];
const NEAR_TAILS = [' انشروها', ' انشروا للتحذير', ' الله يستر', ' حسبي الله', ' يرجى النشر'];

/**
 * A third of the messages are copies of one viral text, each from a sender seen nowhere else
 * (`+9648…`), as verbatim copies, forwards, with emoji (all the same fingerprint) and near copies
 * (a few words added: another fingerprint, a MinHash estimate near 0.9). The rest is `workload`.
 */
export function viralWorkload(n: number, startMs: number): { lines: Line[]; kinds: Map<string, ViralKind> } {
  const lines = workload(n, startMs).map((l) => ({ ...l, id: `v${l.id}` }));
  const kinds = new Map<string, ViralKind>();
  let k = 0;
  for (let i = 0; i < n; i++) {
    if (i !== 5 && (i < 5 || Math.random() >= 1 / 3)) continue;
    const l = lines[i]!;
    l.from = `+9648${String(k++).padStart(9, '0')}`;
    let kind: ViralKind;
    const r = Math.random();
    if (i === 5) kind = 'original';
    else if (r < 0.4) kind = 'verbatim';
    else if (r < 0.6) kind = 'forward';
    else if (r < 0.8) kind = 'emoji';
    else kind = 'near';
    l.text =
      kind === 'original' || kind === 'verbatim'
        ? VIRAL_TEXT
        : kind === 'forward'
          ? pick(FORWARDS) + VIRAL_TEXT
          : kind === 'emoji'
            ? Math.random() < 0.5
              ? pick(EMOJI_BEFORE) + VIRAL_TEXT
              : VIRAL_TEXT + pick(EMOJI_AFTER)
            : VIRAL_TEXT + pick(NEAR_TAILS);
    kinds.set(l.id, kind);
  }
  return { lines, kinds };
}

// --- bulk log templates ----------------------------------------------------------------------

const PLACES: Record<Lang, string[]> = {
  ar: ['الموصل', 'كركوك', 'أربيل', 'بغداد', 'البصرة', 'تلعفر', 'سنجار', 'الحويجة', 'تكريت', 'سامراء', 'الرمادي', 'الفلوجة', 'بعقوبة', 'دهوك', 'السليمانية', 'حي الزهراء', 'حي النور', 'باب الطوب', 'القيارة', 'بيجي', 'الشرقاط', 'طوزخورماتو', 'خانقين', 'جلولاء', 'الكوت', 'الناصرية'],
  ckb: ['هەولێر', 'سلێمانی', 'کەرکووک', 'دهۆک', 'هەڵەبجە', 'ڕانیە', 'کۆیە', 'چەمچەماڵ', 'زاخۆ', 'سۆران', 'شەقڵاوە', 'دوکان', 'کفری', 'خانەقین', 'مەخموور'],
  en: ['Mosul', 'Kirkuk', 'Erbil', 'Baghdad', 'Basra', 'Tal Afar', 'Sinjar', 'Hawija', 'Tikrit', 'Samarra', 'Ramadi', 'Fallujah', 'Baqubah', 'Duhok', 'Sulaymaniyah', 'Qayyarah', 'Baiji', 'Shirqat', 'Tuz Khurmatu', 'Khanaqin'],
  fr: ['Mossoul', 'Kirkouk', 'Erbil', 'Bagdad', 'Bassora', 'Tal Afar', 'Sinjar', 'Hawija', 'Tikrit', 'Samarra', 'Ramadi', 'Falloujah', 'Baqouba', 'Dohuk', 'Souleimaniye'],
};

const DAYS: Record<Lang, string[]> = {
  ar: ['اليوم', 'أمس', 'الليلة', 'صباح اليوم', 'يوم الجمعة', 'يوم السبت', 'مساء الخميس'],
  ckb: ['ئەمڕۆ', 'دوێنێ', 'ئەمشەو', 'بەیانی', 'ڕۆژی هەینی'],
  en: ['today', 'yesterday', 'tonight', 'this morning', 'on Friday', 'on Saturday', 'Thursday evening'],
  fr: ["aujourd'hui", 'hier', 'ce soir', 'ce matin', 'vendredi', 'samedi', 'jeudi soir'],
};

const THINGS: Record<Lang, string[]> = {
  ar: ['طائرة مسيرة', 'رتل عسكري', 'سيارة مشبوهة', 'دخان كثيف', 'إطلاق نار', 'شاحنة بيضاء', 'مسلحين ملثمين'],
  ckb: ['فڕۆکەی بێفڕۆکەوان', 'کاروانێکی سەربازی', 'ئۆتۆمبێلێکی گوماناوی', 'دووکەڵێکی زۆر', 'تەقەکردن'],
  en: ['A drone', 'A military convoy', 'A suspicious car', 'Thick smoke', 'Gunfire', 'A white truck', 'Masked gunmen'],
  fr: ['Un drone', 'Un convoi militaire', 'Une voiture suspecte', 'Une fumée épaisse', 'Des tirs', 'Un camion blanc', 'Des hommes masqués'],
};

const TEMPLATES: Record<Lang, string[]> = {
  ar: [
    '{thing} قرب {place} الساعة {time} حوالي {num} {w}',
    'انفجار في {place} {day} وسقوط {num} جرحى {w}',
    'سيطرة {place} مغلقة منذ الساعة {time} و{num} سيارة تنتظر {w}',
    '{num} مسلحين في {num2} سيارات متجهين نحو {place} {day} {w}',
    'انقطاع الكهرباء والماء في {place} منذ {day} و{num} عائلة بدون ماء {w}',
    'شاهدنا {thing} فوق {place} {day} الساعة {time} {w}',
  ],
  ckb: [
    '{thing} لە نزیک {place} کاتژمێر {time} نزیکەی {num} {w}',
    'تەقینەوەیەک لە {place} {day}، {num} بریندار {w}',
    'بازگەی ڕێگای {place} داخراوە لە کاتژمێر {time}ەوە، {num} ئۆتۆمبێل چاوەڕێن {w}',
    '{num} چەکدار بە {num2} ئۆتۆمبێل بەرەو {place} دەڕۆن {day} {w}',
  ],
  en: [
    '{thing} seen near {place} at {time}, about {num} {w}',
    'Explosion heard in {place} {day}, {num} injured {w}',
    'Checkpoint on the road to {place} closed since {time}, {num} cars waiting {w}',
    '{num} armed men in {num2} trucks heading to {place} {day} {w}',
    'Power and water cut in {place} since {day}, {num} families without water {w}',
    '{thing} over {place} {day} at {time} {w}',
  ],
  fr: [
    '{thing} vu près de {place} à {time}, environ {num} {w}',
    'Explosion entendue à {place} {day}, {num} blessés {w}',
    'Barrage sur la route de {place} fermé depuis {time}, {num} voitures attendent {w}',
    '{num} hommes armés dans {num2} camions vers {place} {day} {w}',
    'Coupure de courant et eau à {place} depuis {day}, {num} familles sans eau {w}',
  ],
};

const FOLLOWUPS: Record<Lang, string[]> = {
  ar: ['تحديث: الآن {num} {w} قرب {place}', 'أيضا {thing} الساعة {time} {w}', 'صورة من {place} {w} {num}'],
  ckb: ['نوێکاری: ئێستا {num} {w} لە {place}', 'هەروەها {thing} کاتژمێر {time} {w}'],
  en: ['Update: now {num} {w} near {place}', 'Also {thing} at {time} {w}', 'More from {place}: {num} {w}'],
  fr: ['Mise à jour : maintenant {num} {w} près de {place}', 'Aussi {thing} à {time} {w}'],
};

const SHARE: Record<Lang, string[]> = {
  ar: ['انشروا', 'يرجى النشر', 'انشروها للتحذير', 'الله يستر'],
  ckb: ['بڵاوی بکەنەوە', 'ئاگاداربن'],
  en: ['please share', 'share this', 'stay safe'],
  fr: ['à partager', 'faites tourner', 'prudence'],
};

const PREFIXES: Record<Lang, string[]> = {
  ar: ['منقول: ', 'Fwd: ', 'منقول للامانه ', 'محول: '],
  ckb: ['Fwd: ', 'منقول: '],
  en: ['Fwd: ', 'FW: ', 'Forwarded message: '],
  fr: ['TR : ', 'Fwd: ', 'Transféré : '],
};

const EMOJI = ['🔴 ', '⚠️ ', '‼️‼️ '];

function fill(tpl: string, lang: Lang, rng: Rng): string {
  const words = () => Array.from({ length: 3 + Math.floor(rng() * 8) }, () => pick(WORDS[lang], rng)).join(' ');
  const time = () => `${1 + Math.floor(rng() * 12)}:${String(Math.floor(rng() * 60)).padStart(2, '0')}`;
  return tpl
    .replace('{thing}', pick(THINGS[lang], rng))
    .replace('{place}', pick(PLACES[lang], rng))
    .replace('{day}', pick(DAYS[lang], rng))
    .replace('{time}', time())
    .replace('{num2}', String(2 + Math.floor(rng() * 20)))
    .replace('{num}', String(1 + Math.floor(rng() * 5000)))
    .replace('{w}', words());
}

export function reportText(lang: Lang, rng: Rng): string {
  return fill(pick(TEMPLATES[lang], rng), lang, rng);
}

export function followupText(lang: Lang, rng: Rng): string {
  return fill(pick(FOLLOWUPS[lang], rng), lang, rng);
}

/** The same text as far as the fingerprint goes: a forward prefix, emoji, or nothing. */
export function exactVariant(text: string, lang: Lang, rng: Rng): string {
  const r = rng();
  if (r < 0.6) return text;
  if (r < 0.8) return pick(PREFIXES[lang], rng) + text;
  return rng() < 0.5 ? pick(EMOJI, rng) + text : text + ' ' + pick(EMOJI, rng).trim();
}

/** A near copy: a share call added, a word added or dropped (never a place or a number changed). */
export function nearVariant(text: string, lang: Lang, rng: Rng): string {
  const words = text.split(' ');
  const r = rng();
  if (r < 0.5) return `${text} ${pick(SHARE[lang], rng)}`;
  if (r < 0.75 || words.length < 8) {
    words.splice(1 + Math.floor(rng() * (words.length - 1)), 0, pick(WORDS[lang], rng));
    return words.join(' ');
  }
  for (let tries = 0; tries < 5; tries++) {
    const at = 1 + Math.floor(rng() * (words.length - 1));
    if (/\d/.test(words[at]!)) continue;
    words.splice(at, 1);
    return words.join(' ');
  }
  return `${text} ${pick(SHARE[lang], rng)}`;
}
