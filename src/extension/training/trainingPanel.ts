// The Training panel of one run: loss and metric curves per epoch, live while the run trains in
// this window, from metrics.jsonl otherwise. The host sends complete snapshots, at most one per
// THROTTLE_MS while progress streams in (a fast trainer reports hundreds of epochs a second).
import * as vscode from 'vscode';
import { curvesOf, type RunCurves } from '../../core/track/compare';
import { runLabel } from '../../core/track/format';
import { readProjectMetric } from '../../core/track/projectMetric';
import { readHistory, runLabelOf } from '../../core/track/store';
import { Throttle } from '../../core/track/throttle';
import type { TrackedRun } from '../../core/track/types';
import { isTrainingWebviewMessage, type TrainingHostMessage, type TrainingPanelState, type TrainingRunView, type TrainingWebviewMessage } from '../../protocol/training';
import type { Services } from '../services';
import { WebviewPanelHost } from '../webviewHost/panel';

export const THROTTLE_MS = 250;

/** What the panel posted: the figures behind "the webview's message rate during a fast run". */
export interface PanelTraffic {
  progressEvents: number;
  messages: number;
  firstAt?: number;
  lastAt?: number;
}

export class TrainingPanel extends WebviewPanelHost<TrainingHostMessage, TrainingWebviewMessage> {
  static readonly viewType = 'mlLoop.training';
  private state: TrainingPanelState;
  private seq = 0;
  private readonly throttle = new Throttle(THROTTLE_MS, () => this.publish());
  private wasActive = false;
  readonly traffic: PanelTraffic = { progressEvents: 0, messages: 0 };

  static show(services: Services, projectDir: string, runId: string): TrainingPanel {
    return services.panels.show(TrainingPanel.viewType, { projectDir, runId }, () => {
      const panel = new TrainingPanel(services, projectDir, runId);
      void panel.refresh();
      return panel;
    });
  }

  private constructor(
    private readonly services: Services,
    private readonly projectDir: string,
    private readonly runId: string,
  ) {
    super({
      viewType: TrainingPanel.viewType,
      title: `Training: ${runLabelOf(projectDir, runId)}`,
      bundle: 'training',
      styles: ['webview.css', 'track.css'],
      extensionUri: services.context.extensionUri,
      log: services.log,
      isWebviewMessage: isTrainingWebviewMessage,
      restoreKey: { projectDir, runId },
      panels: services.panels,
      // In the active editor group by default: a second group beside mlloop.json leaves every panel opened after it half a screen.
      column: vscode.workspace.getConfiguration('mlLoop').get<string>('trainingPanel.column') === 'beside' ? vscode.ViewColumn.Beside : vscode.ViewColumn.Active,
    });
    this.state = { status: 'loading', runId };
    this.wasActive = services.runs.activeRun(runId) !== undefined;
    this.addDisposable(
      services.runs.onDidProgress((a) => {
        if (a.runId !== this.runId) return;
        this.wasActive = true;
        this.traffic.progressEvents++;
        this.traffic.firstAt ??= Date.now();
        void this.refresh();
      }),
      services.runs.onDidChangeRuns((c) => {
        if (c.projectDir === this.projectDir && (!c.runIds || c.runIds.includes(this.runId))) void this.refresh();
      }),
    );
  }

  private addDisposable(...d: vscode.Disposable[]): void {
    this.onDidDispose(() => d.forEach((x) => x.dispose()));
  }

  protected snapshot(): TrainingHostMessage {
    // Counted from the first progress event on: the rate while the run streams.
    if (this.traffic.firstAt !== undefined) {
      this.traffic.messages++;
      this.traffic.lastAt = Date.now();
    }
    return { type: 'state', state: this.state, seq: ++this.seq };
  }

  protected async handle(message: Exclude<TrainingWebviewMessage, { type: 'ready' }>): Promise<void> {
    if (message.type === 'cancel') {
      if (!this.services.runs.cancel(this.runId)) void vscode.window.showWarningMessage(`ML Loop: run ${this.runId} is not training in this window`);
    } else if (message.type === 'revealModel') {
      await vscode.commands.executeCommand('mlLoop.revealModelFile', { projectDir: this.projectDir, runId: this.runId });
    }
  }

  /** Rebuilds the state from the tracker (live steps) or the store, then publishes (throttled). */
  async refresh(): Promise<void> {
    const run = await this.services.runs.run(this.projectDir, this.runId);
    if (!run) {
      this.state = { status: 'error', runId: this.runId, message: `run ${this.runId} is not in the store (deleted, or its run.json is unreadable)` };
      this.schedulePublish(true);
      return;
    }
    const active = this.services.runs.activeRun(this.runId);
    const curves: RunCurves = curvesOf(run.runId, runLabel(run), active ? { steps: active.steps } : readHistory(run.dir));
    this.state = { status: 'loaded', run: this.view(run, active !== undefined), curves };
    const finished = !active && run.status !== 'running';
    if (finished && this.wasActive) {
      this.wasActive = false;
      this.logTraffic();
    }
    // The last state of a run goes out at once; progress in between is throttled.
    this.schedulePublish(finished);
  }

  private view(run: TrackedRun, cancellable: boolean): TrainingRunView {
    const r = run.record;
    return {
      runId: run.runId,
      label: runLabel(run),
      experiment: r.experiment,
      model: r.model,
      status: cancellable ? 'running' : run.status,
      startedAt: r.startedAt,
      endedAt: r.endedAt,
      params: r.params,
      metrics: r.metrics as TrainingRunView['metrics'],
      error: r.error?.message,
      projectMetric: readProjectMetric(this.projectDir),
      cancellable,
    };
  }

  private schedulePublish(now: boolean): void {
    // Hidden or not yet loaded: `ready` (sent again when the panel is shown) publishes the whole state.
    if (!this.isReady || !this.panel.visible) return;
    this.throttle.request(now);
  }

  private logTraffic(): void {
    const t = this.traffic;
    const seconds = t.firstAt && t.lastAt ? Math.max(0.001, (t.lastAt - t.firstAt) / 1000) : 0;
    this.log.info(
      `training panel ${this.runId}: ${t.progressEvents} progress events → ${t.messages} webview messages in ${seconds.toFixed(2)} s (${seconds ? (t.messages / seconds).toFixed(1) : '0'} messages/s, ${seconds ? (t.progressEvents / seconds).toFixed(0) : '0'} events/s)`,
    );
  }

  override dispose(): void {
    this.throttle.cancel();
    super.dispose();
  }
}
