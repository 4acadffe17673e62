// Watches the deployments this window serves with request logging on: every few seconds (while the
// server runs and its log or feedback grew) it computes the MonitoringReport with `ml-loop drift
// --json` in a child process, never on the extension host thread. From each report come the
// alerts: a warning notification with Open Monitoring / Retrain (at most once per window, see
// src/core/monitor/alerts), a badge on the deployment in the Deployments view (a file decoration)
// and a Problems entry on the project's mlloop.json, both as long as the alert holds.
import { statSync } from 'node:fs';
import * as path from 'node:path';
import * as vscode from 'vscode';
import type { MonitoringReport } from '../../core/monitor/types';
import { feedbackFiles } from '../../core/update/productionData';
import { logFiles } from '../../core/requestLog/log';
import { AlertThrottle, alertsOf, type MonitoringAlert } from '../../core/monitor/alerts';
import { requestRate } from '../../core/monitor/charts';
import { isMonitoringReport } from '../../protocol/monitoring';
import { consentMessage } from '../deploy/manager';
import type { ServerProcess } from '../deploy/serverProcess';
import type { DeploymentsTreeProvider } from '../deploy/deploymentsTree';
import type { DeploymentManager } from '../deploy/manager';
import { runCliJson } from '../cliProcess';
import { deploymentDir } from '../../core/spec/layout';

export const DEPLOYMENT_SCHEME = 'mlloop-deployment';

/** What the monitor works with (the extension's Services has it all). */
export interface MonitorHost {
  context: { extensionUri: vscode.Uri };
  log: vscode.LogOutputChannel;
  servers: DeploymentManager;
  deployments: DeploymentsTreeProvider;
  /** Where the window's monitor is kept (services.monitoring). */
  monitoring: { monitor: DeploymentMonitor | undefined };
}

export interface DeploymentRef {
  projectDir: string;
  deployment: string;
}

/** A deployment and the server of this window that serves it, if any. */
export interface ResolvedDeployment extends DeploymentRef {
  server?: ServerProcess;
}

export function deploymentKey(r: DeploymentRef): string {
  return `${r.projectDir}\u0000${r.deployment}`;
}

/** The URI the Deployments view gives a model node, so the badge (a file decoration) can find it. */
export function deploymentUri(r: DeploymentRef): vscode.Uri {
  return vscode.Uri.from({ scheme: DEPLOYMENT_SCHEME, path: `/${r.deployment}`, query: r.projectDir });
}

export interface DeploymentState {
  ref: DeploymentRef;
  server?: ServerProcess;
  report?: MonitoringReport;
  reportError?: string;
  alerts: MonitoringAlert[];
  refreshedAt?: string;
  /** Size of the logs and feedback when the report was computed: no new data, no new report. */
  seen?: string;
  inFlight?: Promise<void>;
}

function config() {
  return vscode.workspace.getConfiguration('mlLoop.monitor');
}

/** Total bytes of the request logs and feedback (a cheap "did anything arrive" check). */
function dataMark(logDir: string): string {
  let bytes = 0;
  for (const f of [...logFiles(logDir), ...feedbackFiles(logDir)]) {
    try {
      bytes += statSync(f).size;
    } catch {
      // rotated away between listing and stat
    }
  }
  return String(bytes);
}

export class DeploymentMonitor implements vscode.Disposable {
  private readonly states = new Map<string, DeploymentState>();
  private readonly throttle = new AlertThrottle();
  private readonly problems = vscode.languages.createDiagnosticCollection('mlLoop.monitoring');
  private readonly changeEmitter = new vscode.EventEmitter<DeploymentRef>();
  readonly onDidChange = this.changeEmitter.event;
  private readonly decorationEmitter = new vscode.EventEmitter<vscode.Uri[]>();
  private readonly disposables: vscode.Disposable[] = [];
  private timer: NodeJS.Timeout | undefined;

