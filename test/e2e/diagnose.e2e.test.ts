// Diagnosis in a real VS Code on a copy of the digits sample with one trained MLP run: the verdict
// in the Problems panel, Diagnose Run from the tree, the Diagnostics panel's charts (and its
// learning curve), the compact Run Diagnostics view, and a quick fix that edits the experiment.
// (The CodeLens and hover are checked by the integration suite through the editor's API.)
import { after, afterEach, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { cpSync, mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parse as parseJsonc } from 'jsonc-parser';
import { trainExperiment } from '../../src/core/experiment/trainExperiment';
import { DEFAULT_FOLDER, startDemo } from '../runners/demo.mjs';
import { QuickFixMenu, paintedPixels, waitDrawn, webviewRoot } from './pages/diagnose';
import { TextEditor } from './pages/editor';
import { ProblemsPanel } from './pages/problems';
import { openSession, recordFigure, type Session } from './session';
import { ExperimentsView, RUN_LABEL } from './pages/experiments';

const folder = mkdtempSync(join(tmpdir(), 'mlloop-e2e-diagnose-'));
cpSync(DEFAULT_FOLDER, folder, { recursive: true, filter: (src) => !src.includes('.mlloop') });
const projectFile = join(folder, 'mlloop.json');

describe('diagnosing a digits run in a real VS Code', () => {
  let s: Session;
  let runId = '';

  before(async () => {
    // The run to diagnose, trained as `ml-loop train` would (the training UI has its own spec).
    const run = await trainExperiment({ projectDir: folder, experimentName: 'mlp' });
    assert.equal(run.status, 'completed', run.error?.message);
    runId = run.runId;
    const demo = await startDemo({ folder });
    s = await openSession(demo, demo.openUrl, 'diagnose');
    await s.workbench.waitReady();
    await s.workbench.sidebar.open('ML Loop');
  });
  after(async () => {
    await s?.close();
  });
  afterEach(async (t) => {
    // What the screen showed at the end of each step (the only clue when a step times out).
    await s?.workbench.screenshot(`end-${t.name.slice(0, 40).replace(/\W+/g, '-')}`).catch(() => undefined);
  });

  async function openProjectFile(): Promise<TextEditor> {
    await s.page.keyboard.press('Escape');
    const editor = new TextEditor(s.page);
    await editor.quickOpen('mlloop.json');
    await editor.press('Control+Home'); // the experiments (and their CodeLens) in view
    return editor;
  }

  test('the verdict of the latest run is a Problems entry on the experiment', async () => {
    await openProjectFile();
    const problems = new ProblemsPanel(s.page);
    await problems.open();
    // The dev error carries its 95% interval (Wilson) and the dev set's size.
    const row = await problems.waitFor(
      /High variance: dev error \d+\.\d% \(95% CI \d+\.\d–\d+\.\d%, \d+ examples\) vs train \d+\.\d% \(baseline 2\.0%\)/,
    );
    const text = readFileSync(projectFile, 'utf8');
    const mlpLine = text.slice(0, text.indexOf('"mlp": {')).split('\n').length;
    assert.equal(row.line, mlpLine, `on the line of "mlp": ${row.text}`);
    assert.match(row.text, new RegExp(`latest run ${runId}`));
    await s.workbench.screenshot('problems-entry');
  });

  test("Diagnose Run from the run's context menu opens the Diagnostics panel with its charts drawn", async () => {
    const tree = s.page.locator('.part.sidebar .pane', {
      has: s.page.locator('.pane-header .title', { hasText: 'Experiments' }),
    });
    const runRow = tree
      .locator('.monaco-list-row', { has: s.page.locator('.label-name', { hasText: RUN_LABEL }) })
      .first();
    // A webview holding the focus (the Run Diagnostics view shows the latest run from the start)
    // can make the tree's context menu ignore the click on its item: focus the tree first, and
    // choose again, as a person would, when no panel opens.
    for (let attempt = 1; ; attempt++) {
      await new ExperimentsView(s.page).focusTree();
      await runRow.click({ button: 'right' });
      const item = s.page.locator('.monaco-menu .action-item', { hasText: 'Diagnose Run' }).first();
      await item.waitFor();
      await s.page.waitForTimeout(300); // the workbench ignores a click that lands right after a menu opens
      await item.click();
      await s.page.waitForTimeout(300);
      // The menu can keep the (highlighted) item open after the click: Enter picks it.
      if (await item.isVisible().catch(() => false)) await item.hover().then(() => s.page.keyboard.press('Enter'));
      const opened = await webviewRoot(s.page, 'diagnostics', 20_000).then(
        () => true,
        (e: unknown) => (attempt === 3 ? Promise.reject(e) : false),
      );
      if (opened) break;
      await s.page.keyboard.press('Escape');
    }
    const { frame, root } = await webviewRoot(s.page, 'diagnostics');
    await waitDrawn(root);
    assert.equal(await root.getAttribute('data-dominant'), 'variance');
    const charts = Number(await root.getAttribute('data-charts'));
    // bias/variance bars, ROC, PR, calibration, importance (the learning curve comes on request).
    assert.ok(charts >= 5, `${charts} charts`);
    assert.match(await frame.locator('.verdict').first().innerText(), /^High variance: dev error/);
    assert.ok((await paintedPixels(frame.locator('.chart.bars canvas'))) > 500, 'the bias/variance bars are blank');
    assert.equal(await frame.locator('table.heatmap tbody tr').count(), 10, 'a confusion row per digit');
    assert.ok((await frame.locator('.recommendations li').count()) >= 3);
    await s.page.keyboard.press('Control+J'); // hide the bottom panel: more room for the charts
    await s.workbench.screenshot('diagnostics-panel');
    await frame.locator('table.heatmap').scrollIntoViewIfNeeded();
    await s.workbench.screenshot('diagnostics-confusion-and-curves');
    await frame.locator('[aria-label="feature importance"]').scrollIntoViewIfNeeded();
    await s.workbench.screenshot('diagnostics-importance');
  });

  test('the learning curve is computed on request in the background and drawn with the baseline', async () => {
    const { frame, root } = await webviewRoot(s.page, 'diagnostics');
    const t0 = Date.now();
    await frame.locator('[data-action="start-learning-curve"]').click();
    await frame.locator('.job', { hasText: /learning-curve: \d+ of 10 trainings/ }).waitFor({ timeout: 30_000 });
    await s.workbench.screenshot('learning-curve-running');
    const deadline = Date.now() + 180_000;
    while ((await frame.locator('[aria-label="train and dev error against training-set size"]').count()) === 0) {
      if ((await frame.locator('.job .failed').count()) > 0)
        throw new Error(`the learning curve failed: ${await frame.locator('.job .failed').innerText()}`);
      if (Date.now() > deadline) throw new Error('no learning curve within 180 s');
      await s.page.waitForTimeout(500);
    }
    await waitDrawn(root);
    recordFigure('diagnose-learning-curve-e2e', {
      wallMs: Date.now() - t0,
      source: 'Diagnostics panel, digits mlp, 10 points, code-server 4.100.3',
      at: new Date().toISOString(),
    });
    assert.ok(
      (await paintedPixels(frame.locator('[aria-label="train and dev error against training-set size"]'))) > 500,
    );
    await frame.locator('[aria-label="train and dev error against training-set size"]').scrollIntoViewIfNeeded();
    await s.workbench.screenshot('learning-curve');
  });

  test('the Run Diagnostics view follows the selected experiment', async () => {
    const tree = s.page.locator('.part.sidebar .pane', {
      has: s.page.locator('.pane-header .title', { hasText: 'Experiments' }),
    });
    await tree
      .locator('.monaco-list-row', { has: s.page.locator('.label-name', { hasText: /^mlp$/ }) })
      .first()
      .click();
    const { frame, root } = await webviewRoot(s.page, 'runDiagnostics');
    await waitDrawn(root, 30_000);
    assert.match(await frame.locator('.verdict').innerText(), /^High variance/);
    assert.match(await frame.locator('.compact-title').innerText(), new RegExp(`^mlp ${runId.slice(-6)}`));
    assert.ok((await paintedPixels(frame.locator('canvas'))) > 200);
    await s.workbench.screenshot('run-diagnostics-view');
  });

  test('a quick fix raises l2 in the experiment, the file changes, and training is offered', async () => {
    const editor = await openProjectFile();
    const text = readFileSync(projectFile, 'utf8');
    await editor.goToLine(text.slice(0, text.indexOf('"mlp": {')).split('\n').length);
    await editor.press('End'); // anywhere on the experiment's line
    const menu = new QuickFixMenu(s.page);
    const labels = await menu.labels();
    assert.ok(
      labels.some((l) => /Raise l2 to 0\.001 in "mlp"/.test(l)),
      labels.join(' | '),
    );
    assert.ok(
      labels.some((l) => /Add dropout 0\.2/.test(l)),
      labels.join(' | '),
    );
    await menu.apply(/Raise l2 to 0\.001 in "mlp"/);
    const message = await s.workbench.notifications.waitFor(/Train it now\?/);
    assert.match(message, /Applied "Raise l2 to 0\.001" to "mlp"/);
    await s.workbench.screenshot('quick-fix-applied');
    await editor.focus('mlloop.json');
    await editor.save();
    // The save reaches the disk a moment after the keystroke: read until it has (a read in the middle of
    // the write can see an empty file, which parses to undefined).
    let saved = parseJsonc(readFileSync(projectFile, 'utf8'));
    for (let i = 0; i < 100 && saved?.experiments?.mlp?.params?.l2 !== 0.001; i++) {
      await s.page.waitForTimeout(100);
      saved = parseJsonc(readFileSync(projectFile, 'utf8'));
    }
    assert.equal(saved.experiments.mlp.params.l2, 0.001);
    assert.deepEqual(saved.experiments.mlp.params.hidden, [64], 'the other params are untouched');
    assert.match(readFileSync(projectFile, 'utf8'), /\/\/ The 64 features px0\.\.px63/, 'comments survive');
  });
});
