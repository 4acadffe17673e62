// Debian's Chromium through playwright-core (never `playwright install`: it downloads a browser).
import { chromium } from 'playwright-core';
import { existsSync } from 'node:fs';

export const CHROMIUM = process.env.MLLOOP_CHROMIUM ?? '/usr/bin/chromium';

export async function launchBrowser() {
  if (!existsSync(CHROMIUM)) throw new Error(`${CHROMIUM} is missing: apt-get install -y chromium`);
  return chromium.launch({
    executablePath: CHROMIUM,
    headless: true,
    args: [
      '--no-sandbox',
      '--disable-gpu',
      '--disable-quic',
      '--no-first-run',
      '--disable-background-networking',
      '--disable-component-update',
      '--disable-sync',
    ],
  });
}

/**
 * Leaves the workbench before closing the browser: otherwise code-server keeps that window's
 * extension host alive for hours waiting for a reconnection.
 */
export async function closeBrowser(browser) {
  for (const context of browser.contexts()) {
    for (const page of context.pages()) await page.goto('about:blank').catch(() => {});
  }
  await browser.close();
}
