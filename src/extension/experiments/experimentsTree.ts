// The Experiments view: project → experiments (from mlloop.json) → runs (newest first, from the run
// store). Runs load a page at a time (a "more" row loads the next page), and a store change
// refreshes only the experiments whose runs changed.
import * as path from 'node:path';
import * as vscode from 'vscode';
import {
  formatDuration,
  formatMetricValue,
  keyMetric,
  runDurationMs,
  runLabel,
  shortRunLabel,
} from '../../core/track/format';
import { groupSweeps, isSweep, sweepDescription, sweepValuesLabel, type SweepSummary } from '../../core/track/sweeps';
import type { TrackedRun, TrackedStatus } from '../../core/track/types';
import type { ExperimentEntry } from '../project/projectFile';
import type { Project, ProjectIndex } from '../project/projectIndex';
import type { RunsChange, RunTracker } from '../training/runTracker';

export class ProjectNode {
  constructor(readonly project: Project) {}
}
export class ExperimentNode {
  constructor(
    readonly project: Project,
    readonly experiment: ExperimentEntry,
  ) {}
  get projectDir(): string {
    return path.dirname(this.project.file.fsPath);
  }
}
export class RunNode {
  constructor(
    readonly project: Project,
    readonly run: TrackedRun,
    /** Set when the run is shown under its sweep. */
    readonly sweep?: SweepNode,
  ) {}
  get projectDir(): string {
    return path.dirname(this.project.file.fsPath);
  }
  get runId(): string {
    return this.run.runId;
  }
}
/** The runs of one sweep, shown together under their experiment. */
export class SweepNode {
  constructor(
    readonly parent: ExperimentNode,
    readonly sweep: SweepSummary,
  ) {}
  get projectDir(): string {
    return this.parent.projectDir;
  }
}
/** "N more runs…": a click shows the next page of an experiment's runs. */
export class MoreRunsNode {
  constructor(
    readonly parent: ExperimentNode,
    readonly remaining: number,
  ) {}
}
export class BaselineNode {
  constructor(readonly project: Project) {}
}
export type ExperimentsTreeNode = ProjectNode | ExperimentNode | RunNode | SweepNode | MoreRunsNode | BaselineNode;

/** Entries (runs, or sweeps counted as one) shown per experiment before a "more" row; each click adds a page. */
export const RUN_PAGE_SIZE = 50;

const KIND_ICONS: Record<string, string> = {
  linear: 'graph-line',
  logistic: 'symbol-boolean',
  mlp: 'type-hierarchy',
  gbdt: 'list-tree',
  cnn: 'layers',
  script: 'terminal',
};
const STATUS_ICONS: Record<TrackedStatus, [string, string | undefined]> = {
  queued: ['watch', 'charts.yellow'],
  running: ['sync~spin', 'charts.blue'],
  completed: ['pass', 'charts.green'],
  failed: ['error', 'errorForeground'],
  cancelled: ['circle-slash', 'editorWarning.foreground'],
  interrupted: ['debug-disconnect', 'editorWarning.foreground'],
};

export class ExperimentsTreeProvider implements vscode.TreeDataProvider<ExperimentsTreeNode>, vscode.Disposable {
  private readonly changeEmitter = new vscode.EventEmitter<ExperimentsTreeNode | undefined | void>();
  readonly onDidChangeTreeData = this.changeEmitter.event;
  private readonly subscriptions: vscode.Disposable[];
  /** Experiment nodes handed to the view, by `<projectDir>#<name>`: refreshed by identity. */
  private readonly experimentNodes = new Map<string, ExperimentNode>();
  private readonly pages = new Map<string, number>();
  /** Which experiment each shown run belongs to (a deleted run's folder no longer says). */
  private readonly experimentOfRun = new Map<string, string>();

  constructor(
    private readonly projects: ProjectIndex,
    private readonly runs?: RunTracker,
  ) {
    this.subscriptions = [projects.onDidChange(() => this.changeEmitter.fire())];
    if (runs) this.subscriptions.push(runs.onDidChangeRuns((c) => this.onRunsChanged(c)));
  }

