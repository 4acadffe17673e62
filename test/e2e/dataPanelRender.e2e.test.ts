// The Data panel bundle on its own in Chromium (no VS Code): a stand-in for the webview API
// answers `ready` with a hand-built profile, so drawing, the handshake and theme changes are
// checked without the profiler.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import type { Browser, Page } from 'playwright-core';
import { closeBrowser, launchBrowser } from '../runners/browser.mjs';
import { root } from '../runners/code-server.mjs';
import { sampleProfile } from '../unit/extension/fixtures/profile';
import { countColour, countPaintedPixels } from './pages/webview';
import { screenshotDir } from './session';

const bundle = join(root, 'dist', 'webview', 'data.js');
const css = join(root, 'media', 'webview.css');

const THEMES = {
  dark: {
    class: 'vscode-dark',
    vars: {
      '--vscode-foreground': '#cccccc',
      '--vscode-editor-background': '#1f1f1f',
      '--vscode-charts-blue': '#3794ff',
      '--vscode-charts-orange': '#d18616',
      '--vscode-charts-green': '#89d185',
    },
  },
  light: {
    class: 'vscode-light',
    vars: {
      '--vscode-foreground': '#3b3b3b',
      '--vscode-editor-background': '#ffffff',
      '--vscode-charts-blue': '#1a85ff',
      '--vscode-charts-orange': '#d18616',
      '--vscode-charts-green': '#388a34',
    },
  },
};

function themeScript(name: keyof typeof THEMES): string {
  const t = THEMES[name];
  const vars = Object.entries(t.vars)
    .map(([k, v]) => `document.documentElement.style.setProperty('${k}', '${v}');`)
    .join('');
  return `document.body.className = '${t.class}'; ${vars}`;
}

describe('Data panel bundle', () => {
  let browser: Browser;
  let page: Page;
  const posted: unknown[] = [];

  before(async () => {
    assert.ok(existsSync(bundle), `${bundle} missing: npm run build`);
    browser = await launchBrowser();
    page = await browser.newPage({ viewport: { width: 1000, height: 760 } });
    await page.exposeFunction('recordPost', (m: unknown) => posted.push(m));
    const profile = sampleProfile();
    await page.setContent(`<!DOCTYPE html><html><head></head><body><main id="root"></main></body></html>`);
    // tsx wraps functions passed to evaluate with its `__name` helper; the page needs it too.
    await page.addScriptTag({ content: 'window.__name = (f) => f;' });
    await page.evaluate((p) => {
      // What VS Code injects into a webview, reduced to what the panel uses.
      (window as unknown as { acquireVsCodeApi: () => unknown }).acquireVsCodeApi = () => ({
        postMessage: (m: { type: string }) => {
          (window as unknown as { recordPost: (m: unknown) => void }).recordPost(m);
          if (m.type === 'ready')
            setTimeout(
              () =>
                window.postMessage(
                  { type: 'state', state: { status: 'loaded', projectFile: 'mlloop.json', profile: p } },
                  '*',
                ),
              0,
            );
        },
        getState: () => (window as unknown as { uiState?: unknown }).uiState,
        setState: (st: unknown) => ((window as unknown as { uiState?: unknown }).uiState = st),
      });
    }, profile);
    await page.addStyleTag({ path: css });
    await page.evaluate(themeScript('dark'));
    await page.addScriptTag({ path: bundle });
  });
  after(async () => {
    if (browser) await closeBrowser(browser);
  });

  test('says ready first, then draws every chart of the snapshot it receives', async () => {
    await page.locator('#root[data-ready="true"]').waitFor({ state: 'attached' });
    assert.deepEqual(posted[0], { type: 'ready' });
    // 3 columns + class balance.
    assert.equal(await page.locator('#root').getAttribute('data-charts'), '4');
    const painted = await page.locator('.column-card canvas').first().evaluate(countPaintedPixels);
    assert.ok(painted > 50, `histogram canvas has ${painted} painted pixels`);
    assert.equal(await page.locator('canvas.sample').count(), 1);
    assert.match(await page.locator('.findings').innerText(), /colour: 1 missing value/);
    assert.match(await page.locator('vscode-data-grid').innerText(), /px0/);
    await page.screenshot({ path: join(screenshotDir, 'render-01-dark.png'), fullPage: true });
  });

  test('redraws its charts in the new colours when the theme changes', async () => {
    const canvas = page.locator('.column-card canvas').first();
    const darkBlue = [0x37, 0x94, 0xff];
    const lightBlue = [0x1a, 0x85, 0xff];
    assert.ok((await canvas.evaluate(countColour, darkBlue)) > 50, 'bars are not in the dark theme blue');
    await page.evaluate(themeScript('light'));
    const deadline = Date.now() + 10_000;
    while ((await canvas.evaluate(countColour, lightBlue)) === 0 && Date.now() < deadline)
      await page.waitForTimeout(100);
    assert.ok((await canvas.evaluate(countColour, lightBlue)) > 50, 'bars were not redrawn in the light theme blue');
    assert.equal(await canvas.evaluate(countColour, darkBlue), 0);
    await page.screenshot({ path: join(screenshotDir, 'render-02-light.png'), fullPage: true });
  });

  test('keeps the scroll position as UI state and restores it when redrawn', async () => {
    await page.evaluate(() => window.scrollTo(0, 120));
    // VS Code's webview state holds the bundle's UI state beside the panel's restore key.
    await page.waitForFunction(
      () => (window as unknown as { uiState?: { ui?: { scrollY: number } } }).uiState?.ui?.scrollY === 120,
    );
    // Loading (a short page: the browser scrolls to the top) must not overwrite the saved position.
    await page.evaluate(() =>
      window.postMessage({ type: 'state', state: { status: 'loading', projectFile: 'mlloop.json' } }, '*'),
    );
    await page.locator('vscode-progress-ring').waitFor({ state: 'attached' });
    await page.waitForTimeout(400);
    // A snapshot arrives again, as after the webview was hidden and shown.
    await page.evaluate(
      (p) =>
        window.postMessage({ type: 'state', state: { status: 'loaded', projectFile: 'mlloop.json', profile: p } }, '*'),
      sampleProfile(),
    );
    await page.waitForFunction(() => window.scrollY === 120);
  });

  test('buttons post typed requests to the host', async () => {
    posted.length = 0;
    await page.locator('vscode-button[data-action="refresh"]').click();
    await page.locator('vscode-button[data-action="open"]').click();
    assert.deepEqual(posted, [{ type: 'refresh' }, { type: 'openDataFile' }]);
  });
});
