// Experiments in a real VS Code on a copy of the digits sample: train from the CodeLens, watch the
// run in the tree (running, then completed with its metric), the Training panel's curve with a
// point per epoch, cancel a run, compare two runs. Screenshots of each step.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { cpSync, existsSync, mkdtempSync, readFileSync, readdirSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DEFAULT_FOLDER, startDemo } from '../runners/demo.mjs';
import { CodeLenses, ExperimentsView, PanelFrame, trainLensFor } from './pages/experiments';
import { openSession, recordFigure, type Session } from './session';

// At most EVERY_STEP_LIMIT (1,000) epochs, so each one is reported; long enough to see the run running.
const EPOCHS = 1000;
// gbdt-long: enough boosting iterations on digits (10 trees each) to train for several seconds.
const GBDT_ITERATIONS = 1000;
const folder = mkdtempSync(join(tmpdir(), 'mlloop-e2e-experiments-'));
cpSync(DEFAULT_FOLDER, folder, { recursive: true, filter: (src) => !src.includes('.mlloop') });
// mlp: a fixed number of epochs (no early stopping), so the curve has EPOCHS points, with a wide layer
// and small batches so that it runs for some seconds even on a quiet machine (with 64 units and
// batches of 200 it finished before the tree could be seen showing it running); mlp-long: a run long
// enough to be cancelled by hand.
const spec = readFileSync(join(folder, 'mlloop.json'), 'utf8');
const mlpLine = /"mlp": \{[^\n]*\}/.exec(spec)![0];
const gbdtLine = /"gbdt": \{[^\n]*\}/.exec(spec)![0];
writeFileSync(
  join(folder, 'mlloop.json'),
  spec
    .replace(
      mlpLine,
      `"mlp": { "model": "mlp", "params": { "hidden": [256], "epochs": ${EPOCHS}, "batchSize": 8, "earlyStopping": false } }`,
    )
    .replace(
      gbdtLine,
      `${gbdtLine},\n    "mlp-long": { "model": "mlp", "params": { "hidden": [128], "epochs": 5000, "batchSize": 100, "earlyStopping": false } },` +
        `\n    "gbdt-long": { "model": "gbdt", "params": { "iterations": ${GBDT_ITERATIONS}, "learningRate": 0.02, "maxLeaves": 63, "minSamplesLeaf": 2, "earlyStopping": false } }`,
    ),
);

/** The full run id of a tree label (`mlp f94b54`: the id's last 6 hex digits), from the store on disk. */
function runIdOf(label: string): string {
  const suffix = label.split(' ').at(-1);
  const id = readdirSync(join(folder, '.mlloop', 'runs')).find((d) => d.endsWith(`-${suffix}`));
  assert.ok(id, `no run folder for ${label}`);
  return id;
}

function findFile(dir: string, name: string): string | undefined {
  for (const e of readdirSync(dir, { withFileTypes: true })) {
    const p = join(dir, e.name);
    if (e.isFile() && e.name === name) return p;
    if (e.isDirectory()) {
      const found = findFile(p, name);
      if (found) return found;
    }
  }
  return undefined;
}

/** The Training panel's traffic line of a run in the ML Loop log (written when the run ends). */
async function trafficLine(runId: string, timeoutMs = 20_000): Promise<string> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const logFile = findFile(session.server.userDataDir, 'ML Loop.log');
    const line =
      logFile && existsSync(logFile)
        ? readFileSync(logFile, 'utf8')
            .split('\n')
            .find((l) => l.includes(`training panel ${runId}:`))
        : undefined;
    if (line) return line;
    if (Date.now() > deadline) throw new Error(`no message-rate line for run ${runId} in the log`);
    await new Promise((r) => setTimeout(r, 200));
  }
}
let session: Session;

