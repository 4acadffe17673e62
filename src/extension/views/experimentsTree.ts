// The Experiments view: the experiments of each mlloop.json (grouped by project when several).
import * as vscode from 'vscode';
import type { ExperimentEntry } from '../project/projectFile';
import type { Project, ProjectIndex } from '../project/projectIndex';

export class ProjectNode {
  constructor(readonly project: Project) {}
}
export class ExperimentNode {
  constructor(
    readonly project: Project,
    readonly experiment: ExperimentEntry,
  ) {}
}
export type ExperimentsTreeNode = ProjectNode | ExperimentNode;

const KIND_ICONS: Record<string, string> = { linear: 'graph-line', logistic: 'symbol-boolean', mlp: 'type-hierarchy', gbdt: 'list-tree', script: 'terminal' };

export class ExperimentsTreeProvider implements vscode.TreeDataProvider<ExperimentsTreeNode>, vscode.Disposable {
  private readonly changeEmitter = new vscode.EventEmitter<void>();
  readonly onDidChangeTreeData = this.changeEmitter.event;
  private readonly subscription: vscode.Disposable;

  constructor(private readonly projects: ProjectIndex) {
    this.subscription = projects.onDidChange(() => this.changeEmitter.fire());
  }

  async getChildren(element?: ExperimentsTreeNode): Promise<ExperimentsTreeNode[]> {
    if (element instanceof ExperimentNode) return [];
    if (element instanceof ProjectNode) return element.project.outline.experiments.map((e) => new ExperimentNode(element.project, e));
    const projects = await this.projects.list();
    // One project (the usual case): its experiments at the top level.
    if (projects.length === 1) return projects[0].outline.experiments.map((e) => new ExperimentNode(projects[0], e));
    return projects.map((p) => new ProjectNode(p));
  }

  getTreeItem(element: ExperimentsTreeNode): vscode.TreeItem {
    if (element instanceof ProjectNode) {
      const item = new vscode.TreeItem(element.project.outline.name ?? vscode.workspace.asRelativePath(element.project.file), vscode.TreeItemCollapsibleState.Expanded);
      item.description = vscode.workspace.asRelativePath(element.project.file);
      item.iconPath = new vscode.ThemeIcon('project');
      item.contextValue = 'project';
      item.resourceUri = element.project.file;
      return item;
    }
    const { experiment } = element;
    const item = new vscode.TreeItem(experiment.name, vscode.TreeItemCollapsibleState.None);
    item.id = `${element.project.file.toString()}#${experiment.name}`;
    // The kind, unless the name already says it ("mlp": mlp).
    item.description = experiment.kind === experiment.name ? undefined : experiment.kind;
    item.iconPath = new vscode.ThemeIcon(KIND_ICONS[experiment.kind] ?? 'beaker');
    item.contextValue = 'experiment';
    const tooltip = new vscode.MarkdownString(`**${experiment.name}** — ${experiment.kind}`);
    if (experiment.params) tooltip.appendCodeblock(JSON.stringify(experiment.params, null, 2), 'json');
    item.tooltip = tooltip;
    item.command = { command: 'mlLoop.revealExperiment', title: 'Show Experiment Definition', arguments: [element] };
    return item;
  }

  dispose(): void {
    this.subscription.dispose();
    this.changeEmitter.dispose();
  }
}
