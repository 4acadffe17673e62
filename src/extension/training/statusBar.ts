// The status-bar item while runs train in this window: the newest run's epoch and current loss;
// a click opens its Training panel. Updated at most every UPDATE_MS, hidden when nothing trains.
import * as vscode from 'vscode';
import type { ActiveRun, RunTracker } from './runTracker';

const UPDATE_MS = 200;

export function statusText(run: ActiveRun, others: number): string {
  const e = run.latest;
  const parts = [`$(sync~spin) ${run.experiment}`];
  if (e) {
    parts.push(`epoch ${e.step}${e.totalSteps ? `/${e.totalSteps}` : ''}`);
    const loss = e.trainLoss ?? e.devLoss;
    if (loss !== undefined) parts.push(`loss ${loss.toPrecision(4)}`);
  } else parts.push('loading data');
  return parts.join(' · ') + (others > 0 ? ` (+${others})` : '');
}

export class TrainingStatusBar implements vscode.Disposable {
  private readonly item = vscode.window.createStatusBarItem('mlLoop.training', vscode.StatusBarAlignment.Left, 50);
  private readonly subscriptions: vscode.Disposable[];
  private timer: NodeJS.Timeout | undefined;

  constructor(private readonly runs: RunTracker) {
    this.item.name = 'ML Loop Training';
    this.subscriptions = [runs.onDidProgress(() => this.schedule()), runs.onDidChangeRuns(() => this.schedule())];
  }

  private schedule(): void {
    this.timer ??= setTimeout(() => {
      this.timer = undefined;
      this.update();
    }, UPDATE_MS);
  }

  update(): void {
    const active = this.runs.activeRuns();
    const newest = active.at(-1);
    if (!newest) {
      this.item.hide();
      return;
    }
    this.item.text = statusText(newest, active.length - 1);
    this.item.tooltip = `ML Loop: run ${newest.runId} of ${newest.experiment} — click for its training curves`;
    this.item.command = {
      command: 'mlLoop.openTrainingCurves',
      title: 'Open Training Curves',
      arguments: [{ projectDir: newest.projectDir, runId: newest.runId }],
    };
    this.item.show();
  }

  dispose(): void {
    if (this.timer) clearTimeout(this.timer);
    for (const d of this.subscriptions) d.dispose();
    this.item.dispose();
  }
}