  constructor(private readonly s: MonitorHost) {
    this.disposables.push(
      this.problems,
      this.changeEmitter,
      this.decorationEmitter,
      vscode.window.registerFileDecorationProvider({
        onDidChangeFileDecorations: this.decorationEmitter.event,
        provideFileDecoration: (uri) => {
          if (uri.scheme !== DEPLOYMENT_SCHEME) return undefined;
          const st = this.states.get(deploymentKey({ projectDir: uri.query, deployment: uri.path.slice(1) }));
          if (!st?.alerts.length) return undefined;
          return { badge: String(Math.min(9, st.alerts.length)), tooltip: st.alerts.map((a) => a.message).join('\n'), color: new vscode.ThemeColor('list.warningForeground') };
        },
      }),
      s.servers.onDidChange(() => this.syncServers()),
      vscode.workspace.onDidChangeConfiguration((e) => e.affectsConfiguration('mlLoop.monitor') && this.restartTimer()),
    );
    s.deployments.alertsOf = (projectDir, name) => this.states.get(deploymentKey({ projectDir, deployment: name }))?.alerts ?? [];
    s.servers.rateOf = (projectDir, name) => {
      const report = this.states.get(deploymentKey({ projectDir, deployment: name }))?.report;
      return report ? requestRate(report) : undefined;
    };
    this.syncServers();
    this.restartTimer();
  }

  private restartTimer(): void {
    if (this.timer) clearInterval(this.timer);
    const seconds = Math.max(2, config().get<number>('refreshSeconds', 5));
    this.timer = setInterval(() => void this.tick(), seconds * 1000);
  }

  /** Deployments of running servers that log requests. */
  private syncServers(): void {
    // A stopped (or restarted) deployment's alerts may be notified again.
    for (const st of this.states.values()) if (st.server?.state === 'stopped') this.throttle.forget(st.ref.deployment);
    for (const server of this.s.servers.servers) {
      if (!server.logDir) continue;
      const ref = { projectDir: server.launch.projectDir, deployment: path.basename(server.logDir) };
      const st = this.state(ref);
      st.server = server;
    }
  }

  state(ref: DeploymentRef): DeploymentState {
    const key = deploymentKey(ref);
    let st = this.states.get(key);
    if (!st) this.states.set(key, (st = { ref, alerts: [] }));
    return st;
  }

  get(ref: DeploymentRef): DeploymentState | undefined {
    return this.states.get(deploymentKey(ref));
  }

  private async tick(): Promise<void> {
    for (const st of this.states.values()) {
      if (st.server?.state === 'running' && !st.inFlight) void this.refresh(st.ref);
    }
  }

  /** Recomputes the report (unless `force` is false and no data arrived since the last one). */
  refresh(ref: DeploymentRef, force = false): Promise<void> {
    const st = this.state(ref);
    if (st.inFlight) return st.inFlight;
    const logDir = deploymentDir(ref.projectDir, ref.deployment);
    const mark = dataMark(logDir);
    if (!force && mark === st.seen) return Promise.resolve();
    const cfg = config();
    const args = ['drift', ref.projectDir, '--deployment', ref.deployment, '--window', String(cfg.get<number>('window', 1000)), '--json'];
    st.inFlight = runCliJson({
      cliPath: vscode.Uri.joinPath(this.s.context.extensionUri, 'dist', 'cli.js').fsPath,
      nodePath: vscode.workspace.getConfiguration('mlLoop').get<string>('nodePath') || process.execPath,
      args,
      cwd: ref.projectDir,
      okCodes: [3],
      isResult: isMonitoringReport,
    })
      .then((report) => {
        st.report = report;
        st.reportError = undefined;
        st.seen = mark;
        this.updateAlerts(st, report);
        this.s.servers.ratesChanged();
      })
      .catch((e: unknown) => {
        st.reportError = e instanceof Error ? e.message : String(e);
        st.seen = mark;
        this.s.log.warn(`monitoring ${ref.deployment}: ${st.reportError}`);
      })
      .finally(() => {
        st.inFlight = undefined;
        st.refreshedAt = new Date().toISOString();
        this.changeEmitter.fire(ref);
      });
    return st.inFlight;
  }

