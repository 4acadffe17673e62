// The Deployments view. Nothing deploys yet (the deploy issue adds the inference server), so it
// has no rows and its welcome content explains how a deployment appears; the provider exists so
// that work plugs rows in without touching the manifest.
import * as vscode from 'vscode';

export interface DeploymentEntry {
  id: string;
  label: string;
  url: string;
}

export class DeploymentsTreeProvider implements vscode.TreeDataProvider<DeploymentEntry>, vscode.Disposable {
  private entries: DeploymentEntry[] = [];
  private readonly changeEmitter = new vscode.EventEmitter<void>();
  readonly onDidChangeTreeData = this.changeEmitter.event;

  set(entries: DeploymentEntry[]): void {
    this.entries = entries;
    this.changeEmitter.fire();
  }

  getChildren(element?: DeploymentEntry): DeploymentEntry[] {
    return element ? [] : this.entries;
  }

  getTreeItem(e: DeploymentEntry): vscode.TreeItem {
    const item = new vscode.TreeItem(e.label, vscode.TreeItemCollapsibleState.None);
    item.id = e.id;
    item.description = e.url;
    item.iconPath = new vscode.ThemeIcon('server-process');
    item.contextValue = 'deployment';
    return item;
  }

  dispose(): void {
    this.changeEmitter.dispose();
  }
}
