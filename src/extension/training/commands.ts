// Handlers of the training and run commands (listed in src/extension/commands.ts). Each accepts
// what its callers pass: a tree node, a CodeLens/status-bar reference, or nothing (palette: ask).
import * as path from 'node:path';
import * as vscode from 'vscode';
import { runLabel } from '../../core/track/format';
import { annotateRun, deleteRun } from '../../core/track/store';
import type { TrackedRun } from '../../core/track/types';
import type { ExperimentRef } from './experimentLens';
import type { Project } from '../project/projectIndex';
import { projectOf, requireProject, resolveTrackedRun, runTargetOf, type RunTarget } from '../commandTargets';
import type { Services } from '../services';
import { ExperimentNode, MoreRunsNode, RunNode, SweepNode } from '../experiments/experimentsTree';
import { askEditedParams, trainAll, trainOne } from './trainWithProgress';
import { pickCluster } from './clusterRuns';
import { projectDirOf } from './runTracker';
import { mayRunScript } from './scriptExperiments';
import { experimentHasSweep, trainSweepWithProgress } from './sweepWithProgress';

function isExperimentRef(v: unknown): v is ExperimentRef {
  return (
    typeof v === 'object' &&
    v !== null &&
    (v as ExperimentRef).projectFile instanceof vscode.Uri &&
    typeof (v as ExperimentRef).experiment === 'string'
  );
}

/** The run a command acts on (read from the store): the given one, or the user's pick among the project's runs. */
function resolveRun(s: Services, arg: unknown, placeHolder: string, filter?: (r: TrackedRun) => boolean) {
  return resolveTrackedRun(s, arg, { project: placeHolder, run: placeHolder, filter });
}

/** The experiment a command acts on: a tree node, a lens reference, or the user's pick. */
async function experimentOf(
  s: Services,
  arg: unknown,
  placeHolder: string,
): Promise<{ project: Project; experiment: string } | undefined> {
  let project: Project;
  let experiment: string;
  if (arg instanceof ExperimentNode) {
    project = arg.project;
    experiment = arg.experiment.name;
  } else if (isExperimentRef(arg)) {
    project =
      (await s.projects.list()).find((p) => p.file.toString() === arg.projectFile.toString()) ??
      (await projectOf(s, path.dirname(arg.projectFile.fsPath)));
    experiment = arg.experiment;
  } else {
    project = await requireProject(s, 'Train an experiment of which project?');
    const trainable = project.outline.experiments.filter((e) => e.kind !== '?');
    if (trainable.length === 0) throw new Error('mlloop.json has no experiment to train');
    const picked = await vscode.window.showQuickPick(
      trainable.map((e) => ({ label: e.name, description: e.kind })),
      { placeHolder },
    );
    if (!picked) return undefined;
    experiment = picked.label;
  }
  return { project, experiment };
}

export async function trainExperimentCommand(s: Services, arg?: unknown): Promise<unknown> {
  const target = await experimentOf(s, arg, 'Train which experiment?');
  if (!target) return undefined;
  const { project, experiment } = target;
  // Unusable data is named with its line in a notification rather than recorded as a failed run.
  await s.diagnostics.assertUsable(project.file);
  // Script experiments run workspace code: refused (with a way to manage trust) in an untrusted workspace.
  if (project.outline.experiments.find((e) => e.name === experiment)?.kind === 'script' && !mayRunScript(experiment))
    return { refused: 'untrusted' };
  // An experiment with a "cluster" is submitted there (src/extension/training/clusterRuns).
  if (project.outline.experiments.find((e) => e.name === experiment)?.cluster)
    return submitToCluster(s, project, experiment);
  // An experiment with a "sweep" trains its whole grid (src/extension/training/sweepWithProgress).
  if (await experimentHasSweep(project, experiment))
    return (await trainSweepWithProgress(s, project, experiment)).map((o) => ({ runId: o.runId, status: o.status }));
  // A derived data version (Error Analysis: augmented rows, added data, fixed labels) travels with the ref.
  const dataVersion = isExperimentRef(arg) && typeof arg.dataVersion === 'string' ? arg.dataVersion : undefined;
  const outcome = await trainOne(s, { project, experiment, openPanel: true, ...(dataVersion ? { dataVersion } : {}) });
  return { runId: outcome.runId, status: outcome.status };
}

/** Train on Cluster… (tree, CodeLens, palette): submits the experiment to a cluster of mlloop.json's "clusters". */
export async function trainOnClusterCommand(s: Services, arg?: unknown): Promise<unknown> {
  const target = await experimentOf(s, arg, 'Train which experiment on a cluster?');
  if (!target) return undefined;
  const { project, experiment } = target;
  // A built-in experiment's job runs ML Loop's own CLI on the node; a script experiment runs workspace code.
  if (project.outline.experiments.find((e) => e.name === experiment)?.kind === 'script' && !mayRunScript(experiment))
    return { refused: 'untrusted' };
  const cluster = await pickCluster(project, experiment);
  return cluster === undefined ? undefined : submitToCluster(s, project, experiment, cluster);
}

