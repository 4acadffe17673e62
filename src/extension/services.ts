// What command handlers and views share, created once in activate().
import type * as vscode from 'vscode';
import type { ProjectDiagnostics } from './problems/projectDiagnostics';
import type { ProjectIndex } from './project/projectIndex';
import type { ClusterRuns } from './training/clusterRuns';
import type { RunTracker } from './training/runTracker';
import type { DeploymentsTreeProvider } from './deploy/deploymentsTree';
import type { DeploymentManager } from './deploy/manager';
import type { TestRequestResults } from './deploy/testRequestResults';
import type { InlineVerdicts } from './diagnose/inlineVerdicts';
import type { ExperimentsTreeProvider } from './experiments/experimentsTree';
import type { MonitoringState } from './monitoring/monitoringState';
import type { PanelRegistry } from './webviewHost/panel';

export interface Services {
  context: vscode.ExtensionContext;
  log: vscode.LogOutputChannel;
  projects: ProjectIndex;
  experiments: ExperimentsTreeProvider;
  /** The inference servers this window started. */
  servers: DeploymentManager;
  /** The documents Send Test Request opens. */
  testRequestResults: TestRequestResults;
  /** The Deployments view (it shows the servers and the monitor's alerts). */
  deployments: DeploymentsTreeProvider;
  /** Problems-panel diagnostics of open mlloop.json files; assertUsable() before work on the data. */
  diagnostics: ProjectDiagnostics;
  /** Run stores of the projects and the runs this window trains. */
  runs: RunTracker;
  /** The diagnosis verdicts shown in mlloop.json (Problems entries, hovers, lenses, quick fixes). */
  verdicts: InlineVerdicts;
  /** The deployment monitor and the promotion gates of this window. */
  monitoring: MonitoringState;
  /** The open webview panels (each panel's show() goes through it). */
  panels: PanelRegistry;
  /** Runs on SLURM clusters that this window follows. */
  clusters: ClusterRuns;
}
