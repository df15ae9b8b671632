import * as fs from 'node:fs';
import * as path from 'node:path';
import { loadTexts, placeholders, render, TEXT_KEYS } from '../../src/conversation/texts';
import { parseCommand } from '../../src/conversation/commands';
import { detectLanguage, LANGUAGES } from '../../src/conversation/language';
import { tmpDir } from '../helpers/env';

test('every bot text exists in every language with the same placeholders', () => {
  const texts = loadTexts();
  for (const lang of LANGUAGES) {
    for (const key of TEXT_KEYS) {
      expect(texts[lang][key].trim()).not.toBe('');
      expect(placeholders(texts[lang][key])).toEqual(placeholders(texts.en[key]));
    }
  }
});

test('a text file with a missing key or a wrong placeholder is refused at load, naming file and key', () => {
  const dir = tmpDir();
  const src = path.join(__dirname, '../../config/texts');
  for (const f of fs.readdirSync(src)) fs.copyFileSync(path.join(src, f), path.join(dir, f));
  fs.writeFileSync(path.join(dir, 'fr.yaml'), fs.readFileSync(path.join(dir, 'fr.yaml'), 'utf8').replace('{ref}', '{reference}').replace(/^help:[\s\S]*?(?=^lang_set)/m, ''));
  let message = '';
  try {
    loadTexts(dir);
  } catch (e) {
    message = (e as Error).message;
  }
  expect(message).toContain('fr.yaml: help: missing');
  loadTexts(src); // the real ones load
  fs.writeFileSync(path.join(dir, 'fr.yaml'), fs.readFileSync(path.join(src, 'fr.yaml'), 'utf8').replace('{ref}', '{reference}'));
  expect(() => loadTexts(dir)).toThrow(/fr\.yaml: ack: placeholders \{reference\} differ from en\.yaml's \{ref\}/);
});

test('values in right-to-left texts sit in Unicode isolates; operator replies are passed as written', () => {
  const texts = loadTexts();
  expect(render(texts, 'ar', 'ack', { ref: 'K7Q-4M2P' })).toBe('تم الاستلام. رقم بلاغك: \u2068K7Q-4M2P\u2069');
  expect(render(texts, 'en', 'ack', { ref: 'K7Q-4M2P' })).toBe('Received. Your reference: K7Q-4M2P');
  expect(render(texts, 'ckb', 'reply', { text: 'سڵاو' })).toBe('سڵاو');
});

test('commands: slash forms, bare words in each language, and tips that only look like commands', () => {
  expect(parseCommand('/status k7q 4m2p')).toEqual({ name: 'status', ref: 'K7Q-4M2P', raw: true });
  expect(parseCommand('/status@TipBot K7Q-4M2P')).toEqual({ name: 'status', ref: 'K7Q-4M2P', raw: true });
  expect(parseCommand('/status')).toEqual({ name: 'status', ref: null, raw: false });
  expect(parseCommand('/status hello')).toEqual({ name: 'status', ref: null, raw: true });
  expect(parseCommand('حالة K7Q-4M2P')).toEqual({ name: 'status', ref: 'K7Q-4M2P', raw: true });
  expect(parseCommand('status of the bridge is bad')).toBeNull();
  expect(parseCommand('/lang CKB')).toEqual({ name: 'lang', arg: 'ckb' });
  expect(parseCommand('langue fr')).toEqual({ name: 'lang', arg: 'fr' });
  expect(parseCommand('help')).toEqual({ name: 'help' });
  expect(parseCommand('مساعدة')).toEqual({ name: 'help' });
  expect(parseCommand('help! armed men at the door')).toBeNull();
  expect(parseCommand('Stop')).toEqual({ name: 'stop' });
  expect(parseCommand('stop the convoy near the bridge')).toBeNull();
  expect(parseCommand('/start campaign-42')).toEqual({ name: 'start', payload: 'campaign-42' });
  expect(parseCommand('/status K7Q-4M2P\nand more text')).toBeNull();
  expect(parseCommand(null)).toBeNull();
});

test('language from the first text: Arabic, Sorani, English, French, or unknown', () => {
  expect(detectLanguage('طائرة مسيرة فوق الموصل الآن')).toBe('ar');
  expect(detectLanguage('فڕۆکەیەکی بێفڕۆکەوان بە سەر هەولێر')).toBe('ckb');
  expect(detectLanguage('Drone circling over the bridge near Mosul')).toBe('en');
  expect(detectLanguage('Un drone survole le pont près de Mossoul')).toBe('fr');
  expect(detectLanguage('👍 ??')).toBeNull();
  expect(detectLanguage('K7Q-4M2P')).toBeNull();
});
