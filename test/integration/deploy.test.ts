// Deployments inside a real extension host: Deploy Run starts a server as a child process (not in the
// extension host), a second deploy adds a version, promote/rollback/test request/stop through the
// commands, request logging only after a confirmation naming what is stored, and disposing the
// manager kills its servers (no orphans).
import * as assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { readdirSync, readFileSync } from 'node:fs';
import * as path from 'node:path';
import * as grpc from '@grpc/grpc-js';
import * as protoLoader from '@grpc/proto-loader';
import * as vscode from 'vscode';
import { DeploymentManager } from '../../src/extension/deploy/manager';
import { activatedExtension, waitFor, workspaceRoot } from './helpers';

const projectDir = () => workspaceRoot().fsPath;

function train(): string {
  const cli = path.join(vscode.extensions.getExtension('ml-loop.ml-loop')!.extensionPath, 'dist', 'cli.js');
  const out = execFileSync(process.execPath, [cli, 'train', projectDir(), '--experiment', 'softmax', '--json'], {
    encoding: 'utf8',
    env: { ...process.env, ELECTRON_RUN_AS_NODE: '1' },
  });
  return JSON.parse(out).runId as string;
}

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

describe('Deployments', function () {
  this.timeout(180_000);
  const runs: string[] = [];

  before(async () => {
    await activatedExtension();
    runs.push(train(), train());
  });

  it('deploys a run to a server in its own process, adds a second run as version 2, promotes, rolls back and stops', async () => {
    const first = await vscode.commands.executeCommand<{ url: string; version: string }>('mlLoop.deployRun', {
      projectDir: projectDir(),
      runId: runs[0],
    });
    assert.ok(first, 'deployRun returned nothing (see the ML Loop log)');
    assert.equal(first.version, '1');
    const status = await (await fetch(`${first.url}/v2/mlloop/status`)).json();
    assert.notEqual(status.pid, process.pid, 'the server must not run in the extension host');
    assert.equal(status.models[0].versions[0].runId, runs[0]);
    const second = await vscode.commands.executeCommand<{ url: string; version: string }>('mlLoop.deployRun', {
      projectDir: projectDir(),
      runId: runs[1],
    });
    assert.deepEqual(second, { url: first.url, version: '2' });
    const aliases = async () => (await fetch(`${first.url}/v2/models/digits/aliases`)).json();
    assert.equal((await aliases()).candidate, '2');
    const test = await vscode.commands.executeCommand<{
      trueLabel: string;
      response: { predictions: Array<{ label: string; probabilities: Record<string, number> }> };
    }>('mlLoop.sendTestRequest');
    assert.match(test.trueLabel, /^\d$/);
    assert.match(test.response.predictions[0].label, /^\d$/);
    assert.equal(Object.keys(test.response.predictions[0].probabilities).length, 10);
    const picks = vscode.window.showQuickPick;
    (vscode.window as { showQuickPick: unknown }).showQuickPick = async (items: Array<{ version: string }>) =>
      (await items).find((i) => i.version === '2');
    try {
      await vscode.commands.executeCommand('mlLoop.promoteVersion');
    } finally {
      (vscode.window as { showQuickPick: unknown }).showQuickPick = picks;
    }
    assert.equal((await aliases()).production, '2');
    await vscode.commands.executeCommand('mlLoop.rollbackModel');
    assert.equal((await aliases()).production, '1');
    const curl = await vscode.commands.executeCommand<string>('mlLoop.copyCurlExample');
    assert.match(curl, new RegExp(`^curl -s -X POST ${first.url}/v2/models/digits/predict .*"px63":0`));
    assert.equal(await vscode.env.clipboard.readText(), curl);
    await vscode.commands.executeCommand('mlLoop.stopServer');
    await waitFor(() => !alive(status.pid), 'the server process to exit');
  });

  it('asks before logging, naming what is stored; logs only after consent', async () => {
    const config = vscode.workspace.getConfiguration('mlLoop.deploy');
    await config.update('logRequests', true, vscode.ConfigurationTarget.Workspace);
    const warn = vscode.window.showWarningMessage;
    let asked = '';
    (vscode.window as { showWarningMessage: unknown }).showWarningMessage = async (message: string) => {
      asked = message;
      return 'Log Requests';
    };
    try {
      const d = await vscode.commands.executeCommand<{ url: string }>('mlLoop.deployRun', {
        projectDir: projectDir(),
        runId: runs[0],
      });
      assert.match(
        asked,
        /stores its time, request id, model name and version, the inputs \(every feature value sent\), the outputs \(predicted label and class probabilities\) and the latency/,
      );
      assert.match(asked, /\.mlloop[/\\]deployments[/\\]digits/);
      await vscode.commands.executeCommand('mlLoop.sendTestRequest');
      const dir = path.join(projectDir(), '.mlloop', 'deployments', 'digits');
      const record = await waitFor(() => {
        const files = readdirSync(dir).filter((f) => f.endsWith('.jsonl'));
        const text = files.length ? readFileSync(path.join(dir, files[0]), 'utf8') : '';
        return text.trim() ? JSON.parse(text.trim().split('\n')[0]) : undefined;
      }, 'a request record');
      assert.equal(record.model, 'digits');
      assert.equal(Object.keys(record.inputs[0]).length, 64);
      assert.ok(d.url);
      await vscode.commands.executeCommand('mlLoop.stopServer');
    } finally {
      (vscode.window as { showWarningMessage: unknown }).showWarningMessage = warn;
      await config.update('logRequests', undefined, vscode.ConfigurationTarget.Workspace);
    }
  });

  it('serves gRPC beside REST when mlLoop.deploy.grpcPort is set, and shows its address on the server row', async () => {
    const config = vscode.workspace.getConfiguration('mlLoop.deploy');
    await config.update('grpcPort', 0, vscode.ConfigurationTarget.Workspace);
    try {
      const d = await vscode.commands.executeCommand<{ url: string }>('mlLoop.deployRun', {
        projectDir: projectDir(),
        runId: runs[0],
      });
      assert.ok(d, 'deployRun returned nothing (see the ML Loop log)');
      const { exports, extensionPath } = await activatedExtension();
      const tree = exports.deploymentsTree;
      const rows = await Promise.all(((await tree.getChildren()) ?? []).map((n) => tree.getTreeItem(n)));
      const row = rows.find((r) => r.label === d.url);
      const grpcUrl = /gRPC (\S+)/.exec(String(row?.description))?.[1];
      assert.ok(grpcUrl, `no gRPC address on the server row of ${d.url}: ${String(row?.description)}`);
      // A client built from KServe's proto as shipped with the extension.
      const proto = path.join(extensionPath, 'dist', 'grpc_predict_v2.proto');
      const pkg = grpc.loadPackageDefinition(protoLoader.loadSync(proto)) as any; // eslint-disable-line @typescript-eslint/no-explicit-any
      const client = new pkg.inference.GRPCInferenceService(grpcUrl, grpc.credentials.createInsecure());
      try {
        const ready = await new Promise<{ ready: boolean }>((resolve, reject) =>
          client.ModelReady({ name: 'digits' }, (e: Error | null, r: { ready: boolean }) =>
            e ? reject(e) : resolve(r),
          ),
        );
        assert.deepEqual(ready, { ready: true });
      } finally {
        client.close();
      }
      await vscode.commands.executeCommand('mlLoop.stopServer');
    } finally {
      await config.update('grpcPort', undefined, vscode.ConfigurationTarget.Workspace);
    }
  });

  it('disposing the manager (as deactivation does) kills its servers', async () => {
    const log = vscode.window.createOutputChannel('deploy-test', { log: true });
    const ext = vscode.extensions.getExtension('ml-loop.ml-loop')!;
    const manager = new DeploymentManager(
      path.join(ext.extensionPath, 'dist', 'server.js'),
      () => process.execPath,
      log,
    );
    const modelPath = path.join(projectDir(), '.mlloop', 'runs', runs[0], 'model.onnx');
    const { server } = await manager.deploy({
      projectDir: projectDir(),
      runId: runs[0],
      modelPath,
      name: 'disposable',
      logRequests: false,
    });
    const pid = server.pid!;
    assert.ok(alive(pid));
    manager.dispose();
    await waitFor(() => !alive(pid), 'the server process to exit after dispose');
    log.dispose();
  });
});
