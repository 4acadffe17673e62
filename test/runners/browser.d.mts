// Types of browser.mjs for the TypeScript e2e specs.
import type { Browser } from 'playwright-core';
export const CHROMIUM: string;
export function launchBrowser(): Promise<Browser>;
export function closeBrowser(browser: Browser): Promise<void>;
