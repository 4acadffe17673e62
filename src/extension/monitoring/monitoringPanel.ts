// The Monitoring panel of one deployment: drift per feature (worst first, with thresholds), the
// worst features' reference vs window histograms, prediction drift, live and estimated accuracy,
// latency and throughput, the alerts, and the promotion gate of the last Retrain with Production
// Data (Promote / Roll Back in one click). The report comes from the deployment monitor (a child
// process); while the server runs the panel refreshes with it. The webview only draws. Image
// deployments also show the window's pictures beside training ones and the worst requests: the
// webview loads the files themselves (webview URIs under the project folder), nothing is decoded here.
import * as path from 'node:path';
import * as vscode from 'vscode';
import {
  isMonitoringWebviewMessage,
  type DeploymentView,
  type GateView,
  type MonitoringHostMessage,
  type MonitoringPanelState,
  type MonitoringWebviewMessage,
} from '../../protocol/monitoring';
import type { Services } from '../services';
import { WebviewPanelHost } from '../webviewHost/panel';
import {
  deploymentKey,
  deploymentMonitor,
  restartWithLogging,
  type DeploymentRef,
  type ResolvedDeployment,
} from './deploymentMonitor';
import { gateOf } from './promotionGate';
import { deploymentDir } from '../../core/spec/layout';
import { imagesViewOf } from './imageTiles';

/** What identifies the panel (and brings it back after a reload): the deployment, not its server. */
function restoreKeyOf(ref: DeploymentRef): DeploymentRef {
  return { projectDir: ref.projectDir, deployment: ref.deployment };
}

/** What the panel says about a deployment that does not log requests (the button below it is the fix). */
export function notLoggingMessage(deployment: string): string {
  return `${deployment} was deployed without request logging, so there are no requests to monitor. Restart it with request logging to see drift, accuracy and latency here (you are asked first, and told what is stored).`;
}

export class MonitoringPanel extends WebviewPanelHost<MonitoringHostMessage, MonitoringWebviewMessage> {
  static readonly viewType = 'mlLoop.monitoring';
  private busy: string | undefined;
  private lastSent = '';

  static show(services: Services, ref: ResolvedDeployment): MonitoringPanel {
    const reopen = (panel: MonitoringPanel) => {
      panel.ref = ref;
      panel.update();
      void panel.refresh(true);
    };
    return services.panels.show(
      MonitoringPanel.viewType,
      restoreKeyOf(ref),
      () => {
        const panel = new MonitoringPanel(services, ref);
        void panel.refresh(true);
        return panel;
      },
      reopen,
    );
  }

  private constructor(
    private readonly services: Services,
    private ref: ResolvedDeployment,
  ) {
    super({
      viewType: MonitoringPanel.viewType,
      title: `Monitoring: ${ref.deployment}`,
      bundle: 'monitoring',
      styles: ['webview.css', 'monitoring.css'],
      extensionUri: services.context.extensionUri,
      log: services.log,
      isWebviewMessage: isMonitoringWebviewMessage,
      restoreKey: restoreKeyOf(ref),
      panels: services.panels,
      // Image deployments: the logged pictures (under .mlloop/deployments) and the training ones.
      resourceRoots: [vscode.Uri.file(ref.projectDir)],
    });
    const monitor = deploymentMonitor(services);
    const subs = [
      monitor.onDidChange((r) => deploymentKey(r) === deploymentKey(this.ref) && this.update()),
      // The servers' status polls fire every second: only a changed snapshot is sent (a redraw loses nothing, but costs).
      services.servers.onDidChange(() => this.update()),
    ];
    this.onDidDispose(() => subs.forEach((d) => d.dispose()));
  }

  private server() {
    return (
      this.ref.server ??
      this.services.servers
        .running()
        .find(
          (s) =>
            s.launch.projectDir === this.ref.projectDir && s.status?.models.some((m) => m.name === this.ref.deployment),
        )
    );
  }

  private deploymentView(): DeploymentView {
    const server = this.server();
    const model = server?.status?.models.find((m) => m.name === this.ref.deployment);
    return {
      name: this.ref.deployment,
      projectDir: this.ref.projectDir,
      url: server?.url ?? '',
      running: server?.state === 'running',
      logging: !!server?.logDir,
      production: model?.aliases.production ?? null,
      candidate: model?.aliases.candidate ?? null,
      previousProduction: model?.previousProduction ?? null,
      runs: Object.fromEntries((model?.versions ?? []).map((v) => [v.version, v.runId])),
    };
  }

