// CodeLens over each experiment of mlloop.json: `▶ Train`, and the newest run's result
// (`last: dev acc 97.2% · 3 min ago`, a click opens its curves). Refreshed when the store changes.
import * as path from 'node:path';
import * as vscode from 'vscode';
import { lastRunSummary } from '../../core/track/format';
import { readProjectOutline } from '../project/projectFile';
import type { RunTracker } from './runTracker';

/** What a lens passes to mlLoop.trainExperiment. */
export interface ExperimentRef {
  projectFile: vscode.Uri;
  experiment: string;
  /** Train on this derived data version (Error Analysis: augmented, added or fixed data). */
  dataVersion?: string;
}

export class ExperimentCodeLensProvider implements vscode.CodeLensProvider, vscode.Disposable {
  private readonly changeEmitter = new vscode.EventEmitter<void>();
  readonly onDidChangeCodeLenses = this.changeEmitter.event;
  private readonly subscriptions: vscode.Disposable[];
  private timer: NodeJS.Timeout | undefined;

  constructor(
    private readonly runs: RunTracker,
    /** Other events after which the lenses are asked for again. */
    refreshOn: vscode.Event<unknown>[] = [],
  ) {
    // Store changes arrive in bursts while a run trains: refresh the lenses at most twice a second.
    const refresh = () => {
      this.timer ??= setTimeout(() => {
        this.timer = undefined;
        this.changeEmitter.fire();
      }, 500);
    };
    this.subscriptions = [runs.onDidChangeRuns(refresh), ...refreshOn.map((event) => event(refresh))];
  }

  async provideCodeLenses(document: vscode.TextDocument): Promise<vscode.CodeLens[]> {
    const outline = readProjectOutline(document.getText());
    const projectDir = path.dirname(document.uri.fsPath);
    const index = await this.runs.index(projectDir);
    const now = Date.now();
    const lenses: vscode.CodeLens[] = [];
    for (const e of outline.experiments) {
      const range = new vscode.Range(document.positionAt(e.keyOffset), document.positionAt(e.keyOffset + e.keyLength));
      const ref: ExperimentRef = { projectFile: document.uri, experiment: e.name };
      if (e.kind !== '?')
        lenses.push(
          new vscode.CodeLens(range, {
            title: e.cluster ? `▶ Train on ${e.cluster}` : '▶ Train',
            tooltip: `Train ${e.name}${e.cluster ? ` on cluster ${e.cluster} (SLURM)` : ''}`,
            command: 'mlLoop.trainExperiment',
            arguments: [ref],
          }),
        );
      // Script and built-in experiments alike can go to a cluster of the project's "clusters" (SLURM).
      if (e.kind !== '?' && !e.cluster && outline.clusters?.length)
        lenses.push(
          new vscode.CodeLens(range, {
            title: '$(cloud-upload) Train on Cluster…',
            tooltip: `Submit ${e.name} to a SLURM cluster (${outline.clusters.join(', ')})`,
            command: 'mlLoop.trainOnCluster',
            arguments: [ref],
          }),
        );
      const last = index.ofExperiment(e.name)[0];
      if (last) {
        lenses.push(
          new vscode.CodeLens(range, {
            title: lastRunSummary(last, outline.metric, now),
            tooltip: `Run ${last.runId}: open its training curves`,
            command: 'mlLoop.openTrainingCurves',
            arguments: [{ projectDir, runId: last.runId }],
          }),
        );
      }
    }
    return lenses;
  }

  dispose(): void {
    if (this.timer) clearTimeout(this.timer);
    for (const d of this.subscriptions) d.dispose();
    this.changeEmitter.dispose();
  }
}
