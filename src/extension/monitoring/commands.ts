// Monitoring and updating commands: Open Monitoring, Retrain with Production Data (in a child
// process, cancellable), Promote Candidate through the gate, Roll Back, Send to Error Analysis.
// Loaded on first use (src/extension/commands.ts); the deployment monitor starts with the first
// server that logs requests (src/extension/extension.ts).
import { readFileSync } from 'node:fs';
import * as path from 'node:path';
import * as vscode from 'vscode';
import { resolveProject } from '../../core/data/dataset';
import { isScriptExperiment } from '../../core/spec/types';
import type { RetrainResult } from '../../core/update/retrain';
import type { ReviewResult } from '../../core/update/reviewQueue';
import { resolveDeployment } from '../commandTargets';
import type { Services } from '../services';
import { ModelNode, VersionNode } from '../deploy/deploymentsTree';
import { runCliJson } from '../cliProcess';
import { CancelledError } from '../../core/runtime/cancel';
import { runDir } from '../../core/spec/layout';
import { deploymentKey } from './deploymentMonitor';
import { confirmPromotion } from './promotionGate';

export async function openMonitoringCommand(s: Services, arg?: unknown): Promise<import('./monitoringPanel').MonitoringPanel | undefined> {
  const ref = await resolveDeployment(s, arg);
  if (!ref) return undefined;
  const { MonitoringPanel } = await import('./monitoringPanel');
  return MonitoringPanel.show(s, ref);
}

export async function retrainWithProductionDataCommand(s: Services, arg?: unknown): Promise<RetrainResult | undefined> {
  const ref = await resolveDeployment(s, arg);
  if (!ref) return undefined;
  const server = ref.server;
  const model = server?.status?.models.find((m) => m.name === ref.deployment);
  const production = model?.versions.find((v) => v.version === model.aliases.production);
  if (!server || !production?.runId) throw new Error(`${ref.deployment} is not served by a running server with a production run: deploy it first`);
  const { spec } = await resolveProject(ref.projectDir);
  const prodExperiment = (JSON.parse(readFileSync(path.join(runDir(ref.projectDir, production.runId), 'run.json'), 'utf8')) as { experiment: string }).experiment;
  // Script experiments train on the data file only, not on a derived data version.
  const experiments = Object.entries(spec.experiments).flatMap(([name, e]) => (isScriptExperiment(e) ? [] : [[name, e.model] as const]));
  let experiment = prodExperiment;
  if (experiments.length > 1) {
    const picked = await vscode.window.showQuickPick(
      experiments.map(([name, model]) => ({ label: name, description: `${model}${name === prodExperiment ? ' · production' : ''}` })).sort((a, b) => Number(b.label === prodExperiment) - Number(a.label === prodExperiment)),
      { placeHolder: `Retrain which experiment on ${ref.deployment}'s labelled production data?` },
    );
    if (!picked) return undefined;
    experiment = picked.label;
  }
  const margin = vscode.workspace.getConfiguration('mlLoop.monitor').get<number>('gateMargin', 0.02);
  const key = deploymentKey(ref);
  const result = await vscode.window.withProgress({ location: vscode.ProgressLocation.Notification, title: `Retraining ${experiment} with production data of ${ref.deployment}`, cancellable: true }, async (progress, token) => {
    const abort = new AbortController();
    token.onCancellationRequested(() => abort.abort());
    try {
      return await runCliJson<RetrainResult>({
        cliPath: vscode.Uri.joinPath(s.context.extensionUri, 'dist', 'cli.js').fsPath,
        nodePath: vscode.workspace.getConfiguration('mlLoop').get<string>('nodePath') || process.execPath,
        args: ['retrain', ref.projectDir, '--deployment', ref.deployment, '--production-run', production.runId!, '--experiment', experiment, '--margin', String(margin), '--json'],
        cwd: ref.projectDir,
        isResult: (v): v is RetrainResult => !!v && typeof (v as RetrainResult).candidateRunId === 'string' && typeof (v as RetrainResult).production === 'object',
        signal: abort.signal,
        onLine: (line) => {
          s.log.info(`retrain ${ref.deployment}: ${line}`);
          if (line.startsWith('step ')) progress.report({ message: line.slice(5) });
        },
      });
    } catch (e) {
      if (e instanceof CancelledError) return undefined;
      throw e;
    }
  });
  if (!result) return undefined;
  s.runs.schedule(ref.projectDir, result.candidateRunId);
  if (result.candidateStatus !== 'completed' || !result.candidateModel || !result.comparison) throw new Error(`the retrained run ${result.candidateRunId} ${result.candidateStatus}: ${result.error ?? 'no model'}`);
  // The candidate is served beside production (alias candidate) so that the gate can promote it with one click.
  const deployed = await s.servers.deploy({ projectDir: ref.projectDir, runId: result.candidateRunId, modelPath: result.candidateModel, name: ref.deployment, logRequests: false });
  s.monitoring.gates.set(key, { productionRunId: result.productionRunId, candidateRunId: result.candidateRunId, candidateVersion: deployed.version, dataVersion: result.dataVersion, production: result.production, comparison: result.comparison });
  s.log.info(`retrain ${ref.deployment}: run ${result.candidateRunId} on data ${result.dataVersion} is candidate v${deployed.version}; gate ${result.comparison.needsConfirmation ? 'needs confirmation' : 'passes'}`);
  await openMonitoringCommand(s, ref);
  return result;
}

