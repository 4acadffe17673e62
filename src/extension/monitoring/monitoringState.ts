// What monitoring keeps for the window's lifetime, created in activate() and disposed with the
// extension. Light on purpose: the modules that compute reports and gates load on first use and
// keep their state here.
import type * as vscode from 'vscode';
import type { GateView } from '../../protocol/monitoring';
import type { DeploymentMonitor } from './deploymentMonitor';

export class MonitoringState implements vscode.Disposable {
  /** The deployment monitor: started by the first server that logs requests, or the first use of monitoring (deploymentMonitor()). */
  monitor: DeploymentMonitor | undefined;
  /** Gates of the last Retrain with Production Data per deployment key (also on disk: the candidate run's promotion.json). */
  readonly gates = new Map<string, GateView>();
  /** The promotion.json files read so far, by path, with the mtime they were read at: re-read only when they change. */
  readonly gateFiles = new Map<string, { mtimeMs: number; gate: GateView | undefined }>();

  dispose(): void {
    this.monitor?.dispose();
    this.monitor = undefined;
  }
}
