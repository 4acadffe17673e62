// The Diagnostics panel of one run: the diagnosis comes from `ml-loop diagnose --json` in a child
// process; the learning and validation curves are computed on request (cancellable) the same way.
import { runLabelOf } from '../../core/track/store';
import * as path from 'node:path';
import * as vscode from 'vscode';
import {
  isDiagnosticsWebviewMessage,
  type DiagnosticsHostMessage,
  type DiagnosticsPanelState,
  type DiagnosticsWebviewMessage,
  type JobState,
} from '../../protocol/diagnostics';
import type { RunDiagnosis } from '../../core/diagnose/diagnoseRun';
import type { ValidationCurve } from '../../core/diagnose/learningCurveTypes';
import type { Services } from '../services';
import { WebviewPanelHost } from '../webviewHost/panel';
import { diagnoseInChildProcess } from './diagnoseProcess';
import { CancelledError } from '../../core/runtime/cancel';

/** Parameters worth a validation curve, per built-in model. */
const SWEEPABLE: Record<string, string[]> = {
  linear: ['l2'],
  logistic: ['l2'],
  mlp: ['l2', 'hidden', 'dropout', 'learningRate'],
  gbdt: ['l2', 'maxLeaves', 'learningRate', 'minSamplesLeaf'],
  cnn: ['learningRate', 'l2', 'dense'],
};

export class DiagnosticsPanel extends WebviewPanelHost<DiagnosticsHostMessage, DiagnosticsWebviewMessage> {
  static readonly viewType = 'mlLoop.diagnostics';
  private diagnosis: RunDiagnosis | undefined;
  private loadError: string | undefined;
  private learningCurve: JobState = { status: 'idle' };
  private validationCurve: JobState = { status: 'idle' };
  private validation: ValidationCurve | undefined;
  private readonly jobs = {
    diagnose: undefined as AbortController | undefined,
    learning: undefined as AbortController | undefined,
    validation: undefined as AbortController | undefined,
  };
  private readonly changeEmitter = new vscode.EventEmitter<RunDiagnosis>();
  /** A new diagnosis (e.g. with a learning curve) is shown: inline hints may change. */
  readonly onDidDiagnose = this.changeEmitter.event;

  static show(
    services: Services,
    projectDir: string,
    runId: string,
    onDiagnosed?: (projectDir: string) => void,
  ): DiagnosticsPanel {
    return services.panels.show(DiagnosticsPanel.viewType, { projectDir, runId }, () => {
      const panel = new DiagnosticsPanel(services, projectDir, runId);
      if (onDiagnosed) panel.onDidDiagnose(() => onDiagnosed(projectDir));
      void panel.load();
      return panel;
    });
  }

  private constructor(
    private readonly services: Services,
    readonly projectDir: string,
    readonly runId: string,
  ) {
    super({
      viewType: DiagnosticsPanel.viewType,
      title: `Diagnose: ${runLabelOf(projectDir, runId)}`,
      bundle: 'diagnostics',
      styles: ['webview.css', 'diagnostics.css'],
      extensionUri: services.context.extensionUri,
      log: services.log,
      isWebviewMessage: isDiagnosticsWebviewMessage,
      restoreKey: { projectDir, runId },
      panels: services.panels,
    });
  }

  get state(): DiagnosticsPanelState {
    if (this.diagnosis) {
      return {
        status: 'loaded',
        diagnosis: this.diagnosis,
        learningCurve: this.learningCurve,
        validationCurve: this.validationCurve,
        ...(this.validation ? { validation: this.validation } : {}),
        sweepable: SWEEPABLE[this.diagnosis.model] ?? [],
      };
    }
    return this.loadError
      ? { status: 'error', runId: this.runId, message: this.loadError }
      : { status: 'loading', runId: this.runId };
  }

  protected snapshot(): DiagnosticsHostMessage {
    return { type: 'state', state: this.state };
  }

