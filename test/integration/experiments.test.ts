// Training and run tracking inside a real extension host, on the digits sample: commands, the
// CodeLens, the store watcher, cancellation and the Training panel's message rate.
import * as assert from 'node:assert/strict';
import { readdirSync, readFileSync, rmSync } from 'node:fs';
import * as path from 'node:path';
import * as vscode from 'vscode';
import { annotateRun, listRuns, readHistory } from '../../src/core/track/store';
import { createRun, finishRun } from '../../src/core/train/runStore';
import { activatedExtension, waitFor, workspaceRoot } from './helpers';

const projectFile = () => vscode.Uri.joinPath(workspaceRoot(), 'mlloop.json');
const projectDir = () => workspaceRoot().fsPath;

async function lensTitles(): Promise<string[]> {
  // The lens command needs the document loaded in the editor's model service.
  await vscode.workspace.openTextDocument(projectFile());
  const lenses = (await vscode.commands.executeCommand<vscode.CodeLens[]>('vscode.executeCodeLensProvider', projectFile(), 100)) ?? [];
  return lenses.map((l) => l.command?.title ?? '');
}

function runIds(): string[] {
  try {
    return readdirSync(path.join(projectDir(), '.mlloop', 'runs'));
  } catch {
    return [];
  }
}

function webviewTabs(viewType: string): vscode.Tab[] {
  return vscode.window.tabGroups.all.flatMap((g) => g.tabs).filter((t) => t.input instanceof vscode.TabInputWebview && t.input.viewType.endsWith(viewType));
}

