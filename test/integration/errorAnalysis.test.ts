// The Error Analysis panel's flow inside a real extension host, on a copy of the digits sample with
// one trained softmax run: the panel opens on the run (the analysis computed in a worker thread),
// a confusion-matrix cell of the Diagnostics panel opens it filtered to that cell, tagging errors
// writes .mlloop/tags.json and updates the tag table, and augmenting the tag makes a data version.
// The webview's messages are delivered through the extension's panel probes, validated and handled
// exactly as the webview's would be.
import * as assert from 'node:assert/strict';
import { cpSync, existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import * as vscode from 'vscode';
import { analyseRun } from '../../src/core/analysis/analysis';
import { readTags } from '../../src/core/analysis/tags';
import { trainExperiment } from '../../src/core/experiment/trainExperiment';
import type { ErrorAnalysisState, ErrorAnalysisView } from '../../src/protocol/errorAnalysis';
import type { PanelProbe } from '../../src/extension/webviewHost/panel';
import {
  activatedExtension,
  channelText,
  loadedErrorAnalysis as loaded,
  type LoadedErrorAnalysis as Loaded,
  waitFor,
  workspaceRoot,
} from './helpers';

describe('Error Analysis panel', function () {
  this.timeout(180_000);
  let dir = '';
  let runId = '';
  let expected: Awaited<ReturnType<typeof analyseRun>>;

  async function probes(viewType: string): Promise<PanelProbe[]> {
    const { exports } = await activatedExtension();
    return exports.panels().filter((p) => p.viewType === viewType);
  }
  async function errorPanel(): Promise<PanelProbe> {
    return waitFor(
      async () => (await probes('mlLoop.errorAnalysis')).find((p) => p.title === `Errors: softmax ${runId.slice(-6)}`),
      'the Error Analysis panel',
    );
  }

  before(async () => {
    await activatedExtension();
    dir = mkdtempSync(join(tmpdir(), 'mlloop-it-errors-'));
    cpSync(workspaceRoot().fsPath, dir, { recursive: true, filter: (src) => !src.includes('.mlloop') });
    const run = await trainExperiment({ projectDir: dir, experimentName: 'softmax' });
    assert.equal(run.status, 'completed', run.error?.message);
    runId = run.runId;
    expected = await analyseRun({ projectDir: dir, run: runId });
    assert.ok(expected.table.errorCount >= 4, `${expected.table.errorCount} dev errors: too few to tag`);
  });
  after(async () => {
    await vscode.commands.executeCommand('workbench.action.closeAllEditors');
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  it('opens on the run with every dev example as columns and its errors counted', async () => {
    const opened = await vscode.commands.executeCommand<{ runId: string } | undefined>('mlLoop.openErrorAnalysis', {
      projectDir: dir,
      runId,
    });
    assert.equal(opened?.runId, runId, 'the command failed (see the ML Loop log)');
    const panel = await errorPanel();
    const { view } = await loaded(panel);
    assert.equal(view.runId, runId);
    assert.equal(view.experiment, 'softmax');
    assert.deepEqual(view.dev.ids, expected.table.ids);
    assert.equal(view.errorCount, expected.table.errorCount);
    assert.equal(
      view.dev.wrong.reduce((a, b) => a + b, 0),
      expected.table.errorCount,
    );
    assert.deepEqual(view.classes, expected.dataset.schema.classes);
    // Digits are pixel columns of a CSV, drawn as 8×8 pictures, not image files (no Similar…, augmentation adds rows).
    assert.deepEqual(view.image, { width: 8, height: 8, channels: 1, files: false });
    // The examples come first; the slices follow as an update of the same load.
    const sliced = await loaded(panel, (x) => !x.view.slicesPending, 'the slices');
    assert.equal(sliced.view.load, view.load);
    assert.deepEqual(
      sliced.view.slices.map((s) => s.key),
      expected.slices.map((s) => s.key),
    );
    // The webview got them: as an update when it had the examples' state already, else in its state.
    type Sent = { type: string; update?: { slices?: unknown[] }; state?: Loaded };
    const carried = await waitFor(
      () =>
        (panel.sent() as Sent[])
          .map((m) =>
            m.type === 'update'
              ? m.update?.slices
              : m.type === 'state' && m.state?.status === 'loaded' && !m.state.view.slicesPending
                ? m.state.view.slices
                : undefined,
          )
          .find((x) => x),
      'the slices sent to the webview',
    );
    assert.equal(carried.length, expected.slices.length);
    assert.match(
      await channelText(),
      new RegExp(
        `error analysis of run ${runId}: ${expected.table.errorCount} errors of ${expected.table.n} dev examples`,
      ),
    );
  });

  it('a confusion-matrix cell clicked in the Diagnostics panel opens it filtered to that cell', async () => {
    // The most frequent confusion of the run (true class, predicted class).
    const t = expected.table;
    const cells = new Map<string, number>();
    for (let i = 0; i < t.n; i++)
      if (t.wrong[i])
        cells.set(`${t.truth[i]},${t.predicted[i]}`, (cells.get(`${t.truth[i]},${t.predicted[i]}`) ?? 0) + 1);
    const [ti, pi] = [...cells]
      .sort((a, b) => b[1] - a[1])[0][0]
      .split(',')
      .map(Number);
    const [truth, predicted] = [t.classes![ti], t.classes![pi]];
    const opened = await vscode.commands.executeCommand<{ runId: string } | undefined>('mlLoop.diagnoseRun', {
      projectFile: vscode.Uri.file(join(dir, 'mlloop.json')),
      runId,
    });
    assert.equal(opened?.runId, runId);
    const diagnostics = await waitFor(
      async () => (await probes('mlLoop.diagnostics')).find((p) => p.title === `Diagnose: softmax ${runId.slice(-6)}`),
      'the Diagnostics panel',
    );
    await diagnostics.deliver({ type: 'openErrors', truth, predicted });
    const s = await loaded(await errorPanel(), (x) => x.filter?.truth === truth, 'the requested filter');
    assert.deepEqual(s.filter, { truth, predicted, seq: 1 });
    // The Error Analysis tab is the active one again.
    const active = vscode.window.tabGroups.all
      .flatMap((g) => g.tabs)
      .find((tab) => tab.isActive && tab.label === `Errors: softmax ${runId.slice(-6)}`);
    assert.ok(active, 'the Error Analysis panel was revealed');
    // A second cell gives a new request (the webview applies each request once, by seq).
    await diagnostics.deliver({ type: 'openErrors', truth: predicted, predicted: truth });
    const again = await loaded(await errorPanel(), (x) => x.filter?.seq === 2, 'the second requested filter');
    assert.deepEqual(again.filter, { truth: predicted, predicted: truth, seq: 2 });
  });

  it('tagging errors writes tags.json and counts them in the tag table; an invalid message changes nothing', async () => {
    const panel = await errorPanel();
    const { view } = await loaded(panel);
    const wrongIds = view.dev.ids.filter((_, r) => view.dev.wrong[r] === 1);
    // The webview has had the state (with the dev columns, as typed arrays) once it said it was ready.
    const stateSent = await waitFor(
      () =>
        panel
          .sent()
          .find(
            (m) =>
              (m as { type: string }).type === 'state' &&
              (m as { state: ErrorAnalysisState }).state.status === 'loaded',
          ),
      'the loaded state sent to the webview',
    );
    assert.ok((stateSent as { state: Loaded }).state.view.dev.loss instanceof Float32Array);
    const lastBefore = panel.sent().at(-1);
    const sentSince = () => {
      const all = panel.sent() as { type: string }[];
      return all.slice(all.lastIndexOf(lastBefore as { type: string }) + 1);
    };
    await panel.deliver({ type: 'tag', ids: wrongIds.slice(0, 3), tag: 'thin strokes' });
    // A tag sends a delta of that load: the tagged examples' tags and the tag table, never the dev columns again.
    const delta = (await waitFor(
      () => sentSince().find((m) => m.type === 'update'),
      'the update after a tag',
    )) as unknown as { type: 'update'; runId: string; load: number; update: Record<string, unknown> };
    assert.equal(delta.runId, runId);
    assert.equal(delta.load, view.load);
    assert.deepEqual(Object.keys(delta.update).sort(), ['tagTable', 'tags']);
    assert.deepEqual(delta.update.tags, Object.fromEntries(wrongIds.slice(0, 3).map((id) => [id, ['thin strokes']])));
    assert.ok(
      !JSON.stringify(delta).includes(view.dev.ids.find((id) => !wrongIds.slice(0, 3).includes(id))!),
      'no other example travels',
    );
    assert.ok(
      sentSince().every((m) => m.type !== 'state'),
      'no whole state after a tag',
    );
    await panel.deliver({ type: 'tag', ids: [wrongIds[3]], tag: 'looks like a 1' });
    const tagged = await loaded(panel, (x) => x.view.tagTable.length === 2, 'the tag table');
    const row = tagged.view.tagTable.find((r) => r.tag === 'thin strokes')!;
    assert.equal(row.errors, 3);
    assert.equal(row.tagged, 3);
    assert.equal(row.shareOfErrors, 3 / view.errorCount);
    assert.equal(row.errorRate, 1);
    const tags = await readTags(dir);
    assert.deepEqual(
      Object.keys(tags)
        .filter((id) => tags[id].includes('thin strokes'))
        .sort(),
      wrongIds.slice(0, 3).sort(),
    );
    // An empty tag is refused by the protocol's validation: nothing is written.
    await panel.deliver({ type: 'tag', ids: [wrongIds[4]], tag: '  ' });
    assert.deepEqual(await readTags(dir), tags);
    // Removing a tag from one example.
    await panel.deliver({ type: 'tag', ids: [wrongIds[0]], tag: 'thin strokes', remove: true });
    const removed = await loaded(
      panel,
      (x) => x.view.tagTable.find((r) => r.tag === 'thin strokes')?.errors === 2,
      'the tag removed',
    );
    assert.equal(removed.view.tags[wrongIds[0]], undefined);
  });

  it('augmenting a tag makes a new data version of synthetic training rows, listed in the panel', async () => {
    const panel = await errorPanel();
    const before: ErrorAnalysisView = (await loaded(panel)).view;
    assert.equal(before.versions.length, 0);
    await panel.deliver({ type: 'augment', source: { tag: 'thin strokes' }, count: 40, seed: 7 });
    const after = await loaded(panel, (x) => x.view.versions.length === 1 && !x.busy, 'the new data version');
    const v = after.view.versions[0];
    assert.equal(v.kind, 'augment');
    assert.equal(v.rows, 40);
    assert.equal(v.parent, before.dataVersion);
    assert.match(v.summary, /^40 × image of tag "thin strokes" \(seed 7\)$/);
    const recipe = JSON.parse(readFileSync(join(dir, '.mlloop', 'data', v.id, 'recipe.json'), 'utf8')) as {
      details: { seed: number; count: number };
    };
    assert.equal(recipe.details.seed, 7);
    assert.equal(recipe.details.count, 40);
    assert.ok(existsSync(join(dir, '.mlloop', 'data', v.id, 'rows.csv')));
    // The data file itself is never touched.
    assert.equal(
      readFileSync(join(dir, 'data', 'digits.csv'), 'utf8'),
      readFileSync(join(workspaceRoot().fsPath, 'data', 'digits.csv'), 'utf8'),
    );
  });
});