  protected snapshot(): MonitoringHostMessage {
    const message: MonitoringHostMessage = { type: 'state', state: this.state() };
    this.lastSent = JSON.stringify(message);
    return message;
  }

  /** Publishes the snapshot when it differs from the last one sent. */
  private update(): void {
    if (JSON.stringify({ type: 'state', state: this.state() }) !== this.lastSent) this.publish();
  }

  /** The snapshot the webview gets (also read by the integration tests). */
  state(): MonitoringPanelState {
    const st = deploymentMonitor(this.services).get(this.ref);
    const deployment = this.deploymentView();
    // A running server without request logging has nothing to monitor, whatever an older report or error said.
    const notLogging = deployment.running && !deployment.logging;
    const reportError = notLogging ? notLoggingMessage(this.ref.deployment) : st?.reportError;
    const images =
      st?.report && !notLogging
        ? imagesViewOf(st.report, this.ref.projectDir, this.ref.deployment, (f) =>
            this.panel.webview.asWebviewUri(vscode.Uri.file(f)).toString(),
          )
        : undefined;
    return {
      status: 'loaded',
      deployment,
      ...(st?.report && !notLogging ? { report: st.report } : {}),
      ...(reportError ? { reportError } : {}),
      ...(notLogging ? { notLogging } : {}),
      alerts: st?.alerts ?? [],
      ...this.gateField(),
      ...(images ? { images } : {}),
      ...(this.busy ? { busy: this.busy } : {}),
      ...(st?.refreshedAt ? { refreshedAt: st.refreshedAt } : {}),
    };
  }

  private gateField(): { gate?: GateView } {
    const gate = gateOf(this.services.monitoring, { ...this.ref, server: this.server() });
    return gate ? { gate } : {};
  }

  async refresh(force: boolean): Promise<void> {
    const ref: DeploymentRef = { projectDir: this.ref.projectDir, deployment: this.ref.deployment };
    // Without request logging there is no log to read: no report to compute.
    const server = this.server();
    if (server?.state === 'running' && !server.logDir) return this.update();
    await deploymentMonitor(this.services).refresh(ref, force);
    this.update();
  }

  private async withBusy<T>(label: string, work: () => PromiseLike<T>): Promise<T> {
    this.busy = label;
    this.update();
    try {
      return await work();
    } finally {
      this.busy = undefined;
      this.update();
    }
  }

  protected async handle(message: Exclude<MonitoringWebviewMessage, { type: 'ready' }>): Promise<void> {
    const ref = { ...this.ref, server: this.server() };
    switch (message.action) {
      case 'refresh':
        return this.refresh(true);
      // Retrain and Promote run as their commands (the command table reports their errors).
      case 'retrain':
        await this.withBusy('Retraining with production data…', () =>
          vscode.commands.executeCommand('mlLoop.retrainWithProductionData', ref),
        );
        return;
      case 'promote':
        await this.withBusy('Promoting…', () => vscode.commands.executeCommand('mlLoop.promoteCandidate', ref));
        return;
      case 'rollback': {
        const server = ref.server;
        if (!server) throw new Error('the deployment is not running');
        await this.withBusy('Rolling back…', async () => {
          const res = await server.post(`/v2/models/${encodeURIComponent(ref.deployment)}/rollback`, {});
          void vscode.window.showInformationMessage(
            `ML Loop: ${ref.deployment} rolled back to v${String(res.production)}`,
          );
        });
        return;
      }
      case 'sendToErrorAnalysis':
        // Queued, then listed under Production in the Error Analysis panel of the production run.
        await this.withBusy('Queueing drifted and low-confidence requests…', async () => {
          await vscode.commands.executeCommand('mlLoop.sendToErrorAnalysis', {
            projectDir: ref.projectDir,
            deployment: ref.deployment,
            open: true,
          });
        });
        return;
      case 'restartWithLogging': {
        const server = await this.withBusy('Restarting with request logging…', () =>
          restartWithLogging(this.services, ref),
        );
        if (server) {
          this.ref = { ...this.ref, server };
          await this.refresh(true);
        }
        return;
      }
      case 'openLogs': {
        const dir = deploymentDir(ref.projectDir, ref.deployment);
        await vscode.commands.executeCommand('revealInExplorer', vscode.Uri.file(dir));
        return;
      }
    }
  }
}
