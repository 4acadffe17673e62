// One real VS Code per spec file: code-server started by the demo's own function, Chromium, a page.
import { existsSync, mkdirSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Browser, Page } from 'playwright-core';
import { closeBrowser, launchBrowser } from '../runners/browser.mjs';
import { root, type CodeServer } from '../runners/code-server.mjs';
import { Workbench } from './pages/workbench';

export const resultsDir = join(root, 'test-results');
export const screenshotDir = join(resultsDir, 'screenshots');

/** Lines of the editor's log files named `fileName` (ML Loop.log, remoteexthost.log…) under a code-server's user data that match, each prefixed with its file (for failure messages). */
export function editorLogLines(userDataDir: string, fileNames: string[], match: RegExp): string[] {
  const lines: string[] = [];
  const walk = (dir: string) => {
    for (const d of existsSync(dir) ? readdirSync(dir, { withFileTypes: true }) : []) {
      const p = join(dir, d.name);
      if (d.isDirectory()) walk(p);
      else if (fileNames.includes(d.name)) lines.push(...readFileSync(p, 'utf8').split('\n').filter((l) => match.test(l)).map((l) => `${d.name}: ${l}`));
    }
  };
  walk(join(userDataDir, 'logs'));
  return lines;
}

export interface Session {
  server: CodeServer;
  browser: Browser;
  page: Page;
  workbench: Workbench;
  close(): Promise<void>;
}

/** Opens `url` in a new Chromium; on failure stops `server` too, so no code-server outlives the spec. */
export async function openSession(server: CodeServer, url: string, prefix: string): Promise<Session> {
  let browser: Browser | undefined;
  let page: Page;
  try {
    browser = await launchBrowser();
    page = await browser.newPage({ viewport: { width: 1440, height: 900 } });
    page.setDefaultTimeout(30_000);
    await page.goto(url);
  } catch (e) {
    if (browser) await closeBrowser(browser).catch(() => {});
    await server.stop();
    throw e;
  }
  const workbench = new Workbench(page, screenshotDir, prefix);
  return {
    server,
    browser,
    page,
    workbench,
    async close() {
      await closeBrowser(browser);
      await server.stop();
    },
  };
}

/** Records a measured figure under test-results/<name>.json for the report. */
export function recordFigure(name: string, value: unknown): void {
  mkdirSync(resultsDir, { recursive: true });
  writeFileSync(join(resultsDir, `${name}.json`), JSON.stringify(value, null, 2));
}

export const ACTIVATED = /Activated in (\d+(?:\.\d+)?) ms/;
/** The part spent inside activate() itself (same log line). */
export const ACTIVATE_OWN = /activate\(\) (\d+(?:\.\d+)?) ms/;
