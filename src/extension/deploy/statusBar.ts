// The status-bar item while inference servers of this window run: requests per second over all of
// them; a click opens the Deployments view. Also keeps the mlLoop.deploymentsRunning context key.
import * as vscode from 'vscode';
import { formatRate } from '../../core/monitor/charts';
import type { DeploymentManager } from './manager';
import type { ServerProcess } from './serverProcess';

export class DeploymentsStatusBar implements vscode.Disposable {
  private readonly item = vscode.window.createStatusBarItem('mlLoop.deployments', vscode.StatusBarAlignment.Left, 49);
  private readonly subscription: vscode.Disposable;
  private anyRunning = false;

  constructor(private readonly manager: DeploymentManager) {
    this.item.name = 'ML Loop Deployments';
    this.item.command = 'mlLoop.deployments.focus';
    this.subscription = vscode.Disposable.from(manager.onDidChange(() => this.update()), manager.onDidChangeRates(() => this.update()));
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
    // A logging deployment's rate is its Monitoring report's (the Throughput chart's); other servers count their own.
    const rateOfServer = (s: ServerProcess) => {
      const monitored = s.logDir ? (s.status?.models ?? []).map((m) => this.manager.rateOf?.(s.launch.projectDir, m.name)) : [];
      return monitored.length && monitored.every((r) => r !== undefined) ? monitored.reduce((a: number, r) => a + r!, 0) : s.rps;
    };
    const rps = running.reduce((a, s) => a + rateOfServer(s), 0);
    this.item.text = `$(server-process) ${formatRate(rps)}`;
    this.item.tooltip = `ML Loop: ${running.length} inference server${running.length > 1 ? 's' : ''} (${running.map((s) => s.url).join(', ')}) — click for Deployments`;
    this.item.show();
  }

  dispose(): void {
    this.subscription.dispose();
    this.item.dispose();
  }
}
