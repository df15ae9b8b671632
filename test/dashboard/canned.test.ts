/**
 * Issue 11, item 6, canned replies: config/replies.yaml (or dashboard.cannedReplies) read and
 * validated at start with problems naming the file and the entry; the composer offers them with
 * the informants' language suggested; without the script, posting a reply's id and language
 * queues the server's text in that language (English when it has none). PostgreSQL, real HTTP.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import type { AddressInfo } from 'node:net';
import type { FastifyInstance } from 'fastify';
import { harness, type Harness } from '../helpers/harness';
import { tmpDir } from '../helpers/env';
import { buildApp } from '../../src/dashboard/app';
import { cannedText, loadCannedReplies, suggestedLanguage, type CannedReplies } from '../../src/dashboard/canned';
import { serveDashboard } from '../../src/dashboard/serve';
import { loadConfig } from '../../app/config';
import { packageRoot } from '../../src/package-root';
import { addOperator, changePassword, confirmTotpEnrolment, startTotpEnrolment, type OperatorRole } from '../../src/operators/accounts';
import { createSession } from '../../src/operators/sessions';
import { totpCode } from '../../src/operators/totp';
import { isTiphubError } from '../../src/errors';

const SHIPPED = path.join(packageRoot(), 'config', 'replies.yaml');

function problemsOf(fn: () => unknown): string {
  try {
    fn();
  } catch (err) {
    expect(isTiphubError(err, 'TIPHUB_CONFIG_INVALID')).toBe(true);
    return (err as Error).message;
  }
  throw new Error('no problem reported');
}

describe('the replies file', () => {
  test('the shipped replies: English, Arabic, French and Kurdish (Sorani and Kurmanji) for each, within a reply’s length', () => {
    const replies = loadCannedReplies(SHIPPED);
    expect(replies.map((r) => r.id)).toEqual(expect.arrayContaining(['received', 'where-when', 'original-media', 'stay-safe']));
    for (const r of replies) {
      for (const l of ['en', 'ar', 'fr', 'ckb', 'kmr'] as const) {
        expect(r.texts[l]?.trim()).toBeTruthy();
        expect(r.texts[l]!.length).toBeLessThanOrEqual(4000);
      }
      expect(r.label.ar).toBeTruthy();
      // Arabic-script texts are written in that script, the Latin ones are not.
      for (const l of ['ar', 'ckb', 'fa'] as const) if (r.texts[l]) expect(r.texts[l]).toMatch(/^[\u0600-\u06FF\u200C\s\p{P}\d]+$/u);
      for (const l of ['en', 'fr', 'kmr'] as const) expect(r.texts[l]).not.toMatch(/[\u0600-\u06FF]/);
    }
    expect(Object.isFrozen(replies) && Object.isFrozen(replies[0]!.texts)).toBe(true);
  });

  test('every problem at once, each naming the file and the entry', () => {
    const dir = tmpDir();
    const file = path.join(dir, 'replies.yaml');
    fs.writeFileSync(
      file,
      [
        'version: 1',
        'replies:',
        '  - id: hello',
        '    label: { en: Hello }',
        '    texts: { en: Hello there, xx: nope }',
        '  - id: hello',
        '    label: { en: Again }',
        '    texts: { ar: مرحبا }',
        '  - id: Bad Id',
        '    label: { en: Bad }',
        '    texts: { en: "   " }',
        '    colour: red',
        '',
      ].join('\n'),
    );
    const msg = problemsOf(() => loadCannedReplies(file));
    expect(msg).toContain(`${file}: reply 1 ("hello"): texts.xx: unknown language "xx"`);
    expect(msg).toContain(`${file}: reply 2 ("hello"): texts: needs an en text`);
    expect(msg).toContain(`${file}: reply 3 ("Bad Id"): id: lower-case letters`);
    expect(msg).toContain(`${file}: reply 3 ("Bad Id"): texts.en: is empty`);
    expect(msg).toContain(`${file}: reply 3 ("Bad Id"): unknown key "colour"`);

    fs.writeFileSync(file, 'version: 1\nreplies:\n  - id: a\n    label: { en: A }\n    texts: { en: A }\n  - id: a\n    label: { en: B }\n    texts: { en: B }\n');
    expect(problemsOf(() => loadCannedReplies(file))).toContain(`${file}: reply 2 ("a"): the id is already used by reply 1`);
    fs.writeFileSync(file, 'version: 2\nreplies: []\n');
    expect(problemsOf(() => loadCannedReplies(file))).toMatch(/version must be 1 \(found 2\)[\s\S]*replies must hold at least one reply/);
    fs.writeFileSync(file, 'version: 1\nreplies: [\n');
    expect(problemsOf(() => loadCannedReplies(file))).toMatch(new RegExp(`${file.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}:\\d+: not valid YAML`));
    expect(problemsOf(() => loadCannedReplies(path.join(dir, 'none.yaml')))).toContain(`${path.join(dir, 'none.yaml')}: file not found`);
  });

  test('dashboard.cannedReplies: relative to the configuration file, the shipped file by default', () => {
    const dir = tmpDir();
    expect(loadConfig({ env: {}, cwd: dir }).dashboard.cannedReplies).toBe(SHIPPED);
    fs.mkdirSync(path.join(dir, 'etc'));
    fs.writeFileSync(path.join(dir, 'etc', 'tiphub.yaml'), 'dashboard:\n  cannedReplies: ours/replies.yaml\n');
    expect(loadConfig({ env: {}, cwd: dir, configPath: 'etc/tiphub.yaml' }).dashboard.cannedReplies).toBe(path.join(dir, 'etc', 'ours', 'replies.yaml'));
  });

  test('the text in the language asked for, else English; the language suggested is the one most reports are in, if a reply has it', () => {
    const replies = loadCannedReplies(SHIPPED);
    const r = replies.find((x) => x.id === 'where-when')!;
    expect(cannedText(r, 'ar')).toEqual({ text: r.texts.ar, language: 'ar' });
    expect(cannedText(r, 'de')).toEqual({ text: r.texts.en, language: 'en' });
    expect(cannedText(r, null).language).toBe('en');
    const onlyEn: CannedReplies = [{ id: 'x', label: { en: 'x' }, texts: { en: 'x' } }];
    expect(suggestedLanguage(replies, ['ar', 'en', 'ar'])).toBe('ar');
    expect(suggestedLanguage(replies, ['ckb', 'en'])).toBe('en'); // a tie: the latest report's
    expect(suggestedLanguage(replies, [null, 'de'])).toBe('en');
    expect(suggestedLanguage(onlyEn, ['ar', 'ar'])).toBe('en');
  });
});

describe('the composer', () => {
  const ARABIC = 'انفجار قرب الجسر الرئيسي في المدينة صباح اليوم';
  let h: Harness;
  let app: FastifyInstance;
  let base = '';
  let replies: CannedReplies;
  let ref = '';
  const who: Record<string, { token: string; csrf: string }> = {};

  async function ready(name: string, role: OperatorRole) {
    const c = await addOperator(h.db, name, role);
    await changePassword(h.db, name, c.password, 'correct horse battery staple');
    const e = await startTotpEnrolment(h.db, name);
    await confirmTotpEnrolment(h.db, name, totpCode(e.secret));
    who[name] = await createSession(h.db, name);
  }

  beforeAll(async () => {
    h = await harness('postgres', { conversation: { enabled: false } });
    await h.sink(h.message({ id: 'c1', from: 'addr-canned-secret-01', text: ARABIC, sentAt: '2026-06-10T05:00:00Z' }));
    h.startWorker();
    await h.drained();
    await h.stopWorker();
    ref = (await h.db.query<{ ref: string }>('SELECT ref FROM cases')).rows[0]!.ref;
    await ready('sup1', 'supervisor');
    await ready('ana1', 'analyst');
    replies = loadCannedReplies(SHIPPED);
    app = await buildApp({ db: h.db, cannedReplies: replies });
    await app.listen({ host: '127.0.0.1', port: 0 });
    base = `http://127.0.0.1:${(app.server.address() as AddressInfo).port}`;
  });
  afterAll(async () => {
    await app?.close();
    await h?.close();
  });

  const page = async (as: string) => (await fetch(`${base}/cases/${ref}`, { headers: { cookie: `tiphub=${who[as]!.token}` } })).text();
  const post = (as: string, form: Record<string, string>, csrf: string | null = who[as]!.csrf) =>
    fetch(`${base}/cases/${ref}/reply-canned`, {
      method: 'POST',
      redirect: 'manual',
      headers: { cookie: `tiphub=${who[as]!.token}`, origin: base, 'content-type': 'application/x-www-form-urlencoded' },
      body: new URLSearchParams({ ...form, ...(csrf ? { _csrf: csrf } : {}) }).toString(),
    });
  const outbox = async () => h.count(`SELECT count(*) AS n FROM outbox WHERE kind = 'reply'`);

  test('a supervisor gets the canned replies with each language’s text, the informant’s language (Arabic) suggested; an analyst gets none', async () => {
    const sup = await page('sup1');
    expect(sup).toContain('class="canned-form" data-reply-box="reply-text"');
    expect(sup).toContain('<textarea id="reply-text" name="text"');
    const r = replies.find((x) => x.id === 'stay-safe')!;
    expect(sup).toContain(`<option value="stay-safe" data-text-ar="${r.texts.ar}"`);
    expect(sup).toContain(`data-text-ckb="${r.texts.ckb}"`);
    expect(sup).toContain('<option value="ar" selected>Arabic (suggested)</option>');
    expect(sup).not.toMatch(/<option value="en" selected>/);
    expect(sup).not.toContain('addr-canned-secret');
    const ana = await page('ana1');
    expect(ana).not.toContain('canned-form');
  });

  test('posting an id and a language queues the server’s text in that language, English when the reply has none; refusals queue nothing', async () => {
    const r = replies.find((x) => x.id === 'where-when')!;
    const res = await post('sup1', { canned: 'where-when', lang: 'ar', to: 'all' });
    expect(res.status).toBe(303);
    expect(res.headers.get('location')).toBe(`/cases/${ref}`);
    expect(await outbox()).toBe(1);
    let shown = await page('sup1');
    expect(shown).toContain(`<td dir="auto">${r.texts.ar}</td><td class="delivery">queued</td>`);
    expect((await post('sup1', { canned: 'where-when', lang: 'de', to: 'all' })).status).toBe(303);
    shown = await page('sup1');
    expect(shown).toContain(`<td dir="auto">${r.texts.en}</td><td class="delivery">queued</td>`);
    expect(await outbox()).toBe(2);

    expect((await post('sup1', { canned: 'no-such-reply', lang: 'ar', to: 'all' })).status).toBe(400);
    expect((await post('ana1', { canned: 'where-when', lang: 'ar', to: 'all' })).status).toBe(403);
    expect((await post('sup1', { canned: 'where-when', lang: 'ar', to: 'all' }, null)).status).toBe(403);
    expect((await post('sup1', { canned: 'where-when', lang: 'ar', to: 'not-a-pseudonym-of-this-case' })).status).toBe(400);
    expect(await outbox()).toBe(2);
    const { rows } = await h.db.query<{ actor: string }>(`SELECT actor FROM events WHERE kind = 'reply.queued'`);
    expect(rows.map((e) => e.actor)).toEqual(['sup1', 'sup1']);
  });

  test('the dashboard does not start with a bad replies file, and says which file and entry', async () => {
    const dir = tmpDir();
    const file = path.join(dir, 'replies.yaml');
    fs.writeFileSync(file, 'version: 1\nreplies:\n  - id: x\n    label: { en: X }\n    texts: { fr: Bonjour }\n');
    fs.writeFileSync(path.join(dir, 'tiphub.yaml'), `dashboard:\n  cannedReplies: replies.yaml\n  listen: { host: 127.0.0.1, port: 0 }\n`);
    const cfg = loadConfig({ env: { TIPHUB_DATA_DIR: dir }, cwd: dir });
    await expect(serveDashboard(cfg, h.db, h.log)).rejects.toThrow(`${file}: reply 1 ("x"): texts: needs an en text`);
  });
});
