/**
 * Debian's Chromium driven by playwright-core, headless: the dashboard tested the way an operator
 * uses it. No browser is downloaded; `.ci/run` installs the `chromium` package when it is missing.
 */
import { chromium, type Browser, type Page } from 'playwright-core';

export const CHROMIUM = '/usr/bin/chromium';

export async function launchBrowser(): Promise<Browser> {
  return chromium.launch({
    executablePath: CHROMIUM,
    headless: true,
    // Root in CI containers has no user namespace for Chromium's sandbox.
    args: process.getuid?.() === 0 ? ['--no-sandbox'] : [],
  });
}

/** Every request a page makes that leaves `origin`, and every dialog it opens (both must stay empty). */
export function watch(page: Page, origin: string): { foreign: string[]; dialogs: string[] } {
  const seen = { foreign: [] as string[], dialogs: [] as string[] };
  page.on('request', (r) => {
    const u = r.url();
    if (!u.startsWith(origin) && !u.startsWith('data:') && !u.startsWith('blob:')) seen.foreign.push(u);
  });
  page.on('dialog', (d) => {
    seen.dialogs.push(d.message());
    void d.dismiss();
  });
  return seen;
}