describe('experiments in a real VS Code', () => {
  let s: Session;
  let tree: ExperimentsView;
  let lenses: CodeLenses;
  const completed: string[] = [];

  before(async () => {
    const demo = await startDemo({ folder });
    s = session = await openSession(demo, demo.openUrl, 'experiments');
    tree = new ExperimentsView(s.page);
    lenses = new CodeLenses(s.page);
    await s.workbench.waitReady(120_000);
    // The extension reveals its sidebar on first open; open it from the activity bar if that has not happened.
    await s.workbench.sidebar.open('ML Loop');
  });
  after(async () => {
    await s?.close();
  });

  /** Focus back in the workbench (a webview keeps F1 to itself), only mlloop.json open. */
  async function freshEditor(): Promise<void> {
    // The Baseline row has no command: clicking it only moves the focus to the workbench.
    await s.page.locator('.part.sidebar .monaco-list-row', { hasText: 'Baseline' }).first().click();
    await s.page.keyboard.press('Escape');
    await s.workbench.palette.run('View: Close All Editors');
    await s.workbench.palette.run('ML Loop: Open Project File');
  }

  /** Clicks an experiment's ▶ Train lens and waits for the run's folder (clicks again if the lens moved under the pointer). */
  async function trainFromLens(experiment: string): Promise<string> {
    await freshEditor();
    const runsDir = join(folder, '.mlloop', 'runs');
    const before = new Set(existsSync(runsDir) ? readdirSync(runsDir) : []);
    for (let attempt = 0; attempt < 3; attempt++) {
      await s.page.waitForTimeout(1000); // the lenses settle once every provider has answered
      await (await trainLensFor(s.page, lenses, experiment)).click();
      for (let i = 0; i < 100; i++) {
        const created = existsSync(runsDir) ? readdirSync(runsDir).find((d) => !before.has(d)) : undefined;
        if (created) return created;
        await s.page.waitForTimeout(200);
      }
      await s.workbench.screenshot(`lens-click-${attempt}`);
    }
    throw new Error('clicking ▶ Train started no run');
  }

  test('train from the CodeLens: the tree shows the run running, then completed with its metric', async () => {
    await freshEditor();
    await lenses.byTitle('▶ Train');
    await s.workbench.screenshot('codelens');
    await trainFromLens('mlp');
    const running = await tree.waitForRun(/^running/, 120_000);
    await s.workbench.screenshot('tree-running');
    const done = await tree.waitForRun(/^dev acc \d+\.\d%$/, 240_000);
    assert.equal(done, running);
    completed.push(done);
    await s.workbench.screenshot('tree-completed');
    // The Training panel opened in the active group, over mlloop.json: back to its tab to see the lens, then to the panel.
    await s.page.locator('.part.editor .tab', { hasText: 'mlloop.json' }).click();
    const last = await lenses.byTitle(/^last: dev acc/);
    assert.match((await last[0].textContent()) ?? '', /^last: dev acc \d+\.\d% · (just now|\d+ min ago)$/);
    await s.page.locator('.part.editor .tab', { hasText: 'Training:' }).click();
  });

  test('the Training panel draws a point for every epoch and the final metrics', async () => {
    const panel = new PanelFrame(s.page, 'training');
    const root = await panel.waitFor('[data-status="completed"]');
    assert.equal(await root.getAttribute('data-points'), String(EPOCHS));
    assert.equal(await root.getAttribute('data-last-step'), String(EPOCHS));
    // chart.js holds one value per epoch in each dataset (train loss, dev loss, dev accuracy).
    assert.deepEqual(JSON.parse((await root.getAttribute('data-chart-points')) ?? '[]'), [EPOCHS, EPOCHS, EPOCHS]);
    assert.ok((await panel.paintedPixels(root, '#loss-chart')) > 500, 'the loss chart is blank');
    assert.ok((await panel.paintedPixels(root, '#metric-chart')) > 500, 'the metric chart is blank');
    assert.match(await root.locator('tr[data-split="dev"]').innerText(), /dev\s+\d+\.\d%/);
    // Test metrics are hidden until asked for, with the reason next to the toggle.
    assert.equal(await root.locator('tr[data-split="test"]').count(), 0, 'the test metrics show by default');
    const toggle = root.locator('p.test-toggle');
    assert.match(await toggle.innerText(), /Show test — \S/);
    await s.workbench.screenshot('training-panel');
    await toggle.locator('#show-test').check();
    assert.match(await root.locator('tr[data-split="test"]').innerText(), /test\s+\d+\.\d%/);
    assert.doesNotMatch(await root.locator('p.test-toggle').innerText(), /—/);
    await s.workbench.screenshot('training-panel-show-test');
    await root.locator('#show-test').uncheck();
    assert.equal(await root.locator('tr[data-split="test"]').count(), 0);
    // Every epoch reached the host, as the panel logged it.
    const line = await trafficLine(runIdOf(completed[0]));
    assert.match(line, new RegExp(`: ${EPOCHS} progress events`));
  });

  test('a GBDT run: its curve grows in the Training panel while it trains', async () => {
    await trainFromLens('gbdt-long');
    const panel = new PanelFrame(s.page, 'training');
    const seen: number[] = [];
    // Points drawn while the run is still running: a partial curve, then a longer one.
    const deadline = Date.now() + 180_000;
    for (;;) {
      const root = await panel.waitFor('[data-ready="true"]', 120_000);
      const { title, status, points } = await root.evaluate((el: HTMLElement) => ({
        title: el.querySelector('#run-title')?.textContent ?? '',
        status: el.dataset.status,
        points: Number(el.dataset.points),
      }));
      // The panel may still show the previous run for a moment.
      if (title.endsWith('· gbdt-long') && status !== 'running') break;
      if (title.endsWith('· gbdt-long') && points > 0 && points < GBDT_ITERATIONS && points !== seen.at(-1)) {
        seen.push(points);
        await s.workbench.screenshot(`training-panel-gbdt-${seen.length}`);
      }
      if (seen.length >= 2 || Date.now() > deadline) break;
      await s.page.waitForTimeout(300);
    }
    assert.ok(seen.length >= 2, `the curve did not grow while the run trained (points seen while running: ${seen})`);
    assert.ok(seen[0] < seen[1] && seen[1] < GBDT_ITERATIONS, String(seen));
    const root = await panel.waitFor('[data-status="completed"]', 180_000);
    assert.equal(await root.getAttribute('data-points'), String(GBDT_ITERATIONS));
    await s.workbench.screenshot('training-panel-gbdt-completed');
  });

  test('cancel a run from the Training panel: the tree shows it cancelled', async () => {
    await trainFromLens('mlp-long');
    const panel = new PanelFrame(s.page, 'training');
    const running = await panel.waitFor('[data-status="running"]', 120_000);
    await running.locator('vscode-button[data-action="cancel"]').waitFor();
    await s.workbench.screenshot('training-panel-running');
    await running.locator('vscode-button[data-action="cancel"]').click();
    const root = await panel.waitFor('[data-status="cancelled"]', 60_000);
    assert.ok(Number(await root.getAttribute('data-points')) < 5000);
    await tree.waitForRun(/^cancelled$/, 60_000);
    await s.workbench.screenshot('run-cancelled');
    // The panel was open while this run streamed: its message rate is the figure to report.
    const line = await trafficLine(runIdOf(await tree.waitForRun(/^cancelled$/)));
    const m =
      /(\d+) progress events → (\d+) webview messages in ([\d.]+) s \(([\d.]+) messages\/s, (\d+) events\/s\)/.exec(
        line,
      )!;
    const figure = {
      progressEvents: Number(m[1]),
      webviewMessages: Number(m[2]),
      seconds: Number(m[3]),
      messagesPerSecond: Number(m[4]),
      eventsPerSecond: Number(m[5]),
    };
    recordFigure('training-panel-message-rate', {
      ...figure,
      line,
      throttleMs: 250,
      source: 'Training panel log line (mlp 128 hidden, batch 100 on digits), code-server 4.100.3',
      at: new Date().toISOString(),
    });
    assert.ok(figure.webviewMessages >= 2, line);
    assert.ok(figure.webviewMessages < figure.progressEvents, line);
    assert.ok(figure.messagesPerSecond <= 6, line);
  });

  test('compare two runs: both curves and the table', async () => {
    await trainFromLens('softmax');
    const second = await tree.waitForRun(/^dev acc/, 180_000, completed);
    await freshEditor();
    await tree.contextAction([completed[0], second], 'Compare Selected Runs');
    const panel = new PanelFrame(s.page, 'compare');
    const root = await panel.waitFor('[data-ready="true"]');
    await s.workbench.screenshot('compare');
    assert.equal(await root.getAttribute('data-datasets'), '2');
    assert.equal(await root.locator('#compare-table thead th').count(), 3);
    assert.ok(
      (await root.locator('#compare-table td.best').count()) >= 1,
      `no best value marked in:\n${await root.locator('#compare-table').innerText()}`,
    );
    assert.ok((await root.locator('#compare-table tr.differs').count()) >= 1, 'no difference highlighted');
    assert.ok((await panel.paintedPixels(root, '#chart-devLoss')) > 500, 'the compare chart is blank');
    // Test metrics stay behind "Show test" (choosing runs by their test error makes it optimistic).
    const testRows = root.locator('#compare-table tr[data-key^="test "]');
    assert.equal(await testRows.count(), 0, 'the test metrics show by default');
    assert.ok((await root.locator('#compare-table tr[data-key^="dev "]').count()) > 0, 'no dev metric');
    await root.locator('#show-test').check();
    await testRows.first().waitFor({ timeout: 10_000 });
    await s.workbench.screenshot('compare-show-test');
  });
});