async function submitToCluster(s: Services, project: Project, experiment: string, cluster?: string): Promise<unknown> {
  await s.diagnostics.assertUsable(project.file);
  const submission = await s.clusters.submit(project, experiment, cluster);
  if (submission.runs.length === 1) {
    const { TrainingPanel } = await import('./trainingPanel');
    TrainingPanel.show(s, projectDirOf(project), submission.runs[0].runId);
  }
  return { cluster: submission.cluster, jobId: submission.jobId, runIds: submission.runs.map((r) => r.runId) };
}

export async function trainAllCommand(s: Services): Promise<unknown> {
  const project = await requireProject(s, 'Train the experiments of which project?');
  await s.diagnostics.assertUsable(project.file);
  const outcomes = await trainAll(s, project);
  return outcomes.map((o) => ({ runId: o.runId, status: o.status }));
}

export async function cancelRunCommand(s: Services, arg?: unknown): Promise<boolean> {
  const ref = runTargetOf(arg);
  // A run of a sweep's job array: this task, or the whole array.
  const job = arg instanceof RunNode ? arg.run.record.cluster : undefined;
  if (ref && job?.arrayTaskId !== undefined && s.clusters.isFollowing(ref.runId)) {
    const choice = await vscode.window.showQuickPick(['This Run', 'The Whole Sweep'], {
      placeHolder: `Cancel run ${ref.runId} only (SLURM job ${job.jobId}_${job.arrayTaskId}) or every task of job array ${job.jobId}?`,
    });
    if (!choice) return false;
    await s.clusters.cancel(ref.runId, choice === 'The Whole Sweep');
    return true;
  }
  // A cluster run still queued is not active here, but this window follows it: scancel.
  if (ref && !s.runs.activeRun(ref.runId) && s.clusters.isFollowing(ref.runId))
    return s.clusters.cancel(ref.runId, false).then(() => true);
  if (ref)
    return (
      s.runs.cancel(ref.runId) ||
      (void vscode.window.showWarningMessage(`ML Loop: run ${ref.runId} is not training in this window`), false)
    );
  const active = s.runs.activeRuns();
  if (active.length === 0) throw new Error('no run is training in this window');
  const picked =
    active.length === 1
      ? active[0]
      : (
          await vscode.window.showQuickPick(
            active.map((a) => ({ label: a.runId, description: a.experiment, a })),
            { placeHolder: 'Cancel which run?' },
          )
        )?.a;
  return picked ? s.runs.cancel(picked.runId) : false;
}

export async function renameRunCommand(s: Services, arg?: unknown): Promise<void> {
  const target = await resolveRun(s, arg, 'Rename which run?');
  if (!target) return;
  const name = await vscode.window.showInputBox({
    title: `Rename run ${target.run.runId}`,
    prompt: 'An empty name shows the run id again',
    value: target.run.annotations.name ?? '',
  });
  if (name === undefined) return;
  annotateRun(projectDirOf(target.project), target.run.runId, { name: name.trim() });
  s.runs.schedule(projectDirOf(target.project), target.run.runId);
}

export async function editRunNoteCommand(s: Services, arg?: unknown): Promise<void> {
  const target = await resolveRun(s, arg, 'Edit the note of which run?');
  if (!target) return;
  const note = await vscode.window.showInputBox({
    title: `Note on ${runLabel(target.run)}`,
    prompt: 'The hypothesis this run tests (empty removes the note)',
    value: target.run.annotations.note ?? '',
  });
  if (note === undefined) return;
  annotateRun(projectDirOf(target.project), target.run.runId, { note: note.trim() });
  s.runs.schedule(projectDirOf(target.project), target.run.runId);
}

export async function toggleRunStarCommand(s: Services, arg?: unknown): Promise<void> {
  const target = await resolveRun(s, arg, 'Star or unstar which run?');
  if (!target) return;
  annotateRun(projectDirOf(target.project), target.run.runId, { starred: !target.run.annotations.starred });
  s.runs.schedule(projectDirOf(target.project), target.run.runId);
}