  private onRunsChanged(change: RunsChange): void {
    if (!change.runIds) {
      this.changeEmitter.fire();
      return;
    }
    const index = this.runs?.loadedIndex(change.projectDir);
    const experiments = new Set<string>();
    for (const id of change.runIds) {
      const name = index?.get(id)?.record.experiment ?? this.experimentOfRun.get(`${change.projectDir}#${id}`);
      if (name === undefined) return this.changeEmitter.fire(); // a run we cannot place: refresh all
      experiments.add(name);
    }
    for (const name of experiments) {
      const node = this.experimentNodes.get(`${change.projectDir}#${name}`);
      if (!node) return this.changeEmitter.fire();
      this.changeEmitter.fire(node);
    }
  }

  private experimentNode(project: Project, e: ExperimentEntry): ExperimentNode {
    const key = `${path.dirname(project.file.fsPath)}#${e.name}`;
    const existing = this.experimentNodes.get(key);
    if (existing && existing.project === project && existing.experiment === e) return existing;
    const node = new ExperimentNode(project, e);
    this.experimentNodes.set(key, node);
    return node;
  }

  private topOfProject(project: Project): ExperimentsTreeNode[] {
    const nodes: ExperimentsTreeNode[] = project.outline.baseline ? [new BaselineNode(project)] : [];
    return [...nodes, ...project.outline.experiments.map((e) => this.experimentNode(project, e))];
  }

  async getChildren(element?: ExperimentsTreeNode): Promise<ExperimentsTreeNode[]> {
    if (element instanceof ExperimentNode) return this.runsOf(element);
    if (element instanceof SweepNode)
      return element.sweep.runs.map((r) => new RunNode(element.parent.project, r, element));
    if (element instanceof ProjectNode) return this.topOfProject(element.project);
    if (element) return [];
    const projects = await this.projects.list();
    // Runs are read before the experiments are shown, so each knows whether it has runs.
    if (this.runs) await Promise.all(projects.map((p) => this.runs!.index(path.dirname(p.file.fsPath))));
    // One project (the usual case): its experiments at the top level.
    if (projects.length === 1) return this.topOfProject(projects[0]);
    return projects.map((p) => new ProjectNode(p));
  }

  private async runsOf(node: ExperimentNode): Promise<ExperimentsTreeNode[]> {
    if (!this.runs) return [];
    const index = await this.runs.index(node.projectDir);
    const all = groupSweeps(index.ofExperiment(node.experiment.name), node.project.outline.metric);
    const shown = this.pages.get(`${node.projectDir}#${node.experiment.name}`) ?? RUN_PAGE_SIZE;
    const page = all.slice(0, shown);
    for (const e of page)
      for (const r of isSweep(e) ? e.runs : [e])
        this.experimentOfRun.set(`${node.projectDir}#${r.runId}`, node.experiment.name);
    const nodes: ExperimentsTreeNode[] = page.map((e) =>
      isSweep(e) ? new SweepNode(node, e) : new RunNode(node.project, e),
    );
    if (all.length > shown) nodes.push(new MoreRunsNode(node, all.length - shown));
    return nodes;
  }

  /** Shows the next page of runs under an experiment. */
  showMore(node: MoreRunsNode): void {
    const key = `${node.parent.projectDir}#${node.parent.experiment.name}`;
    this.pages.set(key, (this.pages.get(key) ?? RUN_PAGE_SIZE) + RUN_PAGE_SIZE);
    this.changeEmitter.fire(node.parent);
  }

  getParent(element: ExperimentsTreeNode): ExperimentsTreeNode | undefined {
    if (element instanceof RunNode)
      return element.sweep ?? this.experimentNodes.get(`${element.projectDir}#${element.run.record.experiment}`);
    if (element instanceof SweepNode) return element.parent;
    if (element instanceof MoreRunsNode) return element.parent;
    return undefined;
  }

