// What command handlers and views share, created once in activate().
import type * as vscode from 'vscode';
import type { ProjectDiagnostics } from './diagnostics/projectDiagnostics';
import type { ProjectIndex } from './project/projectIndex';
import type { ClusterRuns } from './training/clusterRuns';
import type { RunTracker } from './training/runTracker';
import type { DeploymentsTreeProvider } from './views/deploymentsTree';
import type { ExperimentsTreeProvider } from './views/experimentsTree';

export interface Services {
  context: vscode.ExtensionContext;
  log: vscode.LogOutputChannel;
  projects: ProjectIndex;
  experiments: ExperimentsTreeProvider;
  deployments: DeploymentsTreeProvider;
  /** Problems-panel diagnostics of open mlloop.json files; assertUsable() before work on the data. */
  diagnostics: ProjectDiagnostics;
  /** Run stores of the projects and the runs this window trains. */
  runs: RunTracker;
  /** Runs on SLURM clusters that this window follows. */
  clusters: ClusterRuns;
}
