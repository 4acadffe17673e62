// Error Analysis command: opens the panel for a run (a completed run in the Experiments tree, a
// {projectDir | projectFile, runId, filter?} from another panel such as a confusion-matrix cell or the
// Monitoring panel's queued production requests, or the user's pick).
import * as path from 'node:path';
import * as vscode from 'vscode';
import type { Services } from '../services';
import { RunNode } from '../experiments/experimentsTree';

export interface ErrorAnalysisRef {
  projectDir?: string;
  projectFile?: vscode.Uri | string;
  runId: string;
  /** Open filtered to a confusion-matrix cell (class names), or on the Production source (the review queue). */
  filter?: { truth?: string; predicted?: string; source?: 'dev' | 'production' };
}

function isRef(v: unknown): v is ErrorAnalysisRef {
  if (typeof v !== 'object' || v === null) return false;
  const r = v as Record<string, unknown>;
  return typeof r.runId === 'string' && (typeof r.projectDir === 'string' || typeof r.projectFile === 'string' || r.projectFile instanceof vscode.Uri);
}

async function pickRun(s: Services): Promise<{ projectDir: string; runId: string } | undefined> {
  const project = await s.projects.pick('Analyse the errors of which project?');
  if (!project) throw new Error('this workspace has no mlloop.json — run "ML Loop: Create ML Project" first');
  const projectDir = path.dirname(project.file.fsPath);
  const runs = (await s.runs.index(projectDir)).all().filter((r) => r.status === 'completed');
  if (runs.length === 0) throw new Error('no completed run to analyse: train an experiment first');
  const picked = await vscode.window.showQuickPick(
    runs.map((r) => ({ label: r.annotations.name ?? r.runId, description: r.record.experiment, runId: r.runId })),
    { placeHolder: 'Analyse the errors of which run?', matchOnDescription: true },
  );
  return picked && { projectDir, runId: picked.runId };
}

export async function openErrorAnalysisCommand(s: Services, arg?: unknown): Promise<{ runId: string } | undefined> {
  let target: { projectDir: string; runId: string; filter?: ErrorAnalysisRef['filter'] } | undefined;
  if (arg instanceof RunNode) target = { projectDir: arg.projectDir, runId: arg.runId };
  else if (isRef(arg)) {
    const file = arg.projectFile instanceof vscode.Uri ? arg.projectFile.fsPath : arg.projectFile;
    target = { projectDir: arg.projectDir ?? path.dirname(file!), runId: arg.runId, filter: arg.filter };
  } else target = await pickRun(s);
  if (!target) return undefined;
  const { ErrorAnalysisPanel } = await import('./errorAnalysisPanel');
  ErrorAnalysisPanel.show(s, target.projectDir, target.runId, target.filter);
  return { runId: target.runId };
}
