// Entry of the extension host bundle. Activation stays light: it creates the output channel, the
// project index and the views, and registers the command table; every feature module loads when
// its command first runs.
import { moduleLoadedAt } from './activationClock'; // first import: starts the activation clock
import * as vscode from 'vscode';
import { registerCommands } from './commands';
import { registerPanelSerializers, restorePanel } from './webviewHost/serializers';
import { registerDiagnose } from './diagnose/commands';
import { InlineVerdicts } from './diagnose/inlineVerdicts';
import { ProjectDiagnostics } from './problems/projectDiagnostics';
import { ProjectIndex } from './project/projectIndex';
import { registerTraining } from './training';
import { RunTracker } from './training/runTracker';
import { ClusterRuns } from './training/clusterRuns';
import type { Services } from './services';
import { DeploymentsTreeProvider } from './deploy/deploymentsTree';
import { DeploymentManager } from './deploy/manager';
import { DeploymentsStatusBar } from './deploy/statusBar';
import { TestRequestResults } from './deploy/testRequestResults';
import { ExperimentsTreeProvider, type ExperimentsTreeNode } from './experiments/experimentsTree';
import { MonitoringState } from './monitoring/monitoringState';
import { PanelRegistry, type PanelProbe } from './webviewHost/panel';

/** What activate() returns: read by the integration tests and by other extensions. */
export interface MlLoopApi {
  /** Module load → end of activate(), in ms. */
  activationMs: number;
  /** Time spent inside activate() alone, in ms. */
  activateMs: number;
  /** Folder of the extension's logs; the "ML Loop" channel writes its file there. */
  logUri: vscode.Uri;
  /** The Experiments view's data, as the view reads it (the integration tests check what it lists). */
  experimentsTree: vscode.TreeDataProvider<unknown>;
  /** The Deployments view's data, as the view reads it. */
  deploymentsTree: vscode.TreeDataProvider<unknown>;
  /** The open webview panels, for the integration tests (state as the webview gets it; messages as it sends them). */
  panels(): PanelProbe[];
  /** How many closed panels of a view type were garbage-collected so far (counted in the extension's tests only). */
  collectedPanels(viewType: string): number;
  /** What VS Code's panel serializers run after a window reload (integration tests call it with a panel of their own). */
  restorePanel(panel: vscode.WebviewPanel, state: unknown): Promise<void>;
}

const SIDEBAR_SHOWN_KEY = 'mlLoop.sidebarShown';

/**
 * Shows the ML Loop sidebar the first time a workspace with a project is opened, once per workspace.
 * Revealing a tree item with `focus: false` opens the view without taking the keyboard focus:
 * activation can end while the user is already typing in an editor.
 */
async function revealSidebarOnce(services: Services, view: vscode.TreeView<ExperimentsTreeNode>): Promise<void> {
  const state = services.context.workspaceState;
  if (state.get<boolean>(SIDEBAR_SHOWN_KEY)) return;
  if ((await services.projects.list()).length === 0) return;
  await state.update(SIDEBAR_SHOWN_KEY, true);
  const [first] = await services.experiments.getChildren();
  if (first) await view.reveal(first, { select: false, focus: false });
}

export function activate(context: vscode.ExtensionContext): MlLoopApi {
  const activateCalledAt = performance.now();
  const log = vscode.window.createOutputChannel('ML Loop', { log: true });
  const monitoring = new MonitoringState();
  const panels = new PanelRegistry(context.extensionMode === vscode.ExtensionMode.Test);
  const projects = new ProjectIndex(log);
  const runs = new RunTracker(projects, log);
  const verdicts = new InlineVerdicts({ runs, projects, log });
  const experiments = new ExperimentsTreeProvider(projects, runs);
  // The inference servers this window starts: one manager, read by the Deployments view, the
  // status bar, the deploy and monitoring commands; disposing it stops every server.
  const servers = new DeploymentManager(
    vscode.Uri.joinPath(context.extensionUri, 'dist', 'server.js').fsPath,
    () => vscode.workspace.getConfiguration('mlLoop').get<string>('nodePath') || process.execPath,
    log,
  );
  const deployments = new DeploymentsTreeProvider(servers);
  const testRequestResults = new TestRequestResults();
  const diagnostics = new ProjectDiagnostics({
    workerPath: vscode.Uri.joinPath(context.extensionUri, 'dist', 'worker-check.js').fsPath,
    log,
  });
  const clusters = new ClusterRuns(
    runs,
    projects,
    log,
    vscode.Uri.joinPath(context.extensionUri, 'dist', 'cli.js').fsPath,
  );
  const services: Services = {
    context,
    log,
    projects,
    experiments,
    servers,
    deployments,
    diagnostics,
    runs,
    panels,
    monitoring,
    verdicts,
    testRequestResults,
    clusters,
  };
  const experimentsView = vscode.window.createTreeView('mlLoop.experiments', {
    treeDataProvider: experiments,
    showCollapseAll: true,
    canSelectMany: true,
  });
  context.subscriptions.push(
    log,
    panels,
    monitoring,
    verdicts,
    diagnostics,
    projects,
    runs,
    clusters,
    experiments,
    servers,
    deployments,
    new DeploymentsStatusBar(servers),
    testRequestResults,
    experimentsView,
    ...registerDiagnose(services, experimentsView),
    ...registerTraining(runs, projects),
    vscode.window.createTreeView('mlLoop.deployments', { treeDataProvider: deployments }),
    ...registerCommands(services),
    ...registerPanelSerializers(services),
  );
  // Monitoring (drift, alerts) starts with the first server that logs requests; its module loads then.
  const startMonitor = servers.onDidChange(() => {
    if (!servers.running().some((x) => x.logDir)) return;
    startMonitor.dispose();
    void import('./monitoring/deploymentMonitor').then((m) => m.deploymentMonitor(services));
  });
  context.subscriptions.push(startMonitor);
  // The first scan sets the context keys of the welcome content; activation does not wait for it.
  void projects.refresh().then(() => revealSidebarOnce(services, experimentsView));
  const end = performance.now();
  const activationMs = end - moduleLoadedAt;
  // The editor may run other work between loading the module and calling activate(): the second
  // figure is the time spent in activate() itself.
  log.info(
    `Activated in ${activationMs.toFixed(1)} ms (module load → end of activate; activate() ${(end - activateCalledAt).toFixed(1)} ms; ML Loop ${context.extension.packageJSON.version})`,
  );
  return {
    activationMs,
    activateMs: end - activateCalledAt,
    logUri: context.logUri,
    experimentsTree: services.experiments,
    deploymentsTree: services.deployments,
    panels: () => panels.probes(),
    collectedPanels: (viewType) => panels.collected(viewType),
    restorePanel: (panel, state) => restorePanel(services, panel, state),
  };
}

export function deactivate(): void {
  // Everything is disposed through context.subscriptions.
}