/** Promotes the deployment's candidate through the gate (one click when it passes). */
export async function promoteCandidateCommand(s: Services, arg?: unknown): Promise<boolean> {
  const ref = await resolveDeployment(s, arg);
  if (!ref?.server) throw new Error('the deployment is not running');
  const model = ref.server.status?.models.find((m) => m.name === ref.deployment);
  const candidate = model?.versions.find((v) => v.version === model.aliases.candidate);
  if (!candidate) throw new Error(`${ref.deployment} has no candidate version: retrain with production data or deploy another run first`);
  if (!(await confirmPromotion(s.monitoring, ref.projectDir, candidate.runId, `${ref.deployment} v${candidate.version}`))) return false;
  await ref.server.post(`/v2/models/${encodeURIComponent(ref.deployment)}/aliases/production`, { version: candidate.version });
  s.log.info(`promoted ${ref.deployment} v${candidate.version} (run ${candidate.runId ?? '-'}) to production`);
  void vscode.window.showInformationMessage(`ML Loop: ${ref.deployment} v${candidate.version} is now production`, 'Roll Back').then((c) => {
    if (c) void vscode.commands.executeCommand('mlLoop.rollbackModel', new ModelNode(ref.server!, ref.server!.status!.models.find((m) => m.name === ref.deployment)!));
  });
  return true;
}

/**
 * Queues the deployment's drifted or low-confidence requests for tagging (`ml-loop review` in a
 * child process), then shows them in the Error Analysis panel of the run production serves, on its
 * Production source: tagged there with the same keys as dev errors, into the project's tag store,
 * so production problems become tags, then data. From the Monitoring panel (`open: true`) the panel
 * opens at once; from the command palette a notification offers it.
 */
export async function sendToErrorAnalysisCommand(s: Services, arg?: unknown): Promise<ReviewResult | undefined> {
  const ref = await resolveDeployment(s, arg);
  if (!ref) return undefined;
  const cfg = vscode.workspace.getConfiguration('mlLoop.monitor');
  const result = await vscode.window.withProgress({ location: vscode.ProgressLocation.Notification, title: `Finding drifted and low-confidence requests of ${ref.deployment}`, cancellable: true }, (_p, token) => {
    const abort = new AbortController();
    token.onCancellationRequested(() => abort.abort());
    return runCliJson<ReviewResult>({
      cliPath: vscode.Uri.joinPath(s.context.extensionUri, 'dist', 'cli.js').fsPath,
      nodePath: vscode.workspace.getConfiguration('mlLoop').get<string>('nodePath') || process.execPath,
      args: ['review', ref.projectDir, '--deployment', ref.deployment, '--window', String(cfg.get<number>('window', 1000)), '--low-confidence', String(cfg.get<number>('lowConfidence', 0.6)), '--limit', String(cfg.get<number>('reviewLimit', 50)), '--json'],
      cwd: ref.projectDir,
      isResult: (v): v is ReviewResult => !!v && Array.isArray((v as ReviewResult).items) && typeof (v as ReviewResult).added === 'number',
      signal: abort.signal,
    }).catch((e: unknown) => {
      if (e instanceof CancelledError) return undefined;
      throw e;
    });
  });
  if (!result) return undefined;
  s.log.info(`review queue: ${result.selected} requests of ${ref.deployment} selected, ${result.added} new, ${result.queued} queued in ${result.file}`);
  if (result.queued === 0) {
    void vscode.window.showInformationMessage(`ML Loop: no drifted or low-confidence requests in the last window of ${ref.deployment}`);
    return result;
  }
  // The run whose Error Analysis lists them: the one production serves, else the one that served them.
  const model = ref.server?.status?.models.find((m) => m.name === ref.deployment);
  const runId = model?.versions.find((v) => v.version === model.aliases.production)?.runId ?? result.items.find((i) => i.run)?.run;
  const openPanel = async () => {
    if (runId) await vscode.commands.executeCommand('mlLoop.openErrorAnalysis', { projectDir: ref.projectDir, runId, filter: { source: 'production' } });
    else await vscode.window.showTextDocument(vscode.Uri.file(result.file), { preview: true });
  };
  const leftOut = result.leftOut ? `; ${result.leftOut} less unusual left out (setting mlLoop.monitor.reviewLimit)` : '';
  const message = `ML Loop: the ${result.items.length} most unusual of ${result.selected} drifted or low-confidence requests of ${ref.deployment} queued for tagging (${result.added} new, ${result.queued} in the queue${leftOut})`;
  if ((arg as { open?: unknown } | undefined)?.open === true) {
    await openPanel();
    void vscode.window.showInformationMessage(`${message}: listed under Production in Error Analysis`);
    return result;
  }
  const choice = await vscode.window.showInformationMessage(message, 'Tag in Error Analysis', 'Open Queue');
  if (choice === 'Open Queue') await vscode.window.showTextDocument(vscode.Uri.file(result.file), { preview: true });
  if (choice === 'Tag in Error Analysis') await openPanel();
  return result;
}
