// Diagnosis inline in mlloop.json, inside a real extension host on the digits sample: a finished
// run written to the store gets its verdict as a Problems entry on the experiment, a CodeLens and a
// hover; its quick fixes edit the experiment's params; Diagnose Run opens the panel.
import * as assert from 'node:assert/strict';
import { readFileSync, rmSync, writeFileSync } from 'node:fs';
import * as vscode from 'vscode';
import { createRun, finishRun } from '../../src/core/train/runStore';
import { readProjectOutline } from '../../src/extension/project/projectFile';
import { activatedExtension, waitFor, workspaceRoot } from './helpers';

const projectFile = () => vscode.Uri.joinPath(workspaceRoot(), 'mlloop.json');
const SOURCE = 'ML Loop diagnosis';

/** The verdict entries of one run (the sample may hold other experiments' runs from other suites). */
function verdicts(runId: string): vscode.Diagnostic[] {
  return vscode.languages.getDiagnostics(projectFile()).filter((d) => d.source === SOURCE && d.message.endsWith(`latest run ${runId}`));
}

describe('Diagnose: inline verdicts and quick fixes', function () {
  this.timeout(120_000);
  let runDir = '';
  let runId = '';
  // The quick fix edits the repository's sample: its bytes are put back whatever happens.
  let projectText = '';

  before(async () => {
    await activatedExtension();
    projectText = readFileSync(projectFile().fsPath, 'utf8');
    // As `ml-loop train` would leave it: a finished mlp run with a clear variance problem.
    const run = createRun(workspaceRoot().fsPath, { experiment: 'mlp', model: 'mlp', params: { hidden: [64] } });
    finishRun(run, {
      status: 'completed',
      metrics: { train: { accuracy: 0.999, f1: 0.999, logloss: 0.01 }, dev: { accuracy: 0.92, f1: 0.92, logloss: 0.3 }, test: { accuracy: 0.915, f1: 0.915, logloss: 0.31 } },
    });
    runDir = run.dir;
    runId = run.runId;
  });
  after(async () => {
    await vscode.commands.executeCommand('workbench.action.closeAllEditors');
    rmSync(runDir, { recursive: true, force: true });
    if (projectText && readFileSync(projectFile().fsPath, 'utf8') !== projectText) writeFileSync(projectFile().fsPath, projectText);
  });

  it('puts the verdict on the experiment as a Problems entry (a warning: 7.9 points)', async () => {
    const [d] = await waitFor(() => verdicts(runId).length > 0 && verdicts(runId), 'the verdict diagnostic', 30_000);
    assert.equal(d.message, `High variance: dev error 8.0% vs train 0.1% (baseline 2.0%) — latest run ${runId}`);
    assert.equal(d.severity, vscode.DiagnosticSeverity.Warning);
    const doc = await vscode.workspace.openTextDocument(projectFile());
    const mlp = readProjectOutline(doc.getText()).experiments.find((e) => e.name === 'mlp')!;
    assert.deepEqual(d.range.start, doc.positionAt(mlp.keyOffset));
  });

  it('shows it in the CodeLens and the hover', async () => {
    const lenses = (await vscode.commands.executeCommand<vscode.CodeLens[]>('vscode.executeCodeLensProvider', projectFile(), 100)) ?? [];
    const lens = lenses.find((l) => l.command?.command === 'mlLoop.diagnoseRun' && (l.command.arguments?.[0] as { runId?: string })?.runId === runId);
    assert.equal(lens?.command?.title, '$(pulse) High variance · 7.9 points · dev 8.0%');
    const [d] = verdicts(runId);
    const hovers = (await vscode.commands.executeCommand<vscode.Hover[]>('vscode.executeHoverProvider', projectFile(), d.range.start.translate(0, 1))) ?? [];
    const text = hovers.flatMap((h) => h.contents.map((c) => (typeof c === 'string' ? c : c.value))).join('\n');
    assert.match(text, /What to try next/);
    assert.match(text, /Get more training data/);
  });

  it('offers quick fixes that edit the params of the experiment, then offer to train', async () => {
    const doc = await vscode.workspace.openTextDocument(projectFile());
    await vscode.window.showTextDocument(doc);
    const [d] = verdicts(runId);
    const lineEnd = doc.lineAt(d.range.start.line).range.end;
    const actions = (await vscode.commands.executeCommand<vscode.CodeAction[]>('vscode.executeCodeActionProvider', projectFile(), new vscode.Range(lineEnd, lineEnd))) ?? [];
    const titles = actions.map((a) => a.title);
    assert.ok(titles.includes('Raise l2 to 0.001 in "mlp"'), titles.join(' | '));
    assert.ok(titles.includes('Add dropout 0.2 in "mlp"'), titles.join(' | '));
    const raise = actions.find((a) => a.title === 'Raise l2 to 0.001 in "mlp"')!;
    assert.equal(raise.command?.command, 'mlLoop.offerTraining');
    assert.ok(await vscode.workspace.applyEdit(raise.edit!));
    const mlp = readProjectOutline(doc.getText()).experiments.find((e) => e.name === 'mlp')!;
    assert.equal(mlp.params?.l2, 0.001);
    assert.deepEqual(mlp.params?.hidden, [64]);
    await vscode.commands.executeCommand('workbench.action.files.revert');
  });

  it('Diagnose Run opens the Diagnostics panel of the run', async () => {
    const opened = await vscode.commands.executeCommand<{ runId: string } | undefined>('mlLoop.diagnoseRun', { projectFile: projectFile(), runId });
    assert.equal(opened?.runId, runId, 'the command failed (see the ML Loop log)');
    const tab = await waitFor(
      () => vscode.window.tabGroups.all.flatMap((g) => g.tabs).find((t) => t.input instanceof vscode.TabInputWebview && t.input.viewType.endsWith('mlLoop.diagnostics')),
      'the Diagnostics panel',
    );
    assert.equal(tab.label, `Diagnose: mlp ${runId.slice(-6)}`);
  });

  it('the verdict goes when its run does', async () => {
    rmSync(runDir, { recursive: true, force: true });
    await waitFor(() => verdicts(runId).length === 0, 'the verdict to go', 30_000);
  });
});
