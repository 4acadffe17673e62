// Train, Train All, Cancel, Re-run with Edited Params: each run trains in a worker thread through
// trainExperiment (src/core/experiment/trainExperiment.ts); the extension host only relays progress to a cancellable
// notification, the status bar, the log and the Training panel.
import * as vscode from 'vscode';
import { trainExperiment, type TrainOutcome } from '../../core/experiment/trainExperiment';
import { keyMetric } from '../../core/track/format';
import type { ProgressEvent } from '../../core/train/types';
import type { Project } from '../project/projectIndex';
import type { Services } from '../services';
import { projectDirOf } from './runTracker';
import { configuredPython } from './scriptExperiments';

/** Progress lines go to the log at most this often per run (every event still reaches the panel). */
const LOG_INTERVAL_MS = 1000;

export interface TrainRequest {
  project: Project;
  experiment: string;
  /** Parameters replacing the experiment's (Re-run with Edited Params). */
  params?: Record<string, unknown>;
  /** Open the Training panel on the new run (single-experiment trains). */
  openPanel?: boolean;
  /** Train on a derived data version (src/core/data/dataVersions) instead of the data file's own. */
  dataVersion?: string;
}

function describeProgress(e: ProgressEvent): string {
  const parts = [`epoch ${e.step}${e.totalSteps ? `/${e.totalSteps}` : ''}`];
  const loss = e.trainLoss ?? e.devLoss;
  if (loss !== undefined) parts.push(`loss ${loss.toPrecision(4)}`);
  return parts.join(' · ');
}

/** Trains one experiment with a cancellable notification; resolves with the outcome. */
export async function trainWithProgress(s: Services, req: TrainRequest): Promise<TrainOutcome> {
  const projectDir = projectDirOf(req.project);
  const abort = new AbortController();
  let runId: string | undefined;
  let lastLog = 0;
  // Loaded before training starts, so the panel opens as the run is created and sees all its progress
  // (a fast run could otherwise end before a panel opened through the command had loaded).
  const trainingPanel = req.openPanel ? import('./trainingPanel') : undefined;
  return vscode.window.withProgress(
    { location: vscode.ProgressLocation.Notification, title: `ML Loop: training ${req.experiment}`, cancellable: true },
    async (progress, token) => {
      token.onCancellationRequested(() => abort.abort());
      let reported = 0;
      const outcome = await trainExperiment({
        projectDir,
        experimentName: req.experiment,
        params: req.params,
        ...(req.dataVersion ? { dataVersion: req.dataVersion } : {}),
        pythonPath: configuredPython(req.project.file),
        // A script's own output goes to the output channel as it prints (the run's log.txt has it too).
        onOutput: (line, stream) => {
          if (stream === 'stderr') s.log.warn(`run ${runId ?? '?'} | ${line}`);
          else s.log.info(`run ${runId ?? '?'} | ${line}`);
        },
        signal: abort.signal,
        onRunCreated: (id) => {
          runId = id;
          s.runs.startActive({ runId: id, projectDir, experiment: req.experiment, abort });
          s.log.info(
            `run ${id}: training ${req.experiment}${req.params ? ` with edited params ${JSON.stringify(req.params)}` : ''}`,
          );
          progress.report({ message: `run ${id}` });
          void trainingPanel?.then(({ TrainingPanel }) => TrainingPanel.show(s, projectDir, id));
        },
        onProgress: (e) => {
          if (!runId) return;
          s.runs.reportProgress(runId, e);
          const pct = e.totalSteps ? Math.min(100, (100 * e.step) / e.totalSteps) : undefined;
          progress.report({ message: describeProgress(e), increment: pct !== undefined ? pct - reported : undefined });
          if (pct !== undefined) reported = pct;
          const now = Date.now();
          if (now - lastLog >= LOG_INTERVAL_MS || e.step === e.totalSteps) {
            lastLog = now;
            s.log.info(
              `run ${runId}: ${describeProgress(e)}${e.devMetric !== undefined ? ` · dev ${e.metricName ?? 'metric'} ${e.devMetric.toPrecision(4)}` : ''}`,
            );
          }
        },
      }).finally(() => {
        if (runId) s.runs.endActive(runId);
      });
      const metric = keyMetric(outcome.record, req.project.outline.metric);
      if (outcome.status === 'completed') s.log.info(`run ${outcome.runId}: completed${metric ? ` · ${metric}` : ''}`);
      else s.log.warn(`run ${outcome.runId}: ${outcome.status}${outcome.error ? ` · ${outcome.error.message}` : ''}`);
      return outcome;
    },
  );
}

/** Tells the user how a run ended (not awaited: a notification must not hold the command). */
export function announce(outcome: TrainOutcome, experiment: string, metric: string | undefined): void {
  if (outcome.status === 'completed') {
    void vscode.window.showInformationMessage(
      `ML Loop: ${experiment} completed${keyMetric(outcome.record, metric) ? ` · ${keyMetric(outcome.record, metric)}` : ''}`,
    );
  } else if (outcome.status === 'failed') {
    void vscode.window.showErrorMessage(`ML Loop: ${experiment} failed: ${outcome.error?.message ?? 'unknown error'}`);
  } else {
    void vscode.window.showWarningMessage(`ML Loop: ${experiment} ${outcome.status}`);
  }
}

export async function trainOne(s: Services, req: TrainRequest): Promise<TrainOutcome> {
  const outcome = await trainWithProgress(s, req);
  announce(outcome, req.experiment, req.project.outline.metric);
  return outcome;
}

/** Trains every built-in experiment of the project, one after the other; stops when one is cancelled. */
export async function trainAll(s: Services, project: Project): Promise<TrainOutcome[]> {
  const outcomes: TrainOutcome[] = [];
  for (const e of project.outline.experiments) {
    if (e.kind === '?' || (e.kind === 'script' && !vscode.workspace.isTrusted)) {
      s.log.info(
        `Train All: skipped ${e.name} (${e.kind === 'script' ? 'script experiment in an untrusted workspace' : 'unreadable'})`,
      );
      continue;
    }
    const outcome = await trainWithProgress(s, { project, experiment: e.name });
    outcomes.push(outcome);
    if (outcome.status === 'cancelled') break;
  }
  const done = outcomes.filter((o) => o.status === 'completed').length;
  void vscode.window.showInformationMessage(`ML Loop: trained ${done} of ${outcomes.length} experiment(s)`);
  return outcomes;
}

/** Asks for edited parameters, prefilled with the run's (JSON); undefined when the user backs out. */
export async function askEditedParams(
  params: Record<string, unknown>,
  experiment: string,
): Promise<Record<string, unknown> | undefined> {
  const text = await vscode.window.showInputBox({
    title: `Re-run ${experiment} with edited parameters`,
    prompt: 'Parameters as JSON; the new run trains with exactly these',
    value: JSON.stringify(params),
    ignoreFocusOut: true,
    validateInput: (v) => {
      try {
        const parsed = JSON.parse(v) as unknown;
        return typeof parsed === 'object' && parsed !== null && !Array.isArray(parsed)
          ? undefined
          : 'a JSON object, e.g. {"l2": 0.01}';
      } catch (e) {
        return `not JSON: ${(e as Error).message}`;
      }
    },
  });
  return text === undefined ? undefined : (JSON.parse(text) as Record<string, unknown>);
}