describe('Experiments: training and runs', function () {
  this.timeout(180_000);
  // The suite trains in the sample folder itself: its runs are removed afterwards.
  const existing = new Set<string>();
  before(() => runIds().forEach((id) => existing.add(id)));
  after(() => {
    for (const id of runIds()) if (!existing.has(id)) rmSync(path.join(projectDir(), '.mlloop', 'runs', id), { recursive: true, force: true });
  });

  it('mlloop.json gets a ▶ Train lens per experiment', async () => {
    await activatedExtension();
    const titles = await waitFor(async () => {
      const t = await lensTitles();
      return t.filter((x) => x === '▶ Train').length >= 4 && t;
    }, 'four ▶ Train lenses');
    // softmax, mlp, gbdt and the torch-mlp script experiment.
    assert.equal(titles.filter((x) => x === '▶ Train').length, 4);
  });

  it('Train Experiment trains in a worker, records a completed run, and the lens shows its result', async () => {
    const result = await vscode.commands.executeCommand<{ runId: string; status: string }>('mlLoop.trainExperiment', { projectFile: projectFile(), experiment: 'softmax' });
    assert.equal(result?.status, 'completed');
    const { runs } = await listRuns(projectDir());
    const run = runs.find((r) => r.runId === result.runId)!;
    assert.equal(run.status, 'completed');
    assert.ok(run.record.dataVersion && run.record.metrics?.dev);
    const lens = await waitFor(async () => (await lensTitles()).find((t) => t.startsWith('last: dev acc')), 'the last-run lens');
    assert.match(lens, /^last: dev acc \d+\.\d% · just now$/);
    // The Training panel opened on the run.
    await waitFor(() => webviewTabs('mlLoop.training').length > 0, 'the Training panel');
    // In the active editor group (mlLoop.trainingPanel.column): no second group that would squeeze the panels opened after it.
    assert.equal(vscode.window.tabGroups.all.filter((g) => g.tabs.length > 0).length, 1);
  });

  // In a fresh clone there is no .mlloop/runs when the extension activates: the store's periodic
  // recheck (RunIndex.recheckStore) is what makes this pass there.
  it('a run written to the store by another process reaches the CodeLens through the file watcher', async () => {
    // As `ml-loop train` in a terminal would: a finished run appears in the store.
    const run = createRun(projectDir(), { experiment: 'gbdt', model: 'gbdt', params: {} });
    finishRun(run, { status: 'completed', metrics: { train: { accuracy: 1, f1: 1, logloss: 0.01 }, dev: { accuracy: 0.5, f1: 0.5, logloss: 1 } } });
    const lens = await waitFor(async () => (await lensTitles()).find((t) => t === 'last: dev acc 50.0% · just now'), 'the lens of the new run', 30_000);
    assert.ok(lens);
    annotateRun(projectDir(), run.runId, { name: 'watched-run' });
    await waitFor(async () => (await listRuns(projectDir())).runs.find((r) => r.runId === run.runId)?.annotations.name === 'watched-run', 'the annotation on disk');
  });

  it('Cancel Run stops a training run: its status is cancelled', async () => {
    const before = new Set(runIds());
    const training = vscode.commands.executeCommand<{ runId: string; status: string }>('mlLoop.trainExperiment', { projectFile: projectFile(), experiment: 'gbdt' });
    await waitFor(() => runIds().some((id) => !before.has(id)), 'the new run folder', 30_000);
    assert.equal(await vscode.commands.executeCommand('mlLoop.cancelRun'), true);
    const result = await training;
    assert.equal(result?.status, 'cancelled');
    const run = (await listRuns(projectDir())).runs.find((r) => r.runId === result.runId)!;
    assert.equal(run.status, 'cancelled');
  });

  it('the Training panel gets throttled snapshots during a fast run (rate logged)', async () => {
    const ext = await activatedExtension();
    const result = await vscode.commands.executeCommand<{ runId: string; status: string }>('mlLoop.trainExperiment', { projectFile: projectFile(), experiment: 'mlp' });
    assert.equal(result?.status, 'completed');
    const logFile = vscode.Uri.joinPath(ext.exports.logUri, 'ML Loop.log').fsPath;
    const line = await waitFor(() => readFileSync(logFile, 'utf8').split('\n').find((l) => l.includes(`training panel ${result.runId}:`)), 'the message-rate line');
    const m = /(\d+) progress events → (\d+) webview messages in ([\d.]+) s \(([\d.]+) messages\/s/.exec(line);
    assert.ok(m, line);
    const [events, messages, rate] = [Number(m[1]), Number(m[2]), Number(m[4])];
    console.log(`MLLOOP_FIGURE training-panel-rate ${JSON.stringify({ events, messages, rate })}`);
    // Every epoch reached the host (the panel draws a point per epoch)…
    const run = (await listRuns(projectDir())).runs.find((r) => r.runId === result.runId)!;
    assert.equal(events, readHistory(run.dir).steps.length, line);
    assert.ok(events >= 10, line);
    // …while the webview got at most ~4 snapshots a second (none when it was still loading: it then gets the final one on ready).
    assert.ok(rate <= 6, line);
    await vscode.commands.executeCommand('workbench.action.closeAllEditors');
  });

  it('Re-run with Edited Params trains a new run with the parameters typed in the prefilled box', async () => {
    const source = (await listRuns(projectDir())).runs.find((r) => r.record.experiment === 'softmax' && r.status === 'completed')!;
    const original = vscode.window.showInputBox;
    let prefilled: string | undefined;
    // Dialogs are refused in this test mode: the stub plays the user editing the box.
    (vscode.window as { showInputBox: typeof vscode.window.showInputBox }).showInputBox = async (options) => {
      prefilled = options?.value;
      return JSON.stringify({ ...JSON.parse(options!.value!), l2: 0.05 });
    };
    try {
      const result = await vscode.commands.executeCommand<{ runId: string; status: string }>('mlLoop.rerunWithEditedParams', { projectDir: projectDir(), runId: source.runId });
      assert.equal(result?.status, 'completed');
      assert.deepEqual(JSON.parse(prefilled!), source.record.params);
      const rerun = (await listRuns(projectDir())).runs.find((r) => r.runId === result.runId)!;
      assert.deepEqual(rerun.record.params, { ...source.record.params, l2: 0.05 });
      assert.equal(rerun.record.experiment, 'softmax');
    } finally {
      (vscode.window as { showInputBox: typeof vscode.window.showInputBox }).showInputBox = original;
    }
  });

  it("a sweep's runs show together under their experiment, best marked, and Compare Sweep opens them side by side", async () => {
    const ext = await activatedExtension();
    const tree = ext.exports.experimentsTree;
    const sweepId = `sweep-it-${Date.now()}`;
    // As a sweep in another process would: three of a four-run grid over lr, the second the best.
    for (const [index, lr, acc] of [[0, 0.1, 0.9], [1, 0.01, 0.95], [2, 0.001, 0.8]]) {
      const run = createRun(projectDir(), { experiment: 'softmax', model: 'logistic', params: { lr }, group: { id: sweepId, index, size: 4, values: { lr } } });
      finishRun(run, { status: 'completed', metrics: { train: { accuracy: 1, f1: 1, logloss: 0.01 }, dev: { accuracy: acc, f1: acc, logloss: 0.3 } } });
    }
    const item = async (n: unknown) => tree.getTreeItem(n);
    const softmax = await waitFor(async () => {
      for (const n of (await tree.getChildren()) ?? []) if ((await item(n)).label === 'softmax') return n;
      return undefined;
    }, 'the softmax experiment');
    const sweepNode = await waitFor(
      async () => {
        for (const n of (await tree.getChildren(softmax)) ?? []) {
          const i = await item(n);
          if (i.contextValue === 'sweep' && String(i.id).endsWith(sweepId) && /3\/4 completed/.test(String(i.description))) return n;
        }
        return undefined;
      },
      'the sweep row',
      30_000,
    );
    assert.equal((await item(sweepNode)).description, 'lr · 3/4 completed · best dev acc 95.0%');
    // The sweep's runs are not also listed loose under the experiment.
    const loose = [];
    for (const n of (await tree.getChildren(softmax)) ?? []) if (/^run\./.test(String((await item(n)).contextValue)) && /lr=/.test(String((await item(n)).description))) loose.push(n);
    assert.equal(loose.length, 0);
    const members = await Promise.all(((await tree.getChildren(sweepNode)) ?? []).map(async (n) => String((await item(n)).description)));
    assert.deepEqual(members, ['lr=0.1 dev acc 90.0%', 'lr=0.01 dev acc 95.0% (best)', 'lr=0.001 dev acc 80.0%']);
    await vscode.commands.executeCommand('mlLoop.compareSweep', sweepNode);
    await waitFor(() => webviewTabs('mlLoop.compare').length > 0, 'the Compare panel');
    assert.match(webviewTabs('mlLoop.compare')[0].label, /^Compare 3 runs$/);
    await vscode.commands.executeCommand('workbench.action.closeAllEditors');
  });

  it('Compare Selected opens the Compare panel on two runs', async () => {
    const { runs } = await listRuns(projectDir());
    const refs = runs.slice(0, 2).map((r) => ({ projectDir: projectDir(), runId: r.runId }));
    await vscode.commands.executeCommand('mlLoop.compareRuns', refs[0], refs);
    await waitFor(() => webviewTabs('mlLoop.compare').length > 0, 'the Compare panel');
    assert.match(webviewTabs('mlLoop.compare')[0].label, /^Compare 2 runs$/);
    await vscode.commands.executeCommand('workbench.action.closeAllEditors');
  });
});
