/**
 * Two small judgements about a text, on its normalized form:
 * - noise: a greeting, thanks, "test", "?", emoji, "is this the tip line?" — about no incident, so
 *   never grouped with anyone else's message and never the start of someone's follow-ups;
 * - topic break: a message that says it is about something else ("Separate thing:", "موضوع آخر"),
 *   so it does not join the informant's previous case as a follow-up.
 * Word lists are in natural spelling and normalized like the text.
 */
import { normalizeForMatch } from '../text/normalize';

/** Words that make a message small talk or a question about the line itself. */
const CHAT = `
hello hi hey hiya salam salaam thanks thank thx ty test testing tested ok okay yes no yeah nope good morning evening night bye goodbye
tip tips line hotline bot number working works work receive received reply answer anyone someone here there question welcome
bonjour bonsoir salut coucou merci beaucoup test essai oui non d'accord daccord ok ligne numero marche fonctionne recu reponse quelqu'un
سلام السلام عليكم وعليكم مرحبا مرحبتين هلا هلو اهلا اهلين هاي صباح مساء الخير النور شكرا جزيلا مشكور مشكورين تسلم تسلمون الله يخليك
يعطيك العافيه تجربه تجريب اختبار تست نعم لا اي اوك اوكي تمام حسنا ماشي زين رقم البلاغات بلاغات الخط يشتغل يعمل شغال وصل وصلت واصل
احد موجود هنا رد ردو الكم لكم الك كثير هواي جزيل
سڵاو سلاو بەیانی ئێوارە باش سوپاس زۆر تاقیکردنەوە تاقیکردنەوەیە بەڵێ نەخێر باشە ژمارە ژمارەی کار دەکات کەس هەیە وەڵام
silav spas erê na baş
ممنون مرسی درود
`;
/** Function words that may surround chat words ("is this the tip line?", "هل هذا رقم البلاغات"). */
const GLUE = `
is this the a an are you your it that to of i we my me please can how does do who what where when did for on in with u r very much so lot lots all
est ce que qui c le la les un une vous tu il y a bien de du des pour ca ici
هل هذا هذه هو هي انت انتم في من على يا ممكن شنو شلون وين منو اكو ماكو لو الى
ئەمە ئەوە ئایا تۆ ئێوە لە بۆ چۆن کێ چی ئەم
ev tu ji li
`;

const words = (s: string) => new Set(normalizeForMatch(s).split(' ').filter(Boolean));
const CHAT_WORDS = words(CHAT);
const GLUE_WORDS = words(GLUE);

/**
 * Noise: nothing but symbols and emoji, or only chat words (at least one) and glue words, in a short
 * message. Any other word ("armed", "they are still there") makes it a message about something.
 */
export function isNoise(normalized: string): boolean {
  const ws = normalized.split(' ').filter((w) => /[\p{L}]/u.test(w));
  if (!/[\p{L}\p{N}]/u.test(normalized)) return true;
  if (ws.length === 0 || ws.length > 8) return false;
  if (/\p{N}/u.test(normalized)) return false; // a number is information (a reference, a count)
  return ws.some((w) => CHAT_WORDS.has(w)) && ws.every((w) => CHAT_WORDS.has(w) || GLUE_WORDS.has(w));
}

/** Openings that announce another subject, in the line's languages (normalized when matched). */
const TOPIC_BREAKS = [
  'separate thing', 'separately', 'another thing', 'something else', 'another matter', 'different matter', 'another subject',
  'different subject', 'unrelated', 'on another note', 'new report', 'other news', 'also separate',
  'autre chose', 'autre sujet', 'rien a voir', 'sans rapport', 'nouveau signalement', 'autre info', 'autre affaire', 'par ailleurs',
  'موضوع اخر', 'موضوع ثاني', 'موضوع ثان', 'موضوع منفصل', 'شي ثاني', 'شغله ثانيه', 'خبر ثاني', 'خبر اخر', 'امر اخر', 'بلاغ اخر',
  'بلاغ ثاني', 'بلاغ جديد', 'قضيه ثانيه', 'قضيه اخرى', 'شي اخر', 'مسأله ثانيه',
  'بابەتێکی تر', 'بابەتێکی دیکە', 'شتێکی تر', 'شتێکی دیکە', 'هەواڵێکی تر', 'بابەتی جیاواز', 'بابەتێکی جیاواز',
  'tistekî din', 'mijarek din',
].map((p) => normalizeForMatch(p));

/** The text opens (within its first words) with an announcement of another subject. */
export function isTopicBreak(normalized: string): boolean {
  const head = normalized.split(' ').slice(0, 6).join(' ');
  return TOPIC_BREAKS.some((p) => head === p || head.startsWith(p + ' ') || head.includes(' ' + p + ' ') || head.endsWith(' ' + p));
}
