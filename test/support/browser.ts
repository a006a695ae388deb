/**
 * A page opened in the real headless Chromium (Debian's, driven by
 * playwright-core), with the network cut: every request but the page's own
 * file URL is aborted and recorded, and console and page errors collected.
 * CI installs Chromium (.ci/apt-packages); a missing browser fails, never skips.
 */
import { existsSync } from 'node:fs';
import { pathToFileURL } from 'node:url';
import { chromium, type Page } from 'playwright-core';

export const CHROMIUM = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';

/** Known to work as root in a container with no display and no GPU. */
const ARGS = [
  '--headless',
  '--no-sandbox',
  '--disable-gpu',
  '--disable-quic',
  '--no-first-run',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
];

export interface PageEvents {
  readonly consoleErrors: string[];
  readonly pageErrors: string[];
  /** Requests other than the page itself (all of them aborted). */
  readonly otherRequests: string[];
}

export interface OpenOptions {
  /**
   * Ignore the page's Content-Security-Policy, so that a test of escaping
   * sees what would run if the escaping failed, not what the CSP blocked.
   */
  readonly bypassCsp?: boolean;
  readonly width?: number;
}

export async function withPage<T>(
  file: string,
  options: OpenOptions,
  body: (page: Page, events: PageEvents) => Promise<T>,
): Promise<T> {
  if (!existsSync(CHROMIUM)) {
    throw new Error(`Chromium is not at ${CHROMIUM}: apt-get install chromium (or set CHROMIUM_PATH)`);
  }
  const url = pathToFileURL(file).href;
  const browser = await chromium.launch({ executablePath: CHROMIUM, args: ARGS });
  try {
    const context = await browser.newContext({
      offline: true,
      bypassCSP: options.bypassCsp ?? false,
      viewport: { width: options.width ?? 1100, height: 900 },
    });
    const page = await context.newPage();
    // The suite runs files in parallel on two cores: a full-page screenshot took over Playwright's 30 s default in CI.
    page.setDefaultTimeout(90_000);
    const events: PageEvents = { consoleErrors: [], pageErrors: [], otherRequests: [] };
    await page.route('**/*', (route) => {
      const requested = route.request().url();
      if (requested === url) return route.continue();
      events.otherRequests.push(requested);
      return route.abort();
    });
    page.on('console', (message) => {
      if (message.type() === 'error') events.consoleErrors.push(message.text());
    });
    page.on('pageerror', (error) => events.pageErrors.push(error.message));
    await page.goto(url, { waitUntil: 'load' });
    return await body(page, events);
  } finally {
    await browser.close();
  }
}

/** Per `svg.chart`: its id and its data marks (elements of class `m`: bars, boxes, dots). */
export async function chartMarks(page: Page): Promise<Record<string, number>> {
  return page.$$eval('svg.chart', (charts) =>
    Object.fromEntries(charts.map((svg) => [svg.id, svg.querySelectorAll('.m').length])),
  );
}
