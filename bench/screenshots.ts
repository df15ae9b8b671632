/**
 * `npm run screenshots`: the README's pictures of the dashboard, docs/screenshots/
 * {list,case,overview}-{en,ar}.png at 1280×800, taken by Debian's Chromium driven by
 * playwright-core, headless (the browser tests' setup, test/helpers/browser.ts; repeated here
 * because bench/ is built into the image and test/ is not).
 *
 * On a throw-away case log (PGlite in a temporary folder, removed at the end): a handful of
 * made-up tips in Arabic, Kurdish, English and French go in through `tiphub ingest`'s own path
 * (runIngest: simulator adapter, intake queue, intake worker), a few operator actions through the
 * service layer, then an operator logs in through the pages with password and TOTP (the code
 * computed from the enrolment secret) and each page is taken; the operator's language set to
 * Arabic, again. A page that answers 404 (an area not built yet) is skipped with a message; a
 * request to another origin or a dialog fails the run.
 *
 * Environment: REDIS_URL (default redis://127.0.0.1:6379; the run's keys are under a prefix of
 * its own, deleted at the end), SCREENSHOTS_DIR (default docs/screenshots).
 */
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { randomBytes } from 'node:crypto';
import type { AddressInfo } from 'node:net';
import { Writable } from 'node:stream';
import { chromium, type Browser, type Page } from 'playwright-core';
import { loadConfig } from '../app/config';
import { createLogger } from '../src/log';
import { openCaseLogAccess } from '../app/hub/access';
import type { Db } from '../src/caselog/db';
import { addNote, assign, editTags, setPriority, setStatus } from '../src/caselog/actions';
import { runIngest } from '../app/cli/ingest';
import { addOperator, changePassword, confirmTotpEnrolment, setOperatorLanguage, startTotpEnrolment } from '../src/operators/accounts';
import { totpCode } from '../src/operators/totp';
import { deleteKeysWithPrefix } from '../src/queue/redis';
import { buildApp } from '../src/dashboard/app';

const CHROMIUM = '/usr/bin/chromium';
const VIEWPORT = { width: 1280, height: 800 };
const OUT = path.resolve(process.env.SCREENSHOTS_DIR ?? path.join(__dirname, '..', '..', 'docs', 'screenshots'));
const REDIS_URL = process.env.REDIS_URL ?? 'redis://127.0.0.1:6379';
const OPERATOR = 'layla';
const PASSWORD = 'screenshots only, thrown away with the log';

/**
 * Made-up tips (no real event, place names from the gazetteer): who (a made-up number, never
 * shown: pages show pseudonyms), minutes before now, text. Copies from other informants and a
 * follow-up make cases with corroboration.
 */
const TIPS: [string, number, string][] = [
  ['+9647700000101', 300, 'انقطاع التيار الكهربائي عن حي الزهراء في الموصل منذ ثلاثة أيام، والمولدات الأهلية متوقفة بسبب نقص الوقود'],
  ['+9647700000102', 280, 'انقطاع التيار الكهربائي عن حي الزهراء في الموصل منذ ثلاثة أيام، والمولدات الأهلية متوقفة بسبب نقص الوقود'],
  ['+9647700000103', 250, 'منقول: انقطاع التيار الكهربائي عن حي الزهراء في الموصل منذ ثلاثة أيام، والمولدات الأهلية متوقفة بسبب نقص الوقود'],
  ['+9647700000101', 296, 'تحديث: الكهرباء لم تعد حتى الآن، والأهالي يشترون الثلج من السوق'],
  ['+9647700000104', 200, 'سيطرة جديدة على طريق كركوك أربيل، طوابير السيارات بطول كيلومترين والتفتيش بطيء جدا'],
  ['+9647700000105', 190, 'حريق كبير في مخزن قرب السوق في بغداد، سيارات الإطفاء وصلت قبل قليل ولا أنباء عن إصابات'],
  ['+9647500000201', 170, 'ئاوی خواردنەوە لە گەڕەکی ئازادی لە کەرکووک سێ ڕۆژە بڕاوە، خەڵک ناچارن ئاو بکڕن'],
  ['+9647500000202', 150, 'پردی سەر ڕێگای هەولێر و مووسڵ داخراوە بەهۆی لافاوەوە، ئۆتۆمبێلەکان دەگەڕێنەوە'],
  ['+447700900301', 130, 'Checkpoint on the Baghdad airport road closed since 6 this morning, long queues and no explanation given'],
  ['+447700900302', 110, 'Fwd: Checkpoint on the Baghdad airport road closed since 6 this morning, long queues and no explanation given'],
  ['+447700900303', 95, 'Three trucks carrying flour were stopped near Tikrit, the drivers say they were asked to pay to pass'],
  ['+447700900304', 60, 'Hospital in Basra running out of insulin, pharmacy staff told families to come back next week'],
  ['+33700000401', 45, "Coupure d'eau dans le quartier est de Mossoul depuis lundi, les familles achètent de l'eau en bouteille"],
  ['+33700000402', 20, 'Barrage routier près de Kirkouk ce soir, les soldats contrôlent toutes les voitures vers le sud'],
];

