// The status-bar item while inference servers of this window run: requests per second over all of
// them; a click opens the Deployments view. Also keeps the mlLoop.deploymentsRunning context key.
import * as vscode from 'vscode';
import type { DeploymentManager } from './manager';

export class DeploymentsStatusBar implements vscode.Disposable {
  private readonly item = vscode.window.createStatusBarItem('mlLoop.deployments', vscode.StatusBarAlignment.Left, 49);
  private readonly subscription: vscode.Disposable;
  private anyRunning = false;

  constructor(private readonly manager: DeploymentManager) {
    this.item.name = 'ML Loop Deployments';
    this.item.command = 'mlLoop.deployments.focus';
    this.subscription = manager.onDidChange(() => this.update());
  }

  private update(): void {
    const running = this.manager.running();
    if ((running.length > 0) !== this.anyRunning) {
      this.anyRunning = running.length > 0;
      void vscode.commands.executeCommand('setContext', 'mlLoop.deploymentsRunning', this.anyRunning);
    }
    if (running.length === 0) {
      this.item.hide();
      return;
    }
    const rps = running.reduce((a, s) => a + s.rps, 0);
    this.item.text = `$(server-process) ${rps.toFixed(rps < 10 ? 1 : 0)} req/s`;
    this.item.tooltip = `ML Loop: ${running.length} inference server${running.length > 1 ? 's' : ''} (${running.map((s) => s.url).join(', ')}) — click for Deployments`;
    this.item.show();
  }

  dispose(): void {
    this.subscription.dispose();
    this.item.dispose();
  }
}