export async function deleteRunCommand(s: Services, arg?: unknown, selected?: unknown): Promise<void> {
  const nodes =
    Array.isArray(selected) && selected.length > 1
      ? selected.map(runTargetOf).filter((r): r is RunTarget => !!r)
      : undefined;
  const refs =
    nodes ??
    [
      runTargetOf(arg) ??
        (await resolveRun(s, arg, 'Delete which run?').then(
          (t) => t && { projectDir: projectDirOf(t.project), runId: t.run.runId },
        )),
    ].filter((r): r is RunTarget => !!r);
  if (refs.length === 0) return;
  const what = refs.length === 1 ? `run ${refs[0].runId}` : `${refs.length} runs`;
  const answer = await vscode.window.showWarningMessage(
    `Delete ${what}? Its model, metrics and log are removed from disk.`,
    { modal: true },
    'Delete',
  );
  if (answer !== 'Delete') return;
  for (const ref of refs) {
    deleteRun(ref.projectDir, ref.runId);
    s.log.info(`run ${ref.runId}: deleted`);
    s.runs.schedule(ref.projectDir, ref.runId);
  }
}

export async function openTrainingCurvesCommand(s: Services, arg?: unknown): Promise<void> {
  const target = await resolveRun(s, arg, 'Show the training curves of which run?');
  if (!target) return;
  const { TrainingPanel } = await import('./trainingPanel');
  TrainingPanel.show(s, projectDirOf(target.project), target.run.runId);
}

export async function compareRunsCommand(s: Services, arg?: unknown, selected?: unknown): Promise<void> {
  const list = Array.isArray(selected) && selected.length ? selected : [arg];
  const refs = list.map(runTargetOf).filter((r): r is RunTarget => !!r);
  const dirs = new Set(refs.map((r) => r.projectDir));
  if (dirs.size > 1) throw new Error('compare runs of one project at a time');
  if (refs.length < 2)
    throw new Error('select 2 to 20 runs in the Experiments view (Ctrl/Cmd+click), then Compare Selected');
  const { ComparePanel } = await import('../experiments/comparePanel');
  ComparePanel.show(
    s,
    refs[0].projectDir,
    refs.map((r) => r.runId),
  );
}

/** Compare Sweep: every run of a sweep side by side (the tree's sweep row, or `{ projectDir, sweepId }`). */
export async function compareSweepCommand(s: Services, arg?: unknown): Promise<void> {
  let projectDir: string;
  let runIds: string[];
  if (arg instanceof SweepNode) {
    projectDir = arg.projectDir;
    runIds = arg.sweep.runs.map((r) => r.runId);
  } else if (
    arg &&
    typeof arg === 'object' &&
    typeof (arg as { projectDir?: unknown }).projectDir === 'string' &&
    typeof (arg as { sweepId?: unknown }).sweepId === 'string'
  ) {
    const ref = arg as { projectDir: string; sweepId: string };
    projectDir = ref.projectDir;
    runIds = (await s.runs.index(projectDir))
      .all()
      .filter((r) => r.record.group?.id === ref.sweepId)
      .sort((a, b) => (a.record.group?.index ?? 0) - (b.record.group?.index ?? 0))
      .map((r) => r.runId);
  } else throw new Error('Compare Sweep works on a sweep of the Experiments view');
  if (runIds.length < 2) throw new Error(`the sweep has ${runIds.length} run in the store: nothing to compare`);
  const { MAX_COMPARE } = await import('../../core/track/compare');
  if (runIds.length > MAX_COMPARE) {
    void vscode.window.showWarningMessage(
      `ML Loop: the sweep has ${runIds.length} runs; comparing the first ${MAX_COMPARE} of the grid.`,
    );
    runIds = runIds.slice(0, MAX_COMPARE);
  }
  const { ComparePanel } = await import('../experiments/comparePanel');
  ComparePanel.show(s, projectDir, runIds);
}

export async function rerunWithEditedParamsCommand(s: Services, arg?: unknown): Promise<unknown> {
  const target = await resolveRun(s, arg, 'Re-run which run with edited parameters?');
  if (!target) return undefined;
  const params = await askEditedParams(target.run.record.params, target.run.record.experiment);
  if (!params) return undefined;
  if (target.run.record.model === 'script' && !mayRunScript(target.run.record.experiment))
    return { refused: 'untrusted' };
  const outcome = await trainOne(s, {
    project: target.project,
    experiment: target.run.record.experiment,
    params,
    openPanel: true,
  });
  return { runId: outcome.runId, status: outcome.status };
}

export async function revealModelFileCommand(s: Services, arg?: unknown): Promise<void> {
  const target = await resolveRun(s, arg, 'Reveal the model of which run?', (r) => r.record.status === 'completed');
  if (!target) return;
  const file = vscode.Uri.file(path.join(target.run.dir, 'model.onnx'));
  try {
    await vscode.workspace.fs.stat(file);
  } catch {
    throw new Error(`run ${target.run.runId} has no model.onnx (${target.run.status})`);
  }
  await vscode.commands.executeCommand('revealInExplorer', file);
}

export function showMoreRunsCommand(s: Services, arg?: unknown): void {
  if (arg instanceof MoreRunsNode) s.experiments.showMore(arg);
}
