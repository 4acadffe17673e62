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
  /** CSP violations and uncaught errors seen in webviews' consoles so far. */
  webviewProblems(): string[];
  /** Closes the browser and the server; throws when a webview logged a CSP violation or a page error. */
  close(): Promise<void>;
}

/** Webview frames are served from a vscode-webview origin (code-server: …/webview/…/index.html and its inner frame). */
function isWebviewUrl(url: string): boolean {
  return /vscode-webview|\/webview\/|vscode-cdn|webview\.html/.test(url) || url.startsWith('about:srcdoc');
}

const CSP_VIOLATION = /Content Security Policy|Refused to (apply|load|execute)/i;

/** Opens `url` in a new Chromium; on failure stops `server` too, so no code-server outlives the spec. */
export async function openSession(server: CodeServer, url: string, prefix: string): Promise<Session> {
  let browser: Browser | undefined;
  let page: Page;
  const problems: string[] = [];
  try {
    browser = await launchBrowser();
    page = await browser.newPage({ viewport: { width: 1440, height: 900 } });
    page.setDefaultTimeout(30_000);
    // Any CSP violation or page error in a webview fails the spec (at close).
    page.on('console', (m) => {
      const where = m.location();
      const url = where.url || (m.page()?.url() ?? '');
      if (CSP_VIOLATION.test(m.text()) && (isWebviewUrl(url) || /style-src|script-src/.test(m.text()))) problems.push(`CSP: ${m.text()} (${url}:${where.lineNumber}:${where.columnNumber})`);
    });
    page.on('pageerror', (e) => {
      if (e.stack && /webview|vscode-cdn|dist\/webview/.test(e.stack)) problems.push(`page error: ${e.message}\n${e.stack.split('\n').slice(0, 4).join('\n')}`);
    });
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
    webviewProblems: () => [...problems],
    async close() {
      await closeBrowser(browser);
      await server.stop();
      if (problems.length) throw new Error(`webviews logged ${problems.length} CSP violation(s) or page error(s):\n${[...new Set(problems)].join('\n')}`);
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
