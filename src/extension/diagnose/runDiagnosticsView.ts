// The compact Run Diagnostics view under the Experiments tree: it follows the selected run (or the
// latest completed run of the selected experiment; before any selection, the project's latest
// completed run) and shows its bias/variance bars against the
// baseline, the verdict in one line, and a link to the full Diagnostics panel.
import * as path from 'node:path';
import * as vscode from 'vscode';
import { verdictOfRecord } from '../../core/diagnose/recordVerdict';
import { runLabel } from '../../core/track/format';
import type { MetricName } from '../../core/spec/types';
import {
  isRunDiagnosticsWebviewMessage,
  type RunDiagnosticsHostMessage,
  type RunDiagnosticsViewState,
} from '../../protocol/diagnostics';
import { readProjectOutline } from '../project/projectFile';
import type { Services } from '../services';
import { ExperimentNode, RunNode } from '../experiments/experimentsTree';
import { localResourceRoots, webviewHtml } from '../webviewHost/panel';
import type { RunRef } from '../commandTargets';

const NOTHING_SELECTED: RunDiagnosticsViewState = {
  status: 'empty',
  message: 'Select a run or an experiment in the Experiments view to see its diagnosis.',
};

export class RunDiagnosticsView implements vscode.WebviewViewProvider, vscode.Disposable {
  static readonly viewId = 'mlLoop.runDiagnostics';
  private view: vscode.WebviewView | undefined;
  private ready = false;
  private state: RunDiagnosticsViewState = NOTHING_SELECTED;
  private selected: { projectFile: vscode.Uri; runId?: string; experiment?: string } | undefined;
  private readonly disposables: vscode.Disposable[] = [];

  constructor(private readonly services: Services) {
    this.disposables.push(
      services.runs.onDidChangeRuns((c) => {
        if (!this.selected || path.dirname(this.selected.projectFile.fsPath) === c.projectDir) void this.update();
      }),
    );
  }

  /** Follows a tree selection: a run, or an experiment (its latest completed run). */
  select(node: unknown): void {
    if (node instanceof RunNode) this.selected = { projectFile: node.project.file, runId: node.runId };
    else if (node instanceof ExperimentNode)
      this.selected = { projectFile: node.project.file, experiment: node.experiment.name };
    else return;
    void this.update();
  }

  get current(): RunDiagnosticsViewState {
    return this.state;
  }

  /** Shows the project's latest completed run when the view opens with nothing selected. */
  async update(): Promise<void> {
    this.state = await this.compute();
    this.post();
  }

  /** Before any selection: the latest completed run of the workspace's projects. */
  private async latest(): Promise<{ projectFile: vscode.Uri; runId: string } | undefined> {
    let best: { projectFile: vscode.Uri; runId: string; startedAt: string } | undefined;
    for (const project of await this.services.projects.list()) {
      const run = (await this.services.runs.index(path.dirname(project.file.fsPath)))
        .all()
        .find((r) => r.status === 'completed' && r.record.metrics?.train);
      if (run && (!best || run.record.startedAt > best.startedAt))
        best = { projectFile: project.file, runId: run.runId, startedAt: run.record.startedAt };
    }
    return best;
  }

  private async compute(): Promise<RunDiagnosticsViewState> {
    const sel: { projectFile: vscode.Uri; runId?: string; experiment?: string } | undefined =
      this.selected ?? (await this.latest());
    if (!sel) return NOTHING_SELECTED;
    const text = new TextDecoder().decode(await vscode.workspace.fs.readFile(sel.projectFile));
    const outline = readProjectOutline(text);
    const index = await this.services.runs.index(path.dirname(sel.projectFile.fsPath));
    const run = sel.runId
      ? index.get(sel.runId)
      : index.ofExperiment(sel.experiment!).find((r) => r.status === 'completed' && r.record.metrics?.train);
    if (!run)
      return {
        status: 'empty',
        message: sel.experiment
          ? `"${sel.experiment}" has no completed run yet: train it to see its diagnosis.`
          : 'The run is gone.',
      };
    if (!outline.metric) return { status: 'empty', message: 'mlloop.json names no metric.' };
    const verdict = verdictOfRecord(
      { metric: outline.metric as MetricName, baseline: outline.baseline, images: outline.images },
      run.record,
      run.dir,
    );
    if (!verdict)
      return { status: 'empty', message: `Run ${run.runId} is ${run.status}: only completed runs have a diagnosis.` };
    return {
      status: 'verdict',
      runId: run.runId,
      projectFile: sel.projectFile.fsPath,
      experiment: run.record.experiment,
      label: runLabel(run),
      verdict,
    };
  }

  resolveWebviewView(view: vscode.WebviewView): void {
    this.view = view;
    this.ready = false;
    const extensionUri = this.services.context.extensionUri;
    view.webview.options = { enableScripts: true, localResourceRoots: localResourceRoots(extensionUri) };
    view.webview.html = webviewHtml(view.webview, {
      title: 'Run Diagnostics',
      bundle: 'runDiagnostics',
      styles: ['webview.css', 'diagnostics.css'],
      extensionUri,
    });
    view.webview.onDidReceiveMessage(
      (m: unknown) => {
        if (!isRunDiagnosticsWebviewMessage(m)) return;
        if (m.type === 'ready') {
          this.ready = true;
          void this.update();
        } else if (m.type === 'openPanel' && this.state.status === 'verdict') {
          void vscode.commands.executeCommand('mlLoop.diagnoseRun', {
            projectFile: vscode.Uri.file(this.state.projectFile),
            runId: this.state.runId,
          } satisfies RunRef);
        }
      },
      undefined,
      this.disposables,
    );
    view.onDidDispose(
      () => {
        this.view = undefined;
        this.ready = false;
      },
      undefined,
      this.disposables,
    );
  }

  private post(): void {
    if (this.view && this.ready)
      void this.view.webview.postMessage({ type: 'state', state: this.state } satisfies RunDiagnosticsHostMessage);
  }

  dispose(): void {
    for (const d of this.disposables.splice(0)) d.dispose();
  }
}
