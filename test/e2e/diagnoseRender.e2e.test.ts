// The Diagnostics panel bundle on its own in Chromium (no VS Code): a stand-in for the webview API
// answers `ready` with a diagnosis built from real report functions, so drawing, the requests it
// posts and the theme colours are checked fast, in dark and light themes.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import type { Browser, Page } from 'playwright-core';
import { verdictOf } from '../../src/core/diagnose/biasVariance';
import type { RunDiagnosis } from '../../src/core/diagnose/diagnoseRun';
import { classificationReport } from '../../src/core/diagnose/metrics';
import { mulberry32 } from '../../src/core/data/prng';
import type { DiagnosticsPanelState } from '../../src/protocol/diagnostics';
import { closeBrowser, launchBrowser } from '../runners/browser.mjs';
import { root } from '../runners/code-server.mjs';
import { countColour, countPaintedPixels } from './pages/webview';
import { screenshotDir } from './session';

const bundle = join(root, 'dist', 'webview', 'diagnostics.js');
const styles = [join(root, 'media', 'webview.css'), join(root, 'media', 'diagnostics.css')];

const THEMES = {
  dark: {
    class: 'vscode-dark',
    vars: {
      '--vscode-foreground': '#cccccc',
      '--vscode-descriptionForeground': '#9d9d9d',
      '--vscode-editor-background': '#1f1f1f',
      '--vscode-charts-blue': '#3794ff',
      '--vscode-charts-orange': '#d18616',
      '--vscode-charts-green': '#89d185',
      '--vscode-editorWarning-foreground': '#cca700',
    },
  },
  light: {
    class: 'vscode-light',
    vars: {
      '--vscode-foreground': '#3b3b3b',
      '--vscode-descriptionForeground': '#717171',
      '--vscode-editor-background': '#ffffff',
      '--vscode-charts-blue': '#1a85ff',
      '--vscode-charts-orange': '#d18616',
      '--vscode-charts-green': '#388a34',
      '--vscode-editorWarning-foreground': '#bf8803',
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

/** A 4-class diagnosis from the real report and verdict functions on seeded predictions. */
function sampleState(): DiagnosticsPanelState {
  const rand = mulberry32(9);
  const C = 4;
  const n = 200;
  const y = new Float64Array(n);
  const probabilities = new Float32Array(n * C);
  const classIndex = new Int32Array(n);
  for (let i = 0; i < n; i++) {
    y[i] = i % C;
    let best = 0;
    for (let c = 0; c < C; c++) {
      probabilities[i * C + c] = rand() + (c === y[i] ? 0.6 : 0);
      if (probabilities[i * C + c] > probabilities[i * C + best]) best = c;
    }
    let s = 0;
    for (let c = 0; c < C; c++) s += probabilities[i * C + c];
    for (let c = 0; c < C; c++) probabilities[i * C + c] /= s;
    classIndex[i] = best;
  }
  const names = ['cat', 'dog', 'fox', 'owl'];
  const dev = classificationReport(y, { classIndex, probabilities }, names);
  const train = { ...dev, accuracy: 0.99, error: 0.01 };
  const verdict = verdictOf({
    metric: 'accuracy',
    baseline: { error: 0.02, source: 'human-level' },
    train: { accuracy: 0.99, f1: 0.99, logloss: 0.05 },
    dev: { accuracy: dev.accuracy, f1: dev.f1, logloss: dev.logloss },
  });
  const diagnosis: RunDiagnosis = {
    runId: '20261127-120000-000-abcdef',
    experiment: 'mlp',
    model: 'mlp',
    params: {},
    project: { name: 'animals', file: '/p/mlloop.json', task: 'classification', metric: 'accuracy' },
    dataVersion: 'abc123',
    classes: names,
    splits: { train, dev },
    verdict,
    importance: {
      metric: 'accuracy',
      baseError: dev.error,
      repeats: 5,
      rows: n,
      features: [
        { feature: 'ears', importance: 0.2, std: 0.01 },
        { feature: 'tail', importance: 0.05, std: 0.01 },
        { feature: 'noise', importance: -0.005, std: 0.01 },
      ],
    },
    learningCurve: {
      metric: 'accuracy',
      durationMs: 5000,
      key: 'k',
      points: [0.2, 0.4, 0.6, 0.8, 1].map((f) => ({
        fraction: f,
        trainSize: f * 500,
        trainError: 0.01,
        devError: 0.3 - f * 0.15,
      })),
    },
    durationMs: 100,
  };
  return {
    status: 'loaded',
    diagnosis,
    learningCurve: { status: 'idle' },
    validationCurve: { status: 'idle' },
    sweepable: ['l2', 'hidden'],
  };
}

describe('Diagnostics panel bundle', () => {
  let browser: Browser;
  let page: Page;
  const posted: unknown[] = [];
  const errors: string[] = [];

  before(async () => {
    assert.ok(existsSync(bundle), `${bundle} missing: npm run build`);
    browser = await launchBrowser();
    page = await browser.newPage({ viewport: { width: 1200, height: 900 } });
    page.on('pageerror', (e) => errors.push(e.message));
    await page.exposeFunction('recordPost', (m: unknown) => posted.push(m));
    await page.setContent(`<!DOCTYPE html><html><head></head><body><main id="root"></main></body></html>`);
    await page.addScriptTag({ content: 'window.__name = (f) => f;' });
    await page.evaluate((state) => {
      (window as unknown as { acquireVsCodeApi: () => unknown }).acquireVsCodeApi = () => ({
        postMessage: (m: { type: string }) => {
          (window as unknown as { recordPost: (m: unknown) => void }).recordPost(m);
          if (m.type === 'ready') setTimeout(() => window.postMessage({ type: 'state', state }, '*'), 0);
        },
        getState: () => undefined,
        setState: () => undefined,
      });
    }, sampleState());
    for (const path of styles) await page.addStyleTag({ path });
    await page.evaluate(themeScript('dark'));
    await page.addScriptTag({ path: bundle });
  });
  after(async () => {
    if (browser) await closeBrowser(browser);
  });

  test('draws the verdict, every chart and the heat map, without a script error', async () => {
    await page.locator('#root[data-ready="true"]').waitFor({ state: 'attached', timeout: 30_000 });
    assert.deepEqual(errors, []);
    assert.deepEqual(posted[0], { type: 'ready' });
    // bias/variance, learning curve, ROC, PR, calibration, importance.
    assert.equal(await page.locator('#root').getAttribute('data-charts'), '6');
    for (const label of [
      'baseline, train, dev and test error',
      'train and dev error against training-set size',
      'ROC curves',
      'feature importance',
    ]) {
      const painted = await page.locator(`[aria-label="${label}"]`).evaluate(countPaintedPixels);
      assert.ok(painted > 300, `${label}: ${painted} painted pixels`);
    }
    assert.match(await page.locator('.verdict').innerText(), /^High variance: dev error/);
    assert.equal(await page.locator('table.heatmap tbody tr').count(), 4);
    // The learning curve's dev series in the theme's orange.
    assert.ok(
      (await page
        .locator('[aria-label="train and dev error against training-set size"]')
        .evaluate(countColour, [0xd1, 0x86, 0x16])) > 50,
    );
    await page.screenshot({ path: join(screenshotDir, 'diagnose-render-dark.png'), fullPage: true });
  });

  test('redraws in the light theme', async () => {
    await page.evaluate(themeScript('light'));
    const canvas = page.locator('[aria-label="ROC curves"]');
    const deadline = Date.now() + 10_000;
    while ((await canvas.evaluate(countColour, [0x1a, 0x85, 0xff])) === 0 && Date.now() < deadline)
      await page.waitForTimeout(100);
    assert.ok(
      (await canvas.evaluate(countColour, [0x1a, 0x85, 0xff])) > 20,
      'the first ROC curve is not in the light theme blue',
    );
    await page.screenshot({ path: join(screenshotDir, 'diagnose-render-light.png'), fullPage: true });
  });

  test('buttons post typed requests: a sweep of the chosen parameter, open, refresh', async () => {
    posted.length = 0;
    await page.locator('select').selectOption('hidden');
    await page.locator('[data-action="start-validation-curve"]').click();
    await page.locator('vscode-button', { hasText: 'Open experiment' }).click();
    await page.locator('vscode-button', { hasText: 'Refresh' }).click();
    assert.deepEqual(posted, [
      { type: 'computeValidationCurve', param: 'hidden' },
      { type: 'openExperiment' },
      { type: 'refresh' },
    ]);
  });

  test('a dev confusion-matrix cell asks for Error Analysis of that cell (click or Enter); empty cells do nothing', async () => {
    posted.length = 0;
    const cells = page.locator('table.heatmap td.clickable');
    assert.ok((await cells.count()) >= 4, 'non-empty cells are clickable');
    assert.equal(await page.locator('table.heatmap td.zero.clickable').count(), 0);
    const off = page.locator('table.heatmap td.off.clickable').first();
    const [truth, predicted] = [await off.getAttribute('data-truth'), await off.getAttribute('data-predicted')];
    assert.notEqual(truth, predicted);
    await off.click();
    const diag = page.locator('table.heatmap td.diag.clickable').first();
    await diag.focus();
    await page.keyboard.press('Enter');
    const d = await diag.getAttribute('data-truth');
    assert.deepEqual(posted, [
      { type: 'openErrors', truth, predicted },
      { type: 'openErrors', truth: d, predicted: d },
    ]);
  });
});
