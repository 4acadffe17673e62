// The diagnosis feature's wiring: Diagnose Run (tree, palette, CodeLens, hover, code action), the
// offer to train after a quick fix, the inline verdicts and the compact view following the tree.
import * as path from 'node:path';
import * as vscode from 'vscode';
import type { Services } from '../services';
import { ExperimentNode, RunNode, type ExperimentsTreeNode } from '../experiments/experimentsTree';
import type { RunRef } from './inlineVerdicts';
import { RunDiagnosticsView } from './runDiagnosticsView';

/** Computes the inline verdicts (services.verdicts) and registers the Run Diagnostics view; the view follows the tree's selection. */
export function registerDiagnose(services: Services, tree: vscode.TreeView<ExperimentsTreeNode>): vscode.Disposable[] {
  const compactView = new RunDiagnosticsView(services);
  void services.verdicts.refreshAll();
  return [compactView, vscode.window.registerWebviewViewProvider(RunDiagnosticsView.viewId, compactView), tree.onDidChangeSelection((e) => compactView.select(e.selection[0]))];
}

function isRunRef(v: unknown): v is { projectFile: vscode.Uri | string; runId: string } {
  if (typeof v !== 'object' || v === null) return false;
  const r = v as Record<string, unknown>;
  return typeof r.runId === 'string' && (r.projectFile instanceof vscode.Uri || typeof r.projectFile === 'string');
}

function uriOf(file: vscode.Uri | string): vscode.Uri {
  return file instanceof vscode.Uri ? file : /^[a-z][\w+.-]*:/i.test(file) ? vscode.Uri.parse(file) : vscode.Uri.file(file);
}

async function pickRun(s: Services): Promise<{ projectDir: string; runId: string } | undefined> {
  const project = await s.projects.pick('Diagnose a run of which project?');
  if (!project) throw new Error('this workspace has no mlloop.json — run "ML Loop: Create ML Project" first');
  const projectDir = path.dirname(project.file.fsPath);
  const runs = (await s.runs.index(projectDir)).all().filter((r) => r.status === 'completed');
  if (runs.length === 0) throw new Error('no completed run to diagnose: train an experiment first');
  const picked = await vscode.window.showQuickPick(
    runs.map((r) => ({ label: r.annotations.name ?? r.runId, description: r.record.experiment, detail: r.record.endedAt ? `ended ${new Date(r.record.endedAt).toLocaleString()}` : undefined, runId: r.runId })),
    { placeHolder: 'Diagnose which run?', matchOnDescription: true },
  );
  return picked && { projectDir, runId: picked.runId };
}

/** Which run an argument names: a run or experiment node of the tree, a {projectFile, runId}, or the user's pick. */
async function runOf(s: Services, arg: unknown): Promise<{ projectDir: string; runId: string } | undefined> {
  if (arg instanceof RunNode) return { projectDir: arg.projectDir, runId: arg.runId };
  if (arg instanceof ExperimentNode) {
    const run = (await s.runs.index(arg.projectDir)).ofExperiment(arg.experiment.name).find((r) => r.status === 'completed');
    if (!run) throw new Error(`"${arg.experiment.name}" has no completed run to diagnose: train it first`);
    return { projectDir: arg.projectDir, runId: run.runId };
  }
  if (isRunRef(arg)) return { projectDir: path.dirname(uriOf(arg.projectFile).fsPath), runId: arg.runId };
  return pickRun(s);
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

export type { RunRef };