const quiet = new Writable({ write: (_c, _e, cb) => cb() });

async function launchBrowser(): Promise<Browser> {
  return chromium.launch({ executablePath: CHROMIUM, headless: true, args: process.getuid?.() === 0 ? ['--no-sandbox'] : [] });
}

/** The case holding a report with this text. */
async function refOf(db: Db, text: string): Promise<string> {
  const { rows } = await db.query<{ ref: string }>('SELECT c.ref FROM cases c JOIN reports r ON r.case_id = c.id WHERE r.text = $1 LIMIT 1', [text]);
  if (!rows[0]) throw new Error(`no case holds ${JSON.stringify(text.slice(0, 40))}`);
  return rows[0].ref;
}

/** What a shift would have done to these cases by now, through the service layer. */
async function triage(db: Db): Promise<string> {
  const power = await refOf(db, TIPS[0]![2]);
  const checkpoint = await refOf(db, TIPS[8]![2]);
  const insulin = await refOf(db, TIPS[11]![2]);
  const fire = await refOf(db, TIPS[5]![2]);
  const flour = await refOf(db, TIPS[10]![2]);
  await setPriority(db, insulin, 'urgent', OPERATOR);
  await setPriority(db, power, 'high', OPERATOR);
  await setPriority(db, checkpoint, 'high', 'omar');
  await setStatus(db, power, 'in_review', { actor: OPERATOR });
  await setStatus(db, insulin, 'escalated', { actor: OPERATOR });
  await setStatus(db, fire, 'in_review', { actor: 'omar' });
  await assign(db, power, OPERATOR, OPERATOR);
  await assign(db, insulin, 'omar', OPERATOR);
  await editTags(db, power, { add: ['electricity'] }, OPERATOR);
  await editTags(db, flour, { add: ['extortion'] }, 'omar');
  await addNote(db, power, 'اتصلنا بدائرة الكهرباء: العطل في المحطة الفرعية، والإصلاح متوقع خلال يومين', OPERATOR);
  return power;
}

/** `scrollTo`: a selector brought near the top first (the case page's reports, below its header and forms). */
async function shoot(page: Page, origin: string, url: string, file: string, scrollTo?: string): Promise<boolean> {
  const res = await page.goto(origin + url, { waitUntil: 'networkidle' });
  if (res?.status() === 404) {
    console.log(`screenshots: ${url} answers 404 (not built yet): ${path.basename(file)} skipped`);
    return false;
  }
  if (!res?.ok()) throw new Error(`${url}: ${res?.status()} ${(await page.content()).slice(0, 300)}`);
  const body = await page.content();
  const leaked = TIPS.map(([from]) => from).filter((from) => body.includes(from) || body.includes(from.slice(1)));
  if (leaked.length) throw new Error(`${url} shows an informant's address`);
  if (scrollTo) await page.evaluate(`window.scrollTo(0, document.querySelector(${JSON.stringify(scrollTo)}).getBoundingClientRect().top + window.scrollY - 12)`);
  await page.screenshot({ path: file, fullPage: false });
  console.log(`screenshots: ${path.relative(process.cwd(), file)}`);
  return true;
}

