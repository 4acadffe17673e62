// A closed panel is freed: the Error Analysis panel of a trained run (which holds the run's whole
// split dataset) is opened, loaded and closed by its tab 20 times, and after a forced garbage
// collection every one of the 20 panel objects has been collected (the panel registry counts them
// with a FinalizationRegistry in the extension's tests). Panels that stayed referenced after closing
// (e.g. from the extension's subscriptions) would be counted as never collected.
import * as assert from 'node:assert/strict';
import { cpSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import * as vscode from 'vscode';
import { trainExperiment } from '../../src/core/experiment/trainExperiment';
import { activatedExtension, loadedErrorAnalysis, waitFor, workspaceRoot } from './helpers';

const VIEW_TYPE = 'mlLoop.errorAnalysis';
const ROUNDS = 20;

/** The engine's gc(), exposed at run time (the extension host does not start with --expose-gc). */
function forcedGc(): () => void {
  setFlagsFromString('--expose-gc');
  return runInNewContext('gc') as () => void;
}

function errorAnalysisTabs(): vscode.Tab[] {
  return vscode.window.tabGroups.all
    .flatMap((g) => g.tabs)
    .filter((t) => t.input instanceof vscode.TabInputWebview && t.input.viewType.endsWith(VIEW_TYPE));
}

describe('Panel lifetime', function () {
  this.timeout(300_000);
  let dir = '';
  let runId = '';

  before(async () => {
    await activatedExtension();
    dir = mkdtempSync(join(tmpdir(), 'mlloop-it-lifetime-'));
    cpSync(workspaceRoot().fsPath, dir, { recursive: true, filter: (src) => !src.includes('.mlloop') });
    const run = await trainExperiment({ projectDir: dir, experimentName: 'softmax' });
    assert.equal(run.status, 'completed', run.error?.message);
    runId = run.runId;
  });
  after(async () => {
    await vscode.commands.executeCommand('workbench.action.closeAllEditors');
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  /** Opens the panel, waits for its analysis, closes its tab as a user would and waits until it is gone. */
  async function openLoadAndClose(): Promise<void> {
    const { exports } = await activatedExtension();
    await vscode.commands.executeCommand('mlLoop.openErrorAnalysis', { projectDir: dir, runId });
    await loadedErrorAnalysis(
      await waitFor(() => exports.panels().find((p) => p.viewType === VIEW_TYPE), 'the Error Analysis panel'),
    );
    const tabs = await waitFor(() => errorAnalysisTabs().length > 0 && errorAnalysisTabs(), 'the panel tab');
    await vscode.window.tabGroups.close(tabs);
    await waitFor(
      () => !exports.panels().some((p) => p.viewType === VIEW_TYPE),
      'the closed panel to leave the open panels',
    );
  }

  it(`frees an Error Analysis panel closed ${ROUNDS} times`, async () => {
    const { exports } = await activatedExtension();
    const gc = forcedGc();
    // Panels closed by earlier suites are collected first, so that only this test's are counted.
    const settled = async () => {
      gc();
      await new Promise((r) => setTimeout(r, 200));
      return exports.collectedPanels(VIEW_TYPE);
    };
    let before = -1;
    for (let n = await settled(); n !== before; n = await settled()) before = n;
    for (let i = 0; i < ROUNDS; i++) await openLoadAndClose();
    // Finalizers run after a collection, on a later turn of the event loop.
    const collected = await waitFor(
      async () => {
        const n = (await settled()) - before;
        return n >= ROUNDS && n;
      },
      `${ROUNDS} closed panels to be garbage-collected`,
      30_000,
    ).catch(() => exports.collectedPanels(VIEW_TYPE) - before);
    assert.equal(
      collected,
      ROUNDS,
      `${ROUNDS - collected} of ${ROUNDS} closed Error Analysis panels are still referenced`,
    );
  });
});
