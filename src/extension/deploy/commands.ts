// Deploy commands: Deploy Run (from the Experiments tree or the palette), Promote, Rollback, Stop,
// Open Logs, Copy curl Example, Send Test Request. Loaded on first use (src/extension/commands.ts).
import { existsSync, readdirSync } from 'node:fs';
import * as path from 'node:path';
import * as vscode from 'vscode';
import { deploymentName } from '../../core/serve/source';
import { runPickRow } from '../../core/track/format';
import { listRuns } from '../../core/track/store';
import { resolveRunTarget } from '../commandTargets';
import type { Services } from '../services';
import { ModelNode, ServerNode, VersionNode } from './deploymentsTree';
import type { ServerProcess } from './serverProcess';
import { consentMessage } from './manager';
import { curlExample } from '../../core/serve/curl';
import { deploymentDir, runDir as runDirOf } from '../../core/spec/layout';

export async function deployRunCommand(
  s: Services,
  arg?: unknown,
): Promise<{ url: string; version: string } | undefined> {
  const run = await resolveRunTarget(s, arg, {
    project: 'Deploy a run of which project?',
    run: 'Deploy which run?',
    filter: (r) => r.status === 'completed' && existsSync(path.join(r.dir, 'model.onnx')),
    none: 'no completed run with a model.onnx yet — train an experiment first',
  });
  if (!run) return undefined;
  const runDir = runDirOf(run.projectDir, run.runId);
  const modelPath = path.join(runDir, 'model.onnx');
  if (!existsSync(modelPath)) throw new Error(`run ${run.runId} has no model.onnx (it did not complete)`);
  const { runs } = await listRuns(run.projectDir);
  const experiment = runs.find((r) => r.runId === run.runId)?.record.experiment ?? run.runId;
  const name = deploymentName(run.projectDir, experiment);
  const config = vscode.workspace.getConfiguration('mlLoop.deploy');
  let logRequests = false;
  const sampleRate = config.get<number>('logSampleRate', 1);
  const redact = config.get<string[]>('logRedact', []);
  if (config.get<boolean>('logRequests', false) && !s.servers.find(run.projectDir, name)) {
    const dir = deploymentDir(run.projectDir, name);
    const choice = await vscode.window.showWarningMessage(
      consentMessage(name, dir, sampleRate, redact),
      { modal: true },
      'Log Requests',
      'Deploy Without Logging',
    );
    if (choice === undefined) return undefined;
    logRequests = choice === 'Log Requests';
  }
  const { server, version, added } = await vscode.window.withProgress(
    { location: { viewId: 'mlLoop.deployments' }, title: `Deploying ${name}` },
    () =>
      s.servers.deploy({
        projectDir: run.projectDir,
        runId: run.runId,
        modelPath,
        name,
        logRequests,
        sampleRate,
        redact,
        port: config.get<number>('port', 8000),
        grpcPort: config.get<number | null>('grpcPort', null) ?? undefined,
      }),
  );
  void vscode.commands.executeCommand('mlLoop.deployments.focus');
  if (!added && server.portTaken !== undefined) {
    void vscode.window.showWarningMessage(
      `ML Loop: port ${server.portTaken} is taken, so ${name} is served on ${server.url} instead (setting mlLoop.deploy.port).`,
    );
  }
  void vscode.window.showInformationMessage(
    added
      ? `ML Loop: run ${run.runId} is version ${version} of ${name} on ${server.url} (candidate — Promote to serve it)`
      : `ML Loop: ${name} (run ${run.runId}) is served at ${server.url}/v2/models/${name}`,
  );
  return { url: server.url, version };
}

function modelOf(s: Services, arg: unknown): { server: ServerProcess; model: string } {
  if (arg instanceof ModelNode || arg instanceof VersionNode) return { server: arg.server, model: arg.model.name };
  const running = s.servers.running();
  const first = running.find((r) => r.status?.models.length);
  if (!first) throw new Error('no inference server is running — deploy a run first');
  return { server: first, model: first.status!.models[0].name };
}

export async function promoteCommand(s: Services, arg?: unknown): Promise<void> {
  const { server, model } = modelOf(s, arg);
  let version = arg instanceof VersionNode ? arg.version.version : undefined;
  if (!version) {
    const m = server.status!.models.find((x) => x.name === model)!;
    const picked = await vscode.window.showQuickPick(
      m.versions
        .filter((v) => v.version !== m.aliases.production)
        .map((v) => ({ label: `v${v.version}`, description: v.runId ? `run ${v.runId}` : v.path, version: v.version })),
      { placeHolder: `Promote which version of ${model} to production?` },
    );
    version = picked?.version;
  }
  if (!version) return;
  // A version retrained with production data goes through the promotion gate (src/extension/monitoring).
  const runId = server.status?.models.find((x) => x.name === model)?.versions.find((v) => v.version === version)?.runId;
  const { confirmPromotion } = await import('../monitoring/promotionGate');
  if (!(await confirmPromotion(s.monitoring, server.launch.projectDir, runId, `${model} v${version}`))) return;
  await server.post(`/v2/models/${encodeURIComponent(model)}/aliases/production`, { version });
  void vscode.window.showInformationMessage(`ML Loop: ${model} v${version} is now production`);
}