  private updateAlerts(st: DeploymentState, report: MonitoringReport): void {
    const ref = st.ref;
    const alerts = alertsOf(ref.deployment, report, { accuracyDrop: config().get<number>('accuracyDropAlert', 0.05) });
    const before = st.alerts.map((a) => a.kind).join();
    st.alerts = alerts;
    for (const a of alerts) {
      if (!this.throttle.shouldNotify(a, report.window)) continue;
      this.s.log.warn(`alert: ${a.message}`);
      void vscode.window.showWarningMessage(`ML Loop: ${a.message}`, 'Open Monitoring', 'Retrain').then((choice) => {
        if (choice === 'Open Monitoring') void vscode.commands.executeCommand('mlLoop.openMonitoring', ref);
        if (choice === 'Retrain') void vscode.commands.executeCommand('mlLoop.retrainWithProductionData', ref);
      });
    }
    if (alerts.map((a) => a.kind).join() !== before) {
      this.updateProblems(ref.projectDir);
      this.decorationEmitter.fire([deploymentUri(ref)]);
      this.s.deployments.refresh();
    }
  }

  /** One Problems entry per alert of the project's deployments, on its mlloop.json. */
  private updateProblems(projectDir: string): void {
    const diagnostics: vscode.Diagnostic[] = [];
    for (const st of this.states.values()) {
      if (st.ref.projectDir !== projectDir) continue;
      for (const a of st.alerts) {
        const d = new vscode.Diagnostic(new vscode.Range(0, 0, 0, 0), a.message, vscode.DiagnosticSeverity.Warning);
        d.source = 'ML Loop monitoring';
        d.code = a.kind;
        diagnostics.push(d);
      }
    }
    this.problems.set(vscode.Uri.file(path.join(projectDir, 'mlloop.json')), diagnostics);
  }

  dispose(): void {
    if (this.timer) clearInterval(this.timer);
    this.s.deployments.alertsOf = undefined;
    this.s.servers.rateOf = undefined;
    for (const d of this.disposables.splice(0)) d.dispose();
  }
}

/** The window's deployment monitor, created on first use; its state (services.monitoring) disposes it. */
export function deploymentMonitor(s: MonitorHost): DeploymentMonitor {
  return (s.monitoring.monitor ??= new DeploymentMonitor(s));
}

/**
 * Restarts a deployment that does not log requests with logging on (after the same consent dialog
 * as a deploy): its production run is served again, on the same port when it frees in time.
 * Returns the new server, or undefined when the user declined.
 */
export async function restartWithLogging(s: { servers: DeploymentManager }, ref: { projectDir: string; deployment: string; server?: ServerProcess }): Promise<ServerProcess | undefined> {
  const server = ref.server ?? s.servers.find(ref.projectDir, ref.deployment);
  if (!server) throw new Error(`${ref.deployment} is not running: deploy a run first`);
  const model = server.status?.models.find((m) => m.name === ref.deployment);
  const production = model?.versions.find((v) => v.version === model.aliases.production);
  if (!production?.runId) throw new Error(`${ref.deployment} serves no run of the project: restart it with ml-loop serve --log-requests`);
  const config = vscode.workspace.getConfiguration('mlLoop.deploy');
  const sampleRate = config.get<number>('logSampleRate', 1);
  const redact = config.get<string[]>('logRedact', []);
  const dir = path.join(ref.projectDir, '.mlloop', 'deployments', ref.deployment);
  const others = (model?.versions.length ?? 1) - 1;
  const dropped = others > 0 ? ` The server restarts with production v${production.version} (run ${production.runId}) only.` : '';
  const choice = await vscode.window.showWarningMessage(consentMessage(ref.deployment, dir, sampleRate, redact) + dropped, { modal: true }, 'Restart with Logging');
  if (choice !== 'Restart with Logging') return undefined;
  const port = Number(new URL(server.url).port);
  await s.servers.stop(server);
  const modelPath = path.join(ref.projectDir, '.mlloop', 'runs', production.runId, 'model.onnx');
  const next = await s.servers.deploy({ projectDir: ref.projectDir, runId: production.runId, modelPath, name: ref.deployment, logRequests: true, sampleRate, redact, port });
  void vscode.window.showInformationMessage(`ML Loop: ${ref.deployment} logs its requests now, at ${next.server.url}/v2/models/${ref.deployment}`);
  return next.server;
}