async function main() {
  const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'tiphub-screenshots-'));
  const prefix = `screenshots-${randomBytes(6).toString('hex')}`;
  const cfgFile = path.join(tmp, 'tiphub.yaml');
  fs.writeFileSync(cfgFile, JSON.stringify({ queue: { prefix }, log: { level: 'warn' } }));
  const env = { TIPHUB_SECRET: randomBytes(32).toString('hex'), TIPHUB_DATA_DIR: tmp, TIPHUB_CONFIG: cfgFile, REDIS_URL };
  const cfg = loadConfig({ env, cwd: tmp });
  const log = createLogger('warn');
  let browser: Browser | null = null;
  try {
    // 1. The tips, through the ingest path.
    const now = Date.now();
    const file = path.join(tmp, 'demo-tips.jsonl');
    fs.writeFileSync(file, TIPS.map(([from, minutes, text], i) => JSON.stringify({ id: `demo-${i}`, from, text, sentAt: new Date(now - minutes * 60_000).toISOString() })).join('\n') + '\n');
    const summary = await runIngest(cfg, log, file, { out: quiet, err: process.stderr });
    console.log(`screenshots: ${summary.accepted} demo tips ingested (${summary.rejected} rejected)`);
    if (summary.accepted !== TIPS.length) throw new Error('not every demo tip was accepted');

    // 2. Operators, a shift's triage, the dashboard.
    const opened = await openCaseLogAccess(cfg, log, { role: 'screenshots' });
    const db = opened.local!.db;
    const first = await addOperator(db, OPERATOR, 'admin');
    await changePassword(db, OPERATOR, first.password, PASSWORD);
    const enrolment = await startTotpEnrolment(db, OPERATOR);
    const confirmed = await confirmTotpEnrolment(db, OPERATOR, totpCode(enrolment.secret));
    if (!confirmed.ok) throw new Error('the TOTP enrolment was refused');
    await addOperator(db, 'omar', 'analyst');
    const caseRef = await triage(db);
    const app = await buildApp({ db, requireTotp: true });
    await app.listen({ host: '127.0.0.1', port: 0 });
    const origin = `http://127.0.0.1:${(app.server.address() as AddressInfo).port}`;
    try {
      browser = await launchBrowser();
      const context = await browser.newContext({ viewport: VIEWPORT, deviceScaleFactor: 1 });
      context.setDefaultTimeout(10_000);
      const page = await context.newPage();
      const foreign: string[] = [];
      const dialogs: string[] = [];
      page.on('request', (r) => {
        const u = r.url();
        if (!u.startsWith(origin) && !u.startsWith('data:') && !u.startsWith('blob:')) foreign.push(u);
      });
      page.on('dialog', (d) => {
        dialogs.push(d.message());
        void d.dismiss();
      });

      // 3. Log in as an operator does: password, then the code (the step after the one the
      // enrolment used, which the server no longer takes).
      await page.goto(`${origin}/login`);
      await page.fill('input[name=name]', OPERATOR);
      await page.fill('input[name=password]', PASSWORD);
      await Promise.all([page.waitForURL(`${origin}/login/totp`), page.click('button[type=submit]')]);
      await page.fill('input[name=code]', totpCode(enrolment.secret, Date.now() + 30_000));
      await Promise.all([page.waitForURL(`${origin}/`), page.click('button[type=submit]')]);

      // 4. The pages, in English, then in Arabic.
      fs.mkdirSync(OUT, { recursive: true });
      for (const language of ['en', 'ar']) {
        await setOperatorLanguage(db, OPERATOR, language);
        await shoot(page, origin, '/', path.join(OUT, `list-${language}.png`));
        await shoot(page, origin, `/cases/${encodeURIComponent(caseRef)}`, path.join(OUT, `case-${language}.png`), 'section.reports');
        await shoot(page, origin, '/overview', path.join(OUT, `overview-${language}.png`));
        const dir = await page.locator('html').getAttribute('dir');
        if (language === 'ar' && dir !== 'rtl') console.log('screenshots: the Arabic pages are not right to left yet (no Arabic interface table?): the -ar pictures show the English interface');
      }
      if (foreign.length || dialogs.length) throw new Error(`a page reached another origin (${foreign.join(', ')}) or opened a dialog (${dialogs.join(', ')})`);
      await context.close();
    } finally {
      await app.close();
      await opened.close();
    }
  } finally {
    await browser?.close();
    await deleteKeysWithPrefix(REDIS_URL, prefix).catch((err) => console.error(`screenshots: could not delete ${prefix}:* keys: ${err}`));
    fs.rmSync(tmp, { recursive: true, force: true });
  }
}

main().then(
  () => process.exit(0),
  (err: unknown) => {
    console.error(err);
    process.exit(1);
  },
);
