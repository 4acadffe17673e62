// The Deployments view: servers (URL, status, uptime) → models → versions (alias, run, request count),
// from the servers this window started (src/extension/deploy). A status-bar item shows requests per
// second while a server runs; clicking it opens this view.
import * as vscode from 'vscode';
import { DeploymentManager } from './manager';
import type { ServerProcess, ServerStatusModel, ServerStatusVersion } from './serverProcess';

export class ServerNode {
  readonly kind = 'server';
  constructor(readonly server: ServerProcess) {}
}
export class ModelNode {
  readonly kind = 'model';
  constructor(
    readonly server: ServerProcess,
    readonly model: ServerStatusModel,
  ) {}
}
export class VersionNode {
  readonly kind = 'version';
  constructor(
    readonly server: ServerProcess,
    readonly model: ServerStatusModel,
    readonly version: ServerStatusVersion,
  ) {}
  get alias(): 'production' | 'candidate' | undefined {
    if (this.model.aliases.production === this.version.version) return 'production';
    if (this.model.aliases.candidate === this.version.version) return 'candidate';
    return undefined;
  }
}
export type DeploymentNode = ServerNode | ModelNode | VersionNode;

export function formatUptime(ms: number): string {
  const s = Math.floor(ms / 1000);
  if (s < 60) return `${s}s`;
  if (s < 3600) return `${Math.floor(s / 60)}m ${s % 60}s`;
  return `${Math.floor(s / 3600)}h ${Math.floor((s % 3600) / 60)}m`;
}

export class DeploymentsTreeProvider implements vscode.TreeDataProvider<DeploymentNode>, vscode.Disposable {
  readonly manager: DeploymentManager;
  private readonly changeEmitter = new vscode.EventEmitter<void>();
  readonly onDidChangeTreeData = this.changeEmitter.event;
  private readonly statusItem = vscode.window.createStatusBarItem('mlLoop.deployments', vscode.StatusBarAlignment.Left, 49);
  private readonly subscription: vscode.Disposable;
  private anyRunning = false;
  /** Alerts of a deployment (set by the deployment monitor, src/extension/monitoring): a warning icon and badge on its model. */
  alertsOf: ((projectDir: string, name: string) => { message: string }[]) | undefined;

  constructor(context: vscode.ExtensionContext, log: vscode.LogOutputChannel) {
    const config = () => vscode.workspace.getConfiguration('mlLoop');
    this.manager = new DeploymentManager(vscode.Uri.joinPath(context.extensionUri, 'dist', 'server.js').fsPath, () => config().get<string>('nodePath') || process.execPath, log);
    this.statusItem.name = 'ML Loop Deployments';
    this.statusItem.command = 'mlLoop.deployments.focus';
    this.subscription = this.manager.onDidChange(() => {
      this.changeEmitter.fire();
      this.updateStatusBar();
    });
  }

  private updateStatusBar(): void {
    const running = this.manager.running();
    if ((running.length > 0) !== this.anyRunning) {
      this.anyRunning = running.length > 0;
      void vscode.commands.executeCommand('setContext', 'mlLoop.deploymentsRunning', this.anyRunning);
    }
    if (running.length === 0) {
      this.statusItem.hide();
      return;
    }
    const rps = running.reduce((a, s) => a + s.rps, 0);
    this.statusItem.text = `$(server-process) ${rps.toFixed(rps < 10 ? 1 : 0)} req/s`;
    this.statusItem.tooltip = `ML Loop: ${running.length} inference server${running.length > 1 ? 's' : ''} (${running.map((s) => s.url).join(', ')}) — click for Deployments`;
    this.statusItem.show();
  }

  /** Redraws the tree (alerts changed). */
  refresh(): void {
    this.changeEmitter.fire();
  }

  getChildren(element?: DeploymentNode): DeploymentNode[] {
    if (!element) return this.manager.servers.map((s) => new ServerNode(s));
    if (element instanceof ServerNode) return (element.server.status?.models ?? []).map((m) => new ModelNode(element.server, m));
    if (element instanceof ModelNode) return element.model.versions.map((v) => new VersionNode(element.server, element.model, v));
    return [];
  }

  getTreeItem(e: DeploymentNode): vscode.TreeItem {
    if (e instanceof ServerNode) {
      const s = e.server;
      const item = new vscode.TreeItem(s.url || 'starting…', vscode.TreeItemCollapsibleState.Expanded);
      item.id = `server:${s.pid}`;
      item.description = s.state === 'running' ? `running · up ${formatUptime(Date.now() - s.startedAt)} · ${s.rps.toFixed(1)} req/s` : s.state;
      item.tooltip = `Inference server (pid ${s.pid}) for ${s.launch.projectDir}${s.logDir ? `\nLogging requests to ${s.logDir}` : '\nRequest logging off'}`;
      item.iconPath = new vscode.ThemeIcon(s.state === 'running' ? 'server-process' : 'debug-stop');
      item.contextValue = `deployServer.${s.state}${s.logDir ? '.logging' : ''}`;
      return item;
    }
    if (e instanceof ModelNode) {
      const item = new vscode.TreeItem(e.model.name, vscode.TreeItemCollapsibleState.Expanded);
      item.id = `model:${e.server.pid}:${e.model.name}`;
      item.description = `production v${e.model.aliases.production ?? '-'}${e.model.aliases.candidate ? ` · candidate v${e.model.aliases.candidate}` : ''}`;
      const alerts = this.alertsOf?.(e.server.launch.projectDir, e.model.name) ?? [];
      item.iconPath = alerts.length ? new vscode.ThemeIcon('warning', new vscode.ThemeColor('list.warningForeground')) : new vscode.ThemeIcon('symbol-class');
      // The monitor's file decorations put a badge on this URI (scheme mlloop-deployment).
      item.resourceUri = vscode.Uri.from({ scheme: 'mlloop-deployment', path: `/${e.model.name}`, query: e.server.launch.projectDir });
      if (alerts.length) item.tooltip = alerts.map((a) => a.message).join('\n');
      item.contextValue = `deployModel${e.model.previousProduction ? '.canRollback' : ''}${e.server.logDir ? '.logging' : ''}`;
      return item;
    }
    const alias = e.alias;
    const item = new vscode.TreeItem(`v${e.version.version}`, vscode.TreeItemCollapsibleState.None);
    item.id = `version:${e.server.pid}:${e.model.name}:${e.version.version}`;
    item.description = [alias, e.version.runId ? `run ${e.version.runId}` : undefined, `${e.version.requests} requests${e.version.failed ? ` (${e.version.failed} failed)` : ''}`].filter(Boolean).join(' · ');
    item.tooltip = `${e.version.path}${e.version.loaded ? '' : ' (not loaded)'}`;
    item.iconPath = new vscode.ThemeIcon(alias === 'production' ? 'star-full' : alias === 'candidate' ? 'beaker' : 'circle-outline');
    item.contextValue = `deployVersion${alias ? `.${alias}` : ''}`;
    return item;
  }

  dispose(): void {
    this.subscription.dispose();
    this.manager.dispose();
    this.statusItem.dispose();
    this.changeEmitter.dispose();
  }
}
