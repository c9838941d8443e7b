/**
 * A headless Chromium for the dashboard's browser tests: Debian's `chromium` (installed
 * by hack/install-deps.sh), driven by playwright-core, which downloads no browser. A
 * page's console errors, uncaught exceptions and dialogs are recorded, so a test can
 * say that none happened.
 */
import { existsSync, mkdirSync } from 'node:fs';
import path from 'node:path';
import { chromium, type Browser, type BrowserContext, type Page } from 'playwright-core';

/** Where Debian installs it; WEIR_CHROMIUM names another. */
const defaultChromium = '/usr/bin/chromium';

/** What a page did that a test did not ask for. */
export interface PageTrouble {
  console: string[];
  errors: string[];
  dialogs: string[];
  /** Requests to any origin other than the dashboard's. */
  foreign: string[];
}

export interface HeadlessBrowser {
  /** A new page in its own context (own cookies and cache), watched for trouble. */
  open(origin: string): Promise<{ page: Page; trouble: PageTrouble; context: BrowserContext }>;
  close(): Promise<void>;
}

export async function launchBrowser(): Promise<HeadlessBrowser> {
  const executablePath = process.env.WEIR_CHROMIUM ?? defaultChromium;
  if (!existsSync(executablePath))
    throw new Error(
      `No Chromium at ${executablePath}: hack/install-deps.sh installs Debian's chromium (or set WEIR_CHROMIUM to one)`,
    );
  const browser: Browser = await chromium.launch({
    executablePath,
    // Chromium refuses its sandbox to root; the pages are Weir's own, on loopback.
    args: process.getuid?.() === 0 ? ['--no-sandbox'] : [],
    timeout: 60_000,
  });
  return {
    async open(origin) {
      const context = await browser.newContext({
        viewport: { width: 1280, height: 900 },
        locale: 'en-GB',
        timezoneId: 'UTC',
        colorScheme: 'light',
      });
      // Nothing but the dashboard: a request elsewhere fails here and is recorded.
      const trouble: PageTrouble = { console: [], errors: [], dialogs: [], foreign: [] };
      await context.route('**/*', (route) => {
        const url = route.request().url();
        if (new URL(url).origin === origin) return route.continue();
        trouble.foreign.push(url);
        return route.abort();
      });
      const page = await context.newPage();
      page.setDefaultTimeout(15_000);
      page.on('console', (m) => {
        if (m.type() === 'error') trouble.console.push(m.text());
      });
      page.on('pageerror', (e) => trouble.errors.push(e.message));
      page.on('dialog', (d) => {
        trouble.dialogs.push(`${d.type()}: ${d.message()}`);
        void d.dismiss();
      });
      return { page, trouble, context };
    },
    close: () => browser.close(),
  };
}

/** Where screenshots go: test artefacts (.tmp/, ignored by Git), or WEIR_SCREENSHOTS. */
export function screenshotDir(root: string): string {
  const dir = process.env.WEIR_SCREENSHOTS ?? path.join(root, '.tmp', 'screenshots');
  mkdirSync(dir, { recursive: true });
  return dir;
}