  getTreeItem(element: ExperimentsTreeNode): vscode.TreeItem {
    if (element instanceof ProjectNode) {
      const item = new vscode.TreeItem(
        element.project.outline.name ?? vscode.workspace.asRelativePath(element.project.file),
        vscode.TreeItemCollapsibleState.Expanded,
      );
      item.description = vscode.workspace.asRelativePath(element.project.file);
      item.iconPath = new vscode.ThemeIcon('project');
      item.contextValue = 'project';
      item.resourceUri = element.project.file;
      return item;
    }
    if (element instanceof BaselineNode) return this.baselineItem(element);
    if (element instanceof RunNode) return this.runItem(element);
    if (element instanceof SweepNode) return this.sweepItem(element);
    if (element instanceof MoreRunsNode) {
      const item = new vscode.TreeItem(
        `${element.remaining} more run${element.remaining === 1 ? '' : 's'}…`,
        vscode.TreeItemCollapsibleState.None,
      );
      item.iconPath = new vscode.ThemeIcon('ellipsis');
      item.contextValue = 'moreRuns';
      item.command = { command: 'mlLoop.showMoreRuns', title: 'Show More Runs', arguments: [element] };
      return item;
    }
    const { experiment } = element;
    const runs = this.runs?.loadedIndex(element.projectDir)?.ofExperiment(experiment.name) ?? [];
    // Built-in experiments are always expandable: VS Code keeps the state an item first had, so an
    // experiment shown without runs (None) would stay collapsed when its first run appears.
    const trainable = experiment.kind !== '?';
    const item = new vscode.TreeItem(
      experiment.name,
      trainable || runs.length ? vscode.TreeItemCollapsibleState.Expanded : vscode.TreeItemCollapsibleState.None,
    );
    item.id = `${element.project.file.toString()}#${experiment.name}`;
    item.description = `${experiment.kind}${runs.length ? ` · ${runs.length} run${runs.length === 1 ? '' : 's'}` : ''}`;
    item.iconPath = new vscode.ThemeIcon(KIND_ICONS[experiment.kind] ?? 'beaker');
    item.contextValue = trainable ? 'experiment.trainable' : 'experiment';
    const tooltip = new vscode.MarkdownString(`**${experiment.name}** — ${experiment.kind}`);
    if (experiment.params) tooltip.appendCodeblock(JSON.stringify(experiment.params, null, 2), 'json');
    item.tooltip = tooltip;
    item.command = { command: 'mlLoop.revealExperiment', title: 'Show Experiment Definition', arguments: [element] };
    return item;
  }

  private baselineItem(node: BaselineNode): vscode.TreeItem {
    const b = node.project.outline.baseline!;
    const metric = node.project.outline.metric;
    const item = new vscode.TreeItem('Baseline', vscode.TreeItemCollapsibleState.None);
    const asMetric = metric === 'accuracy' ? ` (acc ${formatMetricValue('accuracy', 1 - b.error)})` : '';
    item.description = `error ${formatMetricValue(metric === 'accuracy' ? 'accuracy' : 'rmse', b.error)}${asMetric}${b.source ? ` · ${b.source}` : ''}`;
    item.iconPath = new vscode.ThemeIcon('target');
    item.contextValue = 'baseline';
    item.tooltip = `The error a good model should reach${b.source ? ` (${b.source})` : ''}: compare the runs' dev error with it.`;
    return item;
  }

