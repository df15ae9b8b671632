/**
 * Commands an informant can send on any channel: `/status CODE`, `/lang xx`, `/help`, `/stop`,
 * `/start`. A channel without slash commands gets the same words, and the words in each language,
 * but only when the message is nothing but the command, so a tip that starts with "help" stays a tip.
 */
import { parseCaseRef } from '../caselog/refs';

export type Command =
  | { readonly name: 'start'; readonly payload: string | null }
  | { readonly name: 'help' }
  | { readonly name: 'stop' }
  | { readonly name: 'lang'; readonly arg: string | null }
  | { readonly name: 'status'; readonly ref: string | null; readonly raw: boolean };

const WORDS: Record<Command['name'], string[]> = {
  start: ['start', 'ابدأ', 'دەستپێکردن', 'commencer'],
  help: ['help', 'مساعدة', 'یارمەتی', 'aide'],
  stop: ['stop', 'توقف', 'وەستان', 'arrêt', 'arret'],
  lang: ['lang', 'language', 'لغة', 'زمان', 'langue'],
  status: ['status', 'حالة', 'دۆخ', 'statut'],
};
const BY_WORD = new Map<string, Command['name']>(Object.entries(WORDS).flatMap(([name, ws]) => ws.map((w) => [w, name as Command['name']])));

export function parseCommand(text: string | null): Command | null {
  if (!text) return null;
  const t = text.normalize('NFKC').trim();
  if (t.length > 200 || t.includes('\n')) return null;
  const slash = t.startsWith('/');
  const [head, ...rest] = (slash ? t.slice(1) : t).split(/\s+/);
  // Telegram sends /status@BotName in groups.
  const word = (head ?? '').replace(/@\w+$/, '').toLowerCase();
  const name = BY_WORD.get(word);
  if (!name) return null;
  const arg = rest.join(' ').trim() || null;
  switch (name) {
    case 'start':
      return slash || !arg ? { name, payload: arg } : null;
    case 'help':
    case 'stop':
      return arg === null ? { name } : null;
    case 'lang':
      return arg === null || /^[a-z]{2,3}$/i.test(arg) ? { name, arg: arg?.toLowerCase() ?? null } : null;
    case 'status': {
      const ref = arg ? parseCaseRef(arg) : null;
      // Without a slash, only "status K7Q-4M2P" (a real-looking reference) is a command.
      if (!slash && !ref) return null;
      return { name, ref, raw: arg !== null };
    }
  }
}
