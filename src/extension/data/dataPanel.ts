// The Data panel: profiles the project's data out of process and shows it in webview/data.
import * as path from 'node:path';
import * as vscode from 'vscode';
import {
  isDataWebviewMessage,
  type DataHostMessage,
  type DataPanelState,
  type DataWebviewMessage,
} from '../../protocol/data';
import { profileInChildProcess } from './runProfile';
import type { Services } from '../services';
import { WebviewPanelHost } from '../webviewHost/panel';

export class DataPanel extends WebviewPanelHost<DataHostMessage, DataWebviewMessage> {
  static readonly viewType = 'mlLoop.data';
  private state: DataPanelState;
  private abort: AbortController | undefined;

  /** Opens (or reveals) the Data panel of a project file and profiles its data. */
  static show(services: Services, projectFile: vscode.Uri): DataPanel {
    return services.panels.show(DataPanel.viewType, { projectFile: projectFile.fsPath }, () => {
      const panel = new DataPanel(services, projectFile);
      void panel.profile();
      return panel;
    });
  }

  private constructor(
    private readonly services: Services,
    private readonly projectFile: vscode.Uri,
  ) {
    super({
      viewType: DataPanel.viewType,
      title: `Data: ${path.basename(path.dirname(projectFile.fsPath))}`,
      bundle: 'data',
      styles: ['webview.css'],
      extensionUri: services.context.extensionUri,
      log: services.log,
      isWebviewMessage: isDataWebviewMessage,
      restoreKey: { projectFile: projectFile.fsPath },
      panels: services.panels,
    });
    this.state = { status: 'loading', projectFile: vscode.workspace.asRelativePath(projectFile) };
  }

  protected snapshot(): DataHostMessage {
    return { type: 'state', state: this.state };
  }

  protected async handle(message: Exclude<DataWebviewMessage, { type: 'ready' }>): Promise<void> {
    switch (message.type) {
      case 'refresh':
        await this.profile();
        return;
      case 'openDataFile':
        if (this.state.status === 'loaded') {
          const file = vscode.Uri.file(path.resolve(path.dirname(this.projectFile.fsPath), this.state.profile.file));
          await vscode.window.showTextDocument(file, { preview: true });
        }
        return;
    }
  }

  /** Profiles the data in a child process; the webview shows loading, then the profile or the error. */
  async profile(): Promise<void> {
    this.abort?.abort();
    const abort = (this.abort = new AbortController());
    const relative = vscode.workspace.asRelativePath(this.projectFile);
    this.state = { status: 'loading', projectFile: relative };
    this.publish();
    const config = vscode.workspace.getConfiguration('mlLoop');
    const t0 = performance.now();
    try {
      const profile = await profileInChildProcess({
        cliPath: vscode.Uri.joinPath(this.services.context.extensionUri, 'dist', 'cli.js').fsPath,
        nodePath: config.get<string>('nodePath') || process.execPath,
        projectDir: path.dirname(this.projectFile.fsPath),
        timeoutMs: config.get<number>('profile.timeoutSeconds', 120) * 1000,
        signal: abort.signal,
      });
      if (abort.signal.aborted) return;
      this.log.info(
        `profiled ${relative}: ${profile.rows} rows, ${profile.columns.length} columns in ${Math.round(performance.now() - t0)} ms`,
      );
      this.state = { status: 'loaded', projectFile: relative, profile };
    } catch (e) {
      if (abort.signal.aborted) return;
      const message = e instanceof Error ? e.message : String(e);
      this.log.error(`profiling ${relative} failed: ${message}`);
      this.state = { status: 'error', projectFile: relative, message };
    }
    this.publish();
  }

  override dispose(): void {
    this.abort?.abort();
    super.dispose();
  }
}
