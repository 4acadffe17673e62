// The Compare panel: 2–20 runs side by side (parameters, metrics, best marked) with their curves
// overlaid. The table and the curves are computed here from the store (src/core/track/compare);
// the webview draws them. CSV export writes the same table through a save dialog. Then, in a worker
// thread, each run's dev errors per tag and per slice (src/core/analysis/compareErrors), so a run
// trained on an augmented version shows what changed for the tag or slice it aimed at.
import * as vscode from 'vscode';
import { resolveProject } from '../../core/data/dataset';
import { errorChangesInWorker } from '../../core/analysis/analysisWorker';
import { CancelledError } from '../../core/runtime/cancel';
import { buildCompareTable, compareTableCsv, curvesOf, MAX_COMPARE, MIN_COMPARE } from '../../core/track/compare';
import { runLabel } from '../../core/track/format';
import { readProjectMetric } from '../../core/track/projectMetric';
import { readHistory } from '../../core/track/store';
import type { TrackedRun } from '../../core/track/types';
import {
  isCompareWebviewMessage,
  type CompareHostMessage,
  type ComparePanelState,
  type CompareWebviewMessage,
} from '../../protocol/compare';
import type { Services } from '../services';
import { WebviewPanelHost } from '../webviewHost/panel';

export class ComparePanel extends WebviewPanelHost<CompareHostMessage, CompareWebviewMessage> {
  static readonly viewType = 'mlLoop.compare';
  private state: ComparePanelState = { status: 'loading' };
  private errorsAbort: AbortController | undefined;

  /** Opens a new Compare panel on runs of one project. */
  static show(services: Services, projectDir: string, runIds: string[]): ComparePanel {
    if (runIds.length < MIN_COMPARE || runIds.length > MAX_COMPARE)
      throw new Error(`select ${MIN_COMPARE} to ${MAX_COMPARE} runs to compare (${runIds.length} selected)`);
    // A new panel each time: the same runs may be compared twice side by side.
    const panel = new ComparePanel(services, projectDir, runIds);
    void panel.load();
    return panel;
  }

  private constructor(
    private readonly services: Services,
    private readonly projectDir: string,
    private readonly runIds: string[],
  ) {
    super({
      viewType: ComparePanel.viewType,
      title: `Compare ${runIds.length} runs`,
      bundle: 'compare',
      styles: ['webview.css', 'track.css'],
      extensionUri: services.context.extensionUri,
      log: services.log,
      isWebviewMessage: isCompareWebviewMessage,
      restoreKey: { projectDir, runIds },
      panels: services.panels,
    });
    const sub = services.runs.onDidChangeRuns((c) => {
      if (c.projectDir === projectDir && (!c.runIds || c.runIds.some((id) => runIds.includes(id)))) void this.load();
    });
    this.onDidDispose(() => {
      sub.dispose();
      this.errorsAbort?.abort();
    });
  }

  protected snapshot(): CompareHostMessage {
    return { type: 'state', state: this.state };
  }

  async load(): Promise<void> {
    try {
      const runs: TrackedRun[] = [];
      for (const id of this.runIds) {
        const run = await this.services.runs.run(this.projectDir, id);
        if (!run) throw new Error(`run ${id} is not in the store any more`);
        runs.push(run);
      }
      const table = buildCompareTable(runs);
      const curves = runs.map((r) => curvesOf(r.runId, runLabel(r), readHistory(r.dir)));
      const completed = runs.every((r) => r.status === 'completed');
      this.state = {
        status: 'loaded',
        table,
        curves,
        projectMetric: readProjectMetric(this.projectDir),
        ...(completed ? { errors: { status: 'loading' } } : {}),
      };
      if (completed) void this.loadErrorChanges();
    } catch (e) {
      this.state = { status: 'error', message: e instanceof Error ? e.message : String(e) };
    }
    this.publish();
  }

  private async loadErrorChanges(): Promise<void> {
    this.errorsAbort?.abort();
    const abort = (this.errorsAbort = new AbortController());
    let errors: Extract<ComparePanelState, { status: 'loaded' }>['errors'];
    try {
      const project = await resolveProject(this.projectDir);
      errors = {
        status: 'loaded',
        changes: await errorChangesInWorker({ projectDir: project, runIds: this.runIds }, abort.signal),
      };
    } catch (e) {
      if (e instanceof CancelledError) return;
      errors = { status: 'unavailable', message: e instanceof Error ? e.message : String(e) };
      this.log.info(`compare: no error changes: ${errors.message}`);
    }
    if (this.state.status !== 'loaded' || abort.signal.aborted) return;
    this.state = { ...this.state, errors };
    this.publish();
  }

  protected async handle(message: Exclude<CompareWebviewMessage, { type: 'ready' }>): Promise<void> {
    if (message.type !== 'exportCsv' || this.state.status !== 'loaded') return;
    const target = await vscode.window.showSaveDialog({
      defaultUri: vscode.Uri.file(`${this.projectDir}/compare-${this.runIds.length}-runs.csv`),
      filters: { CSV: ['csv'] },
      title: 'Export the comparison as CSV',
    });
    if (!target) return;
    await vscode.workspace.fs.writeFile(target, new TextEncoder().encode(compareTableCsv(this.state.table)));
    this.log.info(`compare: wrote ${target.fsPath}`);
    void vscode.window.showInformationMessage(
      `ML Loop: comparison saved to ${vscode.workspace.asRelativePath(target)}`,
    );
  }
}
