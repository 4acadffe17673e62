// Training an experiment with a "sweep" from the editor: every combination of the grid, at most
// mlLoop.sweep.parallel at once (default one per core), under one cancellable notification; each
// run is tracked (tree, Training panel, status bar) like a single run.
import * as vscode from 'vscode';
import { trainSweep } from '../../core/experiment/sweep';
import type { TrainOutcome } from '../../core/train/run';
import type { Project } from '../project/projectIndex';
import type { Services } from '../services';
import { projectDirOf } from './runTracker';
import { configuredPython, configuredSweepParallel } from './scriptExperiments';

export async function trainSweepWithProgress(
  s: Services,
  project: Project,
  experiment: string,
): Promise<TrainOutcome[]> {
  const projectDir = projectDirOf(project);
  const abort = new AbortController();
  const started: string[] = [];
  let groupId = '';
  const outcomes = await vscode.window.withProgress(
    { location: vscode.ProgressLocation.Notification, title: `ML Loop: sweeping ${experiment}`, cancellable: true },
    async (progress, token) => {
      token.onCancellationRequested(() => abort.abort());
      let done = 0;
      let size = 0;
      const result = await trainSweep({
        projectDir,
        experimentName: experiment,
        parallel: configuredSweepParallel(project.file),
        pythonPath: configuredPython(project.file),
        signal: abort.signal,
        onRunCreated: (runId, _dir, group) => {
          size = group.size;
          started.push(runId);
          s.runs.startActive({ runId, projectDir, experiment, abort });
          s.log.info(
            `run ${runId}: sweep ${group.id} ${group.index + 1}/${group.size} ${JSON.stringify(group.values)}`,
          );
          progress.report({ message: `${done}/${size} done · run ${runId} started` });
        },
        onProgress: (runId, e) => s.runs.reportProgress(runId, e),
        onOutput: (runId, line, stream) => {
          if (stream === 'stderr') s.log.warn(`run ${runId} | ${line}`);
          else s.log.info(`run ${runId} | ${line}`);
        },
      }).finally(() => started.forEach((id) => s.runs.endActive(id)));
      groupId = result.groupId;
      for (const o of result.outcomes) {
        done++;
        if (o.status !== 'completed')
          s.log.warn(`run ${o.runId}: ${o.status}${o.error ? ` · ${o.error.message}` : ''}`);
      }
      return result.outcomes;
    },
  );
  const completed = outcomes.filter((o) => o.status === 'completed').length;
  const actions = outcomes.length >= 2 ? ['Compare Sweep'] : [];
  void vscode.window
    .showInformationMessage(
      `ML Loop: sweep of ${experiment}: ${completed} of ${outcomes.length} run(s) completed`,
      ...actions,
    )
    .then((choice) => {
      if (choice) void vscode.commands.executeCommand('mlLoop.compareSweep', { projectDir, sweepId: groupId });
    });
  return outcomes;
}

/** Whether the experiment (as mlloop.json on disk says) has a non-empty sweep grid. */
export async function experimentHasSweep(project: Project, experiment: string): Promise<boolean> {
  const { resolveProject } = await import('../../core/data/dataset');
  const sweep = (await resolveProject(projectDirOf(project))).spec.experiments[experiment]?.sweep;
  return !!sweep && Object.keys(sweep).length > 0;
}