export async function rollbackCommand(s: Services, arg?: unknown): Promise<void> {
  const { server, model } = modelOf(s, arg);
  const res = await server.post(`/v2/models/${encodeURIComponent(model)}/rollback`, {});
  void vscode.window.showInformationMessage(`ML Loop: ${model} rolled back to v${String(res.production)}`);
}

function serverOf(s: Services, arg: unknown): ServerProcess {
  if (arg instanceof ServerNode || arg instanceof ModelNode || arg instanceof VersionNode) return arg.server;
  const first = s.servers.running()[0];
  if (!first) throw new Error('no inference server is running');
  return first;
}

export async function stopServerCommand(s: Services, arg?: unknown): Promise<void> {
  const server = serverOf(s, arg);
  await s.servers.stop(server);
  void vscode.window.showInformationMessage(`ML Loop: stopped the inference server at ${server.url}`);
}

export async function openLogsCommand(s: Services, arg?: unknown): Promise<void> {
  const server = serverOf(s, arg);
  if (!server.logDir)
    throw new Error(
      `the server at ${server.url} does not log requests (turn on mlLoop.deploy.logRequests and deploy again)`,
    );
  const files = existsSync(server.logDir)
    ? readdirSync(server.logDir)
        .filter((f) => f.endsWith('.jsonl'))
        .sort()
    : [];
  if (files.length === 0) throw new Error(`no requests logged yet in ${server.logDir}`);
  await vscode.window.showTextDocument(vscode.Uri.file(path.join(server.logDir, files[files.length - 1])), {
    preview: true,
  });
}

export async function copyCurlCommand(s: Services, arg?: unknown): Promise<string> {
  const { server, model } = modelOf(s, arg);
  const meta = (await (await fetch(`${server.url}/v2/models/${encodeURIComponent(model)}`)).json()) as {
    parameters?: { features?: string[] };
  };
  const text = curlExample(server.url, model, meta.parameters?.features);
  await vscode.env.clipboard.writeText(text);
  void vscode.window.showInformationMessage('ML Loop: curl example copied to the clipboard');
  return text;
}

/** Picks a dev example of the project, sends it to /predict and shows the response beside its true label. */
export async function sendTestRequestCommand(
  s: Services,
  arg?: unknown,
): Promise<{ trueLabel: string; response: Record<string, unknown> }> {
  const { server, model } = modelOf(s, arg);
  const { loadSplitDataset } = await import('../../core/data/dataset');
  const data = await loadSplitDataset(path.join(server.launch.projectDir, 'mlloop.json'), { storeSplit: true });
  const dev = data.dev;
  if (dev.features.n === 0) throw new Error('the project has no dev examples');
  const i = Math.floor(Math.random() * dev.features.n);
  const F = data.schema.numeric.length;
  const K = data.schema.categorical.length;
  const instance: Record<string, number | string | null> = {};
  data.schema.numeric.forEach((f, j) => {
    const v = dev.features.numeric[i * F + j];
    instance[f] = Number.isNaN(v) ? null : v;
  });
  data.schema.categorical.forEach((f, j) => (instance[f] = dev.features.categories[i * K + j] || null));
  const trueLabel = data.schema.classes ? data.schema.classes[dev.y[i]] : String(dev.y[i]);
  const t0 = performance.now();
  const res = await fetch(`${server.url}/v2/models/${encodeURIComponent(model)}/predict`, {
    method: 'POST',
    headers: { 'Content-Type': 'application/json' },
    body: JSON.stringify({ instances: [instance] }),
  });
  const ms = performance.now() - t0;
  const response = (await res.json()) as Record<string, unknown>;
  const prediction = (response.predictions as Array<{ label?: string; prediction?: number }> | undefined)?.[0];
  const predicted = prediction?.label ?? prediction?.prediction;
  await s.testRequestResults.show({
    example: { id: dev.ids[i], dataRow: dev.rowIndex[i] + 1, trueLabel },
    request: `POST ${server.url}/v2/models/${model}/predict`,
    latencyMs: Math.round(ms * 10) / 10,
    response,
  });
  void vscode.window.showInformationMessage(
    `ML Loop: dev example ${dev.ids[i].slice(0, 8)} — true label ${trueLabel}, predicted ${String(predicted)}${predicted !== undefined && String(predicted) === trueLabel ? ' ✓' : ''}`,
  );
  return { trueLabel, response };
}