  protected async handle(message: Exclude<DiagnosticsWebviewMessage, { type: 'ready' }>): Promise<void> {
    switch (message.type) {
      case 'refresh':
        return this.load();
      case 'computeLearningCurve':
        return this.computeLearningCurve();
      case 'cancelLearningCurve':
        this.jobs.learning?.abort();
        return;
      case 'computeValidationCurve':
        return this.computeValidationCurve(message.param);
      case 'cancelValidationCurve':
        this.jobs.validation?.abort();
        return;
      case 'openExperiment':
        if (this.diagnosis)
          await revealExperiment(vscode.Uri.file(this.diagnosis.project.file), this.diagnosis.experiment);
        return;
      case 'openErrors':
        await vscode.commands.executeCommand('mlLoop.openErrorAnalysis', {
          projectDir: this.projectDir,
          runId: this.runId,
          filter: { truth: message.truth, predicted: message.predicted },
        });
        return;
    }
  }

  private processOptions() {
    const config = vscode.workspace.getConfiguration('mlLoop');
    return {
      cliPath: vscode.Uri.joinPath(this.services.context.extensionUri, 'dist', 'cli.js').fsPath,
      nodePath: config.get<string>('nodePath') || process.execPath,
      projectDir: this.projectDir,
      runId: this.runId,
    };
  }

  async load(): Promise<void> {
    this.jobs.diagnose?.abort();
    const abort = (this.jobs.diagnose = new AbortController());
    this.diagnosis = undefined;
    this.loadError = undefined;
    this.publish();
    const t0 = performance.now();
    try {
      this.setDiagnosis(await diagnoseInChildProcess({ ...this.processOptions(), signal: abort.signal }));
      this.log.info(
        `diagnosed run ${this.runId} in ${Math.round(performance.now() - t0)} ms: ${this.diagnosis!.verdict.summary}`,
      );
    } catch (e) {
      if (e instanceof CancelledError) return;
      this.loadError = e instanceof Error ? e.message : String(e);
      this.log.error(`diagnosing run ${this.runId} failed: ${this.loadError}`);
    }
    this.publish();
  }

  private setDiagnosis(d: RunDiagnosis): void {
    this.diagnosis = d;
    this.changeEmitter.fire(d);
  }

  computeLearningCurve(): Promise<void> {
    return this.curveJob('learning', { learningCurve: true }, (d) => {
      this.setDiagnosis(d);
      this.log.info(`learning curve of run ${this.runId} in ${d.learningCurve?.durationMs ?? 0} ms`);
    });
  }

  computeValidationCurve(param: string): Promise<void> {
    return this.curveJob('validation', { validationParam: param }, (d) => (this.validation = d.validationCurve));
  }

  /** Retrains for a curve in the CLI's child process, publishing progress; cancellable from the panel. */
  private async curveJob(
    kind: 'learning' | 'validation',
    options: { learningCurve?: boolean; validationParam?: string },
    onDone: (d: RunDiagnosis) => void,
  ): Promise<void> {
    const field = kind === 'learning' ? 'learningCurve' : 'validationCurve';
    if (this[field].status === 'running') return;
    const abort = (this.jobs[kind] = new AbortController());
    this[field] = { status: 'running', done: 0, total: kind === 'learning' ? 10 : 5 };
    this.publish();
    try {
      const d = await diagnoseInChildProcess({
        ...this.processOptions(),
        ...options,
        signal: abort.signal,
        onProgress: (done, total) => {
          this[field] = { status: 'running', done, total };
          this.publish();
        },
      });
      this[field] = { status: 'idle' };
      onDone(d);
    } catch (e) {
      this[field] =
        e instanceof CancelledError
          ? { status: 'cancelled' }
          : { status: 'failed', message: e instanceof Error ? e.message : String(e) };
    }
    this.publish();
  }

  override dispose(): void {
    for (const job of Object.values(this.jobs)) job?.abort();
    this.changeEmitter.dispose();
    super.dispose();
  }
}

/** Opens mlloop.json with the experiment's key selected. */
export async function revealExperiment(projectFile: vscode.Uri, experiment: string): Promise<void> {
  const { readProjectOutline } = await import('../project/projectFile');
  const doc = await vscode.workspace.openTextDocument(projectFile);
  const entry = readProjectOutline(doc.getText()).experiments.find((e) => e.name === experiment);
  const selection = entry
    ? new vscode.Range(doc.positionAt(entry.keyOffset), doc.positionAt(entry.keyOffset + entry.keyLength))
    : undefined;
  await vscode.window.showTextDocument(doc, { selection, preview: true, viewColumn: vscode.ViewColumn.One });
}

export function projectFileOf(projectDir: string): vscode.Uri {
  return vscode.Uri.file(path.join(projectDir, 'mlloop.json'));
}
