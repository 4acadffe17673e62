// The Deployments view: servers (URL, status, uptime) → models → versions (alias, run, request count),
// from the servers this window started (the DeploymentManager created in activate()).
import * as vscode from 'vscode';
import { curlExample } from '../../core/serve/curl';
import type { DeploymentManager } from './manager';
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
  private readonly changeEmitter = new vscode.EventEmitter<void>();
  readonly onDidChangeTreeData = this.changeEmitter.event;
  private readonly subscription: vscode.Disposable;
  /** Alerts of a deployment (set by the deployment monitor, src/extension/monitoring): a warning icon and badge on its model. */
  alertsOf: ((projectDir: string, name: string) => { message: string }[]) | undefined;

  constructor(private readonly manager: DeploymentManager) {
    this.subscription = manager.onDidChange(() => this.changeEmitter.fire());
  }

  /** Redraws the tree (alerts changed). */
  refresh(): void {
    this.changeEmitter.fire();
  }

  /** Tooltips computed on hover: the uptime and request rate are current without redrawing the rows. */
  async resolveTreeItem(item: vscode.TreeItem, e: DeploymentNode): Promise<vscode.TreeItem> {
    if (e instanceof ServerNode) {
      const s = e.server;
      const up =
        s.state === 'running' ? `up ${formatUptime(Date.now() - s.startedAt)} · ${s.rps.toFixed(1)} req/s\n` : '';
      const grpc = s.grpcUrl ? `\ngRPC (inference.GRPCInferenceService) on ${s.grpcUrl}` : '';
      item.tooltip = `${up}Inference server (pid ${s.pid}) for ${s.launch.projectDir}${grpc}${s.logDir ? `\nLogging requests to ${s.logDir}` : '\nRequest logging off'}`;
    } else if (e instanceof ModelNode && e.server.state === 'running') {
      // The deployed name and a ready curl line (the same as Copy curl Example), selectable in the hover.
      let features: string[] | undefined;
      try {
        features = (
          (await (await fetch(`${e.server.url}/v2/models/${encodeURIComponent(e.model.name)}`)).json()) as {
            parameters?: { features?: string[] };
          }
        ).parameters?.features;
      } catch {
        features = undefined;
      }
      const md = new vscode.MarkdownString();
      const alerts = this.alertsOf?.(e.server.launch.projectDir, e.model.name) ?? [];
      for (const a of alerts) md.appendMarkdown(`$(warning) ${a.message}\n\n`);
      md.supportThemeIcons = true;
      md.appendMarkdown(`Model name \`${e.model.name}\`, served at \`${e.server.url}/v2/models/${e.model.name}\`:\n`);
      md.appendCodeblock(curlExample(e.server.url, e.model.name, features), 'sh');
      item.tooltip = md;
    }
    return item;
  }

  getChildren(element?: DeploymentNode): DeploymentNode[] {
    if (!element) return this.manager.servers.map((s) => new ServerNode(s));
    if (element instanceof ServerNode)
      return (element.server.status?.models ?? []).map((m) => new ModelNode(element.server, m));
    if (element instanceof ModelNode)
      return element.model.versions.map((v) => new VersionNode(element.server, element.model, v));
    return [];
  }

  getTreeItem(e: DeploymentNode): vscode.TreeItem {
    if (e instanceof ServerNode) {
      const s = e.server;
      const item = new vscode.TreeItem(s.url || 'starting…', vscode.TreeItemCollapsibleState.Expanded);
      item.id = `server:${s.pid}`;
      // No uptime counter here: a description that changes every second redraws the row under the pointer (resolveTreeItem gives it on hover).
      item.description =
        s.state === 'running'
          ? `running${s.grpcUrl ? ` · gRPC ${s.grpcUrl}` : ''}${s.logDir ? ' · logging requests' : ''}`
          : s.state;
      item.iconPath = new vscode.ThemeIcon(s.state === 'running' ? 'server-process' : 'debug-stop');
      item.contextValue = `deployServer.${s.state}${s.logDir ? '.logging' : ''}`;
      return item;
    }
    if (e instanceof ModelNode) {
      const item = new vscode.TreeItem(e.model.name, vscode.TreeItemCollapsibleState.Expanded);
      item.id = `model:${e.server.pid}:${e.model.name}`;
      item.description = `production v${e.model.aliases.production ?? '-'}${e.model.aliases.candidate ? ` · candidate v${e.model.aliases.candidate}` : ''}`;
      const alerts = this.alertsOf?.(e.server.launch.projectDir, e.model.name) ?? [];
      item.iconPath = alerts.length
        ? new vscode.ThemeIcon('warning', new vscode.ThemeColor('list.warningForeground'))
        : new vscode.ThemeIcon('symbol-class');
      // The monitor's file decorations put a badge on this URI (scheme mlloop-deployment).
      item.resourceUri = vscode.Uri.from({
        scheme: 'mlloop-deployment',
        path: `/${e.model.name}`,
        query: e.server.launch.projectDir,
      });
      // The tooltip (alerts, name, curl line) comes from resolveTreeItem.
      item.contextValue = `deployModel${e.model.previousProduction ? '.canRollback' : ''}${e.server.logDir ? '.logging' : ''}`;
      return item;
    }
    const alias = e.alias;
    const item = new vscode.TreeItem(`v${e.version.version}`, vscode.TreeItemCollapsibleState.None);
    item.id = `version:${e.server.pid}:${e.model.name}:${e.version.version}`;
    item.description = [
      alias,
      e.version.runId ? `run ${e.version.runId}` : undefined,
      `${e.version.requests} requests${e.version.failed ? ` (${e.version.failed} failed)` : ''}`,
    ]
      .filter(Boolean)
      .join(' · ');
    item.tooltip = `${e.version.path}${e.version.loaded ? '' : ' (not loaded)'}`;
    item.iconPath = new vscode.ThemeIcon(
      alias === 'production' ? 'star-full' : alias === 'candidate' ? 'beaker' : 'circle-outline',
    );
    item.contextValue = `deployVersion${alias ? `.${alias}` : ''}`;
    return item;
  }

  dispose(): void {
    this.subscription.dispose();
    this.changeEmitter.dispose();
  }
}