  private sweepItem(node: SweepNode): vscode.TreeItem {
    const { sweep } = node;
    const running = (sweep.statusCounts.running ?? 0) > 0 || sweep.runs.some((r) => this.runs?.activeRun(r.runId));
    const item = new vscode.TreeItem(
      `sweep ${sweep.id.replace(/^sweep-/, '').slice(-6)}`,
      vscode.TreeItemCollapsibleState.Collapsed,
    );
    item.id = `${node.parent.project.file.toString()}#${sweep.experiment}#${sweep.id}`;
    item.description = sweepDescription(sweep);
    item.iconPath = new vscode.ThemeIcon(
      running ? 'sync~spin' : 'symbol-array',
      running ? new vscode.ThemeColor('charts.blue') : undefined,
    );
    item.contextValue = 'sweep';
    const md = new vscode.MarkdownString(undefined, true);
    md.appendMarkdown(
      `**Sweep of ${sweep.experiment}** over ${sweep.swept.map((k) => `\`${k}\``).join(' × ')}: ${sweep.runs.length} of ${sweep.size} runs in the store\n\n`,
    );
    if (sweep.best)
      md.appendMarkdown(`best: run \`${sweep.best.run.runId}\` (${sweepValuesLabel(sweep.best.run)})\n\n`);
    md.appendMarkdown(`Compare Sweep shows its runs side by side.`);
    item.tooltip = md;
    return item;
  }

  private runItem(node: RunNode): vscode.TreeItem {
    const { run } = node;
    const r = run.record;
    const active = this.runs?.activeRun(run.runId);
    const status: TrackedStatus = active ? 'running' : run.status;
    const item = new vscode.TreeItem(shortRunLabel(run), vscode.TreeItemCollapsibleState.None);
    item.id = `${node.project.file.toString()}#${r.experiment}#${run.runId}`;
    const [icon, color] = STATUS_ICONS[status];
    item.iconPath = new vscode.ThemeIcon(icon, color ? new vscode.ThemeColor(color) : undefined);
    const metric = keyMetric(r, node.project.outline.metric);
    const progress = active?.latest
      ? `epoch ${active.latest.step}${active.latest.totalSteps ? `/${active.latest.totalSteps}` : ''}`
      : undefined;
    const swept = node.sweep ? sweepValuesLabel(run) : '';
    const best = node.sweep?.sweep.best?.run.runId === run.runId ? '(best)' : '';
    // A cluster's run says where it is: queued with SLURM's reason (Priority, Resources…), or its job id.
    const statusText = status === 'queued' && r.cluster?.reason ? `queued (${r.cluster.reason})` : status;
    const job =
      r.cluster && (status === 'queued' || status === 'running')
        ? `· ${r.cluster.cluster} job ${r.cluster.jobId}${r.cluster.arrayTaskId !== undefined ? `_${r.cluster.arrayTaskId}` : ''}`
        : '';
    item.description = [
      run.annotations.starred ? '★' : '',
      swept,
      status === 'completed' ? (metric ?? 'completed') : statusText,
      best,
      progress ?? '',
      job,
    ]
      .filter(Boolean)
      .join(' ');
    item.contextValue = `run.${status}${r.status === 'completed' ? '.model' : ''}${run.annotations.starred ? '.starred' : ''}`;
    const md = new vscode.MarkdownString(undefined, true);
    md.appendMarkdown(`**${runLabel(run)}** — ${r.experiment} (${r.model}) · $(${icon}) ${status}\n\n`);
    md.appendMarkdown(
      `run \`${run.runId}\` · started ${new Date(r.startedAt).toLocaleString()}${r.endedAt ? ` · took ${formatDuration(runDurationMs(r))}` : ''}\n\n`,
    );
    if (metric) md.appendMarkdown(`${metric}\n\n`);
    if (r.cluster)
      md.appendMarkdown(
        `cluster \`${r.cluster.cluster}\` · SLURM job \`${r.cluster.jobId}${r.cluster.arrayTaskId !== undefined ? `_${r.cluster.arrayTaskId}` : ''}\`${r.cluster.state ? ` · ${r.cluster.state}` : ''}${r.cluster.reason && r.cluster.reason !== 'None' ? ` (${r.cluster.reason})` : ''}\n\n`,
      );
    if (r.dataVersion) md.appendMarkdown(`data version \`${r.dataVersion.id}\`\n\n`);
    if (r.git)
      md.appendMarkdown(`git \`${r.git.commit.slice(0, 10)}\`${r.git.dirty ? ' (uncommitted changes)' : ''}\n\n`);
    if (run.annotations.note)
      md.appendMarkdown(`*Note:* ${run.annotations.note.replace(/[\\`*_{}[\]()#+\-.!|<>]/g, '\\$&')}\n\n`);
    if (r.error && status !== 'completed') md.appendMarkdown(`*Error:* ${r.error.message}\n\n`);
    md.appendCodeblock(JSON.stringify(r.params, null, 2), 'json');
    item.tooltip = md;
    item.command = { command: 'mlLoop.openTrainingCurves', title: 'Open Training Curves', arguments: [node] };
    return item;
  }

  dispose(): void {
    for (const s of this.subscriptions) s.dispose();
    this.changeEmitter.dispose();
  }
}
