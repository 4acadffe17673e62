// A new user's first minutes, on the flow `npm run demo` starts: the digits sample opens in VS
// Code with ML Loop loaded from this checkout.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { parse as parseJsonc } from 'jsonc-parser';
import { DEFAULT_FOLDER, startDemo } from '../runners/demo.mjs';
import { copyOfSample } from '../runners/sampleGuard.mjs';
import { ACTIVATE_OWN, ACTIVATED, openSession, recordFigure, type Session } from './session';

// A fresh copy: the runs a user trained in the checkout's sample (npm run demo) are not in it.
const folder = copyOfSample(process.env.MLLOOP_SAMPLE ?? DEFAULT_FOLDER, 'mlloop-e2e-workbench-');
const sampleSpec = parseJsonc(readFileSync(join(folder, 'mlloop.json'), 'utf8'));

describe('ML Loop in a real VS Code, on the sample project', () => {
  let s: Session;

  before(async () => {
    const demo = await startDemo({ folder });
    s = await openSession(demo, demo.openUrl, 'demo');
  });
  after(async () => {
    await s?.close();
  });

  test('the demo opens the sample with the extension loaded and the ML Loop sidebar visible', async () => {
    const wb = s.workbench;
    await wb.waitReady();
    // The extension shows its container the first time a workspace with mlloop.json opens.
    await s.page.locator('.part.sidebar .composite.title h2', { hasText: /ML Loop/i }).waitFor();
    assert.match(await wb.title(), /\[Extension Development Host\]/);
    await wb.sidebar.treeLabels('Experiments');
    await wb.screenshot('sample-opened');
  });

  test('the extension activates on the sample and logs its activation time', async () => {
    const wb = s.workbench;
    await wb.palette.run('ML Loop: Show Log');
    const text = await wb.outputText();
    const m = ACTIVATED.exec(text);
    assert.ok(m, `no "Activated in" line in the output:\n${text}`);
    const ms = Number(m[1]);
    // Reported against the 150 ms target (recordFigure), never asserted: timings on a shared machine are noise.
    assert.ok(Number.isFinite(ms) && ms > 0, `activation time ${ms}`);
    recordFigure('activation', { activationMs: ms, activateMs: Number(ACTIVATE_OWN.exec(text)?.[1]), source: 'ML Loop output channel, code-server 4.100.3 (VS Code 1.100.3)', at: new Date().toISOString() });
    await wb.screenshot('output-activation');
  });

  test('the ML Loop container shows the Experiments view with the sample experiments', async () => {
    const wb = s.workbench;
    await wb.sidebar.open('ML Loop');
    const views = await wb.sidebar.viewNames();
    assert.ok(views.some((v) => /experiments/i.test(v)), `views: ${views}`);
    assert.ok(views.some((v) => /deployments/i.test(v)), `views: ${views}`);
    const labels = await wb.sidebar.treeLabels('Experiments');
    // Each experiment has a row (runs of earlier trainings may be listed under them).
    for (const name of Object.keys(sampleSpec.experiments)) assert.ok(labels.includes(name), `no row "${name}" in ${labels}`);
    await wb.screenshot('experiments-view');
  });

  test('a palette command runs: Open Project File opens mlloop.json', async () => {
    const wb = s.workbench;
    await wb.palette.run('ML Loop: Open Project File');
    await s.page.locator('.part.editor .tab.active .label-name', { hasText: 'mlloop.json' }).waitFor();
    assert.ok((await wb.editorTabs()).includes('mlloop.json'));
    await wb.screenshot('project-file');
  });

  test('Create ML Project in a folder that is a project says so at once and offers to open the file', async () => {
    const wb = s.workbench;
    await wb.palette.run('ML Loop: Create ML Project');
    // Before any question (no sample is asked for).
    const message = await wb.notifications.waitFor('already exists');
    assert.match(message, /ML Loop: mlloop\.json already exists: this folder is an ML Loop project/);
    assert.equal(await s.page.locator('.quick-input-widget .monaco-list-row:visible').count(), 0, 'no sample pick');
    await s.page.locator('.notifications-toasts .notification-toast .monaco-button', { hasText: 'Open mlloop.json' }).first().waitFor();
    await wb.screenshot('notification');
    await wb.notifications.clearAll();
  });

  test('the Data panel renders chart.js charts of the profile', async () => {
    const wb = s.workbench;
    await wb.palette.run('View: Hide Panel');
    await wb.palette.run('ML Loop: Open Data Panel');
    const view = wb.webview();
    await view.waitDrawn(120_000);
    const charts = Number(await view.rootAttribute('data-charts'));
    // One chart per column plus the class balance.
    assert.equal(charts, sampleSpec.task === 'classification' ? (await view.count('.column-card')) + 1 : await view.count('.column-card'));
    assert.ok((await view.paintedPixels('.column-card canvas')) > 50, 'the first histogram canvas is blank');
    assert.ok((await view.paintedPixels('.balance canvas')) > 50, 'the class balance canvas is blank');
    assert.match(await view.text('header h1'), /\.csv$/);
    if (sampleSpec.data.image) assert.ok((await view.count('canvas.sample')) > 0, 'no image samples drawn');
    await wb.screenshot('data-panel');
  });
});
