// The diagnosis feature's wiring: Diagnose Run (tree, palette, CodeLens, hover, code action), the
// offer to train after a quick fix, the inline verdicts and the compact view following the tree.
import { runPickRow } from '../../core/track/format';
import * as path from 'node:path';
import * as vscode from 'vscode';
import type { Services } from '../services';
import { resolveRunTarget, uriOf, type RunTarget } from '../commandTargets';
import { ExperimentNode, type ExperimentsTreeNode } from '../experiments/experimentsTree';
import { RunDiagnosticsView } from './runDiagnosticsView';

/** Computes the inline verdicts (services.verdicts) and registers the Run Diagnostics view; the view follows the tree's selection. */
export function registerDiagnose(services: Services, tree: vscode.TreeView<ExperimentsTreeNode>): vscode.Disposable[] {
  const compactView = new RunDiagnosticsView(services);
  void services.verdicts.refreshAll();
  return [compactView, vscode.window.registerWebviewViewProvider(RunDiagnosticsView.viewId, compactView), tree.onDidChangeSelection((e) => compactView.select(e.selection[0]))];
}

/** Which run an argument names: an experiment node of the tree (its latest completed run), a run node, a RunRef, or the user's pick. */
async function runOf(s: Services, arg: unknown): Promise<RunTarget | undefined> {
  if (arg instanceof ExperimentNode) {
    const run = (await s.runs.index(arg.projectDir)).ofExperiment(arg.experiment.name).find((r) => r.status === 'completed');
    if (!run) throw new Error(`"${arg.experiment.name}" has no completed run to diagnose: train it first`);
    return { projectDir: arg.projectDir, runId: run.runId };
  }
  return resolveRunTarget(s, arg, { project: 'Diagnose a run of which project?', run: 'Diagnose which run?', filter: (r) => r.status === 'completed', none: 'no completed run to diagnose: train an experiment first' });
}

export async function diagnoseRunCommand(s: Services, arg?: unknown): Promise<{ runId: string } | undefined> {
  const run = await runOf(s, arg);
  if (!run) return undefined;
  const { DiagnosticsPanel } = await import('./diagnosticsPanel');
  DiagnosticsPanel.show(s, run.projectDir, run.runId, (projectDir) => void s.verdicts.refresh(vscode.Uri.file(path.join(projectDir, 'mlloop.json'))));
  return { runId: run.runId };
}

/** After a quick fix: offer to train the experiment with its new parameters (saving the file first). */
export async function offerTrainingCommand(_s: Services, arg?: unknown): Promise<void> {
  const a = arg as { projectFile?: vscode.Uri | string; experiment?: string; change?: string } | undefined;
  if (!a?.projectFile || !a.experiment) throw new Error('offerTraining needs the project file and the experiment');
  const projectFile = uriOf(a.projectFile);
  const choice = await vscode.window.showInformationMessage(`Applied "${a.change ?? 'the fix'}" to "${a.experiment}". Train it now?`, 'Train', 'Not now');
  if (choice !== 'Train') return;
  const doc = vscode.workspace.textDocuments.find((d) => d.uri.toString() === projectFile.toString());
  if (doc?.isDirty) await doc.save();
  await vscode.commands.executeCommand('mlLoop.trainExperiment', { projectFile, experiment: a.experiment } satisfies { projectFile: vscode.Uri; experiment: string });
}

